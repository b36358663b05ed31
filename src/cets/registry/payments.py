"""Payment against delivery for the registry's own sales and purchases (the national reserve's auction and buy-back,
a provincial authority's paid allocation by auction): the registry moves the units, the exchange's fund ledger moves
the money, in the same database transaction (delivery versus payment: both or neither).

The registry is below the exchange (layer 4 < 7), so it never imports it: the exchange registers a *settler* here
(``cets.trading.apps`` registers :func:`cets.trading.services.funds.registry_payments`), a callable
``(phase, payments) -> None`` that posts the fund entries of ``payments`` or raises a :class:`CetsError` (then the
caller's transaction, units included, is rolled back). Phases, in the order of a four-eyes proposal:

- ``hold`` (at proposal): the payer's amount is frozen (available → frozen), so the approval cannot fail for funds
  spent meanwhile;
- ``settle`` (at approval, after the units moved): the payer's frozen amount is paid to the payee (available);
- ``release`` (at rejection): the payer's frozen amount returns to its available funds.

A party is a holder's registry account number (its holder's participant fund account in the payment's market) or
:data:`TREASURY` — the authority's fund account of the market (收支两条线: the proceeds of a paid allocation or a
reserve auction go to a treasury fund account, never to the authority's trading account, and pay no trading fee;
a buy-back is paid from it). Amounts are fen (int > 0). R1301 if no settler is registered (nothing moves).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cets.core.errors import CetsError

from .checks import R1301

TREASURY = "treasury"
PHASES = ("hold", "settle", "release")


@dataclass(frozen=True)
class Payment:
    """One payment: ``key`` (idempotency key of its fund entries), ``market`` (whose fund accounts), ``payer`` and
    ``payee`` (a registry account number or :data:`TREASURY`), ``amount_fen`` (int > 0), ``reference`` (≤ 200 chars)."""

    key: str
    market: str
    payer: str
    payee: str
    amount_fen: int
    reference: str = ""


Settler = Callable[[str, Sequence[Payment]], None]
_SETTLERS: list[Settler] = []


def register(settler: Settler) -> None:
    """Register the fund ledger's settler (idempotent; the last registered one is used)."""
    if settler in _SETTLERS:
        _SETTLERS.remove(settler)
    _SETTLERS.append(settler)


def settle(phase: str, payments: Sequence[Payment]) -> None:
    """Post ``payments`` in ``phase`` (``hold``/``settle``/``release``) through the registered settler, inside the
    caller's transaction. R1301 if none is registered; the settler's own refusals (T08xx) otherwise."""
    if phase not in PHASES:
        raise ValueError(phase)
    if not payments:
        return
    if not _SETTLERS:
        raise CetsError(R1301, phase)
    _SETTLERS[-1](phase, list(payments))


def lines_payments(*, key: str, market: str, lines: Sequence[dict], buyer_pays: bool, reference: str) -> list[Payment]:
    """The payments of reserve or auction lines ``[{"account", "quantity" (t), "price_fen" (fen/t)}]``: each buyer pays
    the treasury ``quantity × price_fen`` (``buyer_pays``), or the treasury pays each seller."""
    out = []
    for i, ln in enumerate(lines):
        amount = ln["quantity"] * ln["price_fen"]
        payer, payee = (ln["account"], TREASURY) if buyer_pays else (TREASURY, ln["account"])
        out.append(Payment(key=f"{key}:pay:{i}", market=market, payer=payer, payee=payee, amount_fen=amount, reference=reference[:200]))
    return out
