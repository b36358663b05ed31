"""Key-emitter lists (重点排放单位名录), pure (no Django, no I/O): who is listed, who is removed, whether a
list was published on time.

* Listing at ≥ the threshold (national 26,000 tCO2e direct emissions: 《碳排放权交易管理办法（试行）》 Art. 8,
  环办气候函〔2025〕140号 §一(一); Beijing's own threshold in its pack).
* Removal after the threshold is missed in consecutive years (two, Measures Art. 11) or on closure.
* Publication by the province by the notice's deadline (2025 notice §一(二)).

Every number comes from an ``[pack] kind = "emitter_list"`` rule pack (:meth:`ListRules.from_pack`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from cets.rules.packs import Pack, PackError


@dataclass(frozen=True)
class ListRules:
    """``threshold_t`` tonnes CO2e (int); ``removal_years`` consecutive years below before removal;
    ``basis_offset``: the list of year Y is decided on emissions of Y − offset; ``publish_by``:
    (list year, sector) → deadline; ``sector_names``: sector code → name in the published list."""

    pack_id: str
    market: str
    years: tuple[int, ...]
    threshold_t: int
    removal_years: int
    basis_offset: int
    sectors: tuple[str, ...]
    publish_by: Mapping[tuple[int, str], dt.date] = field(default_factory=dict)
    sector_names: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_pack(cls, pack: Pack) -> ListRules:
        """Read ``[list]`` of an ``emitter_list`` pack; PackError if the pack is another kind or a value is malformed."""
        if pack.kind != "emitter_list":
            raise PackError(f"{pack.id} is not an emitter_list pack")
        lst = pack.raw("list")
        publish = {}
        for year, by_sector in lst.get("publish_by", {}).items():
            for sector in by_sector:
                publish[(int(year), sector)] = pack.date(f"list.publish_by.{year}.{sector}")
        return cls(pack_id=pack.id, market=pack.market, years=tuple(pack.years), threshold_t=int(pack.decimal("list.threshold_t")),
                   removal_years=int(pack.decimal("list.removal_consecutive_years")), basis_offset=int(pack.decimal("list.basis_year_offset")),
                   sectors=tuple(lst["sectors"]), publish_by=publish, sector_names=dict(lst.get("sector_names", {})))


@dataclass(frozen=True)
class ListDecision:
    """``included`` on the list of ``year``; ``reason``: ``threshold`` (basis emissions ≥ threshold),
    ``stays_listed`` (listed, fewer consecutive years below than the removal rule needs),
    ``below_consecutive`` (removed), ``closed`` (removed), ``below_threshold`` / ``no_data`` (not listed)."""

    included: bool
    reason: str
    basis_year: int
    basis_t: int | None


def list_decision(*, year: int, emissions: Mapping[int, int], listed_before: bool, closed: bool, rules: ListRules) -> ListDecision:
    """Decide one entity for the list of ``year`` from its emissions by year (tonnes CO2e, int).

    Closure removes. Basis-year emissions ≥ ``threshold_t`` list the entity. A listed entity is removed
    only when each of the ``removal_years`` years up to the basis year is known and below the
    threshold (Measures Art. 11); otherwise it stays. An unlisted entity below (or without data) is not listed.
    """
    basis = year - rules.basis_offset
    t = emissions.get(basis)
    if closed:
        return ListDecision(False, "closed", basis, t)
    if t is not None and t >= rules.threshold_t:
        return ListDecision(True, "threshold", basis, t)
    if listed_before:
        window = [emissions.get(basis - i) for i in range(rules.removal_years)]
        if all(v is not None and v < rules.threshold_t for v in window):
            return ListDecision(False, "below_consecutive", basis, t)
        return ListDecision(True, "stays_listed", basis, t)
    return ListDecision(False, "no_data" if t is None else "below_threshold", basis, t)


def publication_status(*, deadline: dt.date | None, published_on: dt.date | None, today: dt.date) -> str:
    """``on_time`` / ``late`` once published; before: ``due`` (deadline not passed or none known) or ``overdue``."""
    if published_on is not None:
        return "late" if deadline is not None and published_on > deadline else "on_time"
    return "overdue" if deadline is not None and today > deadline else "due"
