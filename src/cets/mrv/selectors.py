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


def verifier_evaluation_facts(*, year: int, province: str):
    """Facts for the evaluation of the bodies that verified ``year`` reports of ``province``'s entities:
    one :class:`~cets.mrv.verification.VerificationFact` per verification record (on time per the
    disclosure), with notification timeliness from assignments and spot-check flags on the first
    verifier. Returns ``(facts, body key → body id)``; the body key is its credit code."""
    from .models import VerificationAssignment
    from .verification import VerificationFact

    recs = list(VerificationRecord.objects.filter(year=year, entity__province=province).select_related("verifier"))
    asg = {a.pk: a for a in VerificationAssignment.objects.filter(year=year, province=province)}
    spot = {}
    for a in asg.values():
        if a.kind == VerificationAssignment.Kind.SPOT_CHECK and a.flagged is not None:
            spot[a.entity_id] = a.flagged
    facts, body_ids = [], {}
    for r in recs:
        key = r.verifier.uscc or f"#{r.verifier_id}"
        body_ids[key] = r.verifier_id
        a = asg.get(int(r.list_id[4:])) if r.list_id.startswith("ASG-") and r.list_id[4:].isdigit() else None
        in_time = None if a is None or a.notify_by is None else (a.notified_on is not None and a.notified_on <= a.notify_by)
        facts.append(VerificationFact(body=key, on_time=r.on_time, notified_in_time=in_time,
                                      spot_checked=a is not None and r.entity_id in spot, flagged=a is not None and spot.get(r.entity_id, False)))
    return facts, body_ids


def verifier_evaluations(*, year: int, province: str | None = None):
    """Published verifier evaluations (public: any logged-in user), best timeliness first."""
    from .models import VerifierEvaluation

    qs = VerifierEvaluation.objects.filter(year=year).select_related("body")
    if province is not None:
        qs = qs.filter(province=province)
    return qs.order_by("province", "-timeliness", "body__name")


def entity_emissions_by_year(*, entity_ids, years) -> dict[int, dict[int, int]]:
    """entity id → {year → verified emissions, tonnes CO2e (int)} for ``years``: the sum of the
    entity's unit-year data, or, where there is none, the emissions a completed regular verification
    recorded."""
    from .models import VerificationAssignment

    years = list(years)
    out: dict[int, dict[int, int]] = {}
    for r in (UnitYearData.objects.filter(unit__entity_id__in=entity_ids, year__in=years).values("unit__entity_id", "year")
              .annotate(t=Sum("verified_emissions_t")).order_by()):
        out.setdefault(r["unit__entity_id"], {})[r["year"]] = r["t"]
    for e, y, t in VerificationAssignment.objects.filter(entity_id__in=entity_ids, year__in=years, kind="regular",
                                                         completed_on__isnull=False).values_list("entity_id", "year", "verified_emissions_t"):
        out.setdefault(e, {}).setdefault(y, t)
    return out


def emitter_list_rows(*, user, market: str, year: int, sector: str | None = None, province: str | None = None):
    """The included entities of a list the ``user`` may see (its jurisdiction), as
    :class:`cets.mrv.list_files.ListRow` in the published order (province, sector, credit code)."""
    from cets.parties.access import organisation_scope
    from cets.parties.models import Organisation

    from .list_files import ListRow
    from .models import EmitterListPublication, EmitterListRecord

    qs = EmitterListRecord.objects.filter(market=market, year=year, included=True,
                                          entity__in=Organisation.objects.filter(organisation_scope(user))).select_related("entity")
    if sector:
        qs = qs.filter(sector=sector)
    if province:
        qs = qs.filter(province=province)
    pubs = {(p.sector, p.province): p for p in EmitterListPublication.objects.filter(market=market, year=year).select_related("published_by")}
    out = []
    for r in qs.order_by("province", "sector", "entity__uscc"):
        p = pubs.get((r.sector, r.province))
        authority = ""
        if p is not None:
            m = getattr(p.published_by, "membership", None)
            authority = m.organisation.name if m else ""
        out.append(ListRow(year=year, province=r.province, city=r.city, sector=r.sector, name=r.entity.name, uscc=r.entity.uscc,
                           authority=authority, published_on=p.published_on if p else None))
    return out


def monthly_template(*, user, entity, year: int) -> bytes:
    """The XLSX filing template for ``entity``'s units and the months of ``year`` (only for a user who
    may see the entity; R0502 otherwise)."""
    from cets.core.errors import CetsError
    from cets.parties.access import DENIED, can_see
    from cets.parties.selectors import units_of

    from .monthly_files import template_xlsx

    if not can_see(user, entity):
        raise CetsError(DENIED, "entity outside scope")
    return template_xlsx(uscc=entity.uscc, units=[(u.code, u.rated_capacity_mw) for u in units_of(entity=entity)], year=year)
