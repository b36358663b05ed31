"""Borrowing (预支) arithmetic, 2021–2022 flexible compliance. Pure: no Django.

Notice of 2023-07-17 §三 and cn-ets-rules.md §1.6 [S]: an entity whose allowance gap exceeds the pack's
``borrowing.gap_threshold`` (10%) of its allocation may borrow next-period allowances up to
``borrowing.share_of_gap`` (50%) of the gap, rounded by ``borrowing.rounding`` (down).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cets.core.quantities import D, apply_rounding


@dataclass(frozen=True)
class BorrowingLimit:
    """``gap_t`` = obligation − allocation (tonnes, ≥ 0); ``eligible`` when gap > threshold × allocation;
    ``limit_t`` the most that may be borrowed (0 when not eligible)."""

    gap_t: int
    eligible: bool
    limit_t: int


def borrowing_limit(*, obligation_t: int, allocation_t: int, threshold: Decimal, share: Decimal, rounding: str) -> BorrowingLimit:
    """Example: allocation 100,000 t, obligation 115,000 t → gap 15,000 > 10% × 100,000 = 10,000 →
    eligible, limit = floor(50% × 15,000) = 7,500 t. A gap of exactly 10,000 t is not eligible
    ("超过": strictly more)."""
    gap = max(0, obligation_t - allocation_t)
    eligible = D(gap) > threshold * D(allocation_t)
    return BorrowingLimit(gap, eligible, int(apply_rounding(share * D(gap), rounding)) if eligible else 0)
