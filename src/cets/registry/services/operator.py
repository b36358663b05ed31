"""What one registry operator alone must not do (four eyes, issue 16; DESIGN.md, Registry ledger: "anything
that creates units or moves units their holder did not instruct needs a second person to approve"):

- move a holder's units the holder did not instruct (``operator_transfer``): the units are held in the
  pending position at once and moved on approval, released on rejection;
- create units — a new unit type's cap or an addition to it (``vintage_create``);
- release a judicial freeze (``freeze_release``);
- reopen a restricted or frozen account (``account_reopen``).

Tightening stays immediate (a court's freeze, restricting or freezing an account): it protects holdings and
moves nothing out. The direct services refuse a person acting alone with R0506; each proposal is approved by a
second registry operator (:data:`cets.registry.kinds.PROPOSAL_KINDS`), never the proposer (R0501).
"""

from __future__ import annotations

import datetime as dt

from cets.core.errors import CetsError
from cets.parties.access import require_role
from cets.parties.models import Role

from ..checks import R0102, R0201
from ..kinds import INSTRUMENT_MARKET
from ..models import Account, AccountStatus, Position, Proposal, TransferKind, UnitType
from .accounts import _set_status
from .ledger import Leg, check_quantity
from .positions import _release_frozen
from .proposals import _eff, four_eyes, proposal_submit
from .retirement import _held_payload, _hold, _release
from .transfers import transfer_post
from .vintages import _create


def _when(effective_at: dt.datetime | None) -> str | None:
    return effective_at.isoformat() if effective_at else None


def operator_transfer_propose(*, key: str, from_account: Account, to_account: Account, unit_type: UnitType, quantity: int, reason: str,
                              actor, effective_at: dt.datetime | None = None) -> Proposal:
    """Propose moving ``quantity`` tonnes (int) of a holder's registry position to another account on a
    decision the holder did not instruct (``reason``: the court's or authority's reference). The units are
    held at once (R0302 if the holder has less); a second registry operator approves. R0502 unless a
    registry operator."""
    require_role(actor, Role.REGISTRY_OPERATOR)
    payload = _held_payload(from_account, unit_type, quantity, f"登记机构划转 {reason}", effective_at)
    payload["to_account"] = to_account.number
    return proposal_submit(key=key, kind="operator_transfer", payload=payload, actor=actor, hold=_hold)


@four_eyes("operator_transfer", on_reject=_release)
def _execute_operator_transfer(p: Proposal, approver) -> dict:
    d = p.payload
    src, dst = Account.objects.get(number=d["account"]), Account.objects.get(number=d["to_account"])
    t = transfer_post(key=f"{p.key}:transfer", kind=TransferKind.TRANSFER, unit_type=UnitType.objects.get(code=d["unit_type"]),
                      debit=Leg(src, Position.PENDING), credit=Leg(dst, Position.REGISTRY), quantity=d["quantity"], reference=d["reference"],
                      actor=p.proposed_by, approver=approver, effective_at=_eff(p))
    return {"transfer": t.key, "quantity_t": d["quantity"]}


def vintage_create_propose(*, key: str, instrument: str, vintage: str, cap_t: int, actor, reference: str = "",
                           effective_at: dt.datetime | None = None) -> Proposal:
    """Propose creating units: a unit type (instrument + vintage) and ``cap_t`` tonnes (int) credited to its
    market's national total account, or an addition to an existing cap. R0201 unknown instrument, R0301 bad
    quantity, R0502 unless a registry operator."""
    require_role(actor, Role.REGISTRY_OPERATOR)
    if instrument not in INSTRUMENT_MARKET:
        raise CetsError(R0201, instrument[:40])
    check_quantity(cap_t)
    return proposal_submit(key=key, kind="vintage_create", actor=actor, payload={
        "instrument": instrument, "vintage": vintage, "cap_t": cap_t, "reference": reference, "effective_at": _when(effective_at)})


@four_eyes("vintage_create")
def _execute_vintage_create(p: Proposal, approver) -> dict:
    d = p.payload
    ut = _create(instrument=d["instrument"], vintage=d["vintage"], cap_t=d["cap_t"], key=f"{p.key}:create", actor=p.proposed_by,
                 approver=approver, reference=d["reference"], effective_at=_eff(p))
    return {"unit_type": ut.code, "cap_t": d["cap_t"]}


def freeze_release_propose(*, key: str, account: Account, unit_type: UnitType, quantity: int, court_ref: str, actor,
                           effective_at: dt.datetime | None = None) -> Proposal:
    """Propose releasing ``quantity`` tonnes (int) of frozen units back to the registry position (解除冻结,
    on the court's ``court_ref``). R0502 unless a registry operator."""
    require_role(actor, Role.REGISTRY_OPERATOR)
    check_quantity(quantity)
    return proposal_submit(key=key, kind="freeze_release", actor=actor, payload={
        "account": account.number, "unit_type": unit_type.code, "quantity": quantity, "court_ref": court_ref,
        "effective_at": _when(effective_at)})


@four_eyes("freeze_release")
def _execute_freeze_release(p: Proposal, approver) -> dict:
    d = p.payload
    t = _release_frozen(key=f"{p.key}:release", account=Account.objects.get(number=d["account"]),
                        unit_type=UnitType.objects.get(code=d["unit_type"]), quantity=d["quantity"], court_ref=d["court_ref"],
                        actor=p.proposed_by, approver=approver, effective_at=_eff(p))
    return {"transfer": t.key, "quantity_t": d["quantity"]}


def account_reopen_propose(*, key: str, account: Account, reason: str, actor) -> Proposal:
    """Propose reopening a restricted or frozen account (status ``open``). R0102 for a closed account,
    R0502 unless a registry operator."""
    require_role(actor, Role.REGISTRY_OPERATOR)
    if account.status == AccountStatus.CLOSED:
        raise CetsError(R0102, account.number)
    return proposal_submit(key=key, kind="account_reopen", actor=actor, payload={"account": account.number, "reason": reason})


@four_eyes("account_reopen")
def _execute_account_reopen(p: Proposal, approver) -> dict:
    acc = _set_status(account=Account.objects.get(number=p.payload["account"]), status=AccountStatus.OPEN)
    return {"account": acc.number, "status": acc.status}
