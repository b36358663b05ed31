"""Beijing pilot compliance rules (北京试点清缴): offset caps and the automatic collection after the deadline.
Pure: no Django, no I/O. Tonnes CO2e (int).

Sources (the values are in ``rules/packs/beijing/compliance-2023-2024.toml``):

- offsets, 京环发〔2024〕8号 三(四) [C-seed]: "使用比例不得高于当年核定碳排放量的5%" — 碳普惠 PCER and CCER together
  ≤ 5% of the year's determined emissions (pack ``offset_basis = "obligation"``). No non-local sub-cap in the
  notice; the older rules' 2.5% cap on CCERs from outside Beijing (2014–2020 [S]) stays possible as an optional
  pack value (``nonlocal_ccer_cap``), absent by default;
- automatic collection, 三(四) "逾期未完成的，管理平台将自动收缴其账户内的配额及抵销产品，用于清缴": the registry collects
  the entity's usable allowances (the year's own vintage first) and then its offset products within what is
  left of the offset cap, up to the outstanding obligation (:func:`collection_plan`, :func:`offset_collection_plan`).
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
    ``nonlocal_ccer_cap_t`` CCERs from projects outside Beijing, None when the pack sets no such sub-cap (the
    2023 year: 京环发〔2024〕8号 states none). Tonnes CO2e (int)."""

    basis_t: int
    total_cap_t: int
    nonlocal_ccer_cap_t: int | None = None


def offset_caps(*, obligation_t: int, allocation_t: int | None, basis: str, total_share: Decimal, nonlocal_share: Decimal | None = None,
                rounding: str) -> OffsetCaps:
    """The Beijing offset caps: ``rounding(total_share × basis)`` and, only when ``nonlocal_share`` is given,
    ``rounding(nonlocal_share × basis)``; basis = the obligation (``basis="obligation"``: the year's determined
    emissions, 京环发〔2024〕8号 三(四)) or the year's allocation (``"allocation"``, older rules [S]).

    Example (2023 pack: 5% of the obligation, floor, no sub-cap): determined emissions 123,457 t → floor(6,172.85)
    = 6,172 t, no non-local cap. Raises ValueError for an unknown basis, a missing allocation when the basis is
    the allocation, or a negative quantity."""
    if basis not in (ALLOCATION, OBLIGATION):
        raise ValueError(f"offset basis must be {ALLOCATION!r} or {OBLIGATION!r}, got {basis!r}")
    base = obligation_t if basis == OBLIGATION else allocation_t
    if base is None:
        raise ValueError("the offset cap is a share of the allocation: allocation_t is required")
    if base < 0 or obligation_t < 0:
        raise ValueError(f"quantities must be ≥ 0: obligation {obligation_t}, basis {base}")
    nonlocal_cap = None if nonlocal_share is None else int(apply_rounding(D(nonlocal_share) * D(base), rounding))
    return OffsetCaps(base, int(apply_rounding(D(total_share) * D(base), rounding)), nonlocal_cap)


def offset_breach(*, quantity_t: int, nonlocal_ccer: bool, used_total_t: int, used_nonlocal_t: int, total_cap_t: int,
                  nonlocal_cap_t: int | None) -> str | None:
    """Which cap a new offset surrender of ``quantity_t`` would break, or None: ``"total"`` when
    used_total + quantity > total cap; ``"nonlocal"`` when a non-local cap is set (not None), the units are
    CCERs of a project outside Beijing and used_nonlocal + quantity > that cap. Caps inclusive ("不得高于")."""
    if used_total_t + quantity_t > total_cap_t:
        return TOTAL
    if nonlocal_cap_t is not None and nonlocal_ccer and used_nonlocal_t + quantity_t > nonlocal_cap_t:
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


@dataclass(frozen=True)
class OffsetLot:
    """Offset units an entity holds: ``code`` (unit type, e.g. ``PCER-2023``, ``CCER-BJL1-2024``), ``position``,
    ``quantity_t`` tonnes (int), ``nonlocal_ccer`` whether they are CCERs of a project outside Beijing."""

    code: str
    position: str
    quantity_t: int
    nonlocal_ccer: bool = False


def offset_collection_plan(*, outstanding_t: int, lots: Sequence[OffsetLot], cap_left_t: int, nonlocal_cap_left_t: int | None,
                           positions: Sequence[str]) -> list[OffsetLot]:
    """What the automatic collection takes of offset products (三(四) "自动收缴其账户内的…抵销产品"): lots in the given
    order, within a lot's code in the order of ``positions``, until the smaller of ``outstanding_t`` and
    ``cap_left_t`` (what is left of the offset cap, 5% of determined emissions) is covered; CCERs of projects
    outside Beijing also within ``nonlocal_cap_left_t`` when it is not None. Lots of other positions are never
    taken. Σ taken = min(outstanding, cap left, Σ eligible lots).

    Example: outstanding 20,000 t, cap left 2,500 t, PCER 1,000 + CCER 3,000 held → PCER 1,000, CCER 1,500."""
    left = max(0, min(outstanding_t, cap_left_t))
    nl_left = None if nonlocal_cap_left_t is None else max(0, nonlocal_cap_left_t)
    order = list(dict.fromkeys(lot.code for lot in lots))
    by = {(lot.code, lot.position): lot for lot in lots if lot.quantity_t > 0}
    out: list[OffsetLot] = []
    for code in order:
        for pos in positions:
            lot = by.get((code, pos))
            if lot is None:
                continue
            q = min(left, lot.quantity_t)
            if lot.nonlocal_ccer and nl_left is not None:
                q = min(q, nl_left)
            if q > 0:
                out.append(OffsetLot(code, pos, q, lot.nonlocal_ccer))
                left -= q
                if lot.nonlocal_ccer and nl_left is not None:
                    nl_left -= q
    return out
