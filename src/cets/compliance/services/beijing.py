"""The Beijing pilot's obligations, offset checks and automatic collection after the deadline (four eyes)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from cets.core.errors import CetsError
from cets.parties.access import require_role
from cets.parties.models import Organisation, Role
from cets.registry.models import AccountKind, Position, Proposal, TransferKind
from cets.registry.services import Leg, four_eyes, proposal_submit, system_account, transfer_post
from cets.rules.packs import Pack, PackError, load_pack

from ..beijing import Lot, OffsetLot, collection_plan, offset_caps, offset_collection_plan
from ..checks import (
    C1004,
    C1005,
    C1006,
)
from ..models import (
    Obligation,
    SurrenderApplication,
)
from ..selectors import active_surrenders


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
    """Beijing obligations of ``year`` (pack ``beijing/compliance-…``): 应清缴配额量 = the year's determined (核定)
    emissions (``verified_emissions_t``); the offset cap from the pack (2023, 京环发〔2024〕8号 三(四): PCER + CCER
    ≤ ``offset_cap`` 5% × basis, basis = the obligation per ``offset_basis = "obligation"``, rounded by
    ``offset_rounding``; a non-local CCER cap only if the pack sets ``nonlocal_ccer_cap``, which the 2023 notice
    does not); deadline from the pack (2023: 2024-11-15). Returns the number created;
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
    total_share = pack.decimal(f"{y}.offset_cap")
    nonlocal_share = pack.decimal(f"{y}.nonlocal_ccer_cap") if "nonlocal_ccer_cap" in pack.data["compliance"][str(year)] else None
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
    have = set(Obligation.objects.filter(market=pack.market, year=year, entity__in=[o for o, _ in ready]).values_list("entity_id", flat=True))
    new = []
    for org, r in ready:
        if org.pk in have:
            continue
        caps = offset_caps(obligation_t=r.verified_emissions_t, allocation_t=r.allocation_t, basis=basis, total_share=total_share,
                           nonlocal_share=nonlocal_share, rounding=rounding)
        new.append(Obligation(entity=org, market=pack.market, year=year, pack_id=pack.id, obligation_t=r.verified_emissions_t,
                              offset_cap_t=caps.total_cap_t,
                              offset_basis_t=caps.basis_t, nonlocal_ccer_cap_t=caps.nonlocal_ccer_cap_t, deadline=deadline))
    Obligation.objects.bulk_create(new)
    return len(new)


def collection_propose(*, key: str, pack_id: str, year: int, actor, effective_at: dt.datetime | None = None) -> Proposal:
    """Propose the automatic collection (自动收缴) of ``year`` in the Beijing market (京环发〔2024〕8号 三(四):
    "逾期未完成的，管理平台将自动收缴其账户内的配额及抵销产品，用于清缴"): one proposal for the batch of every obligation
    of the pack; on a second registry operator's approval (:func:`cets.registry.services.proposal_approve`,
    four eyes) the registry surrenders, for each entity with an outstanding obligation, what its Beijing account
    holds of the pack's ``[collection]`` instruments and positions: usable BEA vintages first (the year's own,
    then the others latest first), then offset products (PCER, eligible CCER) within what is left of the
    entity's offset cap, up to the outstanding quantity. Entities whose deadline was extended past the
    collection day, or whose account is frozen or closed, are skipped and listed. The collection counts as of
    ``effective_at`` (default now), on or after the deadline day (Asia/Shanghai); its surrenders are marked
    ``collected`` and the entity's outcome is "collected", never on time.

    Raises R0502 unless a registry operator; C1006 not a Beijing compliance pack for ``year``; C1004 the pack
    has no automatic collection; C1005 before the deadline day; R0401 the key reused for another batch."""
    pack = _beijing_pack(pack_id, year)
    if not pack.flag("collection.automatic"):
        raise CetsError(C1004, pack.id)
    at = effective_at or timezone.now()
    deadline = pack.date(f"compliance.{year}.deadline")
    if timezone.localdate(at) < deadline:
        raise CetsError(C1005, f"{timezone.localdate(at)} < {deadline}")
    return proposal_submit(key=key, kind="beijing_collection", actor=actor,
                           payload={"pack": pack.id, "year": year, "effective_at": at.isoformat()})


@four_eyes("beijing_collection")
def _execute_collection(p: Proposal, approver) -> dict:
    from cets.registry.models import Account, AccountStatus, Holding, Instrument

    from ..selectors import extended_deadlines
    from .surrender import _nonlocal, ccer_eligible

    d = p.payload
    pack, year = load_pack(d["pack"]), int(d["year"])
    at = dt.datetime.fromisoformat(d["effective_at"])
    day = timezone.localdate(at)
    y = f"compliance.{year}"
    usable = list(pack.raw(f"{y}.usable_vintages"))
    positions = list(pack.raw("collection.positions"))
    instruments = list(pack.raw("collection.instruments"))
    offsets = [i for i in instruments if i in pack.raw(f"{y}.offset_instruments")]
    allowances = [i for i in instruments if i not in offsets]
    sink = system_account(pack.market, AccountKind.SURRENDER)
    obs = list(Obligation.objects.filter(year=year, pack_id=pack.id).select_related("entity").order_by("entity__uscc"))
    ext = extended_deadlines([o.pk for o in obs])
    accounts = {a.holder_id: a for a in Account.objects.filter(holder_id__in=[o.entity_id for o in obs], market=pack.market)}
    collected: dict[str, dict[str, int]] = {}
    outstanding_after: dict[str, int] = {}
    skipped: dict[str, str] = {}

    def take(ob, acc, ut, position, q):
        k = f"{p.key}:{ob.entity.uscc}:{ut.code}:{position}"
        t = transfer_post(key=k, kind=TransferKind.FORCED_SURRENDER, unit_type=ut, debit=Leg(acc, position),
                          credit=Leg(sink, Position.REGISTRY), quantity=q, reference=f"{year} 逾期自动收缴 automatic collection",
                          actor=p.proposed_by, approver=approver, effective_at=at, beneficiary=ob.entity)
        SurrenderApplication.objects.create(key=k, obligation=ob, unit_type=ut, quantity=q, collected=True,
                                            status=SurrenderApplication.Status.APPROVED, submitted_by=p.proposed_by, submitted_at=at,
                                            decided_by=approver, decided_at=at, pending_transfer_key=t.key, final_transfer_key=t.key)
        collected.setdefault(ob.entity.uscc, {})[f"{ut.code}:{position}"] = q

    for ob in obs:
        uscc = ob.entity.uscc
        if ext.get(ob.pk, ob.deadline) > day:
            skipped[uscc] = f"deadline extended to {ext[ob.pk]}"
            continue
        active = active_surrenders(obligation=ob)
        applied = active.aggregate(q=Sum("quantity"))["q"] or 0
        outstanding = max(0, ob.obligation_t - applied)
        if outstanding == 0:
            continue
        acc = accounts.get(ob.entity_id)
        if acc is None or acc.status in (AccountStatus.FROZEN, AccountStatus.CLOSED):
            skipped[uscc] = "no account" if acc is None else f"account {acc.status}"
            outstanding_after[uscc] = outstanding
            continue
        held = list(Holding.objects.filter(account=acc, unit_type__instrument__in=instruments, position__in=positions, quantity__gt=0)
                    .select_related("unit_type__project").order_by("unit_type__code", "position"))
        types = {h.unit_type.vintage: h.unit_type for h in held if h.unit_type.instrument in allowances}
        lots = [Lot(h.unit_type.vintage, h.position, h.quantity) for h in held if h.unit_type.instrument in allowances]
        for lot in collection_plan(year=year, outstanding_t=outstanding, lots=lots, usable=usable, positions=positions):
            take(ob, acc, types[lot.vintage], lot.position, lot.quantity_t)
            outstanding -= lot.quantity_t
        if outstanding > 0 and offsets:
            used = used_nl = 0
            for a in active.filter(unit_type__instrument__in=offsets).select_related("unit_type__project"):
                used += a.quantity
                if a.unit_type.instrument == Instrument.CCER and _nonlocal(pack, year, a.unit_type):
                    used_nl += a.quantity
            eligible = [h for h in held if h.unit_type.instrument in offsets
                        and (h.unit_type.instrument != Instrument.CCER or ccer_eligible(pack, year, h.unit_type, day, ob.entity_id) is None)]
            eligible.sort(key=lambda h: (offsets.index(h.unit_type.instrument), h.unit_type.code))
            otypes = {h.unit_type.code: h.unit_type for h in eligible}
            olots = [OffsetLot(h.unit_type.code, h.position, h.quantity,
                               h.unit_type.instrument == Instrument.CCER and _nonlocal(pack, year, h.unit_type)) for h in eligible]
            nl_left = None if ob.nonlocal_ccer_cap_t is None else ob.nonlocal_ccer_cap_t - used_nl
            for lot in offset_collection_plan(outstanding_t=outstanding, lots=olots, cap_left_t=ob.offset_cap_t - used, nonlocal_cap_left_t=nl_left,
                                              positions=positions):
                take(ob, acc, otypes[lot.code], lot.position, lot.quantity_t)
                outstanding -= lot.quantity_t
        outstanding_after[uscc] = outstanding
    return {"collected": collected, "outstanding_t": {k: v for k, v in outstanding_after.items() if v}, "skipped": skipped}
