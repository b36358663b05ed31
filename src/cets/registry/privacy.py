"""Privacy on the ledger: each side of an exchange settlement sees the exchange, not the other side.

A trade on the exchange settles delivery versus payment through the ledger
(:func:`cets.registry.services.exchange.exchange_deliver`): one journal entry of kind ``transfer``
from the seller's *pending* position (units held for the sell order) to the buyer's *trading*
position. The journal row names both accounts, but trading on the exchange is anonymous: the
exchange's own trade list hides the counterparty, so a holder's journal, statement (API JSON,
HTML, PDF, XLSX) and entity page show ``交易机构 the exchange`` in its place — never the other
account's number, its holder's name or its credit code. The registry operator, auditors and the
exchange operator (a party to both sides) still see both legs.

Source: Measures for the administration of carbon emissions trading (trial) Art. 21–24 (trading
through the exchange, settlement by the registry); the exchange's trading rules, anonymous
continuous trading (cn-ets-rules.md §4.2); issue 16 ("exchange settlements show the exchange, not
the counterparty, to each side").

Which entries are exchange settlements is decided by the entry itself, not by the caller's key: the
signature ``transfer``, debit position ``pending``, credit position ``trading``, two different
accounts is written only by ``exchange_deliver`` (a holder's own transfer debits its registry
position, an operator's transfer credits the registry position; ``tests/registry/test_privacy.py``
keeps this true).
"""

from __future__ import annotations

from cets.parties.access import membership_of
from cets.parties.models import Role

from .models import Position, TransferKind

# The value shown in an account-number field in place of the counterparty (API JSON).
EXCHANGE = "exchange"
# Its label on pages, statements and exports.
EXCHANGE_LABEL = "交易机构 the exchange"
# Roles that see both legs of an exchange settlement.
FULL_VIEW_ROLES = frozenset({Role.REGISTRY_OPERATOR, Role.AUDITOR, Role.EXCHANGE_OPERATOR})


def is_exchange_settlement(t) -> bool:
    """Whether the journal entry ``t`` (a :class:`~cets.registry.models.Transfer`) is a trade's delivery."""
    return (t.kind == TransferKind.TRANSFER and t.debit_position == Position.PENDING and t.credit_position == Position.TRADING
            and t.debit_account_id is not None and t.debit_account_id != t.credit_account_id)


def sees_both_legs(user) -> bool:
    """Whether ``user`` may see both accounts of an exchange settlement (:data:`FULL_VIEW_ROLES`)."""
    m = membership_of(user)
    return m is not None and m.role in FULL_VIEW_ROLES


def shown_accounts(t, *, account, full: bool) -> tuple[str | None, str]:
    """(debit account number or None, credit account number) of ``t`` as shown on ``account``'s journal:
    for an exchange settlement and ``full=False``, the side that is not ``account`` is :data:`EXCHANGE`."""
    debit = t.debit_account.number if t.debit_account_id else None
    credit = t.credit_account.number
    if full or not is_exchange_settlement(t):
        return debit, credit
    if t.debit_account_id != account.pk:
        debit = EXCHANGE
    if t.credit_account_id != account.pk:
        credit = EXCHANGE
    return debit, credit


def label(number: str | None) -> str | None:
    """An account number as shown to a person: :data:`EXCHANGE` becomes :data:`EXCHANGE_LABEL`."""
    return EXCHANGE_LABEL if number == EXCHANGE else number
