from django.urls import path

from . import views

app_name = "mrv"
urlpatterns = [
    path("blocked/", views.blocked_cases, name="blocked"),
    path("blocked/<int:record_id>/resolve/", views.blocked_resolve, name="blocked_resolve"),
    path("deadlines/", views.deadlines, name="deadlines"),
]
