from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "cets.registry"
    label = "registry"
    verbose_name = "Registry"
