"""Changes of holder on a merger or split (Measures Art. 18): proposed by the registry, approved in the platform by the
old holder's provincial authority (four eyes across institutions), then registered and published."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils import timezone

from cets.core.errors import CetsError
from cets.parties.access import require_role
from cets.parties.models import Organisation, Role
from cets.rules.markets import PRIMARY_MARKET

from ..checks import R0111, R0506
from ..models import Account, AccountStatus, HolderChange, Holding, Position, Proposal, TransferKind, UnitType
from .accounts import account_open
from .ledger import Leg, check_quantity
from .proposals import four_eyes, proposal_submit
from .transfers import transfer_post


def holder_change_propose(*, key: str, kind: str, from_holder: Organisation, to_holder: Organisation, lines: Sequence[tuple[UnitType, int]],
                          decision_ref: str, actor) -> Proposal:
    """Propose a change of holder on a merger or split (Measures Art. 18) on the decision ``decision_ref``: a
    registry operator proposes; the provincial authority of ``from_holder`` approves it in the platform (the
    kinds table), and only then are the units moved and the change published. ``lines`` (unit type, tonnes
    (int)) for a split; a merger moves everything. R0502 unless a registry operator; R0111 for an unknown kind."""
    require_role(actor, Role.REGISTRY_OPERATOR)
    if kind not in HolderChange.Kind.values:
        raise CetsError(R0111, kind)
    for _, q in lines:
        check_quantity(q)
    return proposal_submit(key=key, kind="holder_change", actor=actor, payload={
        "kind": kind, "from_uscc": from_holder.uscc, "to_uscc": to_holder.uscc, "decision_ref": decision_ref,
        "province": from_holder.province, "lines": [{"unit_type": ut.code, "quantity": q} for ut, q in lines]})


@four_eyes("holder_change")
def _execute_holder_change(p: Proposal, approver) -> dict:
    d = p.payload
    from_holder, to_holder = Organisation.objects.get(uscc=d["from_uscc"]), Organisation.objects.get(uscc=d["to_uscc"])
    require_role(approver, Role.PROVINCIAL_AUTHORITY, province=from_holder.province)  # the old holder's province, not another
    lines = [(UnitType.objects.get(code=ln["unit_type"]), int(ln["quantity"])) for ln in d["lines"]]
    hc = _register(key=p.key, kind=d["kind"], from_holder=from_holder, to_holder=to_holder, lines=lines, decision_ref=d["decision_ref"],
                   province_approver=approver, actor=p.proposed_by)
    return {"holder_change": hc.key, "lines": hc.lines}


def holder_change_register(**kwargs):
    """A change of holder is never registered on a typed approval: propose it (:func:`holder_change_propose`)
    and let the province approve it in the platform. R0506."""
    raise CetsError(R0506, str(kwargs.get("key", "")))


def _register(*, key: str, kind: str, from_holder: Organisation, to_holder: Organisation, lines: Sequence[tuple[UnitType, int]],
              decision_ref: str, province_approver, actor, published_at: dt.datetime | None = None):
    """Move the units and publish the change (called on the province's approval): on a merger every unit
    moves and the old account is closed."""
    existing = HolderChange.objects.filter(key=key).first()
    if existing:
        return existing
    src = Account.objects.get(holder=from_holder, market=PRIMARY_MARKET)
    dst = account_open(holder=to_holder)
    if kind == HolderChange.Kind.MERGER:
        lines = [(h.unit_type, h.quantity) for h in Holding.objects.filter(account=src, position=Position.REGISTRY, quantity__gt=0).select_related("unit_type")]
        if Holding.objects.filter(account=src, quantity__gt=0).exclude(position=Position.REGISTRY).exists():
            raise CetsError(R0111, "trading, frozen or pending units must be settled before a merger")
    for ut, q in lines:
        transfer_post(key=f"{key}:{ut.code}", kind=TransferKind.TRANSFER, unit_type=ut, debit=Leg(src, Position.REGISTRY),
                      credit=Leg(dst, Position.REGISTRY), quantity=q, reference=f"{kind} 主体变更 change of holder {decision_ref}",
                      actor=actor, approver=province_approver)
    if kind == HolderChange.Kind.MERGER:
        Account.objects.filter(pk=src.pk).update(status=AccountStatus.CLOSED, closed_at=timezone.now())
    return HolderChange.objects.create(key=key, kind=kind, from_holder=from_holder, to_holder=to_holder,
                                       lines=[{"unit_type": ut.code, "quantity": q} for ut, q in lines], approved_by=province_approver,
                                       registered_by=actor, decision_ref=decision_ref, published_at=published_at or timezone.now())
