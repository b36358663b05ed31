"""Surrender (清缴), two-phase through the registry: ``surrender_submit`` moves the units of the entity's
registry position to its pending position; the province's ``surrender_approve`` moves them to the surrender
account; ``surrender_reject`` returns them. Every rule (vintage, CCER eligibility and cap, remaining
obligation) is checked before anything moves; a refusal writes nothing."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from cets.core.errors import CetsError
from cets.parties.access import require_role
from cets.parties.models import Organisation, Role
from cets.registry.checks import R0101, R0201, R0502, R0601, R0602, R0603, R0604, R0605, R0606
from cets.registry.kinds import INSTRUMENT_MARKET
from cets.registry.models import AccountKind, Instrument, Position, TransferKind, UnitType
from cets.registry.selectors import account_of
from cets.registry.services import Leg, system_account, transfer_post
from cets.rules.packs import Pack, load_pack

from ..beijing import NONLOCAL, TOTAL, offset_breach
from ..checks import (
    C0811,
    C0912,
    C1001,
    C1002,
    C1003,
    C1008,
)
from ..models import (
    Obligation,
    RectificationOrder,
    SurrenderApplication,
)
from ..selectors import active_surrenders, obligation_for


def ccer_eligible(pack: Pack, year: int, unit_type: UnitType, on: dt.date, entity_id: int | None = None,
                  first_cycle_cancelled: bool = False) -> str | None:
    """Why a CCER unit type cannot offset ``year``'s obligation on date ``on``, or None if it can.

    Rules (cn-ets-rules.md §4.2): not from projects under ETS quota management (Measures Art. 29);
    not from a project of the surrendering entity ``entity_id`` itself (inside its own boundary; the
    project's owner is taken as the boundary);
    old CCERs filed before the pack's cut-off are usable only until its date; others must be
    projects registered on or after the pack's ``new_ccer_registered_from`` (2024-01-22).

    ``first_cycle_cancelled``: the units were cancelled for compliance in the first compliance period but not
    used as offsets; on the entity's application they offset only the years whose pack sets
    ``compliance.<year>.first_cycle_cancelled_ccer`` (notice of 2023-07-14 §二: "对第一个履约周期出于履约目的已注销
    但实际未用于抵销清缴的CCER，由重点排放单位申请，可用于抵销2021、2022年度配额清缴"), with no date limit of
    their own.
    """
    p = unit_type.project
    if p is None:
        return "CCER without a project"
    if p.under_ets_quota_management:
        return "project under ETS quota management"
    if entity_id is not None and p.owner_id == entity_id:
        return "project inside the entity's own boundary"
    if first_cycle_cancelled:
        if pack.data.get("compliance", {}).get(str(year), {}).get("first_cycle_cancelled_ccer", False) is True:
            return None
        return f"first-period cancelled CCER not usable for {year}"
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
                     at: dt.datetime | None = None, market: str | None = None) -> SurrenderApplication:
    """Apply to surrender ``quantity`` t of ``unit_type_code`` against ``entity``'s ``year`` obligation (of
    ``market``; by default its only one that year, or the one of the market whose instrument it is).

    Checks: R0502 actor acts for the entity; R0606 obligation exists; R0201 unit type; R0601 vintage
    usable for the year (pack ``usable_vintages``); R0603 CCER eligibility; R0602 CCER within the
    offset cap (≤ 5%, Measures Art. 29). Beijing obligations (pack market ``beijing``) instead: R0601 BEA
    vintage, C1003 instrument not usable in Beijing, C1008 offsets after the offset application cut-off,
    R0603 CCER eligibility, C1001 PCER + CCER above the offset cap, C1002 CCERs of projects outside Beijing
    above a non-local cap the pack sets (:func:`_beijing_unit_check`); units
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
    ut = UnitType.objects.select_related("project").filter(code=unit_type_code).first()
    if ut is None:
        raise CetsError(R0201, unit_type_code)
    ob = obligation_for(entity=entity, year=year, market=market, instrument=ut.instrument)
    if ob is None:
        raise CetsError(R0606, f"{entity.uscc} {year}")
    pack = load_pack(ob.pack_id)
    if _arrears_deducted(ob):
        raise CetsError(C0811, f"{entity.uscc} {year}")
    active = active_surrenders(obligation=ob)
    if pack.market == "beijing":
        _beijing_unit_check(pack, ob, ut, quantity, active, timezone.localdate(at), entity.pk)
    elif INSTRUMENT_MARKET.get(ut.instrument) == pack.market:  # the market's own allowances (CEA in the national market)
        if ut.vintage not in pack.raw(f"compliance.{year}.usable_vintages"):
            _borrowed_check(ob, ut, quantity, active)
    elif ut.instrument == Instrument.CCER:
        why = ccer_eligible(pack, year, ut, timezone.localdate(at), entity.pk)
        if why:
            raise CetsError(R0603, why)
        used = active.filter(unit_type__instrument=Instrument.CCER).aggregate(q=Sum("quantity"))["q"] or 0
        if used + quantity > ob.offset_cap_t:
            raise CetsError(R0602, f"{used} + {quantity} > {ob.offset_cap_t}")
    else:
        raise CetsError(R0601, f"{ut.code} is not an instrument of the {pack.market} market")
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


def _borrowed_check(ob: Obligation, ut: UnitType, quantity: int, active) -> None:
    """A CEA vintage outside the year's ``usable_vintages`` is accepted only as borrowed allowances (预支, notice
    of 2023-07-14 §三: 2023 allowances lent for the 2021/2022 obligation): the vintage is the borrowing's
    ``from_vintage`` and what is surrendered of it for the obligation stays within the borrowed quantity.
    R0601 otherwise (no borrowing of that vintage), C0912 above the borrowed quantity."""
    from ..models import Borrowing

    b = Borrowing.objects.filter(entity_id=ob.entity_id, year=ob.year, from_vintage=ut.vintage).first()
    if b is None:
        raise CetsError(R0601, f"{ut.code} for {ob.year}")
    used = active.filter(unit_type__instrument=Instrument.CEA, unit_type__vintage=ut.vintage).aggregate(q=Sum("quantity"))["q"] or 0
    if used + quantity > b.quantity_t:
        raise CetsError(C0912, f"{used} + {quantity} > {b.quantity_t}")


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


# -- the Beijing pilot's offset rules at surrender (C1001–C1003)

def _nonlocal(pack: Pack, year: int, unit_type: UnitType) -> bool:
    """Whether a CCER unit type comes from a project outside Beijing (its province is not one of the pack's
    ``local_province_names``; a project without a province counts as outside)."""
    p = unit_type.project
    return p is None or p.province_name.strip() not in pack.raw(f"compliance.{year}.local_province_names")


def _beijing_unit_check(pack: Pack, ob: Obligation, ut: UnitType, quantity: int, active, on: dt.date, entity_id: int) -> None:
    """The Beijing rules for one surrender (pack ``compliance.<year>``): BEA of a usable vintage (R0601); an
    offset instrument of the pack (C1003); offsets applied for by the pack's ``offset_application_until`` when
    it has one (C1008; 2023: 2024-10-15, 京环发〔2024〕8号 三(四) "拟使用抵销产品完成清缴工作的重点碳排放单位，须通过碳排放
    管理系统提交申请文件，截止日期为2024年10月15日"); a CCER eligible (R0603); PCER + CCER within the cap, 5% of the
    year's determined emissions (C1001, 三(四) "使用比例不得高于当年核定碳排放量的5%"), and, only when the obligation
    carries a non-local sub-cap (none in 2023), CCERs of projects outside Beijing within it (C1002); counting
    what is already applied for or surrendered."""
    y = f"compliance.{ob.year}"
    if ut.instrument == Instrument.BEA:
        if ut.vintage not in pack.raw(f"{y}.usable_vintages"):
            raise CetsError(R0601, f"{ut.code} for {ob.year}")
        return
    offsets = list(pack.raw(f"{y}.offset_instruments"))
    if ut.instrument not in offsets:
        raise CetsError(C1003, f"{ut.code} in {pack.market}")
    if "offset_application_until" in pack.data["compliance"][str(ob.year)] and on > pack.date(f"{y}.offset_application_until"):
        raise CetsError(C1008, f"{on} > {pack.text(f'{y}.offset_application_until')}")
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
    nonlocal_cap = ob.nonlocal_ccer_cap_t
    breach = offset_breach(quantity_t=quantity, nonlocal_ccer=nonlocal_ccer, used_total_t=used_total, used_nonlocal_t=used_nonlocal,
                           total_cap_t=ob.offset_cap_t, nonlocal_cap_t=nonlocal_cap)
    if breach == TOTAL:
        raise CetsError(C1001, f"{used_total} + {quantity} > {ob.offset_cap_t}")
    if breach == NONLOCAL:
        raise CetsError(C1002, f"{used_nonlocal} + {quantity} > {nonlocal_cap}")
