from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "cets.supervision"
    label = "supervision"
    verbose_name = "Supervision"

    def ready(self) -> None:
        # The blacklist's "barred from trading" effect (Measures Art. 49) is enforced at order entry (T0701):
        # trading is below supervision, so supervision registers itself as a restriction source.
        from cets.trading import restrictions

        from .selectors import trading_restriction

        restrictions.register(trading_restriction)
        # Emissions determined on a false-reporting finding become the surrender basis (Measures 2021 Art. 39): MRV is below
        # supervision, so supervision registers its findings as a source of authority determinations.
        from cets.mrv import determinations

        from .selectors import finding_determinations

        determinations.register(finding_determinations)
