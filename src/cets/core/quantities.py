"""Exact quantities: tonnes CO2e and money in fen are ``int``; rates and activity data are ``Decimal``.

No float may touch an allowance. Every rounding step is named and explicit, and the rule pack says
which one applies where (``floor`` = 向下取整, ``half_up`` = 四舍五入).
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

# Enough digits for 10^12 t × 6-decimal factors with room to spare.
PRECISION = 40

Tonnes = int  # tonnes CO2e (1 allowance = 1 tCO2e, Regulations Art. 30)
Fen = int  # 1 CNY = 100 fen


def D(value: object) -> Decimal:
    """Decimal from int, str or Decimal; refuses float (it would carry binary error)."""
    if isinstance(value, float):
        raise TypeError("float is not allowed for quantities; pass str or Decimal")
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None


def floor_int(value: Decimal) -> int:
    """Round down to a whole number (向下取整), e.g. 1789.70 → 1789 (2025–2026 draft, data-table notes)."""
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def round_half_up(value: Decimal, places: int) -> Decimal:
    """Round half-up to ``places`` decimals (四舍五入), e.g. Ff to 6 decimals (2025–2026 draft)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def apply_rounding(value: Decimal, rule: str) -> Decimal | int:
    """Apply a pack rounding rule: ``floor`` → int, ``half_up:N`` → Decimal with N places, ``none``."""
    if rule == "floor":
        return floor_int(value)
    if rule.startswith("half_up:"):
        return round_half_up(value, int(rule.split(":", 1)[1]))
    if rule == "none":
        return value
    raise ValueError(f"unknown rounding rule {rule!r}")


def exact():
    """A decimal context wide enough for allocation arithmetic; use as ``with exact(): ...``."""
    return localcontext(prec=PRECISION)


def yuan_to_fen(value: object) -> Fen:
    """CNY amount as published (``"210230053.25"``) to fen; raises ValueError on sub-fen digits."""
    d = D(value) * 100
    if d != d.to_integral_value():
        raise ValueError(f"{value!r} has more than two decimals")
    return int(d)


def fen_to_yuan(fen: Fen) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def is_digits(text: str) -> bool:
    """True when ``text`` is one or more ASCII digits 0–9: the test before ``int(text)`` on anything a person typed or a
    file carried. ``str.isdigit`` also accepts superscripts ('²', which ``int`` refuses — a 500 where a refusal was meant)
    and other scripts' digits ('٣', which ``int`` reads as 3)."""
    return text.isascii() and text.isdigit()
