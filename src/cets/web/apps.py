from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "cets.web"
    label = "web"
    verbose_name = "Web"
