"""Allocation reads used by other contexts (compliance, registry pages, supervision)."""

from __future__ import annotations

from django.db.models import Sum

from .models import AllocationAdjustment, EntityAllocation, SpecialTreatment


def allocation_of(*, entity, year: int) -> EntityAllocation | None:
    """The entity's allocation record for ``year`` or None."""
    return EntityAllocation.objects.filter(entity=entity, year=year).first()


def adjustments_total_t(*, entity, year: int) -> int:
    """配额调整总量: tonnes CO2e (int, ≥ 0) withheld from ``year``'s issuance by decisions in force."""
    q = AllocationAdjustment.objects.filter(entity=entity, year=year, voided_at__isnull=True).aggregate(s=Sum("quantity_t"))
    return int(q["s"] or 0)


def treatments_of(*, entity, year: int) -> list[str]:
    """The special-treatment kinds (``SpecialTreatment.Kind`` values) in force for ``entity`` and ``year``."""
    return list(SpecialTreatment.objects.filter(entity=entity, year=year, voided_at__isnull=True).values_list("kind", flat=True))


def has_compliance_risk(*, entity, year: int) -> bool:
    """True if ``entity`` is flagged at compliance risk for ``year`` (no borrowing, issuance to the province)."""
    return SpecialTreatment.Kind.COMPLIANCE_RISK in treatments_of(entity=entity, year=year)
