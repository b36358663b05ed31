from django.apps import AppConfig


class MrvConfig(AppConfig):
    name = "cets.mrv"
    label = "mrv"
    verbose_name = "MRV"
