from django.apps import AppConfig


class PartiesConfig(AppConfig):
    name = "cets.parties"
    label = "parties"
    verbose_name = "Parties"

    def ready(self) -> None:
        from . import security  # noqa: F401  (connects the sign-in and lockout receivers)
