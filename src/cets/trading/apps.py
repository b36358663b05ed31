from django.apps import AppConfig


class TradingConfig(AppConfig):
    name = "cets.trading"
    label = "trading"
    verbose_name = "Trading 交易"
