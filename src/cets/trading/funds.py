"""The fund ledger's interface, kept importable here: its writes live in :mod:`cets.trading.services.funds`,
its proof (:func:`funds_verify`) in :mod:`cets.trading.audit`."""

from .audit import funds_verify
from .services.funds import (
    AVAILABLE,
    BUCKET_FIELDS,
    FROZEN,
    fund_account_of,
    funds_deposit,
    funds_withdraw,
    post,
    registry_payments,
    system_fund_account,
)

__all__ = ["AVAILABLE", "BUCKET_FIELDS", "FROZEN", "fund_account_of", "funds_deposit", "funds_verify", "funds_withdraw", "post", "registry_payments",
           "system_fund_account"]
