from django.apps import AppConfig


class AllocationConfig(AppConfig):
    name = "cets.allocation"
    label = "allocation"
    verbose_name = "Allocation"
