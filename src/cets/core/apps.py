from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cets.core"
    label = "core"
    verbose_name = "Core"
