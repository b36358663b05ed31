"""Carry-over (结转) of 2019–2024 vintages into the 2025 vintage: the pure rule of the 2023–2024 power
plan 附5 (:func:`carry_over_limit`). The services (apply, process) are in
:mod:`cets.compliance.services.carryover`; the position read in :mod:`cets.compliance.selectors`.
"""

from __future__ import annotations

from decimal import Decimal

from cets.core.quantities import apply_rounding


def carry_over_limit(*, net_sales_t: int, holdings_t: int, base: Decimal, ratio: Decimal, rounding: str = "floor") -> int:
    """T = B + max(NS, 0) × R, at most the holdings, rounded down (plan 附5).

    ``net_sales_t`` = sales − purchases of the 2019–2024 vintages in the window (tonnes);
    ``holdings_t`` = holdings of those vintages at 2025-12-31 23:59 (tonnes).
    Example (reference §1.8): NS = 200,000 → T = 10,000 + 300,000 = 310,000, then ≤ holdings.
    """
    t = apply_rounding(base + Decimal(max(net_sales_t, 0)) * ratio, rounding)
    return max(0, min(int(t), holdings_t))
