"""MRV writes: verification records and verified unit-year data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone

from cets.core.errors import CetsError, Check
from cets.parties.access import require_role
from cets.parties.models import Role

from .models import UnitYearData, VerificationRecord


def verification_records_upsert(*, records: Iterable[tuple[int, str, int, int, str, bool, bool]], source: str) -> int:
    """Insert verification records ``(year, sector, entity_id, verifier_id, list_id, on_time, conforming)``
    that do not exist yet; returns how many were created."""
    recs = list(records)
    existing = set(VerificationRecord.objects.filter(entity_id__in={r[2] for r in recs}).values_list("year", "entity_id", "verifier_id", "list_id"))
    new = []
    for y, s, e, v, lid, on_time, ok in recs:
        k = (y, e, v, lid)
        if k in existing:
            continue
        existing.add(k)
        new.append(VerificationRecord(year=y, sector=s, entity_id=e, verifier_id=v, list_id=lid, on_time=on_time, conforming=ok, source=source))
    VerificationRecord.objects.bulk_create(new, batch_size=1000)
    return len(new)


@transaction.atomic
def unit_year_data_upsert(*, rows: Sequence[UnitYearData]) -> int:
    """Insert unit-year rows whose (unit, year) does not exist yet; returns how many were created.
    Existing verified data is never overwritten here (a change of verified data is a new
    verification result, handled by dynamic adjustment)."""
    units = {r.unit_id for r in rows}
    have = set(UnitYearData.objects.filter(unit_id__in=units).values_list("unit_id", "year"))
    new = [r for r in rows if (r.unit_id, r.year) not in have]
    UnitYearData.objects.bulk_create(new, batch_size=1000)
    return len(new)



V0201 = Check("V0201", "核查结论为符合，无需解除", "the verification conclusion is conforming; there is nothing to resolve")
V0202 = Check("V0202", "该不符合结论已解除", "this non-conforming conclusion is already resolved")
V0203 = Check("V0203", "解除方式无效", "unknown resolution")


@transaction.atomic
def verification_resolve(*, record_id: int, actor, resolution: str, note: str = "", at: dt.datetime | None = None) -> VerificationRecord:
    """Resolve a 不符合 verification conclusion so that the entity's final allocation may be issued:
    ``resolution`` ``reverified`` (rectified and re-verified as conforming) or ``determined`` (the
    authority determined the emissions). Only the entity's provincial authority (or the national
    authority) may do it. Raises R0502 (role / jurisdiction), V0201 (conclusion is 符合), V0202
    (already resolved), V0203 (unknown resolution). ``at`` defaults to now."""
    rec = VerificationRecord.objects.select_for_update().select_related("entity").get(pk=record_id)
    require_role(actor, Role.PROVINCIAL_AUTHORITY, Role.NATIONAL_AUTHORITY, province=rec.entity.province)
    if resolution not in VerificationRecord.Resolution.values:
        raise CetsError(V0203, resolution)
    if rec.conforming:
        raise CetsError(V0201, rec.list_id)
    if rec.resolved_at is not None:
        raise CetsError(V0202, f"{rec.list_id} {rec.resolved_at:%Y-%m-%d}")
    rec.resolution, rec.resolution_note, rec.resolved_by = resolution, note[:500], actor
    rec.resolved_at = at or timezone.now()
    rec.save(update_fields=["resolution", "resolution_note", "resolved_by", "resolved_at"])
    return rec
