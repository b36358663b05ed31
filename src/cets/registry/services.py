"""Registry writes. Every function is one transaction; every movement of units is a journal entry.

Public services (keyword-only): ``account_open``, ``system_accounts_ensure``, ``vintage_create``,
``transfer_post``, ``issuance_propose``, ``proposal_approve``, ``proposal_reject``.
Refusals raise :class:`cets.core.errors.CetsError` with a code from :mod:`cets.registry.checks`,
and change nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from cets.core.errors import CetsError
from cets.core.uscc import InvalidUscc, validate_uscc
from cets.parties.access import require_role
from cets.parties.models import Organisation, Role

from . import chain
from .checks import (
    R0101, R0102, R0103, R0104, R0105, R0106, R0107, R0202, R0203, R0301, R0302, R0401, R0501, R0503, R0504,
)
from .models import (
    RETIREMENT_KINDS, Account, AccountKind, AccountStatus, CcerProject, Holding, Instrument, Position, Proposal, Transfer,
    TransferKind, UnitType,
)

# Which instruments each market's accounts may hold.
MARKET_INSTRUMENTS = {
    "national": {Instrument.CEA, Instrument.CCER},
    "ccer": {Instrument.CCER},
    "beijing": {Instrument.BEA, Instrument.PCER, Instrument.CCER},
}
INSTRUMENT_MARKET = {Instrument.CEA: "national", Instrument.CCER: "ccer", Instrument.BEA: "beijing", Instrument.PCER: "beijing"}

KIND_CODES = {
    AccountKind.NATIONAL_TOTAL: "NT", AccountKind.NATIONAL_RESERVE: "NR", AccountKind.AUCTION: "AU",
    AccountKind.PROVINCIAL: "PV", AccountKind.ENTITY: "KE", AccountKind.INSTITUTION: "IN", AccountKind.INDIVIDUAL: "ID",
    AccountKind.CCER_HOLDING: "CH", AccountKind.SURRENDER: "SR", AccountKind.CANCELLATION: "CX", AccountKind.DEDUCTION: "DD",
}
HOLDER_KINDS = {AccountKind.ENTITY, AccountKind.INSTITUTION, AccountKind.INDIVIDUAL, AccountKind.CCER_HOLDING}


# ---------------------------------------------------------------- accounts

def _system_number(market: str, kind: str, province: str = "") -> str:
    return f"{market.upper()}-{KIND_CODES[kind]}" + (f"-{province}" if province else "")


@transaction.atomic
def system_accounts_ensure(*, market: str = "national", provinces: Sequence[str] = ()) -> dict[str, Account]:
    """Create (once) the registry's own accounts of a market: national total, reserve, auction,
    surrender, cancellation, deduction, and one provincial authority account per province."""
    out: dict[str, Account] = {}
    for kind in (AccountKind.NATIONAL_TOTAL, AccountKind.NATIONAL_RESERVE, AccountKind.AUCTION, *sorted(RETIREMENT_KINDS)):
        acc, _ = Account.objects.get_or_create(number=_system_number(market, kind), defaults={"market": market, "kind": kind})
        out[kind] = acc
    for p in provinces:
        acc, _ = Account.objects.get_or_create(
            number=_system_number(market, AccountKind.PROVINCIAL, p), defaults={"market": market, "kind": AccountKind.PROVINCIAL, "province": p}
        )
        out[f"provincial:{p}"] = acc
    return out


def system_account(market: str, kind: str, province: str = "") -> Account:
    try:
        return Account.objects.get(number=_system_number(market, kind, province))
    except Account.DoesNotExist:
        raise CetsError(R0101, _system_number(market, kind, province)) from None


@transaction.atomic
def account_open(*, holder: Organisation, kind: str = AccountKind.ENTITY, market: str = "national") -> Account:
    """Open the holder's one account in ``market`` (idempotent: returns the existing one of the
    same kind). Validates the holder's credit code (GB 32100) unless it is a project owner.

    Raises R0107 if the holder already has an account of another kind in this market,
    R0106 for a system account kind, R0502-style InvalidUscc as CetsError R0101 for a bad code.
    """
    if kind not in HOLDER_KINDS:
        raise CetsError(R0106, kind)
    if holder.kind != Organisation.Kind.PROJECT_OWNER:
        try:
            validate_uscc(holder.uscc or "")
        except InvalidUscc as e:
            raise CetsError(R0101, f"{holder.uscc}: {e.problem.en}") from None
    existing = Account.objects.filter(holder=holder, market=market).first()
    if existing:
        if existing.kind != kind:
            raise CetsError(R0107, existing.number)
        return existing
    ident = holder.uscc or f"P{holder.pk:08d}"
    return Account.objects.create(
        number=f"{market.upper()}-{KIND_CODES[kind]}-{ident}", market=market, kind=kind, holder=holder, province=holder.province
    )


# ---------------------------------------------------------------- transfers

@dataclass(frozen=True)
class Leg:
    account: Account
    position: str


def _check_quantity(quantity: object) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise CetsError(R0301, repr(quantity))
    return quantity


def _check_unit_allowed(account: Account, unit_type: UnitType) -> None:
    allowed = MARKET_INSTRUMENTS.get(account.market, set())
    if unit_type.instrument not in allowed or (account.kind == AccountKind.CCER_HOLDING and unit_type.instrument != Instrument.CCER):
        raise CetsError(R0202, f"{unit_type.code} in {account.number}")


def _check_kind_legs(kind: str, debit: Account | None, credit: Account) -> None:
    """Which account kinds each transfer kind may touch (the registry's business rules)."""
    ok = True
    if kind == TransferKind.CREATE:
        ok = debit is None and credit.kind == AccountKind.NATIONAL_TOTAL
    elif debit is None:
        ok = False
    elif kind == TransferKind.ISSUE:
        ok = debit.kind == AccountKind.NATIONAL_TOTAL and credit.kind not in RETIREMENT_KINDS
    elif kind == TransferKind.CLAWBACK:
        ok = credit.kind == AccountKind.NATIONAL_TOTAL and debit.kind not in RETIREMENT_KINDS
    elif kind in (TransferKind.SURRENDER, TransferKind.FORCED_SURRENDER):
        ok = credit.kind == AccountKind.SURRENDER
    elif kind == TransferKind.CANCELLATION:
        ok = credit.kind == AccountKind.CANCELLATION
    elif kind == TransferKind.DEDUCTION:
        ok = credit.kind == AccountKind.DEDUCTION
    elif kind in (TransferKind.POSITION_MOVE, TransferKind.FREEZE, TransferKind.RELEASE):
        ok = debit.pk == credit.pk
    elif kind == TransferKind.TRANSFER:
        ok = debit.kind not in RETIREMENT_KINDS and credit.kind not in RETIREMENT_KINDS | {AccountKind.NATIONAL_TOTAL}
    if not ok:
        raise CetsError(R0106, f"{kind}: {debit.number if debit else '-'} → {credit.number}")


def _check_status(kind: str, debit: Account | None, credit: Account) -> None:
    for acc in filter(None, (debit, credit)):
        if acc.status == AccountStatus.CLOSED:
            raise CetsError(R0102, acc.number)
    # A judicially frozen account moves only by the court's own freeze / release entries.
    if kind not in (TransferKind.FREEZE, TransferKind.RELEASE):
        for acc in filter(None, (debit, credit)):
            if acc.status == AccountStatus.FROZEN:
                raise CetsError(R0103, acc.number)
    # Restricted: nothing goes out on the holder's own initiative; registry operations still may.
    if debit is not None and debit.status == AccountStatus.RESTRICTED and kind in (TransferKind.TRANSFER, TransferKind.SURRENDER):
        raise CetsError(R0104, debit.number)


def _user_id(user) -> str:
    return str(user.pk) if user is not None else ""


def transfer_post(
    *,
    key: str,
    kind: str,
    unit_type: UnitType,
    debit: Leg | None,
    credit: Leg,
    quantity: int,
    reference: str = "",
    related: Transfer | None = None,
    actor=None,
    approver=None,
    effective_at: dt.datetime | None = None,
) -> Transfer:
    """Post one transfer: check, move the holdings, append the chained journal entry, atomically.

    Idempotent on ``key``: the same key with the same content returns the first entry; with other
    content raises R0401. Other refusals: R0101–R0106 (accounts), R0202 (unit type), R0301
    (quantity not a positive integer), R0302 (more than the debit holding), R0501 (approver is the
    actor). A refusal changes nothing.
    """
    quantity = _check_quantity(quantity)
    debit_acc_id = debit.account.pk if debit else None
    digest_args = dict(
        kind=kind, unit_type=unit_type.code, debit=debit.account.number if debit else "", debit_position=debit.position if debit else "",
        credit=credit.account.number, credit_position=credit.position, quantity=quantity, reference=reference,
    )
    existing = _existing(key, digest_args)
    if existing is not None:
        return existing
    if approver is not None and actor is not None and approver.pk == actor.pk:
        raise CetsError(R0501)
    try:
        with transaction.atomic():
            return _post_locked(key, kind, unit_type, debit, credit, quantity, reference, related, actor, approver, effective_at, debit_acc_id)
    except IntegrityError:
        # A concurrent request with the same key won the race: answer as for a retry.
        existing = _existing(key, digest_args)
        if existing is None:
            raise
        return existing


def _existing(key: str, digest_args: dict) -> Transfer | None:
    t = Transfer.objects.select_related("unit_type", "debit_account", "credit_account").filter(key=key).first()
    if t is None:
        return None
    theirs = chain.idempotency_digest(
        kind=t.kind, unit_type=t.unit_type.code, debit=t.debit_account.number if t.debit_account else "",
        debit_position=t.debit_position, credit=t.credit_account.number, credit_position=t.credit_position,
        quantity=t.quantity, reference=t.reference,
    )
    if theirs != chain.idempotency_digest(**digest_args):
        raise CetsError(R0401, key)
    return t


def _post_locked(key, kind, unit_type, debit, credit, quantity, reference, related, actor, approver, effective_at, debit_acc_id):
    ids = sorted({i for i in (debit_acc_id, credit.account.pk) if i is not None})
    locked = {a.pk: a for a in Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    if len(locked) != len(ids):
        raise CetsError(R0101)
    d_acc = locked[debit_acc_id] if debit else None
    c_acc = locked[credit.account.pk]
    if d_acc is not None and d_acc.pk == c_acc.pk and debit.position == credit.position:
        raise CetsError(R0105)
    _check_kind_legs(kind, d_acc, c_acc)
    _check_status(kind, d_acc, c_acc)
    _check_unit_allowed(c_acc, unit_type)
    if d_acc is not None:
        _check_unit_allowed(d_acc, unit_type)
        src = Holding.objects.filter(account=d_acc, unit_type=unit_type, position=debit.position).first()
        available = src.quantity if src else 0
        if available < quantity:
            raise CetsError(R0302, f"{d_acc.number} {unit_type.code} {debit.position}: {available} < {quantity}")
        Holding.objects.filter(pk=src.pk).update(quantity=F("quantity") - quantity)
    dst, _ = Holding.objects.get_or_create(account=c_acc, unit_type=unit_type, position=credit.position)
    Holding.objects.filter(pk=dst.pk).update(quantity=F("quantity") + quantity)

    now = timezone.now()
    effective_at = effective_at or now
    debit_prev = (d_acc.head_hash or chain.GENESIS) if d_acc else ""
    credit_prev = c_acc.head_hash or chain.GENESIS
    if d_acc is not None and d_acc.pk == c_acc.pk:
        credit_prev = debit_prev
    text = chain.content(
        key=key, kind=kind, unit_type=unit_type.code, debit=d_acc.number if d_acc else "", debit_position=debit.position if debit else "",
        credit=c_acc.number, credit_position=credit.position, quantity=quantity, reference=reference,
        related=related.key if related else "", actor=_user_id(actor), approver=_user_id(approver), effective_at=effective_at, recorded_at=now,
    )
    h = chain.entry_hash(text, debit_prev, credit_prev)
    t = Transfer.objects.create(
        key=key, kind=kind, unit_type=unit_type, debit_account=d_acc, debit_position=debit.position if debit else "",
        credit_account=c_acc, credit_position=credit.position, quantity=quantity, reference=reference, related=related,
        actor=actor, approver=approver, effective_at=effective_at, recorded_at=now,
        debit_prev_hash=debit_prev, credit_prev_hash=credit_prev, hash=h,
    )
    for acc in {a.pk: a for a in filter(None, (d_acc, c_acc))}.values():
        Account.objects.filter(pk=acc.pk).update(head_hash=h, head_seq=t.seq)
    return t


# ---------------------------------------------------------------- vintages and caps

def unit_type_code(instrument: str, vintage: str, project: CcerProject | None = None) -> str:
    return f"{instrument}-{project.code}-{vintage}" if project else f"{instrument}-{vintage}"


@transaction.atomic
def vintage_create(*, instrument: str, vintage: str, cap_t: int, key: str, actor=None, project: CcerProject | None = None,
                   reference: str = "", effective_at: dt.datetime | None = None) -> UnitType:
    """Create units of a unit type (instrument + vintage [+ CCER project]): ``cap_t`` tonnes (int)
    credited to the national total account of its market. A later call with another key adds to
    the cap (a further CCER issuance batch of the same vintage). Idempotent on ``key``; R0203 if
    the code exists with another instrument, vintage or project."""
    code = unit_type_code(instrument, vintage, project)
    market = INSTRUMENT_MARKET[instrument]
    ut, _ = UnitType.objects.get_or_create(code=code, defaults={"instrument": instrument, "vintage": vintage, "project": project})
    if (ut.instrument, ut.vintage, ut.project_id) != (instrument, vintage, project.pk if project else None):
        raise CetsError(R0203, code)
    total = system_account(market, AccountKind.NATIONAL_TOTAL)
    transfer_post(key=key, kind=TransferKind.CREATE, unit_type=ut, debit=None, credit=Leg(total, Position.REGISTRY),
                  quantity=cap_t, reference=reference or f"cap {code}", actor=actor, effective_at=effective_at)
    return ut


# ---------------------------------------------------------------- four eyes

@dataclass(frozen=True)
class IssuanceLine:
    """One line of an issuance proposal: account number and quantity (tonnes; negative = claw-back)."""

    account: str
    quantity: int
    reference: str = ""


def issuance_propose(*, key: str, unit_type: UnitType, lines: Sequence[IssuanceLine], actor, effective_at: dt.datetime | None = None,
                     note: str = "") -> Proposal:
    """Propose an issuance (or claw-back, 多退少补) batch; it takes effect on a second person's approval.

    Only registry operators may propose (R0502). Idempotent on ``key``. Lines with quantity 0 are
    dropped; quantities must be integers (R0301).
    """
    require_role(actor, Role.REGISTRY_OPERATOR)
    rows = []
    for ln in lines:
        if isinstance(ln.quantity, bool) or not isinstance(ln.quantity, int):
            raise CetsError(R0301, repr(ln.quantity))
        if ln.quantity:
            rows.append({"account": ln.account, "quantity": ln.quantity, "reference": ln.reference})
    payload = {"unit_type": unit_type.code, "lines": rows, "note": note,
               "effective_at": effective_at.isoformat() if effective_at else None}
    p, created = Proposal.objects.get_or_create(key=key, defaults={"kind": "issue", "payload": payload, "proposed_by": actor})
    if not created and (p.kind != "issue" or p.payload != payload):
        raise CetsError(R0401, key)
    return p


def _execute_issue(p: Proposal, approver) -> dict:
    ut = UnitType.objects.get(code=p.payload["unit_type"])
    market = INSTRUMENT_MARKET[ut.instrument]
    total = system_account(market, AccountKind.NATIONAL_TOTAL)
    eff = dt.datetime.fromisoformat(p.payload["effective_at"]) if p.payload.get("effective_at") else None
    accounts = {a.number: a for a in Account.objects.filter(number__in=[ln["account"] for ln in p.payload["lines"]])}
    issued = clawed = 0
    for i, ln in enumerate(p.payload["lines"]):
        acc = accounts.get(ln["account"])
        if acc is None:
            raise CetsError(R0101, ln["account"])
        q = ln["quantity"]
        if q > 0:
            transfer_post(key=f"{p.key}:{i}", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(total, Position.REGISTRY),
                          credit=Leg(acc, Position.REGISTRY), quantity=q, reference=ln["reference"], actor=p.proposed_by,
                          approver=approver, effective_at=eff)
            issued += q
        else:
            transfer_post(key=f"{p.key}:{i}", kind=TransferKind.CLAWBACK, unit_type=ut, debit=Leg(acc, Position.REGISTRY),
                          credit=Leg(total, Position.REGISTRY), quantity=-q, reference=ln["reference"], actor=p.proposed_by,
                          approver=approver, effective_at=eff)
            clawed += -q
    return {"issued_t": issued, "clawed_back_t": clawed, "lines": len(p.payload["lines"])}


EXECUTORS: dict[str, Callable[[Proposal, object], dict]] = {"issue": _execute_issue}


@transaction.atomic
def proposal_approve(*, proposal_id: int, approver) -> Proposal:
    """Approve and execute a proposal in one transaction (four eyes).

    R0504 no such proposal; R0503 already decided; R0501 approver is the proposer; R0502 approver
    is not a registry operator. If any line is refused, nothing of the proposal takes effect.
    """
    require_role(approver, Role.REGISTRY_OPERATOR)
    p = Proposal.objects.select_for_update().filter(pk=proposal_id).first()
    if p is None:
        raise CetsError(R0504, str(proposal_id))
    if p.status != Proposal.Status.PROPOSED:
        raise CetsError(R0503, p.key)
    if p.proposed_by_id == approver.pk:
        raise CetsError(R0501, p.key)
    p.result = EXECUTORS[p.kind](p, approver)
    p.status = Proposal.Status.EXECUTED
    p.decided_by = approver
    p.decided_at = timezone.now()
    p.save(update_fields=["result", "status", "decided_by", "decided_at"])
    return p


@transaction.atomic
def proposal_reject(*, proposal_id: int, approver, reason: str) -> Proposal:
    require_role(approver, Role.REGISTRY_OPERATOR)
    p = Proposal.objects.select_for_update().filter(pk=proposal_id).first()
    if p is None:
        raise CetsError(R0504, str(proposal_id))
    if p.status != Proposal.Status.PROPOSED:
        raise CetsError(R0503, p.key)
    if p.proposed_by_id == approver.pk:
        raise CetsError(R0501, p.key)
    p.status = Proposal.Status.REJECTED
    p.decided_by = approver
    p.decided_at = timezone.now()
    p.result = {"reason": reason}
    p.save(update_fields=["result", "status", "decided_by", "decided_at"])
    return p


@transaction.atomic
def holding_transfer(*, key: str, from_account: Account, to_account: Account, unit_type: UnitType, quantity: int, actor,
                     reference: str, effective_at: dt.datetime | None = None) -> Transfer:
    """Move units from one holder's registry position to another's (变更, Measures Art. 23: trades
    settle on the exchange's results). The actor must act for the debit holder (R0502)."""
    from cets.parties.access import membership_of
    from .checks import R0502

    m = membership_of(actor)
    if m is None or (m.role != Role.REGISTRY_OPERATOR and m.organisation_id != from_account.holder_id):
        raise CetsError(R0502, from_account.number)
    return transfer_post(key=key, kind=TransferKind.TRANSFER, unit_type=unit_type, debit=Leg(from_account, Position.REGISTRY),
                         credit=Leg(to_account, Position.REGISTRY), quantity=quantity, reference=reference, actor=actor,
                         effective_at=effective_at)
