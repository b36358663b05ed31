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


def verification_blocks(*, entity_id: int, year: int) -> list[VerificationRecord]:
    """The unresolved 不符合 verification conclusions of the entity's ``year`` report.

    Non-empty means the entity's final allocation of ``year`` may not be issued yet (a 不符合
    conclusion blocks final allocation until resolved; Measures Art. 27 objection / Regulations Art. 12
    verification results). Empty list = not blocked.
    """
    return list(VerificationRecord.objects.filter(entity_id=entity_id, year=year, conforming=False, resolved_at__isnull=True)
                .select_related("verifier").order_by("list_id"))


def entities_blocked(*, entity_ids, year: int) -> dict[int, int]:
    """entity id → number of unresolved 不符合 conclusions for ``year``, for the given entities (bulk
    form of :func:`verification_blocks`, used by allocation before issuing final allocation)."""
    qs = (VerificationRecord.objects.filter(entity_id__in=entity_ids, year=year, conforming=False, resolved_at__isnull=True)
          .values_list("entity_id", flat=True))
    out: dict[int, int] = {}
    for e in qs:
        out[e] = out.get(e, 0) + 1
    return out


def blocked_cases(*, user, year: int | None = None, sector: str | None = None, unresolved_only: bool = False):
    """The 不符合 verification conclusions the ``user`` may see (its jurisdiction: a province sees its
    entities, the national authority all, an entity its own), newest year first. Each is a blocked
    case until resolved. Returns a queryset of :class:`VerificationRecord` with entity and verifier."""
    from cets.parties.access import organisation_scope
    from cets.parties.models import Organisation

    q = Q(conforming=False, entity__in=Organisation.objects.filter(organisation_scope(user)))
    if year is not None:
        q &= Q(year=year)
    if sector:
        q &= Q(sector=sector)
    if unresolved_only:
        q &= Q(resolved_at__isnull=True)
    return (VerificationRecord.objects.filter(q).select_related("entity", "verifier")
            .order_by("-year", "entity__province", "entity__uscc", "list_id"))
