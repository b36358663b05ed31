"""Registry endpoints (``/api/v1/registry``): reads scoped by jurisdiction, writes through services.

Every write carries the client's idempotency ``key``. Registry operators, holders, the exchange and provincial
authorities must have verified a TOTP second factor in this session (R0505) for every operation and approval. Refusals answer 422
(403 for R0502/R0505) with ``{"code", "message_zh", "message_en"}``.
"""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema

from cets.core.errors import CetsError
from cets.core.schema import Limit, Offset, PathId, SignedTonnes, Tonnes
from cets.parties.access import second_factor_missing
from cets.parties.models import Role

from . import privacy, selectors, services
from .checks import R0101, R0201, R0301, R0505
from .models import Position, UnitType
from .signing import signing_require

router = Router(tags=["registry"])


def _otp(request) -> None:
    """Registry operators, holders (entities, traders), the exchange and provincial authorities act only in a
    session verified with their TOTP device (django-otp; :data:`cets.parties.access.SECOND_FACTOR_ROLES`): R0505."""
    if second_factor_missing(request.user):
        raise CetsError(R0505)


def _unit_type(code: str) -> UnitType:
    ut = UnitType.objects.filter(code=code).first()
    if ut is None:
        raise CetsError(R0201, code)
    return ut


class AccountOut(Schema):
    number: str
    kind: str
    market: str
    status: str
    province: str
    holder: str | None


class HoldingOut(Schema):
    unit_type: str
    position: str
    quantity_t: int


class TransferOut(Schema):
    seq: int
    key: str
    kind: str
    unit_type: str
    debit_account: str | None
    debit_position: str
    credit_account: str
    credit_position: str
    quantity_t: int
    reference: str
    effective_at: dt.datetime
    hash: str


class ProposalOut(Schema):
    id: int
    key: str
    kind: str
    status: str
    payload: dict
    result: dict
    proposed_by: str
    decided_by: str | None


def _transfer_out(t, *, account=None, full: bool = True) -> TransferOut:
    """``account``/``full``: on ``account``'s journal read by someone who does not see both legs
    (:func:`.privacy.sees_both_legs`), an exchange settlement names ``"exchange"`` for the other side."""
    if account is None:
        debit, credit = (t.debit_account.number if t.debit_account_id else None), t.credit_account.number
    else:
        debit, credit = privacy.shown_accounts(t, account=account, full=full)
    return TransferOut(seq=t.seq, key=t.key, kind=t.kind, unit_type=t.unit_type.code, debit_account=debit, debit_position=t.debit_position,
                       credit_account=credit, credit_position=t.credit_position, quantity_t=t.quantity,
                       reference=t.reference, effective_at=t.effective_at, hash=t.hash)


def _posted(t) -> TransferOut:
    """The journal entry as stored (account numbers and all), for a transfer a service just posted."""
    return _transfer_out(selectors.transfer_entry(t.key))


def _proposal_out(p) -> ProposalOut:
    return ProposalOut(id=p.pk, key=p.key, kind=p.kind, status=p.status, payload=p.payload, result=p.result,
                       proposed_by=p.proposed_by.username, decided_by=p.decided_by.username if p.decided_by_id else None)


@router.get("/accounts/{number}", response=AccountOut)
def account(request, number: str):
    a = selectors.account_visible(user=request.user, number=number)
    return AccountOut(number=a.number, kind=a.kind, market=a.market, status=a.status, province=a.province,
                      holder=a.holder.identifier or a.holder.name if a.holder_id else None)


@router.get("/accounts/{number}/holdings", response=list[HoldingOut])
def account_holdings(request, number: str):
    a = selectors.account_visible(user=request.user, number=number)
    return [HoldingOut(unit_type=h.unit_type.code, position=h.position, quantity_t=h.quantity) for h in selectors.holdings_of(account=a)]


@router.get("/accounts/{number}/journal", response=list[TransferOut])
def account_journal(request, number: str, limit: Limit = 200):
    """The latest entries touching the account, newest first. An exchange settlement names ``"exchange"``
    in place of the other side's account unless the caller sees both legs (registry operator, auditor,
    exchange operator: :mod:`cets.registry.privacy`)."""
    a = selectors.account_visible(user=request.user, number=number)
    full = privacy.sees_both_legs(request.user)
    return [_transfer_out(t, account=a, full=full) for t in selectors.journal_of(account=a, limit=min(max(limit, 1), 1000))]


class TransferIn(Schema):
    key: str
    from_account: str
    to_account: str
    unit_type: str
    quantity: Tonnes
    reference: str = ""


class InstructionOut(Schema):
    """A holder's transfer instruction (holder protection): held at once (``seq`` = the hold's journal entry), executed
    at ``due_at`` unless the holder cancels it first."""

    id: int
    key: str
    status: str
    seq: int
    debit_account: str
    credit_account: str
    unit_type: str
    quantity_t: int
    reference: str
    instructed_at: dt.datetime
    due_at: dt.datetime


def _instruction_out(d) -> InstructionOut:
    return InstructionOut(id=d.pk, key=d.key, status=d.status, seq=d.hold_id, debit_account=d.from_account.number, credit_account=d.to_account.number,
                          unit_type=d.unit_type.code, quantity_t=d.quantity, reference=d.reference, instructed_at=d.instructed_at, due_at=d.due_at)


@router.post("/transfers", response=InstructionOut)
def transfer(request, body: TransferIn):
    """Instruct a transfer from the caller's registry position to another holder (变更) outside the exchange: only to
    an account on the caller's active trusted account list (R0801); the units are held at once and the transfer is
    executed after the rule pack's delay within working hours (``due_at``), unless cancelled
    (``POST /transfers/{id}/cancel``)."""
    _otp(request)
    src = selectors.account_visible(user=request.user, number=body.from_account)
    dst = selectors.account_by_number(body.to_account)
    if dst is None:
        raise CetsError(R0101, body.to_account)
    d = services.transfer_instruct(key=body.key, from_account=src, to_account=dst, unit_type=_unit_type(body.unit_type), quantity=body.quantity,
                                   actor=request.user, reference=body.reference or "变更 transfer")
    return _instruction_out(d)


@router.get("/transfers", response=list[InstructionOut])
def transfers_delayed(request, limit: Limit = 200):
    """The caller's holder's transfer instructions (pending, executed, cancelled), newest first."""
    return [_instruction_out(d) for d in services.delayed_transfers_of(user=request.user, limit=limit)]


@router.post("/transfers/{transfer_id}/cancel", response=InstructionOut)
def transfer_cancel(request, transfer_id: PathId):
    """Cancel a pending transfer instruction of the caller's holder: the units go back. R0805 unknown, R0804 not pending."""
    _otp(request)
    return _instruction_out(services.delayed_transfer_cancel(transfer_id=transfer_id, actor=request.user))


class TrustedIn(Schema):
    account: str = Field(max_length=40, description="the caller's holding account")
    trusted_account: str = Field(max_length=40)


class TrustedOut(Schema):
    id: int
    account: str
    trusted_account: str
    trusted_holder: str
    added_at: dt.datetime
    active_from: dt.datetime


def _trusted_out(e) -> TrustedOut:
    return TrustedOut(id=e.pk, account=e.account.number, trusted_account=e.trusted.number, trusted_holder=e.trusted.holder.name if e.trusted.holder_id else "",
                      added_at=e.added_at, active_from=e.active_from)


@router.get("/trusted-accounts", response=list[TrustedOut])
def trusted_accounts(request):
    """The caller's holder's trusted account list (entries not removed; ``active_from`` says when each is active)."""
    return [_trusted_out(e) for e in services.trusted_accounts_of(user=request.user)]


@router.post("/trusted-accounts", response=TrustedOut)
def trusted_account_add(request, body: TrustedIn):
    """Add an account to the caller's trusted account list; active after the rule pack's delay. R0802, R0803, R0101."""
    _otp(request)
    src = selectors.account_visible(user=request.user, number=body.account)
    return _trusted_out(services.trusted_account_add(account=src, trusted_number=body.trusted_account, actor=request.user))


@router.post("/trusted-accounts/{entry_id}/remove", response=TrustedOut)
def trusted_account_remove(request, entry_id: PathId):
    """Remove an entry of the caller's trusted account list at once. R0806 unknown."""
    _otp(request)
    return _trusted_out(services.trusted_account_remove(entry_id=entry_id, actor=request.user))


class PositionMoveIn(Schema):
    key: str
    account: str
    unit_type: str
    from_position: str
    to_position: str
    quantity: Tonnes


@router.post("/position-moves", response=TransferOut)
def position_move(request, body: PositionMoveIn):
    """Move units between the registry and trading positions of one account."""
    _otp(request)
    a = selectors.account_visible(user=request.user, number=body.account)
    t = services.position_move(key=body.key, account=a, unit_type=_unit_type(body.unit_type), from_position=body.from_position,
                               to_position=body.to_position, quantity=body.quantity, actor=request.user)
    return _posted(t)


class FreezeIn(Schema):
    key: str
    account: str
    unit_type: str
    quantity: Tonnes
    court_ref: str
    from_position: str = Position.REGISTRY


@router.post("/freezes", response=TransferOut)
def freeze(request, body: FreezeIn):
    """Judicial freeze (司法冻结) of units, on a court's order. Registry operators."""
    _otp(request)
    a = selectors.account_visible(user=request.user, number=body.account)
    t = services.judicial_freeze(key=body.key, account=a, unit_type=_unit_type(body.unit_type), quantity=body.quantity,
                                 court_ref=body.court_ref, actor=request.user, from_position=body.from_position)
    return _posted(t)


@router.post("/releases", response=ProposalOut)
def release(request, body: FreezeIn):
    """Propose releasing frozen units (解除冻结): a second registry operator approves (four eyes)."""
    _otp(request)
    a = selectors.account_visible(user=request.user, number=body.account)
    return _proposal_out(services.freeze_release_propose(key=body.key, account=a, unit_type=_unit_type(body.unit_type), quantity=body.quantity,
                                                         court_ref=body.court_ref, actor=request.user))


class StatusIn(Schema):
    status: str
    reason: str


@router.post("/accounts/{number}/status", response=AccountOut)
def account_status(request, number: str, body: StatusIn):
    """Restrict or freeze an account at once (registry operators); reopening it is a four-eyes proposal
    (``POST /accounts/{number}/reopen``), R0506 here."""
    _otp(request)
    a = services.account_status_set(account=selectors.account_visible(user=request.user, number=number), status=body.status,
                                    reason=body.reason, actor=request.user)
    return AccountOut(number=a.number, kind=a.kind, market=a.market, status=a.status, province=a.province, holder=None)


class ReopenIn(Schema):
    key: str
    reason: str


@router.post("/accounts/{number}/reopen", response=ProposalOut)
def account_reopen(request, number: str, body: ReopenIn):
    """Propose reopening a restricted or frozen account: a second registry operator approves (four eyes)."""
    _otp(request)
    a = selectors.account_visible(user=request.user, number=number)
    return _proposal_out(services.account_reopen_propose(key=body.key, account=a, reason=body.reason, actor=request.user))


class OperatorTransferIn(Schema):
    key: str
    from_account: str
    to_account: str
    unit_type: str
    quantity: Tonnes
    reason: str


@router.post("/proposals/operator-transfer", response=ProposalOut)
def operator_transfer(request, body: OperatorTransferIn):
    """Propose moving a holder's units the holder did not instruct (a court's or an authority's decision): held
    at once, moved when a second registry operator approves (four eyes)."""
    _otp(request)
    src = selectors.account_visible(user=request.user, number=body.from_account)
    dst = selectors.account_by_number(body.to_account)
    if dst is None:
        raise CetsError(R0101, body.to_account)
    return _proposal_out(services.operator_transfer_propose(key=body.key, from_account=src, to_account=dst, unit_type=_unit_type(body.unit_type),
                                                            quantity=body.quantity, reason=body.reason, actor=request.user))


class IssuanceLineIn(Schema):
    account: str
    quantity: SignedTonnes
    reference: str = ""
    beneficiary: str = ""


class IssuanceIn(Schema):
    key: str
    unit_type: str
    lines: list[IssuanceLineIn]
    note: str = ""


@router.post("/proposals/issuance", response=ProposalOut)
def propose_issuance(request, body: IssuanceIn):
    """Propose an issuance / claw-back batch (four eyes)."""
    _otp(request)
    p = services.issuance_propose(key=body.key, unit_type=_unit_type(body.unit_type), actor=request.user, note=body.note,
                                  lines=[services.IssuanceLine(ln.account, ln.quantity, ln.reference, ln.beneficiary) for ln in body.lines])
    return _proposal_out(p)


class HeldIn(Schema):
    key: str
    account: str
    unit_type: str
    quantity: Tonnes
    reason: str


@router.post("/proposals/cancellation", response=ProposalOut)
def propose_cancellation(request, body: HeldIn):
    """Voluntary cancellation (自愿注销, Measures Art. 19); ``reason`` is the public-interest purpose."""
    _otp(request)
    a = selectors.account_visible(user=request.user, number=body.account)
    return _proposal_out(services.cancellation_propose(key=body.key, account=a, unit_type=_unit_type(body.unit_type), quantity=body.quantity,
                                                       purpose=body.reason, actor=request.user))


@router.post("/proposals/deduction", response=ProposalOut)
def propose_deduction(request, body: HeldIn):
    """Deduction (核减) on an authority's decision; ``reason`` is the decision's reference."""
    _otp(request)
    a = selectors.account_visible(user=request.user, number=body.account)
    return _proposal_out(services.deduction_propose(key=body.key, account=a, unit_type=_unit_type(body.unit_type), quantity=body.quantity,
                                                    decision_ref=body.reason, actor=request.user))


class ReversalIn(Schema):
    key: str
    transfer_key: str
    reason: str


@router.post("/proposals/reversal", response=ProposalOut)
def propose_reversal(request, body: ReversalIn):
    _otp(request)
    return _proposal_out(services.reversal_propose(key=body.key, transfer_key=body.transfer_key, reason=body.reason, actor=request.user))


class CloseIn(Schema):
    key: str
    account: str


@router.post("/proposals/account-close", response=ProposalOut)
def propose_account_close(request, body: CloseIn):
    _otp(request)
    a = selectors.account_visible(user=request.user, number=body.account)
    return _proposal_out(services.account_close_propose(key=body.key, account=a, actor=request.user))


@router.get("/proposals", response=list[ProposalOut])
def proposals(request, status: str | None = None):
    """Proposals waiting for (or past) approval. Registry operators and the national authority."""
    from cets.parties.access import require_role

    require_role(request.user, Role.REGISTRY_OPERATOR, Role.NATIONAL_AUTHORITY)
    return [_proposal_out(p) for p in selectors.proposals(status=status)]


class ApproveIn(Schema):
    """Signing: the approver's own TOTP code for this approval (6–8 digits; each code signs once)."""

    otp_token: str


@router.post("/proposals/{proposal_id}/approve", response=ProposalOut)
def approve(request, proposal_id: PathId, body: ApproveIn):
    """Approve and execute (four eyes: not the proposer, R0501), signed with the approver's TOTP code in the body
    (review-then-sign, as on the page): R1201 wrong, missing or already used code, R1202 no confirmed TOTP device —
    nothing is executed then. Registry operators, provincial and national authorities also need a verified session (R0505)."""
    _otp(request)
    signing_require(request.user, body.otp_token, f"proposal {proposal_id}")
    return _proposal_out(services.proposal_approve(proposal_id=proposal_id, approver=request.user))


class RejectIn(Schema):
    reason: str


@router.post("/proposals/{proposal_id}/reject", response=ProposalOut)
def reject(request, proposal_id: PathId, body: RejectIn):
    _otp(request)
    return _proposal_out(services.proposal_reject(proposal_id=proposal_id, approver=request.user, reason=body.reason))


class BlockStepOut(Schema):
    seq: int
    key: str
    kind: str
    effective_at: dt.datetime
    reference: str
    from_account: str
    to_account: str
    to_kind: str
    block: str
    quantity_t: int
    retired: bool


class BlockHistoryOut(Schema):
    serial: str
    unit_type: str
    instrument: str
    vintage: str
    project: str
    project_name: str
    block: str
    account: str
    retired: bool
    steps: list[BlockStepOut]


@router.get("/blocks/{serial}", response=BlockHistoryOut)
def block_history(request, serial: str):
    """The history of a serial or of a block (``<unit type>-<9-digit serial>[-<9-digit end>]``): creation, issuance,
    each transfer, surrender or cancellation, in journal order, and where the serial is now. Nationwide roles and
    auditors see any serial, a holder those it holds; R1002 (422) otherwise or if no block has it."""
    return selectors.serial_history_for(user=request.user, text=serial)


@router.get("/reconciliation", response=list[dict])
def reconciliation(request):
    """Per unit type: created = national total + issued; issued = circulating + surrendered + cancelled + deducted."""
    from cets.parties.access import require_role

    require_role(request.user, Role.REGISTRY_OPERATOR, Role.NATIONAL_AUTHORITY)
    return selectors.unit_type_totals()


class VintageIn(Schema):
    key: str
    instrument: str
    vintage: str = Field(pattern=r"^[0-9]{4}(-[0-9]{4})?$", description="a year, or a range of years (2019-2020)")
    cap_t: Tonnes
    reference: str = ""


@router.post("/vintages", response=ProposalOut)
def create_vintage(request, body: VintageIn):
    """Propose creating a unit type (e.g. CEA 2026) and its cap in the national total account, or adding to a
    cap: a second registry operator approves (four eyes)."""
    from cets.parties.access import require_role

    from .kinds import INSTRUMENT_MARKET

    _otp(request)
    require_role(request.user, Role.REGISTRY_OPERATOR)
    if body.instrument not in INSTRUMENT_MARKET:
        raise CetsError(R0201, body.instrument[:40])
    return _proposal_out(services.vintage_create_propose(instrument=body.instrument, vintage=body.vintage, cap_t=body.cap_t, key=body.key,
                                                         actor=request.user, reference=body.reference))


class HolderChangeIn(Schema):
    key: str
    kind: str
    from_uscc: str
    to_uscc: str
    decision_ref: str
    lines: list[dict] = []  # for a split: [{"unit_type": "CEA-2023", "quantity": 100}]


@router.post("/holder-changes", response=ProposalOut)
def holder_change(request, body: HolderChangeIn):
    """Propose a change of holder on a merger or split (Measures Art. 18): the old holder's provincial authority
    approves it in the platform (``POST /proposals/{id}/approve`` as that province's user); then it is registered
    and published."""
    from cets.parties.models import Organisation

    _otp(request)
    orgs = {o.uscc: o for o in Organisation.objects.filter(uscc__in=[body.from_uscc, body.to_uscc])}
    if body.from_uscc not in orgs or body.to_uscc not in orgs:
        raise CetsError(R0101, f"{body.from_uscc} / {body.to_uscc}")
    try:
        lines = [(_unit_type(str(ln["unit_type"])), ln["quantity"]) for ln in body.lines]
    except (KeyError, TypeError):
        raise CetsError(R0301, "lines: [{unit_type, quantity}]") from None
    return _proposal_out(services.holder_change_propose(key=body.key, kind=body.kind, from_holder=orgs[body.from_uscc],
                                                        to_holder=orgs[body.to_uscc], lines=lines, decision_ref=body.decision_ref,
                                                        actor=request.user))


# -- account applications of individuals and institutions (draft Measures Art. 14, 18; issue 17) ------------------

class DocumentIn(Schema):
    kind: str = Field(max_length=24)
    file_name: str = Field(max_length=200)
    content_base64: str = Field(max_length=7_100_000)


class ApplicationIn(Schema):
    holder_kind: str = Field(max_length=12)
    name: str = Field(max_length=200)
    resident_id: str | None = Field(None, max_length=18)
    uscc: str | None = Field(None, max_length=18)
    kyc: dict
    username: str = Field(max_length=150)
    password: str = Field(max_length=128)
    documents: list[DocumentIn] = Field(max_length=6)
    market: str | None = Field(None, max_length=16)


class ApplicationOut(Schema):
    reference: str
    market: str
    holder_kind: str
    name: str
    identity: str = Field(description="credit code, or the identity number masked (110105********123X)")
    status: str
    kyc: dict
    documents: list[dict]
    proposal_id: int | None
    account: str | None
    submitted_by: str | None
    decision_note: str


class ApplicationSearchIn(Schema):
    q: str = Field("", max_length=80)
    status: str = Field("", max_length=10)


class NoteIn(Schema):
    note: str = Field("", max_length=300)


def _application_out(a) -> ApplicationOut:
    return ApplicationOut(reference=a.reference, market=a.market, holder_kind=a.holder_kind, name=a.name, identity=a.identifier, status=a.status,
                          kyc=a.kyc, documents=[{"kind": d.kind, "content_type": d.content_type, "size": d.size, "sha256": d.sha256}
                                                for d in a.documents.all().only("kind", "content_type", "size", "sha256")],
                          proposal_id=a.proposal_id, account=a.account.number if a.account_id else None,
                          submitted_by=a.submitted_by.username if a.submitted_by_id else None, decision_note=a.decision_note)


@router.post("/applications", response=ApplicationOut)
def application_submit(request, body: ApplicationIn):
    """A registry operator enters an account application for a natural person or an institution (the applicant's own
    way is the public page ``/registry/apply/``). Documents in base64 (PDF/JPEG/PNG; R0903 if not decodable).
    Refusals: see :func:`cets.registry.services.application_submit`."""
    import base64
    import binascii

    from .checks import R0903

    _otp(request)
    docs = []
    for d in body.documents:
        try:
            docs.append((d.kind, d.file_name, base64.b64decode(d.content_base64, validate=True)))
        except (binascii.Error, ValueError):
            raise CetsError(R0903, d.file_name[:60]) from None
    from cets.rules.markets import PRIMARY_MARKET

    app = services.application_submit(holder_kind=body.holder_kind, name=body.name, resident_id=body.resident_id, uscc=body.uscc, kyc=body.kyc,
                                      username=body.username, password=body.password, documents=docs, market=body.market or PRIMARY_MARKET,
                                      actor=request.user)
    return _application_out(app)


@router.get("/applications", response=list[ApplicationOut])
def applications(request, status: str = "", limit: Limit = 200, offset: Offset = 0):
    """Applications, newest first (registry operators), ``limit`` from ``offset`` (every one reachable). To find one by a
    person's whole identity number use ``POST /applications/search`` (the number stays out of URLs)."""
    return [_application_out(a) for a in services.application_search(actor=request.user, status=status[:10])[offset:offset + limit]]


@router.post("/applications/search", response=list[ApplicationOut])
def applications_search(request, body: ApplicationSearchIn):
    """Search by reference, name, credit code or a person's whole identity number (exact)."""
    return [_application_out(a) for a in services.application_search(actor=request.user, q=body.q, status=body.status)[:200]]


@router.get("/applications/{reference}", response=ApplicationOut)
def application(request, reference: str):
    return _application_out(services.application_get(reference=reference[:40], actor=request.user))


@router.post("/applications/{reference}/propose", response=ProposalOut)
def application_propose(request, reference: str, body: NoteIn):
    """The reviewer proposes approval; a second operator approves with ``POST /proposals/{id}/approve``."""
    _otp(request)
    return _proposal_out(services.application_propose(reference=reference[:40], actor=request.user, note=body.note))


@router.post("/applications/{reference}/reject", response=ApplicationOut)
def application_reject(request, reference: str, body: NoteIn):
    _otp(request)
    return _application_out(services.application_reject(reference=reference[:40], reason=body.note or "—", actor=request.user))


class MarketAccountIn(Schema):
    market: str = Field(max_length=16)
    application: str | None = Field(None, max_length=40, description="a registry operator names the holder by its approved application")


class MarketAccountOut(Schema):
    number: str
    market: str
    kind: str
    status: str


@router.post("/market-accounts", response=MarketAccountOut)
def market_account_open(request, body: MarketAccountIn):
    """Open a reviewed individual's or institution's account in another market (e.g. its CCER account in ``ccer``): the
    holder's own trader (its organisation), or a registry operator naming the holder's approved ``application``.
    Refusals: R0502, R0505, R1303, R1304, R0107, R0504 (no such application)."""
    from cets.parties.access import membership_of
    from cets.parties.models import Role

    from .checks import R0504

    _otp(request)
    m = membership_of(request.user)
    if body.application:
        holder = services.application_get(reference=body.application, actor=request.user).holder
        if holder is None:
            raise CetsError(R0504, body.application)
    elif m is not None and m.role == Role.TRADER:
        holder = m.organisation
    else:
        raise CetsError(R0504, "application")
    acc = services.market_account_open(holder=holder, market=body.market, actor=request.user)
    return MarketAccountOut(number=acc.number, market=acc.market, kind=acc.kind, status=acc.status)
