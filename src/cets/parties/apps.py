from django.apps import AppConfig


class PartiesConfig(AppConfig):
    name = "cets.parties"
    label = "parties"
    verbose_name = "Parties"
