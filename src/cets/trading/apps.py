from django.apps import AppConfig


class TradingConfig(AppConfig):
    name = "cets.trading"
    label = "trading"
    verbose_name = "Trading 交易"

    def ready(self) -> None:
        # The registry's sales and purchases (reserve auction and buy-back, paid allocation) settle their money here.
        from cets.registry import payments

        from .services.funds import registry_payments

        payments.register(registry_payments)
