"""Beijing pilot allocation (北京试点): free allocation with the ±20% surplus/shortfall cap, and paid
allocation by auction. Pure: no Django, no I/O. Tonnes CO2e (int), money in fen (int).

Sources (cn-ets-rules.md §7.2, all secondary [S] or unconfirmed [M]/[U]; see the pack's [[unconfirmed]]):

- free allocation is the main mode, paid allocation a supplement (免费为主、有偿为辅) [S, 2023 and 2024 notices];
- each key emitter's allocation surplus or deficit is capped at 20% of its verified emissions (设置配额富余和
  亏缺20%上限) [S, 京环发〔2024〕8号 as reported]: ``A = min(max(A0, floor(0.8 E)), floor(1.2 E))``;
- the initial allocation A0 comes from the sector's method under 《北京市重点碳排放单位配额核定方法》: historical
  total (``base × factor``), historical intensity or benchmark (``activity × intensity × factor``) [M: names
  only; the sector values are not published in what we read, so they are inputs];
- pre-allocation 70% of the previous year's approved allocation, only for entities that completed the
  previous compliance; none for new entrants; true-up later (多退少补) [S, 2022 notice];
- paid allocation: a sealed-bid auction of a set volume at a uniform clearing price (2023 vintage, Sept 2024:
  348,304 t at CNY 104.89/t) [S].
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from cets.core.quantities import apply_rounding, exact
from cets.rules.packs import Pack, PackError

METHODS = ("historical_total", "historical_intensity", "benchmark")


@dataclass(frozen=True)
class BeijingRules:
    pack_id: str
    year: int
    surplus_cap: Decimal
    shortfall_cap: Decimal
    pre_allocation_ratio: Decimal
    auction_volume_t: int | None  # paid allocation of the vintage; None where not published
    rounding: dict[str, str]

    @classmethod
    def from_pack(cls, pack: Pack, year: int) -> BeijingRules:
        """Raises :class:`PackError` if the pack is not a Beijing pack covering ``year`` or lacks a value."""
        if pack.market != "beijing" or not pack.covers(year):
            raise PackError(f"{pack.id} is not a Beijing pack for {year}")
        return cls(
            pack_id=pack.id, year=year,
            surplus_cap=pack.decimal("allocation.surplus_cap"), shortfall_cap=pack.decimal("allocation.shortfall_cap"),
            pre_allocation_ratio=pack.decimal("allocation.pre_allocation_ratio"),
            auction_volume_t=int(pack.decimal(f"auction.{year}.volume_t")) if "volume_t" in pack.data.get("auction", {}).get(str(year), {}) else None,
            rounding={k: str(v) for k, v in pack.raw("rounding").items()},
        )


@dataclass(frozen=True)
class BeijingInput:
    """One Beijing key emitter for one year. ``method`` one of :data:`METHODS`; ``base`` historical emissions
    (t, historical_total) or intensity/benchmark (t per unit of activity); ``activity`` the year's output
    (historical_intensity, benchmark); ``factor`` the control factor (控排系数, 1 for benchmark);
    ``prev_allocation_t`` and ``prev_compliant`` decide the pre-allocation."""

    entity_uscc: str
    method: str
    verified_emissions_t: int
    base: Decimal
    activity: Decimal = Decimal(0)
    factor: Decimal = Decimal(1)
    prev_allocation_t: int = 0
    prev_compliant: bool = False


@dataclass(frozen=True)
class BeijingAllocation:
    entity_uscc: str
    method: str
    verified_emissions_t: int
    initial_allocation_t: int  # A0 from the method
    cap_adjustment_t: int  # > 0 topped up to the 20% shortfall cap, < 0 cut to the 20% surplus cap
    free_allocation_t: int  # 核定免费配额
    pre_allocation_t: int
    issue_delta_t: int  # free − pre (多退少补)


def initial_allocation(x: BeijingInput, rules: BeijingRules) -> int:
    """A0 by the method, rounded by the pack (down). Raises ValueError for an unknown method."""
    if x.method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {x.method!r}")
    with exact():
        raw = x.base * x.factor if x.method == "historical_total" else x.activity * x.base * x.factor
        return int(apply_rounding(raw, rules.rounding["initial_allocation"]))


def free_allocation(x: BeijingInput, rules: BeijingRules) -> BeijingAllocation:
    """Free allocation with the ±20% cap: ``A = min(max(A0, floor((1 − cap) E)), floor((1 + cap) E))``."""
    a0 = initial_allocation(x, rules)
    e = x.verified_emissions_t
    with exact():
        low = int(apply_rounding((1 - rules.shortfall_cap) * e, rules.rounding["cap"]))
        high = int(apply_rounding((1 + rules.surplus_cap) * e, rules.rounding["cap"]))
        pre = int(apply_rounding(rules.pre_allocation_ratio * x.prev_allocation_t, rules.rounding["pre_allocation"])) if x.prev_compliant else 0
    a = min(max(a0, low), high)
    return BeijingAllocation(x.entity_uscc, x.method, e, a0, a - a0, a, pre, a - pre)


def allocate_beijing(rows: Iterable[BeijingInput], rules: BeijingRules) -> list[BeijingAllocation]:
    return [free_allocation(x, rules) for x in rows]


@dataclass(frozen=True)
class Bid:
    bidder: str
    quantity_t: int
    price_fen: int  # per tonne
    seq: int = 0  # submission order, breaks ties


@dataclass(frozen=True)
class AuctionResult:
    clearing_price_fen: int
    awards: dict[str, int]  # bidder → tonnes
    sold_t: int
    proceeds_fen: int  # paid to the treasury


def auction_clear(volume_t: int, bids: Sequence[Bid]) -> AuctionResult:
    """Uniform-price sealed-bid auction of ``volume_t`` tonnes: bids filled from the highest price (then
    earliest) until the volume is sold; every winner pays the lowest accepted price; the last accepted bid
    may be filled in part. Tie-breaking by submission order is our assumption (Beijing's rule [U]).
    Raises ValueError for a non-positive quantity or price."""
    for b in bids:
        if b.quantity_t <= 0 or b.price_fen <= 0:
            raise ValueError(f"bid of {b.bidder}: quantity and price must be > 0")
    left, awards, price = volume_t, {}, 0
    for b in sorted(bids, key=lambda b: (-b.price_fen, b.seq)):
        if left <= 0:
            break
        q = min(b.quantity_t, left)
        awards[b.bidder] = awards.get(b.bidder, 0) + q
        left -= q
        price = b.price_fen
    sold = volume_t - left
    return AuctionResult(clearing_price_fen=price, awards=awards, sold_t=sold, proceeds_fen=sold * price)
