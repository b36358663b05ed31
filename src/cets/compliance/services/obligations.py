"""Surrender obligations (应清缴配额量) of a compliance year, from the stored allocation (plan §五(三))."""

from __future__ import annotations

from django.db import transaction

from cets.allocation.selectors import obligation_parts
from cets.core.quantities import D, apply_rounding
from cets.rules.packs import load_pack

from ..models import Obligation


@transaction.atomic
def obligations_create(*, year: int, pack_id: str, entity_ids=None) -> int:
    """One obligation per entity allocated for ``year`` in the pack's market: 应清缴配额量 = Σ over the
    entity's sector allocations of their obligations (verified emissions, plan §五(三)), with the per-sector
    breakdown kept (``sectors``: an entity on two lists has one notice and one surrender obligation, 2025
    notice 环办气候函〔2025〕140号); offset cap = offset_cap × the whole obligation rounded by the pack
    (Measures Art. 29: the 5% applies to the whole obligation); deadline from the pack. Idempotent: a second
    run creates nothing, and an obligation whose sector figures changed since (a sector allocated later, a
    dynamic adjustment) is brought up to date. No obligation for an entity whose special treatment the pack lists
    under ``special_treatment.no_obligation`` (2021–2022: deregistered). Emissions the authority determined itself
    (:func:`cets.mrv.selectors.authority_determinations`: after a finding of false reporting, Measures 2021 Art. 39 "将该排放量
    作为碳排放配额清缴的依据") replace the entity's total, the sector breakdown scaled to it (:func:`scaled_sectors`).
    ``entity_ids`` limits the run to those entities (a refresh after such a determination). Returns the number created."""
    pack = load_pack(pack_id)
    deadline = pack.date(f"compliance.{year}.deadline")
    cap = pack.decimal(f"compliance.{year}.offset_cap")
    rounding = pack.text(f"compliance.{year}.offset_rounding")
    parts = obligation_parts(year=year, market=pack.market)
    if entity_ids is not None:
        wanted = set(entity_ids)
        parts = {eid: p for eid, p in parts.items() if eid in wanted}
    from cets.mrv.selectors import authority_determinations

    for eid, t in authority_determinations(market=pack.market, year=year, entity_ids=list(parts)).items():
        parts[eid] = scaled_sectors(parts[eid], t)
    from ..selectors import special_kinds, treated_entity_ids

    # notice of 2023-07-14 §一: deregistered entities "不发放配额，不参与全国碳市场履约" (pack special_treatment.no_obligation)
    for eid in treated_entity_ids(year=year, kinds=special_kinds(pack_id, "no_obligation"), entity_ids=list(parts)):
        parts.pop(eid, None)
    have = {o.entity_id: o for o in Obligation.objects.filter(market=pack.market, year=year)}
    new = []
    for entity_id, sectors in parts.items():
        total = sum(sectors.values())
        offset_cap = int(apply_rounding(cap * D(total), rounding))
        o = have.get(entity_id)
        if o is None:
            new.append(Obligation(entity_id=entity_id, market=pack.market, year=year, pack_id=pack_id, obligation_t=total, sectors=sectors,
                                  offset_cap_t=offset_cap, deadline=deadline))
        elif (o.obligation_t, o.sectors, o.offset_cap_t) != (total, sectors, offset_cap) and o.pack_id == pack_id:
            Obligation.objects.filter(pk=o.pk).update(obligation_t=total, sectors=sectors, offset_cap_t=offset_cap)
    Obligation.objects.bulk_create(new, batch_size=1000)
    return len(new)


def scaled_sectors(sectors: dict[str, int], total_t: int) -> dict[str, int]:
    """``sectors`` ({sector: t}) scaled to sum to ``total_t`` (int ≥ 0): each sector's share of the old total, floored, the
    tonnes left over given one by one to the largest remainders (then the sector code); all to the first sector when the old
    total is 0. {"power": 80, "steel": 20} to 150 → {"power": 120, "steel": 30}; {"a": 1, "b": 1, "c": 1} to 4 → {"a": 2, "b": 1, "c": 1}."""
    old = sum(sectors.values())
    if not sectors:
        return {}
    if old <= 0:
        first = sorted(sectors)[0]
        return {s: (total_t if s == first else 0) for s in sectors}
    base = {s: total_t * q // old for s, q in sectors.items()}
    left = total_t - sum(base.values())
    for s in sorted(sectors, key=lambda s: (-(total_t * sectors[s] % old), s))[:left]:
        base[s] += 1
    return base
