"""Fines for failing to surrender (未按时足额清缴). Pure: no Django, no I/O.

Two bases, chosen by the rule pack's ``[penalty].basis``; the multiples, the window, the trades counted and
the market come from the pack, so one code serves the national market (5–10×) and the Beijing pilot
(3–5 × the market average price × excess tonnes, 2013 decision of the Municipal People's Congress Standing
Committee [S]; ``rules/packs/beijing/compliance-2023-2024.toml``):

- ``price_multiple`` — 《碳排放权交易管理暂行条例》 (State Council Order No. 775, effective 2024-05-01)
  Art. 24: "处未清缴的碳排放配额清缴时限前1个月市场交易平均成交价格5倍以上10倍以下的罚款", i.e.

      fine (fen) = multiple × unsurrendered (tonnes CO2e) × P̄ (fen per tonne),  5 ≤ multiple ≤ 10

  P̄ is the average transaction price of the month before the surrender deadline. The pack states
  which trades count (``price_instruments``, ``price_methods``), the window (``price_window``), how the
  average is formed (``price_average = "volume_weighted"``: Σ amount ÷ Σ volume) and how it and the
  fine are rounded to whole fen (``price_rounding``, ``fine_rounding``).
- ``fixed_range`` — 《碳排放权交易管理办法（试行）》 (MEE Order No. 19, 2021) Art. 40: a fine of
  CNY 20,000–30,000 whatever the quantity (``fine_min_fen`` … ``fine_max_fen``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from cets.core.quantities import D, apply_rounding, is_digits

PRICE_MULTIPLE, FIXED_RANGE = "price_multiple", "fixed_range"

# The month whose trades form P̄ (Art. 24 "清缴时限前1个月"):
# - ``calendar_month_before_deadline_month``: the whole calendar month before the deadline's month
#   (deadline 2024-12-31 → 2024-11-01 … 2024-11-30);
# - ``month_before_deadline``: the month ending on the deadline (2024-12-31 → 2024-12-01 … 2024-12-31).
# - ``months_before_deadline:N``: the N months ending on the deadline (Beijing pack: N = 6, 2024-12-31 →
#   2024-07-01 … 2024-12-31); ``month_before_deadline`` is N = 1.
CALENDAR_MONTH_BEFORE, MONTH_BEFORE, MONTHS_BEFORE = "calendar_month_before_deadline_month", "month_before_deadline", "months_before_deadline"


def price_window(deadline: dt.date, rule: str) -> tuple[dt.date, dt.date]:
    """(first day, last day), both inclusive, of the trades that form P̄ for a surrender ``deadline``.

    Raises ValueError for an unknown ``rule``. Examples: 2024-12-31 with
    ``calendar_month_before_deadline_month`` → (2024-11-01, 2024-11-30); with ``month_before_deadline``
    → (2024-12-01, 2024-12-31); 2025-03-31 with ``month_before_deadline`` → (2025-03-01, 2025-03-31);
    2017-06-15 with ``months_before_deadline:6`` → (2016-12-16, 2017-06-15).
    """
    if rule == CALENDAR_MONTH_BEFORE:
        end = deadline.replace(day=1) - dt.timedelta(days=1)
        return end.replace(day=1), end
    months = 1 if rule == MONTH_BEFORE else _months(rule)
    if months is not None:
        y, m = divmod(deadline.year * 12 + deadline.month - 1 - months, 12)
        m += 1
        # the same day ``months`` months earlier, clamped to that month's length, plus one day
        last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
        return dt.date(y, m, min(deadline.day, last)) + dt.timedelta(days=1), deadline
    raise ValueError(f"unknown price window rule {rule!r}")


def _months(rule: str) -> int | None:
    """N of ``months_before_deadline:N`` (N ≥ 1), else None."""
    head, _, n = rule.partition(":")
    if head == MONTHS_BEFORE and is_digits(n) and int(n) >= 1:
        return int(n)
    return None


@dataclass(frozen=True)
class MarketPrice:
    """P̄ and what it was formed from: ``price_fen`` fen per tonne (int, rounded by the pack),
    ``volume_t`` tonnes and ``amount_fen`` fen summed over the counted trades, ``days`` trading days
    with counted volume."""

    start: dt.date
    end: dt.date
    price_fen: int
    volume_t: int
    amount_fen: int
    days: int


def average_price(figures: Iterable[tuple[dt.date, str, str, int, int]], *, start: dt.date, end: dt.date, instruments: Iterable[str],
                  methods: Iterable[str], average: str, rounding: str) -> MarketPrice | None:
    """P̄ from end-of-day figures ``(date, instrument, method, volume_t, amount_fen)``.

    Only rows with start ≤ date ≤ end, an instrument in ``instruments`` and a method in ``methods``
    count. ``average = "volume_weighted"``: Σ amount_fen ÷ Σ volume_t, then ``rounding`` (a pack rule,
    e.g. ``half_up:0`` = to the whole fen). Returns None when no counted trade has volume (no price:
    the fine cannot be computed). Raises ValueError for another ``average``.
    """
    if average != "volume_weighted":
        raise ValueError(f"unknown average {average!r}")
    inst, meth = set(instruments), set(methods)
    vol = amt = 0
    days = set()
    for day, instrument, method, volume_t, amount_fen in figures:
        if start <= day <= end and instrument in inst and method in meth and volume_t > 0:
            vol += volume_t
            amt += amount_fen
            days.add(day)
    if vol == 0:
        return None
    return MarketPrice(start, end, int(apply_rounding(D(amt) / D(vol), rounding)), vol, amt, len(days))


@dataclass(frozen=True)
class FineRange:
    """The lawful range of one fine: ``min_fen`` … ``max_fen`` fen (int), both inclusive."""

    basis: str
    min_fen: int
    max_fen: int


def fine_range_price_multiple(unsurrendered_t: int, price_fen: int, multiple_min: Decimal, multiple_max: Decimal, rounding: str) -> FineRange:
    """Art. 24 range: multiple_min × Q × P̄ … multiple_max × Q × P̄, in fen, rounded by ``rounding``.
    ``unsurrendered_t`` tonnes CO2e (int ≥ 0), ``price_fen`` fen per tonne (int > 0)."""
    return FineRange(PRICE_MULTIPLE, fine_price_multiple(unsurrendered_t, price_fen, multiple_min, rounding),
                     fine_price_multiple(unsurrendered_t, price_fen, multiple_max, rounding))


def fine_price_multiple(unsurrendered_t: int, price_fen: int, multiple: Decimal, rounding: str) -> int:
    """One fine under Art. 24: multiple × unsurrendered_t × price_fen, in fen (int), rounded by the pack
    rule ``rounding`` (the multiple may be a decimal such as 7.5). Raises ValueError for a negative
    quantity or a non-positive price."""
    if unsurrendered_t < 0 or price_fen <= 0:
        raise ValueError(f"quantity {unsurrendered_t} and price {price_fen} must be ≥ 0 and > 0")
    return int(apply_rounding(D(multiple) * D(unsurrendered_t) * D(price_fen), rounding))


def multiple_allowed(multiple: Decimal, multiple_min: Decimal, multiple_max: Decimal) -> bool:
    """Whether ``multiple`` is within the Art. 24 range (both ends inclusive: "5倍以上10倍以下")."""
    return multiple_min <= multiple <= multiple_max
