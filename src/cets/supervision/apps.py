from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "cets.supervision"
    label = "supervision"
    verbose_name = "Supervision"
