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
from cets.rules.markets import PRIMARY_MARKET
from cets.rules.packs import load_pack

from ..beijing import vintage_order
from ..models import (
    Obligation,
    SurrenderApplication,
)
from ..selectors import active_surrenders, held_for


def _years_covered(entity: Organisation, year: int) -> list[int]:
    """``year`` and every other year of the same pack for which ``entity`` has a national obligation: the
    2021–2022 notice §一 settles them together ("优先使用当年度配额，剩余部分优先用于另一年度的强制履约，
    完成履约后剩余部分配额发放至重点排放单位账户"), so one year's execution may not release what the other
    year's obligation still needs. Only where the pack says so (``special_treatment.forced_surrender_other_year``);
    otherwise ``[year]``."""
    ob = Obligation.objects.get(entity=entity, market=PRIMARY_MARKET, year=year)
    pack = load_pack(ob.pack_id)
    if not pack.data.get("special_treatment", {}).get("forced_surrender_other_year", False):
        return [year]
    years = [y for y in pack.data["pack"].get("years", [year])
             if y == year or Obligation.objects.filter(entity=entity, market=PRIMARY_MARKET, year=y, pack_id=ob.pack_id).exists()]
    return sorted(set(years) | {year})


def forced_surrender_propose(*, key: str, entity: Organisation, year: int, instruction_ref: str, actor,
                             effective_at: dt.datetime | None = None) -> Proposal:
    """Propose the forced surrender of an entity whose allowances the provincial authority account
    holds for it (2023–2024 plan §五, differentiated treatment; 2021–2022 notice of 2023-07-14 §一): on a
    second registry operator's approval, the units held for the entity are surrendered against its
    outstanding obligations, the remainder is released to the entity's account. Proposed by a registry
    operator on the province's instruction ``instruction_ref``.

    The proposal covers ``year`` and the other years of the obligation's pack for which the entity has an
    obligation (2021 and 2022: "优先使用当年度配额，剩余部分优先用于另一年度的强制履约"; order in
    :func:`forced_surrender_plan`); a pack of one year covers that year only."""
    if not Obligation.objects.filter(entity=entity, market=PRIMARY_MARKET, year=year).exists():
        raise CetsError(R0606, f"{entity.uscc} {year}")
    return proposal_submit(key=key, kind="forced_surrender", actor=actor, payload={
        "entity": entity.uscc, "year": year, "years": _years_covered(entity, year), "instruction": instruction_ref,
        "effective_at": effective_at.isoformat() if effective_at else None})


def forced_surrender_order(year: int, usable: list[str], held: list[str]) -> list[str]:
    """Vintages to use, in order: the obligation year's own vintage first, then the other usable
    vintages, latest first (2021–2022 notice: "同一年度配额优先，剩余部分用于另一年度"). Pure."""
    return vintage_order(year, usable, held)


def forced_surrender_plan(outstanding: dict[int, int], usable: dict[int, list[str]], held: dict[str, int]) -> tuple[list[tuple[int, str, int]], dict[str, int]]:
    """What a forced surrender takes and releases. Pure. ``outstanding`` year → tonnes still owed,
    ``usable`` year → the vintages usable for it (pack ``usable_vintages``), ``held`` vintage → tonnes
    the provincial account holds for the entity. Returns ([(year, vintage, tonnes)] in order, released
    vintage → tonnes).

    Order (2021–2022 notice §一: "优先使用当年度配额，剩余部分优先用于另一年度的强制履约，完成履约后剩余部分
    配额发放至重点排放单位账户"): (1) each year's own vintage to that year; (2) what is left of a year's own
    vintage to the other years; (3) any other usable vintage, latest first (:func:`forced_surrender_order`);
    what is left is released. With one year this is :func:`forced_surrender_order`.

    Example: owed 2021 100,000 and 2022 120,000; held CEA-2021 110,000, CEA-2022 105,000 →
    (1) 2021 ← 100,000 CEA-2021, 2022 ← 105,000 CEA-2022; (2) 2022 ← the other 10,000 CEA-2021;
    nothing released, 5,000 t of 2022 still owed (the entity makes it up: "未足额完成履约的应及时督促重点排放单位补足差额")."""
    left = {y: max(0, q) for y, q in outstanding.items()}
    have = {v: q for v, q in held.items() if q > 0}
    steps: list[tuple[int, str, int]] = []

    def take(y: int, v: str) -> None:
        q = min(left[y], have.get(v, 0))
        if q > 0 and v in usable.get(y, ()):
            steps.append((y, v, q))
            left[y] -= q
            have[v] -= q

    years = sorted(left)
    for y in years:
        take(y, str(y))
    for y in years:
        for other in years:
            if other != y:
                take(other, str(y))
    for y in years:
        for v in forced_surrender_order(y, list(usable.get(y, ())), list(have)):
            take(y, v)
    return steps, {v: q for v, q in have.items() if q > 0}


@four_eyes("forced_surrender")
def _execute_forced_surrender(p: Proposal, approver) -> dict:
    d = p.payload
    entity = Organisation.objects.get(uscc=d["entity"])
    obs = {y: Obligation.objects.get(entity=entity, market=PRIMARY_MARKET, year=y) for y in d.get("years", [d["year"]])}
    at = dt.datetime.fromisoformat(d["effective_at"]) if d.get("effective_at") else timezone.now()
    prov = system_account(PRIMARY_MARKET, AccountKind.PROVINCIAL, entity.province)
    surrender = system_account(PRIMARY_MARKET, AccountKind.SURRENDER)
    held = held_for(entity=entity)
    by_vintage = {ut.vintage: ut for ut in UnitType.objects.filter(pk__in=held, instrument=Instrument.CEA)}
    outstanding = {y: max(0, ob.obligation_t - (active_surrenders(obligation=ob).aggregate(q=Sum("quantity"))["q"] or 0)) for y, ob in obs.items()}
    usable = {y: list(load_pack(ob.pack_id).raw(f"compliance.{y}.usable_vintages")) for y, ob in obs.items()}
    steps, _ = forced_surrender_plan(outstanding, usable, {v: held[ut.pk] for v, ut in by_vintage.items()})
    one = len(obs) == 1
    surrendered: dict = {}
    for y, v, q in steps:
        ob, ut = obs[y], by_vintage[v]
        k = f"{p.key}:{ut.code}" if one else f"{p.key}:{y}:{ut.code}"
        t = transfer_post(key=k, kind=TransferKind.FORCED_SURRENDER, unit_type=ut, debit=Leg(prov, Position.REGISTRY),
                          credit=Leg(surrender, Position.REGISTRY), quantity=q, reference=f"{y} 强制履约 forced surrender {d['instruction']}",
                          actor=p.proposed_by, approver=approver, effective_at=at, beneficiary=entity)
        SurrenderApplication.objects.create(key=k, obligation=ob, unit_type=ut, quantity=q, status=SurrenderApplication.Status.APPROVED,
                                            submitted_by=p.proposed_by, submitted_at=at, decided_by=approver, decided_at=at,
                                            pending_transfer_key=t.key, final_transfer_key=t.key)
        held[ut.pk] -= q
        outstanding[y] -= q
        if one:
            surrendered[ut.code] = q
        else:
            surrendered.setdefault(str(y), {})[ut.code] = q
    acc = account_of(holder_id=entity.pk)
    released = {}
    for ut_id, q in held.items():
        if q <= 0:
            continue
        ut = UnitType.objects.get(pk=ut_id)
        transfer_post(key=f"{p.key}:release:{ut.code}", kind=TransferKind.TRANSFER, unit_type=ut, debit=Leg(prov, Position.REGISTRY),
                      credit=Leg(acc, Position.REGISTRY), quantity=q, reference=f"强制履约后余量释放 remainder released {d['instruction']}",
                      actor=p.proposed_by, approver=approver, effective_at=at, beneficiary=entity)
        released[ut.code] = q
    if one:
        return {"surrendered": surrendered, "released": released, "outstanding_t": outstanding[d["year"]]}
    return {"surrendered": surrendered, "released": released, "outstanding_t": {str(y): q for y, q in outstanding.items()}}
