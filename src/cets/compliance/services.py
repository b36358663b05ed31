"""Compliance writes: obligations and surrender (清缴), forced surrender, non-compliance (rectification
order, fine, deduction, publication), compliance notices and certificates, borrowing and hardship relief.

Surrender is two-phase through the registry: ``surrender_submit`` moves the units of the entity's
registry position to its pending position; the province's ``surrender_approve`` moves them to the
surrender account; ``surrender_reject`` returns them. Every rule is checked before anything moves.
Each service is one transaction: a refusal (CetsError with its check code) writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from cets.allocation.models import EntityAllocation
from cets.core.errors import CetsError
from cets.core.quantities import D, apply_rounding
from cets.parties.access import require_role
from cets.parties.models import Organisation, Role
from cets.registry.checks import R0101, R0201, R0502, R0601, R0602, R0603, R0604, R0605, R0606
from cets.registry.models import AccountKind, Instrument, Position, Proposal, Transfer, TransferKind, UnitType
from cets.registry.selectors import account_of
from cets.registry.services import Leg, four_eyes, proposal_submit, system_account, transfer_post
from cets.rules.packs import Pack, PackError, load_pack

from . import penalty

from .beijing import NONLOCAL, TOTAL, Lot, collection_plan, offset_breach, offset_caps, vintage_order
from .checks import (C1001, C1002, C1003, C1004, C1005, C1006, C0801, C0802, C0803, C0804, C0805, C0806, C0807, C0808, C0809, C0810, C0901, C0902, C0903, C0904, C0905, C0906, C0907,
                     C0908, C0909, C0910, C0811)
from .models import (Borrowing, ComplianceCertificate, ComplianceNotice, Obligation, PenaltyDecision, RectificationOrder, ReliefApplication,
                     SurrenderApplication)
from .selectors import active_surrenders, deadline_of, held_for, market_price, status_of, unsurrendered_for_penalty


@transaction.atomic
def obligations_create(*, year: int, pack_id: str) -> int:
    """One obligation per entity allocated for ``year``: 应清缴配额量 = verified emissions (plan §五(三)),
    offset cap = offset_cap × obligation rounded by the pack, deadline from the pack. Idempotent."""
    pack = load_pack(pack_id)
    deadline = pack.date(f"compliance.{year}.deadline")
    cap = pack.decimal(f"compliance.{year}.offset_cap")
    rounding = pack.text(f"compliance.{year}.offset_rounding")
    have = set(Obligation.objects.filter(year=year).values_list("entity_id", flat=True))
    new = [
        Obligation(entity_id=a.entity_id, year=year, pack_id=pack_id, obligation_t=a.verified_emissions_t,
                   offset_cap_t=int(apply_rounding(cap * D(a.verified_emissions_t), rounding)), deadline=deadline)
        for a in EntityAllocation.objects.filter(year=year) if a.entity_id not in have
    ]
    Obligation.objects.bulk_create(new, batch_size=1000)
    return len(new)


def ccer_eligible(pack: Pack, year: int, unit_type: UnitType, on: dt.date, entity_id: int | None = None) -> str | None:
    """Why a CCER unit type cannot offset ``year``'s obligation on date ``on``, or None if it can.

    Rules (cn-ets-rules.md §4.2): not from projects under ETS quota management (Measures Art. 29);
    not from a project of the surrendering entity ``entity_id`` itself (inside its own boundary; the
    project's owner is taken as the boundary);
    old CCERs filed before the pack's cut-off are usable only until its date; others must be
    projects registered on or after the pack's ``new_ccer_registered_from`` (2024-01-22).
    """
    p = unit_type.project
    if p is None:
        return "CCER without a project"
    if p.under_ets_quota_management:
        return "project under ETS quota management"
    if entity_id is not None and p.owner_id == entity_id:
        return "project inside the entity's own boundary"
    cutoff = pack.date(f"compliance.{year}.old_ccer_cutoff_filed_before")
    if p.filed_on is not None and p.filed_on < cutoff:
        if on > pack.date(f"compliance.{year}.old_ccer_usable_until"):
            return f"pre-{cutoff} CCER usable only until {pack.text(f'compliance.{year}.old_ccer_usable_until')}"
        return None
    if p.registered_on is None:
        return "project not registered"
    if p.registered_on < pack.date(f"compliance.{year}.new_ccer_registered_from"):
        return f"registered before {pack.text(f'compliance.{year}.new_ccer_registered_from')}"
    return None


@transaction.atomic
def surrender_submit(*, key: str, entity: Organisation, year: int, unit_type_code: str, quantity: int, actor,
                     at: dt.datetime | None = None) -> SurrenderApplication:
    """Apply to surrender ``quantity`` t of ``unit_type_code`` against ``entity``'s ``year`` obligation.

    Checks: R0502 actor acts for the entity; R0606 obligation exists; R0201 unit type; R0601 vintage
    usable for the year (pack ``usable_vintages``); R0603 CCER eligibility; R0602 CCER within the
    offset cap (≤ 5%, Measures Art. 29). Beijing obligations (pack market ``beijing``) instead: R0601 BEA
    vintage, C1003 instrument not usable in Beijing, R0603 CCER eligibility, C1001 PCER + CCER above the total
    offset cap, C1002 CCERs of projects outside Beijing above their cap (:func:`_beijing_unit_check`); units
    come from the entity's account of the pack's market. Then R0604 not more than the remaining obligation;
    R0302 enough units; C0811 the arrears are already being deducted from next year's allocation (late surrender
    stays possible until then, notice 国环规气候〔2024〕1号 §四(四)). Idempotent on ``key`` (a retry returns
    the same application).
    """
    existing = SurrenderApplication.objects.filter(key=key).first()
    if existing is not None:
        return existing
    m = require_role(actor, Role.ENTITY)
    if m.organisation_id != entity.pk:
        raise CetsError(R0502, "not a member of this entity")
    at = at or timezone.now()
    ob = Obligation.objects.filter(entity=entity, year=year).first()
    if ob is None:
        raise CetsError(R0606, f"{entity.uscc} {year}")
    pack = load_pack(ob.pack_id)
    if _arrears_deducted(ob):
        raise CetsError(C0811, f"{entity.uscc} {year}")
    ut = UnitType.objects.select_related("project").filter(code=unit_type_code).first()
    if ut is None:
        raise CetsError(R0201, unit_type_code)
    active = active_surrenders(obligation=ob)
    if pack.market == "beijing":
        _beijing_unit_check(pack, ob, ut, quantity, active, timezone.localdate(at), entity.pk)
    elif ut.instrument == Instrument.CEA:
        if ut.vintage not in pack.raw(f"compliance.{year}.usable_vintages"):
            raise CetsError(R0601, f"{ut.code} for {year}")
    elif ut.instrument == Instrument.CCER:
        why = ccer_eligible(pack, year, ut, timezone.localdate(at), entity.pk)
        if why:
            raise CetsError(R0603, why)
        used = active.filter(unit_type__instrument=Instrument.CCER).aggregate(q=Sum("quantity"))["q"] or 0
        if used + quantity > ob.offset_cap_t:
            raise CetsError(R0602, f"{used} + {quantity} > {ob.offset_cap_t}")
    else:
        raise CetsError(R0601, f"{ut.code} is not a national instrument")
    applied = active.aggregate(q=Sum("quantity"))["q"] or 0
    if applied + quantity > ob.obligation_t:
        raise CetsError(R0604, f"{applied} + {quantity} > {ob.obligation_t}")
    acc = account_of(holder_id=entity.pk, market=pack.market)
    if acc is None:
        raise CetsError(R0101, entity.uscc)
    t = transfer_post(key=f"{key}:hold", kind=TransferKind.POSITION_MOVE, unit_type=ut, debit=Leg(acc, Position.REGISTRY),
                      credit=Leg(acc, Position.PENDING), quantity=quantity, reference=f"{year} 清缴申请 surrender application",
                      actor=actor, effective_at=at)
    return SurrenderApplication.objects.create(key=key, obligation=ob, unit_type=ut, quantity=quantity, submitted_by=actor,
                                               submitted_at=at, pending_transfer_key=t.key)


def _arrears_deducted(ob: Obligation) -> bool:
    """Whether a deduction of ``ob``'s arrears from next year's allocation is decided and in force: late
    surrender stays possible only "在后续年度未完成配额核减" (notice 国环规气候〔2024〕1号 §四(四))."""
    from cets.allocation.models import AllocationAdjustment

    order = RectificationOrder.objects.filter(obligation=ob).first()
    return order is not None and AllocationAdjustment.objects.filter(source=f"compliance.rectification:{order.pk}", voided_at__isnull=True,
                                                                     kind=AllocationAdjustment.Kind.ARREARS_DEDUCTION).exists()


def _decide(application_id: int, approver) -> tuple[SurrenderApplication, object]:
    app = SurrenderApplication.objects.select_for_update().select_related("obligation__entity", "unit_type").filter(pk=application_id).first()
    if app is None:
        raise CetsError(R0605, str(application_id))
    require_role(approver, Role.PROVINCIAL_AUTHORITY, province=app.obligation.entity.province)
    if app.status != SurrenderApplication.Status.SUBMITTED:
        raise CetsError(R0605, app.status)
    return app, account_of(holder_id=app.obligation.entity_id, market=load_pack(app.obligation.pack_id).market)


@transaction.atomic
def surrender_approve(*, application_id: int, approver, at: dt.datetime | None = None) -> SurrenderApplication:
    """The province confirms a surrender: pending units go to the surrender account (plan 附6).
    R0502 unless the approver is the entity's provincial authority; R0605 unless submitted."""
    return _surrender_decide(application_id, approver, at, approve=True)


@transaction.atomic
def surrender_reject(*, application_id: int, approver, at: dt.datetime | None = None) -> SurrenderApplication:
    """The province returns a surrender application: pending units go back to the registry position."""
    return _surrender_decide(application_id, approver, at, approve=False)


def _surrender_decide(application_id: int, approver, at: dt.datetime | None, *, approve: bool) -> SurrenderApplication:
    app, acc = _decide(application_id, approver)
    at = at or timezone.now()
    if approve:
        t = transfer_post(key=f"{app.key}:surrender", kind=TransferKind.SURRENDER, unit_type=app.unit_type,
                          debit=Leg(acc, Position.PENDING), credit=Leg(system_account(acc.market, AccountKind.SURRENDER), Position.REGISTRY),
                          quantity=app.quantity, reference=f"{app.obligation.year} 清缴 surrender {app.obligation.entity.uscc}",
                          actor=app.submitted_by, approver=approver, effective_at=at)
    else:
        t = transfer_post(key=f"{app.key}:return", kind=TransferKind.POSITION_MOVE, unit_type=app.unit_type,
                          debit=Leg(acc, Position.PENDING), credit=Leg(acc, Position.REGISTRY), quantity=app.quantity,
                          reference="清缴申请退回 surrender application returned", actor=approver, effective_at=at)
    app.status = SurrenderApplication.Status.APPROVED if approve else SurrenderApplication.Status.REJECTED
    app.decided_by = approver
    app.decided_at = at
    app.final_transfer_key = t.key
    app.save(update_fields=["status", "decided_by", "decided_at", "final_transfer_key"])
    return app


# ---------------------------------------------------------------- forced surrender (强制履约)

def forced_surrender_propose(*, key: str, entity: Organisation, year: int, instruction_ref: str, actor,
                             effective_at: dt.datetime | None = None) -> Proposal:
    """Propose the forced surrender of an entity whose allowances the provincial authority account
    holds for it (2023–2024 plan §五, differentiated treatment; 2021–2022 notice of 2023-07-17): on a
    second registry operator's approval, the units held for the entity are surrendered against its
    outstanding obligation, the year's own vintage first, then the other usable vintages, and the
    remainder is released to the entity's account. Proposed by a registry operator on the province's
    instruction ``instruction_ref``."""
    if not Obligation.objects.filter(entity=entity, year=year).exists():
        raise CetsError(R0606, f"{entity.uscc} {year}")
    return proposal_submit(key=key, kind="forced_surrender", actor=actor, payload={
        "entity": entity.uscc, "year": year, "instruction": instruction_ref,
        "effective_at": effective_at.isoformat() if effective_at else None})


def forced_surrender_order(year: int, usable: list[str], held: list[str]) -> list[str]:
    """Vintages to use, in order: the obligation year's own vintage first, then the other usable
    vintages, latest first (2021–2022 notice: "同一年度配额优先，剩余部分用于另一年度"). Pure."""
    return vintage_order(year, usable, held)


@four_eyes("forced_surrender")
def _execute_forced_surrender(p: Proposal, approver) -> dict:
    d = p.payload
    entity = Organisation.objects.get(uscc=d["entity"])
    ob = Obligation.objects.get(entity=entity, year=d["year"])
    pack = load_pack(ob.pack_id)
    at = dt.datetime.fromisoformat(d["effective_at"]) if d.get("effective_at") else timezone.now()
    prov = system_account("national", AccountKind.PROVINCIAL, entity.province)
    surrender = system_account("national", AccountKind.SURRENDER)
    held = held_for(entity=entity)
    types = {ut.pk: ut for ut in UnitType.objects.filter(pk__in=held, instrument=Instrument.CEA)}
    by_vintage = {ut.vintage: ut for ut in types.values()}
    applied = active_surrenders(obligation=ob).aggregate(q=Sum("quantity"))["q"] or 0
    outstanding = max(0, ob.obligation_t - applied)
    surrendered, released = {}, {}
    for v in forced_surrender_order(ob.year, list(pack.raw(f"compliance.{ob.year}.usable_vintages")), list(by_vintage)):
        ut = by_vintage[v]
        q = min(outstanding, held[ut.pk])
        if q <= 0:
            continue
        t = transfer_post(key=f"{p.key}:{ut.code}", kind=TransferKind.FORCED_SURRENDER, unit_type=ut, debit=Leg(prov, Position.REGISTRY),
                          credit=Leg(surrender, Position.REGISTRY), quantity=q, reference=f"{ob.year} 强制履约 forced surrender {d['instruction']}",
                          actor=p.proposed_by, approver=approver, effective_at=at, beneficiary=entity)
        SurrenderApplication.objects.create(key=f"{p.key}:{ut.code}", obligation=ob, unit_type=ut, quantity=q, status=SurrenderApplication.Status.APPROVED,
                                            submitted_by=p.proposed_by, submitted_at=at, decided_by=approver, decided_at=at,
                                            pending_transfer_key=t.key, final_transfer_key=t.key)
        held[ut.pk] -= q
        outstanding -= q
        surrendered[ut.code] = q
    acc = account_of(holder_id=entity.pk)
    for ut_id, q in held.items():
        if q <= 0:
            continue
        ut = UnitType.objects.get(pk=ut_id)
        transfer_post(key=f"{p.key}:release:{ut.code}", kind=TransferKind.TRANSFER, unit_type=ut, debit=Leg(prov, Position.REGISTRY),
                      credit=Leg(acc, Position.REGISTRY), quantity=q, reference=f"强制履约后余量释放 remainder released {d['instruction']}",
                      actor=p.proposed_by, approver=approver, effective_at=at, beneficiary=entity)
        released[ut.code] = q
    return {"surrendered": surrendered, "released": released, "outstanding_t": outstanding}


# ---------------------------------------------------------------- non-compliance (未按时足额清缴)

def _obligation_for_authority(obligation_id: int, actor, *roles: str) -> tuple[Obligation, Pack, object]:
    ob = Obligation.objects.select_for_update().select_related("entity").filter(pk=obligation_id).first()
    if ob is None:
        raise CetsError(R0606, str(obligation_id))
    pack = load_pack(ob.pack_id)
    m = require_role(actor, *(roles or pack.raw("penalty.authorities")), province=ob.entity.province)
    return ob, pack, m


@transaction.atomic
def rectification_order_issue(*, obligation_id: int, reference: str, actor, deadline: dt.date | None = None,
                              at: dt.datetime | None = None) -> RectificationOrder:
    """责令限期改正 (Regulations 2024 Art. 24; Measures 2021 Art. 40): order the entity to surrender what
    is still outstanding by the deadline of the pack's ``compliance.<year>.rectification_deadline`` (notice
    国环规气候〔2024〕1号 §三(三): 2023 → 2025-02-28, 2024 → 2026-02-28); ``deadline`` is used only when the
    pack has none (then it is required).

    Raises R0502 unless ``actor`` is one of the pack's ``penalty.authorities`` (municipal or provincial)
    of the entity's province; R0606 no obligation; C0809 before the surrender deadline; C0801 nothing
    outstanding; C0804 an order already exists; C0810 no deadline.
    """
    ob, pack, m = _obligation_for_authority(obligation_id, actor)
    at = at or timezone.now()
    today = timezone.localdate(at)
    if today <= deadline_of(obligation=ob):
        raise CetsError(C0809, f"{deadline_of(obligation=ob)}")
    outstanding = status_of(obligation=ob, today=today).outstanding_t
    if outstanding <= 0:
        raise CetsError(C0801, f"{ob.entity.uscc} {ob.year}")
    if RectificationOrder.objects.filter(obligation=ob).exists():
        raise CetsError(C0804, f"rectification {ob.entity.uscc} {ob.year}")
    key = f"compliance.{ob.year}.rectification_deadline"
    try:
        deadline = pack.date(key)
    except PackError:
        if deadline is None:
            raise CetsError(C0810, key) from None
    if not reference.strip():
        raise CetsError(C0808, "reference")
    return RectificationOrder.objects.create(obligation=ob, reference=reference.strip(), deadline=deadline, unsurrendered_t=outstanding,
                                             authority=m.organisation, issued_by=actor, issued_at=at)


def penalty_range(*, obligation: Obligation, pack: Pack, today: dt.date | None = None) -> tuple[int, object, penalty.FineRange]:
    """(unsurrendered tonnes, market price or None, lawful fine range in fen) for ``obligation`` under
    ``pack``'s ``[penalty]`` (read-only helper of :func:`penalty_decide`). Raises C0801 when nothing was
    unsurrendered, C0803 when the price basis has no counted trade."""
    q = unsurrendered_for_penalty(obligation=obligation, pack=pack, today=today)
    if q <= 0:
        raise CetsError(C0801, f"{obligation.entity.uscc} {obligation.year}")
    if pack.text("penalty.basis") == penalty.FIXED_RANGE:
        return q, None, penalty.FineRange(penalty.FIXED_RANGE, int(pack.decimal("penalty.fine_min_fen")), int(pack.decimal("penalty.fine_max_fen")))
    price = market_price(pack=pack, deadline=obligation.deadline, market=pack.market)
    if price is None:
        raise CetsError(C0803, f"{obligation.deadline}")
    rng = penalty.fine_range_price_multiple(q, price.price_fen, pack.decimal("penalty.multiple_min"), pack.decimal("penalty.multiple_max"),
                                            pack.text("penalty.fine_rounding"))
    return q, price, rng


@transaction.atomic
def penalty_decide(*, obligation_id: int, reference: str, reason: str, actor, multiple: str | Decimal | None = None,
                   amount_fen: int | None = None, at: dt.datetime | None = None) -> PenaltyDecision:
    """Decide the fine for not surrendering ``obligation_id`` in full by its deadline.

    ``price_multiple`` packs (Regulations 2024 Art. 24): ``multiple`` (5 ≤ m ≤ 10, decimal string) ×
    unsurrendered tonnes × the average price of the month before the deadline (pack ``[penalty]``:
    window, trades counted, volume-weighted, rounded to the fen) → ``fine_fen`` fen (int).
    ``fixed_range`` packs (Measures 2021 Art. 40): ``amount_fen`` fen within CNY 20,000–30,000.
    ``reason`` says why this multiple or amount was chosen (required). The multiple has at most two
    decimals (e.g. "7.5").

    Raises R0502 unless ``actor`` is a municipal or provincial authority (pack ``penalty.authorities``)
    of the entity's province; R0606 no obligation; C0809 before the deadline; C0801 surrendered in full
    by the deadline; C0803 no price; C0802 multiple/amount missing or outside the range; C0808 no
    reason or reference; C0804 already decided. Nothing is written on a refusal.
    """
    ob, pack, m = _obligation_for_authority(obligation_id, actor)
    at = at or timezone.now()
    today = timezone.localdate(at)
    if today <= deadline_of(obligation=ob):
        raise CetsError(C0809, f"{deadline_of(obligation=ob)}")
    if PenaltyDecision.objects.filter(obligation=ob).exists():
        raise CetsError(C0804, f"penalty {ob.entity.uscc} {ob.year}")
    if not reason.strip() or not reference.strip():
        raise CetsError(C0808, "reason" if not reason.strip() else "reference")
    q, price, rng = penalty_range(obligation=ob, pack=pack, today=today)
    extra = {}
    if rng.basis == penalty.PRICE_MULTIPLE:
        try:
            mult = D(multiple) if multiple is not None else None
        except (TypeError, ValueError):
            mult = None
        if mult is None or not penalty.multiple_allowed(mult, pack.decimal("penalty.multiple_min"), pack.decimal("penalty.multiple_max")) \
                or mult != mult.quantize(Decimal("0.01")):
            raise CetsError(C0802, f"multiple {multiple!r} not in {pack.text('penalty.multiple_min')}–{pack.text('penalty.multiple_max')}")
        fine = penalty.fine_price_multiple(q, price.price_fen, mult, pack.text("penalty.fine_rounding"))
        extra = dict(multiple=mult, price_from=price.start, price_to=price.end, price_fen=price.price_fen, price_volume_t=price.volume_t,
                     price_amount_fen=price.amount_fen)
    else:
        if not isinstance(amount_fen, int) or not rng.min_fen <= amount_fen <= rng.max_fen:
            raise CetsError(C0802, f"amount {amount_fen!r} not in {rng.min_fen}–{rng.max_fen} fen")
        fine = amount_fen
    return PenaltyDecision.objects.create(obligation=ob, pack_id=pack.id, basis=rng.basis, reference=reference.strip(), unsurrendered_t=q,
                                          min_fen=rng.min_fen, max_fen=rng.max_fen, fine_fen=fine, reason=reason.strip(),
                                          authority=m.organisation, decided_by=actor, decided_at=at, **extra)


@transaction.atomic
def penalty_publish(*, decision_id: int, actor, at: dt.datetime | None = None) -> PenaltyDecision:
    """Publish a penalty decision (处罚信息公开, notice 国环规气候〔2024〕1号 §三(四); 《行政处罚法》): from now on
    it shows on the public page. Only an authority of the pack's ``penalty.authorities`` in the entity's
    province (R0502); R0606 unknown decision. Idempotent (publishing again keeps the first date)."""
    d = PenaltyDecision.objects.select_for_update().select_related("obligation__entity").filter(pk=decision_id).first()
    if d is None:
        raise CetsError(R0606, f"penalty {decision_id}")
    require_role(actor, *load_pack(d.pack_id).raw("penalty.authorities"), province=d.obligation.entity.province)
    if d.published_at is None:
        d.published_at = at or timezone.now()
        d.save(update_fields=["published_at"])
    return d


@transaction.atomic
def arrears_deduction_decide(*, obligation_id: int, actor, at: dt.datetime | None = None):
    """核减: the entity did not rectify by the order's deadline, so the quantity still unsurrendered is
    deducted from its next year's allocation (Regulations 2024 Art. 24 "拒不改正的，按照未清缴的碳排放配额
    等量核减其下一年度碳排放配额"; Measures 2021 Art. 40: by the provincial authority). Recorded through
    :func:`cets.allocation.services.allocation_adjustment_record` as an ``arrears_deduction`` of year + 1,
    source ``compliance.rectification:<order id>``; returns the AllocationAdjustment.

    Raises R0502 unless ``actor`` is the entity's provincial authority; R0606 no obligation; C0805 the
    pack's ``penalty.arrears_deduction`` is off or the decision falls on/after
    ``penalty.arrears_deduction_no_new_decisions_from`` (2026-08-15, 生态环境法典; reference §1.7);
    C0806 no order or its deadline not passed; C0807 nothing outstanding. Idempotent per order.
    """
    from cets.allocation.models import AllocationAdjustment
    from cets.allocation.services import allocation_adjustment_record

    ob, pack, _ = _obligation_for_authority(obligation_id, actor, Role.PROVINCIAL_AUTHORITY)
    at = at or timezone.now()
    today = timezone.localdate(at)
    order = RectificationOrder.objects.filter(obligation=ob).first()
    if order is not None:
        done = AllocationAdjustment.objects.filter(source=f"compliance.rectification:{order.pk}",
                                                   kind=AllocationAdjustment.Kind.ARREARS_DEDUCTION).first()
        if done is not None:
            return done
    if not pack.flag("penalty.arrears_deduction"):
        raise CetsError(C0805, f"{pack.id} penalty.arrears_deduction = false")
    stop = pack.data.get("penalty", {}).get("arrears_deduction_no_new_decisions_from")
    if stop is not None and today >= pack.date("penalty.arrears_deduction_no_new_decisions_from"):
        raise CetsError(C0805, f"no new deduction decisions from {stop}")
    if order is None or today <= order.deadline:
        raise CetsError(C0806, f"order deadline {order.deadline}" if order else "no order")
    outstanding = status_of(obligation=ob, today=today).outstanding_t
    if outstanding <= 0:
        raise CetsError(C0807, f"{ob.entity.uscc} {ob.year}")
    return allocation_adjustment_record(entity=ob.entity, year=ob.year + 1, kind=AllocationAdjustment.Kind.ARREARS_DEDUCTION,
                                        quantity_t=outstanding, source=f"compliance.rectification:{order.pk}", actor=actor, at=at,
                                        reason=f"{ob.year}年度未清缴配额等量核减 arrears of {ob.year} deducted ({order.reference})")


# ---------------------------------------------------------------- notices and certificates

@transaction.atomic
def compliance_notices_issue(*, year: int, actor, at: dt.datetime | None = None) -> int:
    """Issue the 履约通知书 of ``year`` with the final allocation (notice 国环规气候〔2024〕1号 §三(一)): one per
    obligation whose entity's allocation of ``year`` is at stage ``final_issued`` and that has no notice
    yet; obligation, deadline and offset cap are copied from the obligation. Entities flagged at
    compliance risk for ``year`` (``cets.allocation.selectors.has_compliance_risk``) get theirs through
    the provincial authority (notice of 2023-07-17 §一). R0502 unless ``actor`` is a registry operator.
    Returns the number issued (idempotent: a second run issues none)."""
    from cets.allocation.models import EntityAllocation
    from cets.allocation.selectors import has_compliance_risk

    require_role(actor, Role.REGISTRY_OPERATOR)
    at = at or timezone.now()
    final = set(EntityAllocation.objects.filter(year=year, stage=EntityAllocation.Stage.FINAL_ISSUED).values_list("entity_id", flat=True))
    n = 0
    for ob in Obligation.objects.select_related("entity").filter(year=year, notice__isnull=True, entity_id__in=final):
        via = ComplianceNotice.DeliveredTo.PROVINCE if has_compliance_risk(entity=ob.entity, year=year) else ComplianceNotice.DeliveredTo.ENTITY
        ComplianceNotice.objects.create(obligation=ob, number=f"LYTZ-{year}-{ob.entity.uscc}", obligation_t=ob.obligation_t,
                                        offset_cap_t=ob.offset_cap_t, deadline=ob.deadline, delivered_to=via, issued_by=actor, issued_at=at)
        n += 1
    return n


@transaction.atomic
def compliance_notice_forward(*, notice_id: int, actor, at: dt.datetime | None = None) -> ComplianceNotice:
    """The provincial authority forwards a notice delivered to it to the entity (notice of 2023-07-17 §一).
    R0502 unless the entity's provincial authority; C0902 if the notice went to the entity directly.
    Idempotent."""
    n = ComplianceNotice.objects.select_for_update().select_related("obligation__entity").filter(pk=notice_id).first()
    if n is None:
        raise CetsError(R0606, f"notice {notice_id}")
    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=n.obligation.entity.province)
    if n.delivered_to != ComplianceNotice.DeliveredTo.PROVINCE:
        raise CetsError(C0902, n.number)
    if n.forwarded_at is None:
        n.forwarded_at = at or timezone.now()
        n.save(update_fields=["forwarded_at"])
    return n


@transaction.atomic
def compliance_certificate_issue(*, obligation_id: int, actor, at: dt.datetime | None = None) -> ComplianceCertificate:
    """履约完成证明 by the registry for an obligation surrendered in full, on time or late (notice
    国环规气候〔2024〕1号 §四(四); 2023-07-17 notice §五(三)). R0502 unless a registry operator; R0606 no
    obligation; C0901 not surrendered in full. Idempotent (returns the certificate already issued)."""
    require_role(actor, Role.REGISTRY_OPERATOR)
    ob = Obligation.objects.select_for_update().select_related("entity").filter(pk=obligation_id).first()
    if ob is None:
        raise CetsError(R0606, str(obligation_id))
    existing = ComplianceCertificate.objects.filter(obligation=ob).first()
    if existing is not None:
        return existing
    at = at or timezone.now()
    s = status_of(obligation=ob, today=timezone.localdate(at))
    if s.outstanding_t > 0:
        raise CetsError(C0901, f"{s.outstanding_t} t outstanding")
    return ComplianceCertificate.objects.create(obligation=ob, number=f"LYZM-{ob.year}-{ob.entity.uscc}", outcome=s.status,
                                                surrendered_t=s.surrendered_t, issued_by=actor, issued_at=at)


# ---------------------------------------------------------------- borrowing and hardship relief

def _documents(documents: list[str]) -> list[str]:
    docs = [d.strip() for d in documents if isinstance(d, str) and d.strip()]
    if not docs:
        raise CetsError(C0908, "documents")
    return docs


@transaction.atomic
def borrowing_submit(*, entity: Organisation, year: int, quantity_t: int, documents: list[str], actor,
                     at: dt.datetime | None = None) -> Borrowing:
    """The province submits that ``entity`` borrows ``quantity_t`` tonnes CO2e of the pack's
    ``borrowing.from_vintage`` (2023) allowances for its ``year`` obligation (预支, notice of 2023-07-17 §三),
    with ``documents`` (references of the formal letter and the entity's filing), by the pack's
    ``borrowing.submission_due`` (2023-08-04). The gap is obligation − final allocation of ``year``;
    eligible when gap > ``gap_threshold`` × allocation, at most ``share_of_gap`` × gap (pure rule:
    :func:`cets.compliance.borrowing.borrowing_limit`). The borrowed quantity is recorded as a
    ``borrowing_repayment`` adjustment of the ``from_vintage`` year's issuance.

    Raises R0502 unless the entity's provincial authority; R0606 no obligation; C0903 the pack has no
    ``[borrowing]`` (2023–2024: no borrowing); C0906 entity flagged at compliance risk for ``year``;
    C0907 after the deadline; C0908 no documents; C0910 no allocation; C0904 not eligible; C0905 above
    the limit or not positive; C0804 already submitted. Nothing is written on a refusal.
    """
    from cets.allocation.models import AllocationAdjustment, EntityAllocation
    from cets.allocation.selectors import has_compliance_risk
    from cets.allocation.services import allocation_adjustment_record

    from .borrowing import borrowing_limit

    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=entity.province)
    at = at or timezone.now()
    ob = Obligation.objects.filter(entity=entity, year=year).first()
    if ob is None:
        raise CetsError(R0606, f"{entity.uscc} {year}")
    pack = load_pack(ob.pack_id)
    if "borrowing" not in pack.data:
        raise CetsError(C0903, pack.id)
    if has_compliance_risk(entity=entity, year=year):
        raise CetsError(C0906, f"{entity.uscc} {year}")
    if timezone.localdate(at) > pack.date("borrowing.submission_due"):
        raise CetsError(C0907, pack.text("borrowing.submission_due"))
    docs = _documents(documents)
    alloc = EntityAllocation.objects.filter(entity=entity, year=year).first()
    if alloc is None:
        raise CetsError(C0910, f"{entity.uscc} {year}")
    lim = borrowing_limit(obligation_t=ob.obligation_t, allocation_t=alloc.final_allocation_t, threshold=pack.decimal("borrowing.gap_threshold"),
                          share=pack.decimal("borrowing.share_of_gap"), rounding=pack.text("borrowing.rounding"))
    if not lim.eligible:
        raise CetsError(C0904, f"gap {lim.gap_t} t ≤ {pack.text('borrowing.gap_threshold')} × {alloc.final_allocation_t} t")
    if not isinstance(quantity_t, int) or not 0 < quantity_t <= lim.limit_t:
        raise CetsError(C0905, f"{quantity_t} > {lim.limit_t}")
    if Borrowing.objects.filter(entity=entity, year=year).exists():
        raise CetsError(C0804, f"borrowing {entity.uscc} {year}")
    b = Borrowing.objects.create(entity=entity, year=year, pack_id=pack.id, from_vintage=pack.text("borrowing.from_vintage"),
                                 allocation_t=alloc.final_allocation_t, obligation_t=ob.obligation_t, gap_t=lim.gap_t, limit_t=lim.limit_t,
                                 quantity_t=quantity_t, documents=docs, submitted_by=actor, submitted_at=at)
    allocation_adjustment_record(entity=entity, year=int(b.from_vintage), kind=AllocationAdjustment.Kind.BORROWING_REPAYMENT, quantity_t=quantity_t,
                                 reason=f"预支{b.from_vintage}年度配额用于{year}年度清缴 borrowed for {year}", source=f"compliance.borrowing:{b.pk}",
                                 actor=actor, at=at)
    return b


@transaction.atomic
def relief_apply(*, obligation_id: int, grounds: str, documents: list[str], effect: str, actor, new_deadline: dt.date | None = None,
                 quantity_t: int | None = None, deferred_source: str = "", at: dt.datetime | None = None) -> ReliefApplication:
    """The province applies for hardship relief (个性化纾困) for an entity with major public-service duties
    that cannot comply (notice of 2023-07-17 §三), with ``grounds`` and ``documents``, by the pack's
    ``borrowing.relief_submission_due`` when the pack has one. ``effect`` (ReliefApplication.Effect) needs
    ``new_deadline`` (later than the obligation's), ``quantity_t`` (> 0) or ``deferred_source`` (the
    deduction's source) respectively. Raises R0502 unless the entity's provincial authority; R0606;
    C0907 late; C0908 no documents or grounds; C0909 effect incomplete."""
    ob = Obligation.objects.select_related("entity").filter(pk=obligation_id).first()
    if ob is None:
        raise CetsError(R0606, str(obligation_id))
    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=ob.entity.province)
    at = at or timezone.now()
    pack = load_pack(ob.pack_id)
    due = pack.data.get("borrowing", {}).get("relief_submission_due")
    if due and timezone.localdate(at) > pack.date("borrowing.relief_submission_due"):
        raise CetsError(C0907, due)
    docs = _documents(documents)
    if not grounds.strip():
        raise CetsError(C0908, "grounds")
    E = ReliefApplication.Effect
    ok = {E.DEADLINE_EXTENSION: new_deadline is not None and new_deadline > ob.deadline,
          E.ADDITIONAL_ISSUANCE: isinstance(quantity_t, int) and quantity_t > 0,
          E.DEDUCTION_DEFERRAL: bool(deferred_source.strip())}.get(effect, False)
    if not ok:
        raise CetsError(C0909, effect)
    return ReliefApplication.objects.create(
        obligation=ob, grounds=grounds.strip(), documents=docs, effect=effect, submitted_by=actor, submitted_at=at,
        new_deadline=new_deadline if effect == E.DEADLINE_EXTENSION else None,
        quantity_t=quantity_t if effect == E.ADDITIONAL_ISSUANCE else None,
        deferred_source=deferred_source.strip() if effect == E.DEDUCTION_DEFERRAL else "")


@transaction.atomic
def relief_decide(*, application_id: int, approve: bool, decision: str, actor, at: dt.datetime | None = None) -> ReliefApplication:
    """The national authority decides a relief application (notice of 2023-07-17 §三: "我部将统筹考虑纾困措施").
    An approved ``deadline_extension`` takes effect in the compliance status at once (selectors use the
    later deadline); ``additional_issuance`` and ``deduction_deferral`` are recorded for the allocation
    context to carry out. R0502 unless the national authority; R0605 not pending; C0808 no decision text."""
    app = ReliefApplication.objects.select_for_update().filter(pk=application_id).first()
    if app is None:
        raise CetsError(R0606, f"relief {application_id}")
    require_role(actor, Role.NATIONAL_AUTHORITY)
    if app.status != ReliefApplication.Status.SUBMITTED:
        raise CetsError(R0605, app.status)
    if not decision.strip():
        raise CetsError(C0808, "decision")
    app.status = ReliefApplication.Status.APPROVED if approve else ReliefApplication.Status.REJECTED
    app.decided_by, app.decided_at, app.decision = actor, at or timezone.now(), decision.strip()
    app.save(update_fields=["status", "decided_by", "decided_at", "decision"])
    return app


# ---------------------------------------------------------------- Beijing pilot (北京试点)

@dataclass(frozen=True)
class BeijingObligationRow:
    """One Beijing key emitter's obligation input: ``verified_emissions_t`` (应清缴配额量, tonnes CO2e, int ≥ 0)
    and ``allocation_t`` (the year's approved allocation, tonnes CO2e, int ≥ 0; required when the pack's
    offset basis is the allocation)."""

    entity_uscc: str
    verified_emissions_t: int
    allocation_t: int | None = None


def _beijing_pack(pack_id: str, year: int) -> Pack:
    try:
        pack = load_pack(pack_id)
    except PackError:
        raise CetsError(C1006, pack_id) from None
    if pack.market != "beijing" or pack.kind != "compliance" or not pack.covers(year):
        raise CetsError(C1006, f"{pack_id} {year}")
    return pack


@transaction.atomic
def beijing_obligations_create(*, year: int, pack_id: str, rows: list[BeijingObligationRow], actor, source: str = "obligations") -> int:
    """Beijing obligations of ``year`` (pack ``beijing/compliance-…``): 应清缴配额量 = verified emissions; the
    offset caps from the pack (older rules [S]: PCER + CCER ≤ ``offset_cap`` × basis, CCERs of projects outside
    Beijing ≤ ``nonlocal_ccer_cap`` × basis, basis = the year's allocation or the obligation per
    ``offset_basis``, rounded by ``offset_rounding``); deadline from the pack. Returns the number created;
    entities that already have a ``year`` obligation are left as they are (idempotent).

    Raises R0502 unless ``actor`` is the Beijing bureau (provincial authority of the pack's
    ``compliance.province``); C1006 not a Beijing compliance pack for ``year``; InputError listing every bad
    row (unknown or non-Beijing entity, a quantity that is not an integer ≥ 0, a missing allocation, a
    duplicate entity) — then nothing is written."""
    from cets.core.errors import InputError, InputProblem

    pack = _beijing_pack(pack_id, year)
    province = pack.text("compliance.province")
    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=province)
    y = f"compliance.{year}"
    basis, rounding = pack.text(f"{y}.offset_basis"), pack.text(f"{y}.offset_rounding")
    total_share, nonlocal_share = pack.decimal(f"{y}.offset_cap"), pack.decimal(f"{y}.nonlocal_ccer_cap")
    deadline = pack.date(f"{y}.deadline")
    orgs = {o.uscc: o for o in Organisation.objects.filter(uscc__in=[r.entity_uscc for r in rows])}
    problems, seen, ready = [], set(), []

    def bad(i, field, value, zh, en):
        problems.append(InputProblem(source, i, field, str(value), zh, en))

    for i, r in enumerate(rows, start=1):
        org = orgs.get(r.entity_uscc)
        if org is None or org.kind != Organisation.Kind.ENTITY:
            bad(i, "entity_uscc", r.entity_uscc, "重点排放单位不存在", "no such key emitting entity")
        elif org.province != province:
            bad(i, "entity_uscc", r.entity_uscc, "不是本市重点排放单位", "not an entity of Beijing")
        if r.entity_uscc in seen:
            bad(i, "entity_uscc", r.entity_uscc, "重复的单位", "entity listed twice")
        seen.add(r.entity_uscc)
        ok = True
        for field in ("verified_emissions_t", "allocation_t"):
            v = getattr(r, field)
            if v is None and field == "allocation_t" and basis == "obligation":
                continue
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                bad(i, field, v, "须为不小于0的整数（吨）", "must be an integer ≥ 0 (tonnes)")
                ok = False
        if ok and org is not None and org.province == province:
            ready.append((org, r))
    if problems:
        raise InputError(problems)
    have = set(Obligation.objects.filter(year=year, entity__in=[o for o, _ in ready]).values_list("entity_id", flat=True))
    new = []
    for org, r in ready:
        if org.pk in have:
            continue
        caps = offset_caps(obligation_t=r.verified_emissions_t, allocation_t=r.allocation_t, basis=basis, total_share=total_share,
                           nonlocal_share=nonlocal_share, rounding=rounding)
        new.append(Obligation(entity=org, year=year, pack_id=pack.id, obligation_t=r.verified_emissions_t, offset_cap_t=caps.total_cap_t,
                              offset_basis_t=caps.basis_t, nonlocal_ccer_cap_t=caps.nonlocal_ccer_cap_t, deadline=deadline))
    Obligation.objects.bulk_create(new)
    return len(new)


def _nonlocal(pack: Pack, year: int, unit_type: UnitType) -> bool:
    """Whether a CCER unit type comes from a project outside Beijing (its province is not one of the pack's
    ``local_province_names``; a project without a province counts as outside)."""
    p = unit_type.project
    return p is None or p.province_name.strip() not in pack.raw(f"compliance.{year}.local_province_names")


def _beijing_unit_check(pack: Pack, ob: Obligation, ut: UnitType, quantity: int, active, on: dt.date, entity_id: int) -> None:
    """The Beijing rules for one surrender (pack ``compliance.<year>``): BEA of a usable vintage (R0601); an
    offset instrument of the pack (C1003); a CCER eligible as nationally (R0603); PCER + CCER within the
    total cap (C1001) and CCERs of projects outside Beijing within theirs (C1002), counting what is already
    applied for or surrendered (cn-ets-rules.md §7.2 [S])."""
    y = f"compliance.{ob.year}"
    if ut.instrument == Instrument.BEA:
        if ut.vintage not in pack.raw(f"{y}.usable_vintages"):
            raise CetsError(R0601, f"{ut.code} for {ob.year}")
        return
    offsets = list(pack.raw(f"{y}.offset_instruments"))
    if ut.instrument not in offsets:
        raise CetsError(C1003, f"{ut.code} in {pack.market}")
    nonlocal_ccer = False
    if ut.instrument == Instrument.CCER:
        why = ccer_eligible(pack, ob.year, ut, on, entity_id)
        if why:
            raise CetsError(R0603, why)
        nonlocal_ccer = _nonlocal(pack, ob.year, ut)
    used_total = used_nonlocal = 0
    for a in active.filter(unit_type__instrument__in=offsets).select_related("unit_type__project"):
        used_total += a.quantity
        if a.unit_type.instrument == Instrument.CCER and _nonlocal(pack, ob.year, a.unit_type):
            used_nonlocal += a.quantity
    nonlocal_cap = ob.nonlocal_ccer_cap_t if ob.nonlocal_ccer_cap_t is not None else ob.offset_cap_t
    breach = offset_breach(quantity_t=quantity, nonlocal_ccer=nonlocal_ccer, used_total_t=used_total, used_nonlocal_t=used_nonlocal,
                           total_cap_t=ob.offset_cap_t, nonlocal_cap_t=nonlocal_cap)
    if breach == TOTAL:
        raise CetsError(C1001, f"{used_total} + {quantity} > {ob.offset_cap_t}")
    if breach == NONLOCAL:
        raise CetsError(C1002, f"{used_nonlocal} + {quantity} > {nonlocal_cap}")


def collection_propose(*, key: str, pack_id: str, year: int, actor, effective_at: dt.datetime | None = None) -> Proposal:
    """Propose the automatic collection (到期自动清缴) of ``year`` in the Beijing market: one proposal for the
    batch of every obligation of the pack; on a second registry operator's approval
    (:func:`cets.registry.services.proposal_approve`, four eyes) the registry surrenders, for each entity with
    an outstanding obligation, what its Beijing account holds of usable vintages (pack ``[collection]``:
    instruments, positions; the year's own vintage first, then the others latest first) up to the
    outstanding quantity. Entities whose deadline was extended past the collection day, or whose account is
    frozen or closed, are skipped and listed. The collection counts as of ``effective_at`` (default now),
    which must fall on the deadline day (Asia/Shanghai). Offsets are never collected.

    Raises R0502 unless a registry operator; C1006 not a Beijing compliance pack for ``year``; C1004 the pack
    has no automatic collection; C1005 not on the deadline day; R0401 the key reused for another batch.
    [U: the mechanism is the platform's design, reference §7.2.]"""
    pack = _beijing_pack(pack_id, year)
    if not pack.flag("collection.automatic"):
        raise CetsError(C1004, pack.id)
    at = effective_at or timezone.now()
    deadline = pack.date(f"compliance.{year}.deadline")
    if timezone.localdate(at) != deadline:
        raise CetsError(C1005, f"{timezone.localdate(at)} ≠ {deadline}")
    return proposal_submit(key=key, kind="beijing_collection", actor=actor,
                           payload={"pack": pack.id, "year": year, "effective_at": at.isoformat()})


@four_eyes("beijing_collection")
def _execute_collection(p: Proposal, approver) -> dict:
    from cets.registry.models import Account, AccountStatus, Holding

    from .selectors import extended_deadlines

    d = p.payload
    pack, year = load_pack(d["pack"]), int(d["year"])
    at = dt.datetime.fromisoformat(d["effective_at"])
    day = timezone.localdate(at)
    usable = list(pack.raw(f"compliance.{year}.usable_vintages"))
    positions = list(pack.raw("collection.positions"))
    instruments = list(pack.raw("collection.instruments"))
    sink = system_account(pack.market, AccountKind.SURRENDER)
    obs = list(Obligation.objects.filter(year=year, pack_id=pack.id).select_related("entity").order_by("entity__uscc"))
    ext = extended_deadlines([o.pk for o in obs])
    accounts = {a.holder_id: a for a in Account.objects.filter(holder_id__in=[o.entity_id for o in obs], market=pack.market)}
    collected: dict[str, dict[str, int]] = {}
    outstanding_after: dict[str, int] = {}
    skipped: dict[str, str] = {}
    for ob in obs:
        uscc = ob.entity.uscc
        if ext.get(ob.pk, ob.deadline) > day:
            skipped[uscc] = f"deadline extended to {ext[ob.pk]}"
            continue
        applied = active_surrenders(obligation=ob).aggregate(q=Sum("quantity"))["q"] or 0
        outstanding = max(0, ob.obligation_t - applied)
        if outstanding == 0:
            continue
        acc = accounts.get(ob.entity_id)
        if acc is None or acc.status in (AccountStatus.FROZEN, AccountStatus.CLOSED):
            skipped[uscc] = "no account" if acc is None else f"account {acc.status}"
            outstanding_after[uscc] = outstanding
            continue
        held = list(Holding.objects.filter(account=acc, unit_type__instrument__in=instruments, position__in=positions, quantity__gt=0)
                    .select_related("unit_type"))
        types = {h.unit_type.vintage: h.unit_type for h in held}
        lots = [Lot(h.unit_type.vintage, h.position, h.quantity) for h in held]
        for lot in collection_plan(year=year, outstanding_t=outstanding, lots=lots, usable=usable, positions=positions):
            ut = types[lot.vintage]
            k = f"{p.key}:{uscc}:{ut.code}:{lot.position}"
            t = transfer_post(key=k, kind=TransferKind.FORCED_SURRENDER, unit_type=ut, debit=Leg(acc, lot.position),
                              credit=Leg(sink, Position.REGISTRY), quantity=lot.quantity_t, reference=f"{year} 到期自动清缴 automatic collection",
                              actor=p.proposed_by, approver=approver, effective_at=at, beneficiary=ob.entity)
            SurrenderApplication.objects.create(key=k, obligation=ob, unit_type=ut, quantity=lot.quantity_t,
                                                status=SurrenderApplication.Status.APPROVED, submitted_by=p.proposed_by, submitted_at=at,
                                                decided_by=approver, decided_at=at, pending_transfer_key=t.key, final_transfer_key=t.key)
            collected.setdefault(uscc, {})
            collected[uscc][f"{ut.code}:{lot.position}"] = lot.quantity_t
            outstanding -= lot.quantity_t
        outstanding_after[uscc] = outstanding
    return {"collected": collected, "outstanding_t": {k: v for k, v in outstanding_after.items() if v}, "skipped": skipped}
