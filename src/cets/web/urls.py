from django.contrib.auth import views as auth_views
from django.urls import path

from . import views, views_applications, views_holder, views_registry
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
    path("notifications/", views_holder.notifications, name="notifications"),
    path("notifications/read/", views_holder.notifications_read, name="notifications_read"),
    path("holder/", views_holder.holder, name="holder"),
    path("holder/<str:action>/", views_holder.holder_action, name="holder_action"),
    path("registry/", views_registry.registry_page, name="registry"),
    path("registry/apply/", views_applications.apply, name="apply"),
    path("registry/applications/", views_applications.applications, name="applications"),
    path("registry/applications/<str:reference>/", views_applications.application_detail, name="application_detail"),
    path("registry/applications/<str:reference>/decide/", views_applications.application_decide, name="application_decide"),
    path("registry/applications/<str:reference>/documents/<int:doc_id>/", views_applications.application_document, name="application_document"),
    path("public/holder-changes/", views_registry.holder_changes_public, name="holder_changes"),
    path("registry/blocks/", views_registry.registry_blocks, name="registry_blocks"),
    path("registry/blocks/<str:serial>/", views_registry.registry_blocks, name="registry_block"),
    path("registry/<str:action>/", views_registry.registry_action, name="registry_action"),
]
