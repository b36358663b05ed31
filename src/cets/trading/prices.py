"""Prices as people type them and as the exchange stores them (pure: no Django, no I/O).

The national market quotes in CNY per tonne with a tick of 0.01 CNY (trading pack ``order.price_tick_fen``
= 1 fen; 《碳排放权交易管理规则（试行）》, reference §3.1); the platform stores fen per tonne (int).
``cny_to_fen`` converts a decimal string exactly — never through a float — and refuses anything that is
not a plain positive number with at most two decimals; ``fen_to_cny`` is its inverse for display.
"""

from __future__ import annotations

import re
from decimal import Decimal

from cets.core.errors import CetsError

from .checks import T0401

_PRICE = re.compile(r"([0-9]{1,9})(?:\.([0-9]{1,2}))?")  # ASCII digits only (\d would take full-width ９６)


def cny_to_fen(text: str) -> int:
    """``"96.5"`` → 9650 fen per tonne (int). Accepts ``digits[.d[d]]`` after trimming spaces; raises
    CetsError T0401 for anything else (a third decimal, a sign, an exponent, a comma, zero, a non-str)."""
    if not isinstance(text, str):
        raise CetsError(T0401, repr(text))
    m = _PRICE.fullmatch(text.strip())
    if m is None:
        raise CetsError(T0401, repr(text))
    whole, frac = m.group(1), (m.group(2) or "").ljust(2, "0")
    fen = int(whole) * 100 + int(frac)
    if fen <= 0:
        raise CetsError(T0401, repr(text))
    return fen


def fen_to_cny(fen: int) -> str:
    """9650 → ``"96.50"``: fen (int) as CNY with exactly two decimals (no thousands separators)."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"fen must be an int, got {fen!r}")
    sign = "-" if fen < 0 else ""
    q, r = divmod(abs(fen), 100)
    return f"{sign}{q}.{r:02d}"


def fen_to_decimal(fen: int) -> Decimal:
    """Fen (int) → Decimal CNY with two places, exact."""
    return Decimal(fen_to_cny(fen))
