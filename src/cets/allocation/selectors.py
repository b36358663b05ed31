"""Allocation reads used by other contexts (compliance, registry pages, supervision)."""

from __future__ import annotations

from django.db.models import Count, Sum

from cets.rules.markets import PRIMARY_MARKET

from .models import AllocationAdjustment, EntityAllocation, SpecialTreatment


def allocations_of(*, entity, year: int, market: str | None = None) -> list[EntityAllocation]:
    """The entity's allocation records of ``year`` (one per market and sector list it is on), by market and sector."""
    qs = EntityAllocation.objects.filter(entity=entity, year=year)
    if market is not None:
        qs = qs.filter(market=market)
    return list(qs.order_by("market", "sector"))


def allocated_t(*, entity, year: int, market: str = PRIMARY_MARKET) -> int | None:
    """Σ final allocation (应发配额量) of ``entity`` in ``market`` for ``year`` over its sectors, tonnes CO2e
    (int); None if it has no allocation that year."""
    q = EntityAllocation.objects.filter(entity=entity, year=year, market=market).aggregate(t=Sum("final_allocation_t"), n=Count("id"))
    return int(q["t"]) if q["n"] else None


def obligation_parts(*, year: int, market: str) -> dict[int, dict[str, int]]:
    """entity id → {sector: 应清缴配额量 tonnes CO2e (int)} over its ``market`` allocations of ``year``."""
    out: dict[int, dict[str, int]] = {}
    for eid, sector, t in EntityAllocation.objects.filter(year=year, market=market).order_by("entity_id", "sector").values_list(
            "entity_id", "sector", "obligation_t"):
        out.setdefault(eid, {})[sector] = int(t)
    return out


def fully_issued_entity_ids(*, year: int, market: str = PRIMARY_MARKET) -> set[int]:
    """Entities whose every sector allocation of ``year`` in ``market`` is at stage ``final_issued``."""
    rows = EntityAllocation.objects.filter(year=year, market=market).values_list("entity_id", "stage")
    out: dict[int, bool] = {}
    for eid, stage in rows:
        out[eid] = out.get(eid, True) and stage == EntityAllocation.Stage.FINAL_ISSUED
    return {eid for eid, ok in out.items() if ok}


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


def allocation_table_rows(*, user, year: int, entity=None) -> tuple[list[dict], list[dict]]:
    """The data-table rows of ``year`` that ``user`` may see (organisation_scope: a provincial authority its
    province, an entity itself, nationwide roles everything), optionally one ``entity``: (unit rows, entity
    rows) as dicts keyed like :mod:`cets.allocation.workbook`'s columns. Units are the computed ones;
    imported entity tables have no unit rows."""
    from cets.parties.access import organisation_scope
    from cets.parties.models import Organisation

    from .models import UnitAllocation

    orgs = Organisation.objects.filter(organisation_scope(user))
    if entity is not None:
        orgs = orgs.filter(pk=entity.pk)
    ents = EntityAllocation.objects.filter(year=year, entity__in=orgs).select_related("entity").order_by("entity__uscc", "market", "sector")
    units = (UnitAllocation.objects.filter(year=year, unit__entity__in=orgs).select_related("unit", "unit__entity")
             .order_by("unit__entity__uscc", "unit__code"))
    unit_rows = [{
        "entity_uscc": u.unit.entity.uscc, "entity_name": u.unit.entity.name, "unit_code": u.unit.code, "category": u.category,
        "prev_verified_emissions_t": u.prev_verified_emissions_t, "pre_allocation_t": u.pre_allocation_t, "generation_mwh": u.generation_mwh,
        "heat_supplied_gj": u.heat_supplied_gj, "load_factor": u.load_factor, "electricity_benchmark": u.electricity_benchmark,
        "heat_benchmark": u.heat_benchmark, "ff": u.ff, "electricity_allowance_t": u.electricity_allowance_t,
        "heat_allowance_t": u.heat_allowance_t, "gas_topup_t": u.gas_topup_t, "unit_allowance_t": u.unit_allowance_t,
        "verified_emissions_t": u.verified_emissions_t,
    } for u in units]
    keys = ("verified_emissions_t", "pre_allocation_t", "pre_adjustment_t", "pre_issue_t", "initial_allocation_t", "shortfall_topup_t",
            "final_allocation_t", "obligation_t", "adjustments_total_t", "final_issue_t", "special_note")
    entity_rows = [{"entity_uscc": a.entity.uscc, "entity_name": a.entity.name, **{k: getattr(a, k) for k in keys}} for a in ents]
    return unit_rows, entity_rows


def objections_visible(*, user, year: int):
    """Allocation objections of ``year`` within ``user``'s scope (organisation_scope), newest first."""
    from cets.parties.access import organisation_scope
    from cets.parties.models import Organisation

    from .models import AllocationObjection

    return (AllocationObjection.objects.filter(year=year, entity__in=Organisation.objects.filter(organisation_scope(user)))
            .select_related("entity"))


def submissions_visible(*, user, year: int | None):
    """Table submissions of ``year`` (every year when None) that ``user`` may see: a provincial or municipal
    authority those of its province; the national authority and registry operators all; anyone else none."""
    from cets.parties.access import membership_of
    from cets.parties.models import Role

    from .models import AllocationSubmission

    m = membership_of(user)
    qs = AllocationSubmission.objects.filter(year=year) if year is not None else AllocationSubmission.objects.all()
    if m is None or m.role not in (Role.NATIONAL_AUTHORITY, Role.REGISTRY_OPERATOR, Role.PROVINCIAL_AUTHORITY, Role.MUNICIPAL_AUTHORITY):
        return qs.none()
    if m.role in (Role.PROVINCIAL_AUTHORITY, Role.MUNICIPAL_AUTHORITY):
        qs = qs.filter(province=m.province)
    return qs.order_by("-year", "market", "sector", "stage", "province")


def basis_scopes() -> list[tuple[str, int]]:
    """``(pack id, year)`` of every market pack whose allocation mechanism takes the bureau's per-entity approval
    basis (``services.BASIS_MECHANISMS``), in market and year order."""
    from cets.rules.markets import markets

    from .services import BASIS_MECHANISMS

    return [(e.pack, y) for m in markets() for e in m.packs if e.kind == "allocation" and e.mechanism in BASIS_MECHANISMS for y in e.years]


def bases_visible(*, user, pack_id: str, year: int):
    """The approval bases of the pack's market and ``year`` for entities in ``user``'s scope (authorities and the
    registry; others: none), each with the entity and, once computed, its allocation of the pack's scope
    (``allocation``; None before)."""
    from cets.parties.access import membership_of, organisation_scope
    from cets.parties.models import Organisation, Role
    from cets.rules.packs import load_pack

    from .models import AllocationBasis

    m = membership_of(user)
    if m is None or m.role not in (Role.NATIONAL_AUTHORITY, Role.REGISTRY_OPERATOR, Role.PROVINCIAL_AUTHORITY):
        return []
    pack = load_pack(pack_id)
    rows = list(AllocationBasis.objects.filter(market=pack.market, year=year, entity__in=Organisation.objects.filter(organisation_scope(user)))
                .select_related("entity").order_by("entity__uscc"))
    allocs = {a.entity_id: a for a in EntityAllocation.objects.filter(market=pack.market, year=year, pack_id=pack.id,
                                                                      entity_id__in=[r.entity_id for r in rows])}
    from .models import PreIssue

    pre = {}
    for q in PreIssue.objects.filter(market=pack.market, year=year, entity_id__in=[r.entity_id for r in rows]).order_by("id"):
        if q.status != PreIssue.Status.REJECTED or q.entity_id not in pre:  # the one in force, else the last rejected
            pre[q.entity_id] = q
    for r in rows:
        r.allocation = allocs.get(r.entity_id)
        r.preissue = pre.get(r.entity_id)
    return rows


def allowance_unit_types(*, market: str, year: int) -> list:
    """The unit types of ``year``'s vintage of the instruments created in ``market`` (``home = true`` in its
    market.toml), in the order the market lists its instruments (the allowance first): what a free allocation of
    ``year`` may be issued in."""
    from cets.registry.models import UnitType
    from cets.rules.markets import load_market

    order = [i.code for i in load_market(market).instruments if i.home]
    uts = list(UnitType.objects.filter(instrument__in=order, vintage=str(year), project__isnull=True))
    return sorted(uts, key=lambda u: order.index(u.instrument))


def allocation_sectors(*, market: str, year: int) -> list[str]:
    """The sectors ``market`` allocated in ``year`` (stored allocations)."""
    return sorted(set(EntityAllocation.objects.filter(market=market, year=year).values_list("sector", flat=True)))
