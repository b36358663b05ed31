"""Allocation writes: compute a year's allocation from verified data and issue it through the registry.

``allocation_compute`` → ``allocation_issue_propose`` (pre-allocation or final) → a second registry
operator approves the proposal in the registry → ``allocation_issue_confirm`` records the stage.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.db import transaction

from cets.core.errors import CetsError
from cets.mrv.selectors import entities_blocked, unit_year_rows
from cets.parties.access import require_role
from cets.parties.models import GeneratingUnit, Role
from cets.registry.models import Proposal, UnitType
from cets.registry.services import IssuanceLine, issuance_propose
from cets.rules.packs import load_pack

from .checks import A0101, A0103, A0104, A0105, A0106, A0107, A0108, A0109, A0110, A0114, A0115, A0116, A0120, A0121, A0122, A0123, A0130
from .formulas import PowerRules, UnitInput, allocate, heat_benchmark
from .issuance import final_issue, pre_issue
from .models import AllocationAdjustment, EntityAllocation, SpecialTreatment, UnitAllocation


def _insert(model, rows) -> None:
    """Insert ``rows`` (dicts of attribute name → value; absent fields take their default, ``auto_now_add``
    the current time) with one ``executemany``. Values other than int, str, bool and None go through
    the field's own ``get_db_prep_save`` (so ExactDecimalField's exactness checks apply). This skips
    ``bulk_create``'s model instances and per-batch query building, which cost about ten times the
    insert itself at a national year's 17,500 rows (bench/allocation_national.py). Our own tables only."""
    from django.db import connection
    from django.utils import timezone

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    defaults = {f.attname: (now if getattr(f, "auto_now_add", False) else f.get_default()) for f in fields}
    qn = connection.ops.quote_name
    sql = (f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    plain = (int, str, bool, type(None))
    out = []
    for r in rows:
        vals = []
        for f in fields:
            v = r.get(f.attname, defaults[f.attname])
            vals.append(v if isinstance(v, plain) else f.get_db_prep_save(v, connection))
        out.append(vals)
    if out:
        with connection.cursor() as c:
            c.executemany(sql, out)


def _unit_inputs(year: int, entity_ids=None):
    """The formula inputs of every covered unit with verified data for ``year`` (optionally of some entities)."""
    data = unit_year_rows(year=year, entity_ids=entity_ids)
    qs = GeneratingUnit.objects.exclude(category=GeneratingUnit.Category.NOT_COVERED).select_related("entity").order_by("entity_id", "code")
    if entity_ids is not None:
        qs = qs.filter(entity_id__in=list(entity_ids))
    units = list(qs)
    inputs: list[UnitInput] = []
    unit_by_key = {}
    for u in units:
        cur = data.get((u.pk, year))
        if cur is None:
            continue
        prev = data.get((u.pk, year - 1))
        inputs.append(UnitInput(
            entity_uscc=u.entity.uscc, unit_id=u.code, category=u.category, generation_mwh=cur.generation_mwh,
            heat_supplied_gj=cur.heat_supplied_gj, load_factor=cur.load_factor, verified_emissions_t=cur.verified_emissions_t,
            prev_verified_emissions_t=prev.verified_emissions_t if prev else 0, rated_capacity_mw=u.rated_capacity_mw,
        ))
        unit_by_key[(u.entity.uscc, u.code)] = u
    return inputs, unit_by_key, units


def _unit_rows(unit_results, inputs, unit_by_key, rules: PowerRules, year: int, pack_id: str) -> list[dict]:
    """UnitAllocation rows as dicts (attribute name → value) for :func:`_insert`."""
    return [
        dict(
            unit_id=unit_by_key[(r.entity_uscc, r.unit_id)].pk, year=year, pack_id=pack_id, category=r.category,
            generation_mwh=i.generation_mwh, heat_supplied_gj=i.heat_supplied_gj, load_factor=i.load_factor,
            electricity_benchmark=rules.electricity_benchmark[r.category], heat_benchmark=heat_benchmark(r.category, rules),
            verified_emissions_t=i.verified_emissions_t, prev_verified_emissions_t=i.prev_verified_emissions_t, ff=r.ff,
            electricity_allowance_t=r.electricity_allowance_t, heat_allowance_t=r.heat_allowance_t, gas_topup_t=r.gas_topup_t,
            unit_allowance_t=r.unit_allowance_t, pre_allocation_t=r.pre_allocation_t,
        )
        for r, i in zip(unit_results, inputs)
    ]


@transaction.atomic
def allocation_compute(*, year: int, pack_id: str, actor=None) -> dict[str, int]:
    """Compute unit and entity allocations for ``year`` from every covered unit's verified data
    (plan 附3, 附4, §三, §五). Units without verified data for ``year`` take no part (a unit shut
    before the year, or one the MRV context has not loaded yet). Recomputing replaces results that were not issued yet; raises A0101 if any
    entity's allocation of the year was already issued or proposed for issuance, A0107 for a 2019–2022
    pack (its inputs — 供电量, cooling, 供热比 — are not in the verified data; use the CLI). The issuance figures
    (adjustments, special treatment) are filled in as ``allocation_issuance_refresh`` does. Returns counts."""
    if actor is not None:
        require_role(actor, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY, Role.REGISTRY_OPERATOR)
    rules = PowerRules.from_pack(load_pack(pack_id), year)
    if rules.needs_supply or rules.needs_prev_output or rules.needs_cooling or rules.needs_heat_ratio:
        raise CetsError(A0107, pack_id)
    if (EntityAllocation.objects.filter(year=year).exclude(stage=EntityAllocation.Stage.COMPUTED).exists()
            or Proposal.objects.filter(key=f"allocation-{year}-pre").exists()):
        raise CetsError(A0101, str(year))
    inputs, unit_by_key, units = _unit_inputs(year)
    unit_results, entity_results = allocate(inputs, rules)
    UnitAllocation.objects.filter(year=year).delete()
    EntityAllocation.objects.filter(year=year).delete()
    _insert(UnitAllocation, _unit_rows(unit_results, inputs, unit_by_key, rules, year, pack_id))
    entity_ids = {u.entity.uscc: u.entity_id for u in units}
    treatments = _treatments(year, entity_ids.values())
    adjustments = _adjustments(year, entity_ids.values())
    rows = []
    for e in entity_results:
        eid = entity_ids[e.entity_uscc]
        row = SimpleNamespace(  # the EntityAllocation fields _apply_issuance reads and fills
            entity_id=eid, year=year, pack_id=pack_id, verified_emissions_t=e.verified_emissions_t, initial_allocation_t=e.initial_allocation_t,
            shortfall_topup_t=e.shortfall_topup_t, final_allocation_t=e.final_allocation_t, pre_allocation_t=e.pre_allocation_t,
            pre_allocation_computed_t=e.pre_allocation_t, issue_delta_t=0, obligation_t=e.verified_emissions_t,
            stage=EntityAllocation.Stage.COMPUTED, issued_t=0, pre_adjustment_t=0, pre_issue_t=0,
        )
        _apply_issuance(row, treatments.get(eid, ()), adjustments.get(eid, 0))
        rows.append(vars(row))
    _insert(EntityAllocation, rows)
    return {"units": len(unit_results), "entities": len(entity_results),
            "final_allocation_t": sum(e.final_allocation_t for e in entity_results),
            "pre_allocation_t": sum(e.pre_allocation_t for e in entity_results)}


def _treatments(year: int, entity_ids) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for eid, kind in SpecialTreatment.objects.filter(year=year, entity_id__in=list(entity_ids), voided_at__isnull=True).values_list("entity_id", "kind"):
        out.setdefault(eid, []).append(kind)
    return out


def _adjustments(year: int, entity_ids) -> dict[int, int]:
    from django.db.models import Sum

    q = (AllocationAdjustment.objects.filter(year=year, entity_id__in=list(entity_ids), voided_at__isnull=True)
         .order_by().values_list("entity_id").annotate(t=Sum("quantity_t")))
    return {eid: int(t or 0) for eid, t in q}


def _apply_issuance(a: EntityAllocation, treatments, adjustments_t: int) -> None:
    """Fill the pre-allocation and final tables' figures of ``a`` (not saved) from its stage: before the
    pre-allocation is issued both stages are refreshed; afterwards only the final one. 实发配额量 is always
    应发 − 配额调整总量 − 预分配实发配额量 (the final stage's quantity, dynamic adjustments included); what is
    still to issue at any time is ``pre_issue_t + final_issue_t − issued_t``."""
    if a.stage == EntityAllocation.Stage.COMPUTED:
        p = pre_issue(pre_allocation_t=a.pre_allocation_computed_t, adjustments_total_t=adjustments_t, treatments=treatments)
        a.pre_allocation_t, a.pre_adjustment_t, a.pre_issue_t = p.pre_allocation_t, p.pre_adjustment_t, p.pre_issue_t
        issued_before = p.pre_issue_t  # the table assumes the pre-allocation is issued as shown
    else:
        issued_before = a.pre_issue_t  # what the pre-allocation stage issued
    f = final_issue(final_allocation_t=a.final_allocation_t, obligation_t=a.obligation_t, adjustments_total_t=adjustments_t,
                    issued_before_t=issued_before, treatments=treatments)
    a.adjustments_total_t, a.final_issue_t = f.adjustments_total_t, f.final_issue_t
    a.issue_delta_t = a.final_allocation_t - a.pre_allocation_t
    a.to_provincial_account, a.special_note = f.to_provincial_account, f.special_note


ISSUANCE_FIELDS = ["pre_allocation_t", "pre_adjustment_t", "pre_issue_t", "adjustments_total_t", "final_issue_t", "issue_delta_t",
                   "to_provincial_account", "special_note"]


def allocation_issuance_refresh(*, year: int, entity_ids=None) -> list[EntityAllocation]:
    """Re-read adjustments (配额调整总量) and special treatments in force and update the issuance figures
    of ``year``'s allocations (all, or ``entity_ids``). Rows imported from a province's data tables keep
    their figures (only the compliance-risk destination follows). Returns the rows, entity order. Call
    inside a transaction (the issuance proposal does)."""
    qs = EntityAllocation.objects.filter(year=year).select_related("entity").order_by("entity_id")
    if entity_ids is not None:
        qs = qs.filter(entity_id__in=list(entity_ids))
    allocs = list(qs.select_for_update(of=("self",)))
    ids = [a.entity_id for a in allocs]
    treatments, adjustments = _treatments(year, ids), _adjustments(year, ids)
    for a in allocs:
        before = [getattr(a, f) for f in ISSUANCE_FIELDS]
        if a.source.startswith("imported"):  # the province's table figures stand; only the destination follows treatments
            a.to_provincial_account = "compliance_risk" in treatments.get(a.entity_id, ())
        else:
            _apply_issuance(a, treatments.get(a.entity_id, ()), adjustments.get(a.entity_id, 0))
        after = [getattr(a, f) for f in ISSUANCE_FIELDS]
        if after != before:  # usually few: a decision recorded since the computation
            EntityAllocation.objects.filter(pk=a.pk).update(**dict(zip(ISSUANCE_FIELDS, after)))
    return allocs


def _destinations(allocs) -> dict[int, tuple[str, str]]:
    """entity id → (account number, beneficiary credit code): the entity's own account, or for an entity
    at compliance risk its province's authority account with the entity as beneficiary (plan §五(四))."""
    from cets.registry.models import AccountKind
    from cets.registry.selectors import account_numbers_of_holders
    from cets.registry.services import system_account

    own = account_numbers_of_holders(holder_ids=[a.entity_id for a in allocs if not a.to_provincial_account])
    out: dict[int, tuple[str, str]] = {}
    for a in allocs:
        if a.to_provincial_account:
            out[a.entity_id] = (system_account("national", AccountKind.PROVINCIAL, a.entity.province).number, a.entity.uscc)
        elif a.entity_id in own:
            out[a.entity_id] = (own[a.entity_id], "")
    return out




@transaction.atomic
def allocation_issue_propose(*, year: int, stage: str, unit_type: UnitType, actor, effective_at=None) -> Proposal:
    """Propose issuing a stage of ``year``'s allocation (four eyes: a second registry operator approves).

    ``pre`` issues 预分配实发配额量 (pre-allocation − adjustment); ``final`` issues or claws back
    实发配额量 = 应发 − 配额调整总量 − already issued (多退少补, plan §五(二), §五(五)). The figures are
    refreshed first from the adjustments and special treatments in force. An entity at compliance risk
    is issued into its provincial authority account with itself as beneficiary (plan §五(四)).
    Raises A0103 if the stages are out of order, A0130 for ``final`` while any entity has an unresolved
    不符合 verification conclusion for ``year`` (:func:`cets.mrv.selectors.verification_blocks`), A0106 if
    an entity has no account, R0502 unless ``actor`` is a registry operator."""
    require_role(actor, Role.REGISTRY_OPERATOR)
    want = {"pre": EntityAllocation.Stage.COMPUTED, "final": EntityAllocation.Stage.PRE_ISSUED}[stage]
    if not EntityAllocation.objects.filter(year=year).exists() or EntityAllocation.objects.filter(year=year).exclude(stage=want).exists():
        raise CetsError(A0103, f"{stage} needs every {year} allocation at stage {want}")
    existing = Proposal.objects.filter(key=f"allocation-{year}-{stage}").first()
    if existing is not None:
        return existing
    if stage == "final":
        rows = list(EntityAllocation.objects.filter(year=year).values_list("entity_id", "entity__uscc"))
        blocked = entities_blocked(entity_ids=[eid for eid, _ in rows], year=year)
        if blocked:
            usccs = sorted(u for eid, u in rows if eid in blocked)
            raise CetsError(A0130, f"{len(usccs)}: {', '.join(usccs[:5])}{' …' if len(usccs) > 5 else ''}")
    allocs = allocation_issuance_refresh(year=year)
    dest = _destinations(allocs)
    label = {"pre": "预分配 pre-allocation", "final": "核定 final allocation"}[stage]
    lines = []
    for a in allocs:
        qty = a.pre_issue_t if stage == "pre" else a.final_issue_t
        if not qty:
            continue
        if a.entity_id not in dest:
            raise CetsError(A0106, a.entity.uscc)
        account, beneficiary = dest[a.entity_id]
        lines.append(IssuanceLine(account=account, quantity=qty, reference=f"{year} {label} {a.entity.uscc}", beneficiary=beneficiary))
    return issuance_propose(key=f"allocation-{year}-{stage}", unit_type=unit_type, lines=lines, actor=actor, effective_at=effective_at,
                            note=f"{year} {label}")


@transaction.atomic
def allocation_issue_confirm(*, year: int, stage: str) -> int:
    """Record that the ``stage`` proposal of ``year`` was approved and executed (A0104 if not): the stage
    moves on and ``issued_t`` (issued so far, tonnes) takes the quantities of the proposal's lines."""
    p = Proposal.objects.filter(key=f"allocation-{year}-{stage}").first()
    if p is None or p.status != Proposal.Status.EXECUTED:
        raise CetsError(A0104, f"allocation-{year}-{stage}")
    want = {"pre": EntityAllocation.Stage.COMPUTED, "final": EntityAllocation.Stage.PRE_ISSUED}[stage]
    new = {"pre": EntityAllocation.Stage.PRE_ISSUED, "final": EntityAllocation.Stage.FINAL_ISSUED}[stage]
    from django.db.models import F, Sum

    qs = EntityAllocation.objects.filter(year=year, stage=want)
    quantity = "pre_issue_t" if stage == "pre" else "final_issue_t"
    proposed = sum(int(ln["quantity"]) for ln in p.payload["lines"])
    recorded = qs.aggregate(t=Sum(quantity))["t"] or 0
    if proposed != recorded:  # the proposal's lines are these figures (same transaction); anything else is a bug
        raise CetsError(A0103, f"proposal {proposed} t ≠ recorded {recorded} t")
    return qs.update(issued_t=F("issued_t") + F(quantity), stage=new)




@transaction.atomic
def allocation_adjustment_record(*, entity, year: int, kind: str, quantity_t: int, reason: str, source: str, actor, at=None):
    """Record a decided adjustment (配额调整总量) withholding ``quantity_t`` tonnes CO2e (int, > 0) from
    ``entity``'s ``year`` issuance. Idempotent on (source, kind, year): recording the same decision again
    returns the existing row. Raises A0105 for a non-positive quantity, R0502 if ``actor`` is not a
    national or provincial authority in scope. The adjustment takes effect in the next issuance or
    claw-back of that year (``allocation_issue_propose``)."""
    from django.utils import timezone

    from .models import AllocationAdjustment

    if not isinstance(quantity_t, int) or quantity_t <= 0:
        raise CetsError(A0105, str(quantity_t))
    require_role(actor, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY, province=entity.province)
    existing = AllocationAdjustment.objects.filter(source=source, kind=kind, year=year).first()
    if existing is not None:
        return existing
    return AllocationAdjustment.objects.create(entity=entity, year=year, kind=kind, quantity_t=quantity_t, reason=reason, source=source,
                                               decided_by=actor, decided_at=at or timezone.now())


@transaction.atomic
def special_treatment_set(*, entity, year: int, kind: str, reason: str, actor, at=None):
    """Flag ``entity`` for differentiated treatment in ``year`` (see ``SpecialTreatment``). Idempotent per
    (entity, year, kind) while in force. Raises R0502 unless ``actor`` is a national or provincial
    authority in scope."""
    from django.utils import timezone

    from .models import SpecialTreatment

    require_role(actor, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY, province=entity.province)
    existing = SpecialTreatment.objects.filter(entity=entity, year=year, kind=kind, voided_at__isnull=True).first()
    if existing is not None:
        return existing
    return SpecialTreatment.objects.create(entity=entity, year=year, kind=kind, reason=reason, decided_by=actor, decided_at=at or timezone.now())




@transaction.atomic
def allocation_tables_import(*, year: int, pack_id: str, data: bytes, filename: str, actor) -> int:
    """Import the pre-allocation and final entity tables of ``year`` (XLSX, the seed notice's field names,
    as written by the download) as the entities' allocation records, e.g. for years computed with the
    command line (2019–2022 packs, steel/cement/aluminium). Every row is checked (cets.allocation.workbook
    identities, the credit code of an existing entity, in ``actor``'s province, not issued or proposed); any
    problem raises :class:`InputError` listing all of them and nothing is written. Replaces the entities'
    computed (unissued) records of the year; returns the number of entities. R0502 unless ``actor`` is a
    national or provincial authority; PackError for an unknown pack."""
    from cets.core.errors import InputError, InputProblem
    from cets.parties.access import membership_of
    from cets.parties.models import Organisation

    from .workbook import read_entity_tables

    require_role(actor, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY)
    pack = load_pack(pack_id)
    if not pack.covers(year):
        raise CetsError(A0103, f"{pack_id} does not cover {year}")
    rows, problems = read_entity_tables(data, filename)
    if problems:
        raise InputError(problems)
    m = membership_of(actor)
    orgs = {o.uscc: o for o in Organisation.objects.filter(uscc__in=[r.entity_uscc for r in rows])}
    existing = {a.entity_id: a for a in EntityAllocation.objects.filter(year=year, entity__in=orgs.values())}
    proposed = Proposal.objects.filter(key=f"allocation-{year}-pre").exists()
    where = f"{filename}:核定-重点排放单位"
    for r in rows:
        org = orgs.get(r.entity_uscc)
        if org is None:
            problems.append(InputProblem(where, r.row, "统一社会信用代码", r.entity_uscc, A0108.zh, A0108.en))
        elif m.role == Role.PROVINCIAL_AUTHORITY and org.province != m.province:
            problems.append(InputProblem(where, r.row, "统一社会信用代码", r.entity_uscc, A0109.zh, A0109.en))
        elif proposed or (org.pk in existing and existing[org.pk].stage != EntityAllocation.Stage.COMPUTED):
            problems.append(InputProblem(where, r.row, "统一社会信用代码", r.entity_uscc, A0110.zh, A0110.en))
    if problems:
        raise InputError(problems)
    EntityAllocation.objects.filter(year=year, entity__in=orgs.values()).delete()
    EntityAllocation.objects.bulk_create([
        EntityAllocation(
            entity=orgs[r.entity_uscc], year=year, pack_id=pack_id, verified_emissions_t=r.verified_emissions_t,
            pre_allocation_computed_t=r.pre_allocation_t, pre_allocation_t=r.pre_allocation_t, pre_adjustment_t=r.pre_adjustment_t,
            pre_issue_t=r.pre_issue_t, initial_allocation_t=r.initial_allocation_t, shortfall_topup_t=r.shortfall_topup_t,
            final_allocation_t=r.final_allocation_t, issue_delta_t=r.final_allocation_t - r.pre_allocation_t, obligation_t=r.obligation_t,
            adjustments_total_t=r.adjustments_total_t, final_issue_t=r.final_issue_t, special_note=r.special_note[:400],
            source=f"imported:{filename}"[:120],
        )
        for r in rows
    ], batch_size=1000)
    return len(rows)


# ---- dynamic adjustment (配额动态调整, seed notice 国环规气候〔2024〕1号 二(三))

DYNAMIC_ADJUSTMENT_WORKING_DAYS = 3  # seed notice 二(三): "在 3 个工作日内…计算配额调整量并书面报送注登机构"


@transaction.atomic
def dynamic_adjustment_record(*, entity, year: int, reason: str, source: str, redetermined_on, actor, on=None):
    """Recompute ``entity``'s ``year`` allocation after its verification result changed (the MRV data of its
    units now hold the re-determined values) and record the difference to issue or claw back.

    Unit and entity figures are replaced from the entity's current verified data with the allocation's own
    pack; the difference to issue is ``new 应发 − 配额调整总量 − issued so far``. The record keeps the old and new
    figures, ``deadline`` = 3 working days after ``redetermined_on`` (core calendar, seed notice 二(三)) and
    ``late`` if recorded after it. If the final allocation was not issued yet the change simply carries into
    that issuance (status ``carried``); if nothing changes, ``no_change``. Idempotent on (entity, year,
    source). Raises R0502 unless ``actor`` is a national or the entity's provincial authority, A0114 if the
    entity has no allocation for ``year``, A0116 for an imported allocation, A0107 for a 2019–2022 pack."""
    import datetime as dt

    from django.utils import timezone

    from cets.core.calendar import add_working_days

    from .models import DynamicAdjustment

    require_role(actor, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY, province=entity.province)
    existing = DynamicAdjustment.objects.filter(entity=entity, year=year, source=source).first()
    if existing is not None:
        return existing
    a = EntityAllocation.objects.select_for_update().filter(entity=entity, year=year).first()
    if a is None:
        raise CetsError(A0114, f"{entity.uscc} {year}")
    if a.source.startswith("imported"):
        raise CetsError(A0116, a.source)
    rules = PowerRules.from_pack(load_pack(a.pack_id), year)
    if rules.needs_supply or rules.needs_prev_output or rules.needs_cooling or rules.needs_heat_ratio:
        raise CetsError(A0107, a.pack_id)
    old_e, old_final, old_to_issue = a.verified_emissions_t, a.final_allocation_t, a.final_issue_t
    inputs, unit_by_key, _ = _unit_inputs(year, entity_ids=[entity.pk])
    unit_results, (e,) = allocate(inputs, rules)
    UnitAllocation.objects.filter(year=year, unit__entity=entity).delete()
    _insert(UnitAllocation, _unit_rows(unit_results, inputs, unit_by_key, rules, year, a.pack_id))
    a.verified_emissions_t, a.obligation_t = e.verified_emissions_t, e.verified_emissions_t
    a.initial_allocation_t, a.shortfall_topup_t, a.final_allocation_t = e.initial_allocation_t, e.shortfall_topup_t, e.final_allocation_t
    if a.stage == EntityAllocation.Stage.COMPUTED:
        a.pre_allocation_computed_t = e.pre_allocation_t
    treatments = _treatments(year, [entity.pk]).get(entity.pk, ())
    _apply_issuance(a, treatments, _adjustments(year, [entity.pk]).get(entity.pk, 0))
    a.save()
    today = on or timezone.localdate()
    if a.stage == EntityAllocation.Stage.FINAL_ISSUED:
        delta = a.pre_issue_t + a.final_issue_t - a.issued_t
        status = DynamicAdjustment.Status.RECORDED if delta else DynamicAdjustment.Status.NO_CHANGE
    else:
        delta = a.final_issue_t - old_to_issue
        status = DynamicAdjustment.Status.CARRIED if (delta or a.final_allocation_t != old_final) else DynamicAdjustment.Status.NO_CHANGE
    redetermined = redetermined_on if isinstance(redetermined_on, dt.date) else dt.date.fromisoformat(str(redetermined_on))
    return DynamicAdjustment.objects.create(
        entity=entity, year=year, reason=reason, source=source, redetermined_on=redetermined,
        deadline=add_working_days(redetermined, DYNAMIC_ADJUSTMENT_WORKING_DAYS), recorded_on=today,
        old_verified_emissions_t=old_e, new_verified_emissions_t=e.verified_emissions_t, old_final_allocation_t=old_final,
        new_final_allocation_t=e.final_allocation_t, delta_t=delta, status=status, recorded_by=actor,
    )


@transaction.atomic
def dynamic_adjustment_propose(*, adjustment_id: int, unit_type: UnitType, actor, effective_at=None) -> Proposal:
    """Propose issuing (or clawing back) a recorded dynamic adjustment's difference through the registry's
    four eyes (a second registry operator approves). The destination follows special treatment (provincial
    account with the entity as beneficiary at compliance risk). Raises A0115 unless the record is
    ``recorded``, R0502 unless ``actor`` is a registry operator."""
    from .models import DynamicAdjustment

    d = DynamicAdjustment.objects.select_for_update().select_related("entity").get(pk=adjustment_id)
    if d.status != DynamicAdjustment.Status.RECORDED:
        raise CetsError(A0115, d.status)
    a = EntityAllocation.objects.select_related("entity").get(entity=d.entity, year=d.year)
    dest = _destinations([a])
    if a.entity_id not in dest:
        raise CetsError(A0106, a.entity.uscc)
    account, beneficiary = dest[a.entity_id]
    key = f"allocation-{d.year}-dynamic-{d.pk}"
    p = issuance_propose(key=key, unit_type=unit_type, actor=actor, effective_at=effective_at, note=f"{d.year} 配额动态调整 dynamic adjustment",
                         lines=[IssuanceLine(account=account, quantity=d.delta_t, reference=f"{d.year} 动态调整 dynamic adjustment {a.entity.uscc}",
                                             beneficiary=beneficiary)])
    d.status, d.proposal_key = DynamicAdjustment.Status.PROPOSED, key
    d.save(update_fields=["status", "proposal_key"])
    return p


@transaction.atomic
def dynamic_adjustment_confirm(*, adjustment_id: int):
    """Record that the dynamic adjustment's proposal was approved and executed: ``issued_t`` takes the
    difference. Raises A0104 if the proposal is not executed, A0115 if the
    record is not ``proposed``."""
    from .models import DynamicAdjustment

    d = DynamicAdjustment.objects.select_for_update().get(pk=adjustment_id)
    if d.status != DynamicAdjustment.Status.PROPOSED:
        raise CetsError(A0115, d.status)
    p = Proposal.objects.filter(key=d.proposal_key).first()
    if p is None or p.status != Proposal.Status.EXECUTED:
        raise CetsError(A0104, d.proposal_key)
    a = EntityAllocation.objects.select_for_update().get(entity_id=d.entity_id, year=d.year)
    a.issued_t += d.delta_t
    a.save(update_fields=["issued_t"])
    d.status = DynamicAdjustment.Status.EXECUTED
    d.save(update_fields=["status"])
    return d


# ---- objections (异议, 《碳排放权交易管理办法（试行）》 Art. 16 ¶2)

OBJECTION_FILE_WORKING_DAYS = 7  # Measures (trial) Art. 16 ¶2: "自接到通知之日起七个工作日内"
OBJECTION_DECIDE_WORKING_DAYS = 10  # ibid.: "自接到复核申请之日起十个工作日内，作出复核决定"


@transaction.atomic
def tables_publication_record(*, year: int, province: str, stage: str, actor, on=None):
    """Record that ``province`` notified its entities of the ``stage`` ("pre" or "final") tables of ``year``
    on ``on`` (default today): the start of the 7-working-day objection period. Idempotent. R0502 unless
    ``actor`` is a national authority or that province's authority."""
    from django.utils import timezone

    from .models import TablePublication

    require_role(actor, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY, province=province)
    pub, _ = TablePublication.objects.get_or_create(year=year, province=province, stage=stage,
                                                    defaults={"published_on": on or timezone.localdate(), "published_by": actor})
    return pub


@transaction.atomic
def objection_file(*, entity, year: int, stage: str, grounds: str, actor, on=None):
    """An entity objects to its ``stage`` allocation of ``year``. ``file_by`` = 7 working days after the
    province's publication, ``decide_by`` = 10 working days after filing (core calendar). Raises R0502
    unless ``actor`` is a user of ``entity`` itself, A0120 if the tables were not published, A0121 after the
    period, A0123 for empty grounds."""
    from django.utils import timezone

    from cets.core.calendar import add_working_days
    from cets.parties.access import DENIED

    from .models import AllocationObjection, TablePublication

    m = require_role(actor, Role.ENTITY)
    if m.organisation_id != entity.pk:
        raise CetsError(DENIED, "an entity objects for itself only")
    if not grounds.strip():
        raise CetsError(A0123)
    pub = TablePublication.objects.filter(year=year, province=entity.province, stage=stage).first()
    if pub is None:
        raise CetsError(A0120, f"{year} {stage} {entity.province}")
    today = on or timezone.localdate()
    file_by = add_working_days(pub.published_on, OBJECTION_FILE_WORKING_DAYS)
    if today > file_by:
        raise CetsError(A0121, f"published {pub.published_on}, last day {file_by}")
    return AllocationObjection.objects.create(entity=entity, year=year, stage=stage, grounds=grounds.strip(), filed_on=today, filed_by=actor,
                                              file_by=file_by, decide_by=add_working_days(today, OBJECTION_DECIDE_WORKING_DAYS))


@transaction.atomic
def objection_decide(*, objection_id: int, upheld: bool, reason: str, actor, on=None):
    """The province decides an objection (复核决定): upheld or rejected, with its reason. A late decision
    is recorded as such (``decided_late``). The record is never deleted; a decided objection cannot be
    decided again (A0122). R0502 unless ``actor`` is a national or the entity's provincial authority.
    An upheld objection changes nothing by itself: the province corrects the data and records a dynamic
    adjustment (``dynamic_adjustment_record``)."""
    from django.utils import timezone

    from .models import AllocationObjection

    o = AllocationObjection.objects.select_for_update().select_related("entity").get(pk=objection_id)
    require_role(actor, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY, province=o.entity.province)
    if o.decision != AllocationObjection.Decision.PENDING:
        raise CetsError(A0122, o.get_decision_display())
    if not reason.strip():
        raise CetsError(A0123)
    o.decision = AllocationObjection.Decision.UPHELD if upheld else AllocationObjection.Decision.REJECTED
    o.decision_reason, o.decided_on, o.decided_by = reason.strip(), on or timezone.localdate(), actor
    o.save(update_fields=["decision", "decision_reason", "decided_on", "decided_by"])
    return o
