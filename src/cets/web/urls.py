from django.contrib.auth import views as auth_views
from django.urls import path

from . import views, views_notifications
from .forms import LoginForm

app_name = "web"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.Login.as_view(authentication_form=LoginForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChange.as_view(), name="password_change"),
    path("password/done/", views.PasswordChangeDone.as_view(), name="password_change_done"),
    path("security/second-factor/", views.second_factor, name="second_factor"),
    path("security-events/", views.security_events, name="security_events"),
    path("entities/", views.entity_list, name="entity_list"),
    path("entities/<str:uscc>/", views.entity_detail, name="entity_detail"),
    path("entities/<str:uscc>/jurisdiction/", views.entity_jurisdiction, name="entity_jurisdiction"),
    path("notifications/", views_notifications.notifications, name="notifications"),
    path("notifications/read/", views_notifications.notifications_read, name="notifications_read"),
]
