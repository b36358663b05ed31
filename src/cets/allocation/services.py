"""Allocation writes: compute a year's allocation from verified data and issue it through the registry.

``allocation_compute`` → ``allocation_issue_propose`` (pre-allocation or final) → a second registry
operator approves the proposal in the registry → ``allocation_issue_confirm`` records the stage.
"""

from __future__ import annotations

from django.db import transaction

from cets.core.errors import CetsError, Check
from cets.mrv.selectors import entities_blocked, unit_year_rows
from cets.parties.access import require_role
from cets.parties.models import GeneratingUnit, Role
from cets.registry.models import Proposal, UnitType
from cets.registry.services import IssuanceLine, issuance_propose
from cets.rules.packs import load_pack

from .formulas import PowerRules, UnitInput, allocate, heat_benchmark
from .models import EntityAllocation, UnitAllocation

A0101 = Check("A0101", "配额已发放，不能重新核算", "allocation already issued; it cannot be recomputed")
A0102 = Check("A0102", "缺少核查数据", "verified data missing")
A0103 = Check("A0103", "发放阶段顺序错误", "issuance stages out of order")
A0104 = Check("A0104", "发放提议尚未执行", "issuance proposal has not been executed")
A0130 = Check("A0130", "存在未解除的核查不符合结论，不能核定发放", "unresolved non-conforming verification conclusions block final allocation")


@transaction.atomic
def allocation_compute(*, year: int, pack_id: str, actor=None) -> dict[str, int]:
    """Compute unit and entity allocations for ``year`` from every covered unit's verified data
    (plan 附3, 附4, §三, §五). Units without data for ``year`` are reported (A0102) unless they
    have none at all. Recomputing replaces results that were not issued yet; raises A0101 if any
    entity's allocation of the year was already issued. Returns counts."""
    if actor is not None:
        require_role(actor, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY, Role.REGISTRY_OPERATOR)
    rules = PowerRules.from_pack(load_pack(pack_id), year)
    if EntityAllocation.objects.filter(year=year).exclude(stage=EntityAllocation.Stage.COMPUTED).exists():
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
    EntityAllocation.objects.bulk_create([
        EntityAllocation(
            entity_id=entity_ids[e.entity_uscc], year=year, pack_id=pack_id, verified_emissions_t=e.verified_emissions_t,
            pre_allocation_t=e.pre_allocation_t, initial_allocation_t=e.initial_allocation_t, shortfall_topup_t=e.shortfall_topup_t,
            final_allocation_t=e.final_allocation_t, issue_delta_t=e.issue_delta_t,
        )
        for e in entity_results
    ], batch_size=1000)
    return {"units": len(unit_results), "entities": len(entity_results),
            "final_allocation_t": sum(e.final_allocation_t for e in entity_results),
            "pre_allocation_t": sum(e.pre_allocation_t for e in entity_results)}


def _entity_account_numbers(entity_ids) -> dict[int, str]:
    from cets.registry.selectors import account_numbers_of_holders

    return account_numbers_of_holders(holder_ids=entity_ids)


def allocation_issue_propose(*, year: int, stage: str, unit_type: UnitType, actor, effective_at=None) -> Proposal:
    """Propose issuing a stage of ``year``'s allocation to the entities' accounts (four eyes):
    ``pre`` issues the pre-allocation; ``final`` issues or claws back final − pre (多退少补).
    Raises A0103 if the stages are out of order, A0130 for ``final`` while any entity has an
    unresolved 不符合 verification conclusion for ``year`` (:func:`cets.mrv.selectors.verification_blocks`)."""
    want = {"pre": EntityAllocation.Stage.COMPUTED, "final": EntityAllocation.Stage.PRE_ISSUED}[stage]
    allocs = list(EntityAllocation.objects.filter(year=year).select_related("entity").order_by("entity_id"))
    if not allocs or any(a.stage != want for a in allocs):
        raise CetsError(A0103, f"{stage} needs every {year} allocation at stage {want}")
    if stage == "final":
        blocked = entities_blocked(entity_ids=[a.entity_id for a in allocs], year=year)
        if blocked:
            usccs = sorted(a.entity.uscc for a in allocs if a.entity_id in blocked)
            raise CetsError(A0130, f"{len(usccs)}: {', '.join(usccs[:5])}{' …' if len(usccs) > 5 else ''}")
    numbers = _entity_account_numbers([a.entity_id for a in allocs])
    label = {"pre": "预分配 pre-allocation", "final": "核定 final allocation"}[stage]
    lines = [
        IssuanceLine(account=numbers[a.entity_id], quantity=a.pre_allocation_t if stage == "pre" else a.issue_delta_t,
                     reference=f"{year} {label} {a.entity.uscc}")
        for a in allocs
    ]
    return issuance_propose(key=f"allocation-{year}-{stage}", unit_type=unit_type, lines=lines, actor=actor, effective_at=effective_at,
                            note=f"{year} {label}")


@transaction.atomic
def allocation_issue_confirm(*, year: int, stage: str) -> int:
    """Record that the ``stage`` proposal of ``year`` was approved and executed (A0104 if not)."""
    p = Proposal.objects.filter(key=f"allocation-{year}-{stage}").first()
    if p is None or p.status != Proposal.Status.EXECUTED:
        raise CetsError(A0104, f"allocation-{year}-{stage}")
    new = {"pre": EntityAllocation.Stage.PRE_ISSUED, "final": EntityAllocation.Stage.FINAL_ISSUED}[stage]
    return EntityAllocation.objects.filter(year=year).update(stage=new)


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
