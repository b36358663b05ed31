"""Beijing pilot compliance rules (北京试点清缴): offset caps and the automatic collection at the deadline.
Pure: no Django, no I/O. Tonnes CO2e (int).

Sources (cn-ets-rules.md §7.2; the values are in ``rules/packs/beijing/compliance-2023-2024.toml``, most of
them [S] or [U] and listed in its ``[[unconfirmed]]``):

- offsets, older rules (2014–2020) [S]: certified reductions (碳普惠 PCER and CCER together) ≤ 5% of the
  year's allocation; CCERs from projects outside Beijing ≤ 2.5%. The basis (``allocation`` or
  ``obligation``) is a pack value;
- automatic collection at the deadline [U: the platform's design]: the registry collects the entity's
  usable allowances up to the outstanding obligation, the year's own vintage first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from cets.core.quantities import D, apply_rounding

ALLOCATION, OBLIGATION = "allocation", "obligation"
TOTAL, NONLOCAL = "total", "nonlocal"


@dataclass(frozen=True)
class OffsetCaps:
    """``basis_t`` the tonnes the caps are shares of; ``total_cap_t`` all offsets (PCER + CCER);
    ``nonlocal_ccer_cap_t`` CCERs from projects outside Beijing. Tonnes CO2e (int)."""

    basis_t: int
    total_cap_t: int
    nonlocal_ccer_cap_t: int


def offset_caps(*, obligation_t: int, allocation_t: int | None, basis: str, total_share: Decimal, nonlocal_share: Decimal,
                rounding: str) -> OffsetCaps:
    """The two Beijing offset caps: ``rounding(total_share × basis)`` and ``rounding(nonlocal_share × basis)``,
    basis = the year's allocation (``basis="allocation"``, older rules [S]) or the obligation (``"obligation"``).

    Example (pack values 5%, 2.5%, floor): allocation 123,457 t → total floor(6,172.85) = 6,172 t, non-local
    floor(3,086.425) = 3,086 t. Raises ValueError for an unknown basis, a missing allocation when the basis is
    the allocation, or a negative quantity."""
    if basis not in (ALLOCATION, OBLIGATION):
        raise ValueError(f"offset basis must be {ALLOCATION!r} or {OBLIGATION!r}, got {basis!r}")
    base = obligation_t if basis == OBLIGATION else allocation_t
    if base is None:
        raise ValueError("the offset cap is a share of the allocation: allocation_t is required")
    if base < 0 or obligation_t < 0:
        raise ValueError(f"quantities must be ≥ 0: obligation {obligation_t}, basis {base}")
    return OffsetCaps(base, int(apply_rounding(D(total_share) * D(base), rounding)), int(apply_rounding(D(nonlocal_share) * D(base), rounding)))


def offset_breach(*, quantity_t: int, nonlocal_ccer: bool, used_total_t: int, used_nonlocal_t: int, total_cap_t: int,
                  nonlocal_cap_t: int) -> str | None:
    """Which cap a new offset surrender of ``quantity_t`` would break, or None: ``"total"`` when
    used_total + quantity > total cap; ``"nonlocal"`` when the units are CCERs of a project outside Beijing and
    used_nonlocal + quantity > the non-local cap. Both caps inclusive ("不超过")."""
    if used_total_t + quantity_t > total_cap_t:
        return TOTAL
    if nonlocal_ccer and used_nonlocal_t + quantity_t > nonlocal_cap_t:
        return NONLOCAL
    return None


def vintage_order(year: int, usable: Iterable[str], held: Iterable[str]) -> list[str]:
    """Vintages to collect, in order: the obligation year's own vintage first, then the other usable vintages,
    latest first (as the national forced surrender, 2021–2022 notice "同一年度配额优先"). Unusable ones are left out."""
    usable = set(usable)
    held = list(dict.fromkeys(held))
    mine = [v for v in held if v == str(year) and v in usable]
    others = sorted((v for v in held if v != str(year) and v in usable), reverse=True)
    return mine + others


@dataclass(frozen=True)
class Lot:
    """Units an entity holds: ``vintage``, ``position`` (registry / trading) and ``quantity_t`` tonnes (int)."""

    vintage: str
    position: str
    quantity_t: int


def collection_plan(*, year: int, outstanding_t: int, lots: Sequence[Lot], usable: Iterable[str], positions: Sequence[str]) -> list[Lot]:
    """What the automatic collection takes: lots in :func:`vintage_order`, within a vintage in the order of
    ``positions``, until ``outstanding_t`` is covered. Lots of unusable vintages or other positions are never
    taken. Σ taken = min(outstanding, Σ usable lots)."""
    left = max(0, outstanding_t)
    by = {(lot.vintage, lot.position): lot.quantity_t for lot in lots if lot.quantity_t > 0}
    out: list[Lot] = []
    for v in vintage_order(year, usable, [lot.vintage for lot in lots]):
        for pos in positions:
            q = min(left, by.get((v, pos), 0))
            if q > 0:
                out.append(Lot(v, pos, q))
                left -= q
    return out
