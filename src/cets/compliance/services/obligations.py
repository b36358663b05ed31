"""Surrender obligations (应清缴配额量) of a compliance year, from the stored allocation (plan §五(三))."""

from __future__ import annotations

from django.db import transaction

from cets.allocation.models import EntityAllocation
from cets.core.quantities import D, apply_rounding
from cets.rules.packs import load_pack

from ..models import (
    Obligation,
)


@transaction.atomic
def obligations_create(*, year: int, pack_id: str) -> int:
    """One obligation per entity allocated for ``year``: 应清缴配额量 = verified emissions (plan §五(三)),
    offset cap = offset_cap × obligation rounded by the pack, deadline from the pack. Idempotent."""
    pack = load_pack(pack_id)
    deadline = pack.date(f"compliance.{year}.deadline")
    cap = pack.decimal(f"compliance.{year}.offset_cap")
    rounding = pack.text(f"compliance.{year}.offset_rounding")
    have = set(Obligation.objects.filter(year=year).values_list("entity_id", flat=True))
    new = [
        Obligation(entity_id=a.entity_id, year=year, pack_id=pack_id, obligation_t=a.verified_emissions_t,
                   offset_cap_t=int(apply_rounding(cap * D(a.verified_emissions_t), rounding)), deadline=deadline)
        for a in EntityAllocation.objects.filter(year=year) if a.entity_id not in have
    ]
    Obligation.objects.bulk_create(new, batch_size=1000)
    return len(new)
