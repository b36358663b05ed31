"""Retirement on an authority's or holder's proposal: voluntary cancellation (自愿注销) and deduction
(核减). The units are held (pending position) while the proposal waits; approval moves them to the
cancellation or deduction account, rejection releases them (four eyes, :mod:`.proposals`)."""

from __future__ import annotations

import datetime as dt

from ..models import Account, AccountKind, Position, Proposal, TransferKind, UnitType
from .accounts import _holder_or_operator, system_account
from .ledger import Leg, check_quantity
from .proposals import _eff, four_eyes, proposal_submit
from .transfers import transfer_post


def _hold(p: Proposal) -> None:
    d = p.payload
    acc = Account.objects.get(number=d["account"])
    transfer_post(key=f"{p.key}:hold", kind=TransferKind.POSITION_MOVE, unit_type=UnitType.objects.get(code=d["unit_type"]),
                  debit=Leg(acc, d.get("position", Position.REGISTRY)), credit=Leg(acc, Position.PENDING), quantity=d["quantity"],
                  reference=f"{p.kind} 待审批冻结 held for approval", actor=p.proposed_by, effective_at=_eff(p))


def _release(p: Proposal, approver) -> None:
    d = p.payload
    acc = Account.objects.get(number=d["account"])
    transfer_post(key=f"{p.key}:release", kind=TransferKind.POSITION_MOVE, unit_type=UnitType.objects.get(code=d["unit_type"]),
                  debit=Leg(acc, Position.PENDING), credit=Leg(acc, d.get("position", Position.REGISTRY)), quantity=d["quantity"],
                  reference=f"{p.kind} 驳回解冻 released on rejection", actor=approver)


def _retire(p: Proposal, approver, kind: str, sink: str) -> dict:
    d = p.payload
    acc = Account.objects.get(number=d["account"])
    t = transfer_post(key=f"{p.key}:{kind}", kind=kind, unit_type=UnitType.objects.get(code=d["unit_type"]), debit=Leg(acc, Position.PENDING),
                      credit=Leg(system_account(acc.market, sink), Position.REGISTRY), quantity=d["quantity"], reference=d["reference"],
                      actor=p.proposed_by, approver=approver, effective_at=_eff(p))
    return {"transfer": t.key, "quantity_t": d["quantity"]}


def _held_payload(account: Account, unit_type: UnitType, quantity: int, reference: str, effective_at, position: str = Position.REGISTRY) -> dict:
    check_quantity(quantity)
    return {"account": account.number, "unit_type": unit_type.code, "quantity": quantity, "reference": reference, "position": position,
            "effective_at": effective_at.isoformat() if effective_at else None}


def cancellation_propose(*, key: str, account: Account, unit_type: UnitType, quantity: int, purpose: str, actor,
                         effective_at: dt.datetime | None = None) -> Proposal:
    """Voluntary cancellation for public-interest purposes (Measures Art. 19): the units are held at
    once and, on a registry operator's approval, go to the cancellation account; the cap is reduced
    by the same amount and they are never reissued. The holder or a registry operator proposes."""
    _holder_or_operator(actor, account)
    return proposal_submit(key=key, kind="cancellation", payload=_held_payload(account, unit_type, quantity, f"自愿注销 {purpose}", effective_at),
                           actor=actor, hold=_hold)


four_eyes("cancellation", on_reject=_release)(
    lambda p, approver: _retire(p, approver, TransferKind.CANCELLATION, AccountKind.CANCELLATION))


def deduction_propose(*, key: str, account: Account, unit_type: UnitType, quantity: int, decision_ref: str, actor,
                      effective_at: dt.datetime | None = None) -> Proposal:
    """Deduction (核减) of an entity's allowances on an authority's decision (Regulations Art. 22, 24):
    held at once, moved to the deduction account on a second registry operator's approval."""
    return proposal_submit(key=key, kind="deduction", payload=_held_payload(account, unit_type, quantity, f"核减 {decision_ref}", effective_at),
                           actor=actor, hold=_hold)


four_eyes("deduction", on_reject=_release)(lambda p, approver: _retire(p, approver, TransferKind.DEDUCTION, AccountKind.DEDUCTION))
