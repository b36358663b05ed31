"""Forced surrender (强制履约) from the provincial account for an entity at compliance risk: a registry
operator proposes on the province's instruction, a second one approves (four eyes; registry/kinds)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Sum
from django.utils import timezone

from cets.core.errors import CetsError
from cets.parties.models import Organisation
from cets.registry.checks import R0606
from cets.registry.models import AccountKind, Instrument, Position, Proposal, TransferKind, UnitType
from cets.registry.selectors import account_of
from cets.registry.services import Leg, four_eyes, proposal_submit, system_account, transfer_post
from cets.rules.packs import load_pack

from ..beijing import vintage_order
from ..models import (
    Obligation,
    SurrenderApplication,
)
from ..selectors import active_surrenders, held_for


def forced_surrender_propose(*, key: str, entity: Organisation, year: int, instruction_ref: str, actor,
                             effective_at: dt.datetime | None = None) -> Proposal:
    """Propose the forced surrender of an entity whose allowances the provincial authority account
    holds for it (2023–2024 plan §五, differentiated treatment; 2021–2022 notice of 2023-07-17): on a
    second registry operator's approval, the units held for the entity are surrendered against its
    outstanding obligation, the year's own vintage first, then the other usable vintages, and the
    remainder is released to the entity's account. Proposed by a registry operator on the province's
    instruction ``instruction_ref``."""
    if not Obligation.objects.filter(entity=entity, market="national", year=year).exists():
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
    ob = Obligation.objects.get(entity=entity, market="national", year=d["year"])
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
