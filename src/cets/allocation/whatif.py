"""What-if runs: a draft or alternative allocation pack applied to a stored year's verified data, compared with the
base year's own pack — per entity, province and sector — without storing anything.

For each draft pack (one per sector) the run computes, through the allocation mechanisms' pure part
(:func:`cets.allocation.mechanisms.dry_run`, the same code the stored allocation runs):

- the base allocation: the pack the base year's allocation was computed with (``EntityAllocation.pack_id`` of the
  market, sector and year; else the market's pack for them, ``[[packs]]`` in ``rules/packs/<market>/market.toml``),
  on the base year's verified data;
- the draft allocation: the draft pack's rules of its ``rules_year`` (default its first year) on the same data.

Per entity: verified emissions, both allocations, the balance (allocation − verified emissions: > 0 surplus,
< 0 shortfall; tonnes CO2e, int) and the cost of the shortfall at the year's average price (shortfall × price,
fen, int; a surplus gives a negative cost, the market value of the units left over). The price is given by the
caller (the year's volume-weighted average from the exchange's published figures, :mod:`cets.supervision.whatif`).

Nothing is written: no allocation, registry or compliance record changes (tests/allocation/test_whatif.py).
Checks: A0201 (draft pack), A0203 (no base pack or data), A0204 (two drafts of one sector), A0117/A0102 (mechanism).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cets.core.errors import CetsError
from cets.parties.models import Organisation
from cets.rules.packs import Pack, PackError, load_pack, pack_for

from .checks import A0201, A0203, A0204
from .mechanisms import dry_run, mechanism_name
from .models import EntityAllocation


@dataclass(frozen=True)
class SectorRun:
    """One sector of a run: the packs compared and the pack year whose rules the draft applies."""

    sector: str
    base_pack_id: str
    draft_pack_id: str
    rules_year: int
    base_mechanism: str
    draft_mechanism: str


FIGURES = ("verified_t", "base_t", "draft_t", "base_balance_t", "draft_balance_t", "base_cost_fen", "draft_cost_fen")


@dataclass(frozen=True)
class Figures:
    """The compared figures of an entity or a group. Tonnes CO2e (int); fen (int). ``*_balance_t`` = allocation −
    verified emissions (> 0 surplus, < 0 shortfall); ``*_cost_fen`` = −balance × price (> 0 the cost of buying the
    shortfall)."""

    verified_t: int
    base_t: int
    draft_t: int
    base_balance_t: int
    draft_balance_t: int
    base_cost_fen: int
    draft_cost_fen: int

    @property
    def change_t(self) -> int:
        return self.draft_t - self.base_t

    @property
    def change_cost_fen(self) -> int:
        return self.draft_cost_fen - self.base_cost_fen


@dataclass(frozen=True)
class WhatIfRow(Figures):
    """One entity in one sector (:class:`Figures`)."""

    entity_id: int
    uscc: str
    name: str
    province: str
    sector: str


@dataclass(frozen=True)
class Total(Figures):
    """Σ over a group (a sector, a province or everything): entities counted once per sector row."""

    key: str
    entities: int


@dataclass(frozen=True)
class WhatIfRun:
    """A run's result: ``market``/``year`` the base, ``price_fen`` the year's average price (fen per tonne, int) and
    ``price_source`` where it comes from, ``sectors`` the packs compared, ``rows`` by sector, province, credit code."""

    market: str
    year: int
    price_fen: int
    price_source: str
    sectors: list[SectorRun]
    rows: list[WhatIfRow] = field(default_factory=list)

    def totals(self, by: str) -> list[Total]:
        """Σ per ``by`` = ``"sector"`` or ``"province"``, sorted by key."""
        groups: dict[str, list[WhatIfRow]] = {}
        for r in self.rows:
            groups.setdefault(getattr(r, by), []).append(r)
        return [_total(k, groups[k]) for k in sorted(groups)]

    def grand_total(self) -> Total:
        return _total("", self.rows)

    def scoped(self, province: str) -> WhatIfRun:
        """The same run with only the entities of ``province`` (a provincial authority's view of the national run:
        the draft's balance values are solved over the whole sector, then filtered)."""
        return WhatIfRun(self.market, self.year, self.price_fen, self.price_source, self.sectors,
                         [r for r in self.rows if r.province == province])


def _total(key: str, rows: Sequence[WhatIfRow]) -> Total:
    return Total(key=key, entities=len(rows), **{f: sum(getattr(r, f) for r in rows) for f in FIGURES})


def load_draft(pack_id: str) -> Pack:
    """The draft pack ``pack_id`` (an allocation pack in a pack folder); A0201 otherwise."""
    try:
        pack = load_pack(pack_id)
    except PackError as e:
        raise CetsError(A0201, str(e)) from None
    if pack.kind != "allocation":
        raise CetsError(A0201, f"{pack_id}: kind {pack.kind}")
    return pack


def base_pack(*, market: str, sector: str, year: int) -> Pack:
    """The pack the stored allocation of ``market``/``sector``/``year`` was computed with, else the market's pack for
    them; A0203 if there is none."""
    stored = sorted(set(EntityAllocation.objects.filter(market=market, sector=sector, year=year).values_list("pack_id", flat=True)))
    try:
        if len(stored) == 1:
            return load_pack(stored[0])
        return pack_for(market, sector, year)
    except PackError as e:
        raise CetsError(A0203, f"{market} {sector} {year}: {e}") from None


def whatif_compute(*, drafts: Sequence[Pack], market: str, year: int, price_fen: int, price_source: str = "",
                   rules_year: int | None = None) -> WhatIfRun:
    """Apply each pack of ``drafts`` (one per sector) to the verified data of ``market``/``year`` and compare with the
    base pack. ``rules_year`` picks the draft pack's year (default: each pack's first year). ``price_fen`` fen per
    tonne (int > 0). Writes nothing. Errors: A0201, A0203, A0204, A0117, A0102 (see the module docstring)."""
    if type(price_fen) is not int or price_fen <= 0:
        raise ValueError(f"price_fen must be a positive int, got {price_fen!r}")
    seen: set[str] = set()
    sectors: list[SectorRun] = []
    figures: list[tuple[str, dict[int, int], dict[int, int], dict[int, int]]] = []
    for draft in drafts:
        if draft.kind != "allocation" or draft.market != market:
            raise CetsError(A0201, f"{draft.id}: market {draft.market}, kind {draft.kind} (base {market})")
        if draft.sector in seen:
            raise CetsError(A0204, draft.sector)
        seen.add(draft.sector)
        ry = rules_year if rules_year is not None else draft.years[0]
        base = base_pack(market=market, sector=draft.sector, year=year)
        try:
            b = dry_run(pack=base, year=year, rules_year=year)
        except PackError as e:
            raise CetsError(A0203, str(e)) from None
        try:
            d = dry_run(pack=draft, year=year, rules_year=ry)
        except PackError as e:  # a draft that lacks a value its mechanism needs
            raise CetsError(A0201, str(e)) from None
        if not b.entities:
            raise CetsError(A0203, f"{market} {draft.sector} {year}: no verified data")
        sectors.append(SectorRun(draft.sector, base.id, draft.id, ry, mechanism_name(base, year), mechanism_name(draft, ry)))
        figures.append((draft.sector, {e.entity_id: e.verified_emissions_t for e in b.entities},
                        {e.entity_id: e.final_allocation_t for e in b.entities}, {e.entity_id: e.final_allocation_t for e in d.entities}))
    ids = {i for _, v, _, _ in figures for i in v}
    orgs = {o.pk: o for o in Organisation.objects.filter(pk__in=ids).only("id", "uscc", "name", "province")}
    rows = []
    for sector, verified, base_alloc, draft_alloc in figures:
        for eid, v in verified.items():
            o = orgs[eid]
            bt, dt_ = base_alloc[eid], draft_alloc.get(eid, 0)
            rows.append(WhatIfRow(entity_id=eid, uscc=o.uscc, name=o.name, province=o.province, sector=sector, verified_t=v, base_t=bt, draft_t=dt_,
                                  base_balance_t=bt - v, draft_balance_t=dt_ - v, base_cost_fen=(v - bt) * price_fen,
                                  draft_cost_fen=(v - dt_) * price_fen))
    rows.sort(key=lambda r: (r.sector, r.province, r.uscc))
    return WhatIfRun(market, year, price_fen, price_source, sectors, rows)
