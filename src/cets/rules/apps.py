from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "cets.rules"
    label = "rules"
    verbose_name = "Rule packs"
