"""Allocation writes: compute a year's allocation from verified data and issue it through the registry.

``allocation_compute`` → ``allocation_issue_propose`` (pre-allocation or final) → a second registry
operator approves the proposal in the registry → ``allocation_issue_confirm`` records the stage.
"""

from __future__ import annotations

from django.db import transaction

from cets.core.errors import CetsError, Check
from cets.mrv.selectors import unit_year_rows
from cets.parties.access import require_role
from cets.parties.models import GeneratingUnit, Role
from cets.registry.models import Proposal, UnitType
from cets.registry.services import IssuanceLine, issuance_propose
from cets.rules.packs import load_pack

from .formulas import PowerRules, UnitInput, allocate, heat_benchmark
from .issuance import final_issue, pre_issue
from .models import AllocationAdjustment, EntityAllocation, SpecialTreatment, UnitAllocation

A0101 = Check("A0101", "配额已发放，不能重新核算", "allocation already issued; it cannot be recomputed")
A0102 = Check("A0102", "缺少核查数据", "verified data missing")
A0103 = Check("A0103", "发放阶段顺序错误", "issuance stages out of order")
A0104 = Check("A0104", "发放提议尚未执行", "issuance proposal has not been executed")
A0107 = Check("A0107", "该配额方案需要核查数据中没有的字段（供电量、冷却方式、供热比等），请用命令行核算",
              "this pack needs inputs the verified data lacks (net supply, cooling, heat ratio…); compute it with the command line")


@transaction.atomic
def allocation_compute(*, year: int, pack_id: str, actor=None) -> dict[str, int]:
    """Compute unit and entity allocations for ``year`` from every covered unit's verified data
    (plan 附3, 附4, §三, §五). Units without data for ``year`` are reported (A0102) unless they
    have none at all. Recomputing replaces results that were not issued yet; raises A0101 if any
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
    data = unit_year_rows(year=year)
    units = list(GeneratingUnit.objects.exclude(category=GeneratingUnit.Category.NOT_COVERED).select_related("entity").order_by("entity_id", "code"))
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
    unit_results, entity_results = allocate(inputs, rules)
    UnitAllocation.objects.filter(year=year).delete()
    EntityAllocation.objects.filter(year=year).delete()
    UnitAllocation.objects.bulk_create([
        UnitAllocation(
            unit=unit_by_key[(r.entity_uscc, r.unit_id)], year=year, pack_id=pack_id, category=r.category,
            generation_mwh=i.generation_mwh, heat_supplied_gj=i.heat_supplied_gj, load_factor=i.load_factor,
            electricity_benchmark=rules.electricity_benchmark[r.category], heat_benchmark=heat_benchmark(r.category, rules),
            verified_emissions_t=i.verified_emissions_t, prev_verified_emissions_t=i.prev_verified_emissions_t, ff=r.ff,
            electricity_allowance_t=r.electricity_allowance_t, heat_allowance_t=r.heat_allowance_t, gas_topup_t=r.gas_topup_t,
            unit_allowance_t=r.unit_allowance_t, pre_allocation_t=r.pre_allocation_t,
        )
        for r, i in zip(unit_results, inputs)
    ], batch_size=1000)
    entity_ids = {u.entity.uscc: u.entity_id for u in units}
    treatments = _treatments(year, entity_ids.values())
    adjustments = _adjustments(year, entity_ids.values())
    rows = []
    for e in entity_results:
        eid = entity_ids[e.entity_uscc]
        row = EntityAllocation(
            entity_id=eid, year=year, pack_id=pack_id, verified_emissions_t=e.verified_emissions_t, initial_allocation_t=e.initial_allocation_t,
            shortfall_topup_t=e.shortfall_topup_t, final_allocation_t=e.final_allocation_t, pre_allocation_t=e.pre_allocation_t,
            pre_allocation_computed_t=e.pre_allocation_t, issue_delta_t=0, obligation_t=e.verified_emissions_t,
        )
        _apply_issuance(row, treatments.get(eid, ()), adjustments.get(eid, 0))
        rows.append(row)
    EntityAllocation.objects.bulk_create(rows, batch_size=1000)
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
    pre-allocation is issued both stages are refreshed; afterwards only the final one, from what was
    actually issued (``issued_t``)."""
    if a.stage == EntityAllocation.Stage.COMPUTED:
        p = pre_issue(pre_allocation_t=a.pre_allocation_computed_t, adjustments_total_t=adjustments_t, treatments=treatments)
        a.pre_allocation_t, a.pre_adjustment_t, a.pre_issue_t = p.pre_allocation_t, p.pre_adjustment_t, p.pre_issue_t
        issued_before = p.pre_issue_t  # the table assumes the pre-allocation is issued as shown
    else:
        issued_before = a.issued_t
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
        if a.source.startswith("imported"):  # the province's table figures stand; only the destination follows treatments
            a.to_provincial_account = "compliance_risk" in treatments.get(a.entity_id, ())
            continue
        _apply_issuance(a, treatments.get(a.entity_id, ()), adjustments.get(a.entity_id, 0))
    EntityAllocation.objects.bulk_update(allocs, ISSUANCE_FIELDS, batch_size=1000)
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


A0106 = Check("A0106", "重点排放单位没有注册登记账户", "the entity has no registry account")


@transaction.atomic
def allocation_issue_propose(*, year: int, stage: str, unit_type: UnitType, actor, effective_at=None) -> Proposal:
    """Propose issuing a stage of ``year``'s allocation (four eyes: a second registry operator approves).

    ``pre`` issues 预分配实发配额量 (pre-allocation − adjustment); ``final`` issues or claws back
    实发配额量 = 应发 − 配额调整总量 − already issued (多退少补, plan §五(二), §五(五)). The figures are
    refreshed first from the adjustments and special treatments in force. An entity at compliance risk
    is issued into its provincial authority account with itself as beneficiary (plan §五(四)).
    Raises A0103 if the stages are out of order, A0106 if an entity has no account, R0502 unless
    ``actor`` is a registry operator."""
    want = {"pre": EntityAllocation.Stage.COMPUTED, "final": EntityAllocation.Stage.PRE_ISSUED}[stage]
    if not EntityAllocation.objects.filter(year=year).exists() or EntityAllocation.objects.filter(year=year).exclude(stage=want).exists():
        raise CetsError(A0103, f"{stage} needs every {year} allocation at stage {want}")
    existing = Proposal.objects.filter(key=f"allocation-{year}-{stage}").first()
    if existing is not None:
        return existing
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
    issued = {ln["reference"].rsplit(" ", 1)[1]: int(ln["quantity"]) for ln in p.payload["lines"]}
    allocs = list(EntityAllocation.objects.filter(year=year, stage=want).select_related("entity").select_for_update(of=("self",)))
    for a in allocs:
        a.issued_t += issued.get(a.entity.uscc, 0)
        a.stage = new
    EntityAllocation.objects.bulk_update(allocs, ["issued_t", "stage"], batch_size=1000)
    return len(allocs)


A0105 = Check("A0105", "调整量必须为正整数吨", "an adjustment must be a positive whole number of tonnes")


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


A0108 = Check("A0108", "重点排放单位不存在", "no such entity")
A0109 = Check("A0109", "超出管辖范围", "outside the importer's jurisdiction")
A0110 = Check("A0110", "该单位本年度配额已发放或已提议发放，不能导入", "the entity's allocation of the year is issued or proposed; it cannot be imported")


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
