"""The compliance risk index (履约风险指数) and the weekly net-purchase arithmetic. Pure: no Django.

The 2021–2022 compliance notice (seed 001, 2023) §五(二): "建立重点排放单位履约风险指数，定期评估重点排放单位履约风险，将风险
提示信息及时推送各省级生态环境主管部门、交易机构" and "于履约截止前1个月，每周向各省级生态环境主管部门通报重点排放单位配额净购入量信息".
No text gives a formula; the weights live in the market's supervision pack (``[risk_index]``, tagged as the
platform's own design):

    shortfall  = max(0, outstanding − usable holdings)                  tonnes CO2e (int)
    s = shortfall / outstanding                                          (0 when nothing is outstanding)
    u = clamp((horizon − days to deadline) / horizon, 0, 1)             (1 once the deadline has passed)
    b = 1 − min(1, max(net purchases, 0) / shortfall)                    (0 without a shortfall)
    f = 1 if flagged at compliance risk (差异化管理) else 0
    c = min(1, credit records in the lookback window / credit_saturation)   (Measures Art. 38 信用记录)
    score = round_half_up(100 × (w_s·s + w_u·u·[shortfall > 0] + w_b·b + w_f·f + w_c·c)), at most 100   int 0 … 100
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
    weight_credit: Decimal = Decimal(0)
    credit_saturation: int = 1
    credit_lookback_days: int = 0


@dataclass(frozen=True)
class RiskIndex:
    score: int
    level: str
    shortfall_t: int
    shortfall_share: Decimal
    urgency: Decimal
    buying_gap: Decimal
    flagged: bool
    credit_records: int = 0
    credit: Decimal = Decimal(0)


def risk_index(*, outstanding_t: int, usable_holdings_t: int, net_purchases_t: int, days_to_deadline: int, flagged: bool,
               p: RiskParams, credit_records: int = 0) -> RiskIndex:
    """The index of one entity (formula in the module docstring). Quantities in tonnes CO2e (int); ``credit_records``
    the number of the entity's credit records inside the pack's lookback window."""
    shortfall = max(0, outstanding_t - max(usable_holdings_t, 0))
    s = D(shortfall) / D(outstanding_t) if outstanding_t > 0 else Decimal(0)
    if days_to_deadline < 0:
        u = Decimal(1)
    else:
        u = min(Decimal(1), max(Decimal(0), D(p.horizon_days - days_to_deadline) / D(p.horizon_days)))
    b = Decimal(1) - min(Decimal(1), D(max(net_purchases_t, 0)) / D(shortfall)) if shortfall > 0 else Decimal(0)
    c = min(Decimal(1), D(max(credit_records, 0)) / D(p.credit_saturation)) if p.credit_saturation > 0 else Decimal(0)
    raw = 100 * (p.weight_shortfall * s + p.weight_urgency * u * (1 if shortfall > 0 else 0) + p.weight_buying * b + p.weight_flag * (1 if flagged else 0)
                 + p.weight_credit * c)
    score = min(100, int(round_half_up(raw, 0)))
    level = HIGH if score >= p.level_high else MEDIUM if score >= p.level_medium else LOW
    return RiskIndex(score, level, shortfall, s, u if shortfall > 0 else Decimal(0), b, flagged, max(credit_records, 0), c)


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
