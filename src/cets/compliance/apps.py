from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "cets.compliance"
    label = "compliance"
    verbose_name = "Compliance"
