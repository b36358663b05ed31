"""Compliance pages (included from cets.urls)."""

from django.urls import path

from . import views

app_name = "compliance"
urlpatterns = [
    path("public/penalties/", views.penalties_public, name="penalties_public"),
]
