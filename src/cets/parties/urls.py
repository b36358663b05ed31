"""Parties pages (included from cets.urls under ``parties/``)."""

from django.urls import path

from . import views

app_name = "parties"
urlpatterns = [
    path("lookup/entities/", views.lookup_entities, name="lookup_entities"),
    path("lookup/participants/", views.lookup_participants, name="lookup_participants"),
    path("lookup/organisations/", views.lookup_organisations, name="lookup_organisations"),
]
