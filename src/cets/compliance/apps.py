from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "cets.compliance"
    label = "compliance"
    verbose_name = "Compliance"

    def ready(self) -> None:
        from . import services  # noqa: F401  (registers the forced-surrender four-eyes operation)
