"""Compliance monitoring arithmetic (notice of 2023-07-17 §五(二) 履约风险指数 and weekly net-purchase
reports). Pure: no Django.

The notice asks for a risk index but gives no formula; the weights live in the pack
(``[compliance.monitoring]``, tagged as the platform's own design):

    shortfall  = max(0, outstanding − usable holdings)                  tonnes CO2e (int)
    s = shortfall / outstanding                                          (0 when nothing is outstanding)
    u = clamp((horizon − days to deadline) / horizon, 0, 1)             (1 once the deadline has passed)
    b = 1 − min(1, max(net purchases, 0) / shortfall)                    (0 without a shortfall)
    f = 1 if flagged at compliance risk (差异化管理) else 0
    score = round_half_up(100 × (w_s·s + w_u·u·[shortfall > 0] + w_b·b + w_f·f))   int 0 … 100
    level = high if score ≥ level_high, medium if ≥ level_medium, else low
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from cets.core.quantities import D, round_half_up

HIGH, MEDIUM, LOW = "high", "medium", "low"


@dataclass(frozen=True)
class RiskParams:
    weight_shortfall: Decimal
    weight_urgency: Decimal
    weight_buying: Decimal
    weight_flag: Decimal
    horizon_days: int
    level_high: int
    level_medium: int


@dataclass(frozen=True)
class RiskIndex:
    score: int
    level: str
    shortfall_t: int
    shortfall_share: Decimal
    urgency: Decimal
    buying_gap: Decimal
    flagged: bool


def risk_index(*, outstanding_t: int, usable_holdings_t: int, net_purchases_t: int, days_to_deadline: int, flagged: bool,
               p: RiskParams) -> RiskIndex:
    """The index of one entity (formula in the module docstring). Quantities in tonnes CO2e (int)."""
    shortfall = max(0, outstanding_t - max(usable_holdings_t, 0))
    s = D(shortfall) / D(outstanding_t) if outstanding_t > 0 else Decimal(0)
    if days_to_deadline < 0:
        u = Decimal(1)
    else:
        u = min(Decimal(1), max(Decimal(0), D(p.horizon_days - days_to_deadline) / D(p.horizon_days)))
    b = Decimal(1) - min(Decimal(1), D(max(net_purchases_t, 0)) / D(shortfall)) if shortfall > 0 else Decimal(0)
    raw = 100 * (p.weight_shortfall * s + p.weight_urgency * u * (1 if shortfall > 0 else 0) + p.weight_buying * b + p.weight_flag * (1 if flagged else 0))
    score = int(round_half_up(raw, 0))
    level = HIGH if score >= p.level_high else MEDIUM if score >= p.level_medium else LOW
    return RiskIndex(score, level, shortfall, s, u if shortfall > 0 else Decimal(0), b, flagged)


def report_weeks(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Consecutive 7-day weeks from ``start`` to ``end`` (inclusive), the last one cut at ``end``:
    2024-12-01 … 2024-12-31 → 12-01–12-07, 12-08–12-14, 12-15–12-21, 12-22–12-28, 12-29–12-31."""
    out = []
    d = start
    while d <= end:
        out.append((d, min(end, d + dt.timedelta(days=6))))
        d += dt.timedelta(days=7)
    return out


def weekly_net(trades: Iterable[tuple[dt.date, int]], weeks: list[tuple[dt.date, dt.date]]) -> list[int]:
    """Σ signed quantities (bought > 0, sold < 0) of ``trades`` (business date, tonnes) per week."""
    out = [0] * len(weeks)
    for day, q in trades:
        for i, (a, b) in enumerate(weeks):
            if a <= day <= b:
                out[i] += q
                break
    return out
