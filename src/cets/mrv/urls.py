from django.urls import path

from . import views

app_name = "mrv"
urlpatterns = [
    path("blocked/", views.blocked_cases, name="blocked"),
    path("deadlines/", views.deadlines, name="deadlines"),
]
