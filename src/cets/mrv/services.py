"""MRV writes: verification records and verified unit-year data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction

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

