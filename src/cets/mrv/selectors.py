"""MRV reads."""

from __future__ import annotations

from django.db.models import Q, Sum

from .models import UnitYearData, VerificationRecord


def unit_year_rows(*, year: int, entity_ids=None) -> dict[tuple[int, int], UnitYearData]:
    """(unit_id, year) → data for ``year`` and the year before (the pre-allocation basis)."""
    qs = UnitYearData.objects.filter(year__in=(year, year - 1))
    if entity_ids is not None:
        qs = qs.filter(unit__entity_id__in=entity_ids)
    return {(r.unit_id, r.year): r for r in qs}


def entity_verified_emissions(*, entity_id: int, year: int) -> int:
    """Σ verified emissions of the entity's units for ``year`` (tonnes CO2e)."""
    return UnitYearData.objects.filter(unit__entity_id=entity_id, year=year).aggregate(t=Sum("verified_emissions_t"))["t"] or 0


def verifications_of(*, entity_id: int):
    return VerificationRecord.objects.filter(entity_id=entity_id).select_related("verifier").order_by("-year", "list_id")


def non_conforming(*, year: int, sector: str | None = None):
    """Entities whose verification conclusion for ``year`` is 不符合."""
    q = Q(year=year, conforming=False)
    if sector:
        q &= Q(sector=sector)
    return VerificationRecord.objects.filter(q).select_related("entity", "verifier")
