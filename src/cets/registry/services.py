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
from django.utils import timezone

from cets.core.errors import CetsError
from cets.core.uscc import InvalidUscc, validate_uscc
from cets.parties.access import membership_of, require_role
from cets.parties.models import Organisation, Role

from . import chain
from .checks import (
    R0101, R0102, R0103, R0104, R0105, R0106, R0107, R0108, R0109, R0110, R0111, R0202, R0203, R0301, R0302, R0401, R0501, R0502,
    R0503, R0504,
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
    elif kind == TransferKind.SURRENDER:
        ok = credit.kind == AccountKind.SURRENDER and debit.kind in HOLDER_KINDS
    elif kind == TransferKind.FORCED_SURRENDER:
        ok = credit.kind == AccountKind.SURRENDER and debit.kind in (AccountKind.PROVINCIAL, AccountKind.ENTITY)
    elif kind == TransferKind.CANCELLATION:
        ok = credit.kind == AccountKind.CANCELLATION
    elif kind == TransferKind.DEDUCTION:
        ok = credit.kind == AccountKind.DEDUCTION
    elif kind in (TransferKind.POSITION_MOVE, TransferKind.FREEZE, TransferKind.RELEASE):
        ok = debit.pk == credit.pk
    elif kind == TransferKind.CARRY_OVER:
        ok = credit.kind == AccountKind.CANCELLATION
    elif kind == TransferKind.REVERSAL:
        ok = True
    elif kind == TransferKind.TRANSFER:
        # Units leave the national total account only by issuance (four eyes), never by a plain transfer.
        closed = RETIREMENT_KINDS | {AccountKind.NATIONAL_TOTAL}
        ok = debit.kind not in closed and credit.kind not in closed
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
    beneficiary: Organisation | None = None,
) -> Transfer:
    """Post one transfer: check, move the holdings, append the chained journal entry, atomically.

    Idempotent on ``key``: the same key with the same content returns the first entry; with other
    content raises R0401. Other refusals: R0101–R0106 (accounts), R0202 (unit type), R0301
    (quantity not a positive integer), R0302 (more than the debit holding), R0501 (approver is the
    actor). A refusal changes nothing.
    """
    quantity = _check_quantity(quantity)
    debit_acc_id = debit.account.pk if debit else None

    def digest_args() -> dict:  # what a retry must repeat; built only when a retry is seen
        return dict(
            kind=kind, unit_type=unit_type.code, debit=debit.account.number if debit else "", debit_position=debit.position if debit else "",
            credit=credit.account.number, credit_position=credit.position, quantity=quantity, reference=reference,
            beneficiary=str(beneficiary.pk) if beneficiary else "",
        )

    if approver is not None and actor is not None and approver.pk == actor.pk:
        raise CetsError(R0501)
    try:
        # A savepoint when nested, so that a refusal leaves the caller's transaction usable and unchanged.
        with transaction.atomic():
            return _post_locked(key, kind, unit_type, debit, credit, quantity, reference, related, actor, approver, effective_at, debit_acc_id,
                                beneficiary)
    except _AlreadyPosted:
        # A retry (the key is in the journal): the first result if the content is the same, else R0401.
        return _existing(key, digest_args())
    except IntegrityError:
        # A concurrent request with the same key won the race: answer as for a retry.
        existing = _existing(key, digest_args())
        if existing is None:
            raise
        return existing


def _existing(key: str, digest_args: dict) -> Transfer | None:
    with transaction.get_connection().cursor() as cur:  # called on a retry or a lost race only
        cur.execute(f"SELECT 1 FROM {Transfer._meta.db_table} WHERE key = %s", [key])
        if cur.fetchone() is None:
            return None
    t = Transfer.objects.select_related("unit_type", "debit_account", "credit_account").get(key=key)
    theirs = chain.idempotency_digest(
        kind=t.kind, unit_type=t.unit_type.code, debit=t.debit_account.number if t.debit_account else "",
        debit_position=t.debit_position, credit=t.credit_account.number, credit_position=t.credit_position,
        quantity=t.quantity, reference=t.reference, beneficiary=str(t.beneficiary_id) if t.beneficiary_id else "",
    )
    if theirs != chain.idempotency_digest(**digest_args):
        raise CetsError(R0401, key)
    return t


# The hot path of the ledger is written as explicit SQL (six statements, portable between SQLite and
# PostgreSQL): it runs for every movement of every unit, and the ORM's per-query overhead was most of
# its cost. Table and column names come from the models.
_A, _H, _T = Account._meta.db_table, Holding._meta.db_table, Transfer._meta.db_table
_T_COLS = ("key", "kind", "unit_type_id", "debit_account_id", "debit_position", "credit_account_id", "credit_position", "quantity",
           "reference", "related_id", "actor_id", "approver_id", "effective_at", "recorded_at", "debit_prev_hash", "credit_prev_hash",
           "hash", "beneficiary_id")
# Locks both accounts and, in the same round trip, asks whether the idempotency key is already in the journal.
_SQL_LOCK = (f"SELECT id, number, kind, market, status, head_hash, EXISTS (SELECT 1 FROM {_T} WHERE key = %s) FROM {_A} "
             f"WHERE id IN (%s, %s) ORDER BY id")
_SQL_DEBIT = (f"UPDATE {_H} SET quantity = quantity - %s WHERE account_id = %s AND unit_type_id = %s AND position = %s "
              f"AND quantity >= %s")
_SQL_AVAILABLE = f"SELECT quantity FROM {_H} WHERE account_id = %s AND unit_type_id = %s AND position = %s"
_SQL_CREDIT = (f"INSERT INTO {_H} (account_id, unit_type_id, position, quantity) VALUES (%s, %s, %s, %s) "
               f"ON CONFLICT (account_id, unit_type_id, position) DO UPDATE SET quantity = {_H}.quantity + excluded.quantity")
_SQL_JOURNAL = f"INSERT INTO {_T} ({', '.join(_T_COLS)}) VALUES ({', '.join(['%s'] * len(_T_COLS))}) RETURNING seq"
_SQL_HEADS = f"UPDATE {_A} SET head_hash = %s, head_seq = %s WHERE id IN (%s, %s)"


class _AlreadyPosted(Exception):
    """Raised inside the transaction when the key is found in the journal; rolls back, then answers as a retry."""


class _PreparedCursor:
    """A psycopg cursor whose every statement is prepared on the server (``prepare=True``)."""

    def __init__(self, raw) -> None:
        self._raw = raw

    @property
    def rowcount(self) -> int:
        return self._raw.rowcount

    def execute(self, sql, params):
        return self._raw.execute(sql, params, prepare=True)

    def fetchone(self):
        return self._raw.fetchone()

    def fetchall(self):
        return self._raw.fetchall()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._raw.close()


def _cursor(conn):
    """On PostgreSQL the ledger's statements go straight to psycopg, prepared once per connection:
    the server parses and plans them once, and Django's cursor layers are skipped (measured with
    bench/registry_transfers.py). On SQLite, Django's cursor, which translates the ``%s``
    placeholders. The SQL text is the same on both."""
    return _PreparedCursor(conn.connection.cursor()) if conn.vendor == "postgresql" else conn.cursor()


@dataclass(frozen=True)
class _AccountRow:
    pk: int
    number: str
    kind: str
    market: str
    status: str
    head_hash: str


def _post_locked(key, kind, unit_type, debit, credit, quantity, reference, related, actor, approver, effective_at, debit_acc_id,
                 beneficiary=None):
    conn = transaction.get_connection()
    c_id = credit.account.pk
    d_id = debit_acc_id if debit_acc_id is not None else c_id
    lock = _SQL_LOCK + (" FOR UPDATE" if conn.features.has_select_for_update else "")
    with _cursor(conn) as cur:
        # 1. lock both accounts in id order (no deadlocks; SQLite's IMMEDIATE transaction is the lock there),
        #    and learn whether this key was posted before (a retry)
        cur.execute(lock, [key, min(d_id, c_id), max(d_id, c_id)])
        fetched = cur.fetchall()
        if fetched and fetched[0][6]:
            raise _AlreadyPosted
        rows = {r[0]: _AccountRow(*r[:6]) for r in fetched}
        if c_id not in rows or d_id not in rows:
            raise CetsError(R0101)
        d_acc = rows[d_id] if debit else None
        c_acc = rows[c_id]
        if d_acc is not None and d_acc.pk == c_acc.pk and debit.position == credit.position:
            raise CetsError(R0105)
        _check_kind_legs(kind, d_acc, c_acc)
        _check_status(kind, d_acc, c_acc)
        _check_unit_allowed(c_acc, unit_type)
        # 2. debit, only if enough is there
        if d_acc is not None:
            _check_unit_allowed(d_acc, unit_type)
            cur.execute(_SQL_DEBIT, [quantity, d_acc.pk, unit_type.pk, debit.position, quantity])
            if cur.rowcount != 1:
                cur.execute(_SQL_AVAILABLE, [d_acc.pk, unit_type.pk, debit.position])
                have = cur.fetchone()
                raise CetsError(R0302, f"{d_acc.number} {unit_type.code} {debit.position}: {have[0] if have else 0} < {quantity}")
        # 3. credit (insert the holding or add to it)
        cur.execute(_SQL_CREDIT, [c_acc.pk, unit_type.pk, credit.position, quantity])
        # 4. the journal entry, chained to both accounts' heads
        now = timezone.now()
        effective_at = effective_at or now
        debit_prev = (d_acc.head_hash or chain.GENESIS) if d_acc else ""
        credit_prev = debit_prev if d_acc is not None and d_acc.pk == c_acc.pk else (c_acc.head_hash or chain.GENESIS)
        ben = str(beneficiary.pk) if beneficiary else ""
        text = chain.content(
            key=key, kind=kind, unit_type=unit_type.code, debit=d_acc.number if d_acc else "", debit_position=debit.position if debit else "",
            credit=c_acc.number, credit_position=credit.position, quantity=quantity, reference=reference,
            related=related.key if related else "", actor=_user_id(actor), approver=_user_id(approver), effective_at=effective_at,
            recorded_at=now, beneficiary=ben,
        )
        h = chain.entry_hash(text, debit_prev, credit_prev)
        adapt = conn.ops.adapt_datetimefield_value
        values = [key, kind, unit_type.pk, d_acc.pk if d_acc else None, debit.position if debit else "", c_acc.pk, credit.position, quantity,
                  reference, related.pk if related else None, actor.pk if actor else None, approver.pk if approver else None,
                  adapt(effective_at), adapt(now), debit_prev, credit_prev, h, beneficiary.pk if beneficiary else None]
        cur.execute(_SQL_JOURNAL, values)
        seq = cur.fetchone()[0]
        # 5. both heads move to this entry
        cur.execute(_SQL_HEADS, [h, seq, d_id, c_id])
    return Transfer(seq=seq, key=key, kind=kind, unit_type=unit_type, debit_account_id=d_acc.pk if d_acc else None,
                    debit_position=debit.position if debit else "", credit_account_id=c_acc.pk, credit_position=credit.position,
                    quantity=quantity, reference=reference, related=related, beneficiary=beneficiary, actor=actor, approver=approver,
                    effective_at=effective_at, recorded_at=now, debit_prev_hash=debit_prev, credit_prev_hash=credit_prev, hash=h)


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
class FourEyesOp:
    """A registry operation that takes effect only on a second person's approval (DESIGN.md, Registry
    ledger): who may propose it, what approval executes, and what a rejection undoes (units held
    while the proposal waits are released)."""

    proposers: tuple[str, ...]
    execute: Callable[[Proposal, object], dict]
    on_reject: Callable[[Proposal, object], None] | None = None


FOUR_EYES: dict[str, FourEyesOp] = {}


def four_eyes(kind: str, *, proposers: tuple[str, ...] = (Role.REGISTRY_OPERATOR,), on_reject=None):
    """Register ``execute(proposal, approver) -> dict`` as the four-eyes operation ``kind``. Other
    contexts (compliance: forced surrender) register theirs the same way."""

    def deco(fn):
        FOUR_EYES[kind] = FourEyesOp(proposers=proposers, execute=fn, on_reject=on_reject)
        return fn

    return deco


def proposal_submit(*, key: str, kind: str, payload: dict, actor, hold: Callable[[Proposal], None] | None = None) -> Proposal:
    """Record a proposal (idempotent on ``key``; R0401 if the same key carries another payload).
    ``hold`` runs once, in the same transaction, to freeze the units the proposal will move."""
    op = FOUR_EYES[kind]
    require_role(actor, *op.proposers)
    with transaction.atomic():
        p, created = Proposal.objects.get_or_create(key=key, defaults={"kind": kind, "payload": payload, "proposed_by": actor})
        if not created:
            if p.kind != kind or p.payload != payload:
                raise CetsError(R0401, key)
            return p
        if hold is not None:
            hold(p)
    return p


def _decide(proposal_id: int, approver) -> Proposal:
    require_role(approver, Role.REGISTRY_OPERATOR)
    p = Proposal.objects.select_for_update().filter(pk=proposal_id).first()
    if p is None:
        raise CetsError(R0504, str(proposal_id))
    if p.status != Proposal.Status.PROPOSED:
        raise CetsError(R0503, p.key)
    if p.proposed_by_id == approver.pk:
        raise CetsError(R0501, p.key)
    return p


@transaction.atomic
def proposal_approve(*, proposal_id: int, approver) -> Proposal:
    """Approve and execute a proposal in one transaction (four eyes).

    R0504 no such proposal; R0503 already decided; R0501 approver is the proposer; R0502 approver
    is not a registry operator. If any part is refused, nothing of the proposal takes effect.
    """
    p = _decide(proposal_id, approver)
    p.result = FOUR_EYES[p.kind].execute(p, approver)
    p.status = Proposal.Status.EXECUTED
    p.decided_by = approver
    p.decided_at = timezone.now()
    p.save(update_fields=["result", "status", "decided_by", "decided_at"])
    return p


@transaction.atomic
def proposal_reject(*, proposal_id: int, approver, reason: str) -> Proposal:
    """Reject a proposal; units it held are released. Same checks as :func:`proposal_approve`."""
    p = _decide(proposal_id, approver)
    op = FOUR_EYES[p.kind]
    if op.on_reject is not None:
        op.on_reject(p, approver)
    p.status = Proposal.Status.REJECTED
    p.decided_by = approver
    p.decided_at = timezone.now()
    p.result = {"reason": reason}
    p.save(update_fields=["result", "status", "decided_by", "decided_at"])
    return p


def _eff(p: Proposal) -> dt.datetime | None:
    v = p.payload.get("effective_at")
    return dt.datetime.fromisoformat(v) if v else None


# -- issuance (发放) and claw-back (多退少补)

@dataclass(frozen=True)
class IssuanceLine:
    """One line of an issuance proposal: account number and quantity (tonnes; negative = claw-back).
    ``beneficiary`` is the entity's credit code when the account is a provincial authority account."""

    account: str
    quantity: int
    reference: str = ""
    beneficiary: str = ""


def issuance_propose(*, key: str, unit_type: UnitType, lines: Sequence[IssuanceLine], actor, effective_at: dt.datetime | None = None,
                     note: str = "") -> Proposal:
    """Propose an issuance (or claw-back, 多退少补) batch; it takes effect on a second person's approval.

    Only registry operators may propose (R0502). Idempotent on ``key``. Lines with quantity 0 are
    dropped; quantities must be integers (R0301).
    """
    rows = []
    for ln in lines:
        if isinstance(ln.quantity, bool) or not isinstance(ln.quantity, int):
            raise CetsError(R0301, repr(ln.quantity))
        if ln.quantity:
            row = {"account": ln.account, "quantity": ln.quantity, "reference": ln.reference}
            if ln.beneficiary:
                row["beneficiary"] = ln.beneficiary
            rows.append(row)
    payload = {"unit_type": unit_type.code, "lines": rows, "note": note,
               "effective_at": effective_at.isoformat() if effective_at else None}
    return proposal_submit(key=key, kind="issue", payload=payload, actor=actor)


# Proposals with more lines than this are posted by :func:`issuance_batch_post` (set-based SQL); smaller
# ones line by line through :func:`transfer_post`. Both write exactly the same journal (tests/registry/test_batch.py).
BATCH_MIN_LINES = 8


@four_eyes("issue")
def _execute_issue(p: Proposal, approver) -> dict:
    ut = UnitType.objects.get(code=p.payload["unit_type"])
    lines = [IssuanceLine(account=ln["account"], quantity=ln["quantity"], reference=ln["reference"], beneficiary=ln.get("beneficiary", ""))
             for ln in p.payload["lines"]]
    post = issuance_batch_post if len(lines) > BATCH_MIN_LINES else issuance_lines_post
    return post(key=p.key, unit_type=ut, lines=lines, actor=p.proposed_by, approver=approver, effective_at=_eff(p))


def _issue_prelude(unit_type: UnitType, lines: Sequence[IssuanceLine]) -> tuple[Account, dict[str, Account], dict[str, Organisation]]:
    total = system_account(INSTRUMENT_MARKET[unit_type.instrument], AccountKind.NATIONAL_TOTAL)
    accounts = {a.number: a for a in Account.objects.filter(number__in=[ln.account for ln in lines])}
    bens = {o.uscc: o for o in Organisation.objects.filter(uscc__in=[ln.beneficiary for ln in lines if ln.beneficiary])}
    return total, accounts, bens


@transaction.atomic
def issuance_lines_post(*, key: str, unit_type: UnitType, lines: Sequence[IssuanceLine], actor, approver,
                        effective_at: dt.datetime | None = None) -> dict:
    """Post the lines of an issuance proposal one by one, each through :func:`transfer_post`: line
    ``i`` is the journal entry ``{key}:{i}``, an ``issue`` (national total → account, registry
    position) for a positive quantity in tonnes CO2e (int), a ``clawback`` (account → national total)
    for a negative one. Returns ``{"issued_t", "clawed_back_t", "lines"}`` (tonnes, int).

    Refusals, at the first line that fails, in line order: R0101 (account unknown), R0301, R0501,
    R0401, R0105, R0106, R0102/R0103, R0202, R0302; nothing is written (one transaction)."""
    total, accounts, bens = _issue_prelude(unit_type, lines)
    issued = clawed = 0
    for i, ln in enumerate(lines):
        acc = accounts.get(ln.account)
        if acc is None:
            raise CetsError(R0101, ln.account)
        q = ln.quantity
        ben = bens.get(ln.beneficiary)
        if q > 0:
            transfer_post(key=f"{key}:{i}", kind=TransferKind.ISSUE, unit_type=unit_type, debit=Leg(total, Position.REGISTRY),
                          credit=Leg(acc, Position.REGISTRY), quantity=q, reference=ln.reference, actor=actor,
                          approver=approver, effective_at=effective_at, beneficiary=ben)
            issued += q
        else:
            transfer_post(key=f"{key}:{i}", kind=TransferKind.CLAWBACK, unit_type=unit_type, debit=Leg(acc, Position.REGISTRY),
                          credit=Leg(total, Position.REGISTRY), quantity=-q, reference=ln.reference, actor=actor,
                          approver=approver, effective_at=effective_at, beneficiary=ben)
            clawed += -q
    return {"issued_t": issued, "clawed_back_t": clawed, "lines": len(lines)}


# The batch path: set-based statements for a whole proposal, the same SQL text on SQLite and PostgreSQL.
# Reads are IN lists cut into chunks; writes are one ``executemany`` per table (SQLite runs one prepared
# statement over the rows; psycopg converts the statement once and sends the rows in one pipeline).
_SQL_IDS = f"SELECT id, number FROM {_A} WHERE number IN ({{marks}})"
_SQL_LOCK_MANY = f"SELECT id, number, kind, market, status, head_hash FROM {_A} WHERE id IN ({{marks}}) ORDER BY id"
_SQL_KEYS = f"SELECT key FROM {_T} WHERE key IN ({{marks}})"
_SQL_HELD = f"SELECT account_id, quantity FROM {_H} WHERE unit_type_id = %s AND position = %s AND account_id IN ({{marks}})"
_SQL_JOURNAL_SEQ = f"INSERT INTO {_T} (seq, {', '.join(_T_COLS)}) VALUES ({', '.join(['%s'] * (len(_T_COLS) + 1))})"
_SQL_HOLD_ADD = f"UPDATE {_H} SET quantity = quantity + %s WHERE account_id = %s AND unit_type_id = %s AND position = %s"
_SQL_HEAD_SET = f"UPDATE {_A} SET head_hash = %s, head_seq = %s WHERE id = %s"
# Parameters per read statement: psycopg re-parses (uncached) any statement with more than 50 parameters,
# which costs more than the database's work; SQLite's limit is 32,766 and Django's conversion is cheap.
_IN_PARAMS = {"postgresql": 48, "sqlite": 900}


def _chunks(items: Sequence, n: int):
    for i in range(0, len(items), n):
        yield items[i:i + n]


def _many(cur, sql: str, rows: list) -> None:
    """``executemany``; on PostgreSQL through a server-binding psycopg cursor, so that the pipeline parses
    the statement once and sends only the parameters of each row."""
    if not rows:
        return
    conn = transaction.get_connection()
    if conn.vendor == "postgresql":
        import psycopg

        with psycopg.Cursor(conn.connection) as raw:
            raw.executemany(sql, rows)
    else:
        cur.executemany(sql, rows)


def _select_in(cur, vendor: str, template: str, items: Sequence, head: Sequence = ()) -> list:
    """Rows of ``template`` (its ``{marks}`` an IN list) over ``items``, in chunks."""
    out: list = []
    for part in _chunks(items, _IN_PARAMS.get(vendor, 900) - len(head)):
        cur.execute(template.format(marks=", ".join(["%s"] * len(part))), [*head, *part])
        out.extend(cur.fetchall())
    return out


def _seqs_reserve(cur, vendor: str, n: int) -> list[int]:
    """``n`` journal sequence numbers, ascending, for rows inserted with an explicit ``seq`` (the
    accounts are locked, so no other entry of theirs can come between)."""
    if vendor == "postgresql":
        cur.execute(f"SELECT nextval(pg_get_serial_sequence('{_T}', 'seq')) FROM generate_series(1, %s)", [n])
        return sorted(r[0] for r in cur.fetchall())
    # SQLite (AUTOINCREMENT): the next rowid is above both sqlite_sequence and the largest seq; the IMMEDIATE
    # transaction holds the database's write lock, and an explicit seq moves sqlite_sequence forward.
    cur.execute(f"SELECT MAX(s) FROM (SELECT seq AS s FROM sqlite_sequence WHERE name = %s UNION ALL SELECT MAX(seq) FROM {_T})", [_T])
    base = cur.fetchone()[0] or 0
    return list(range(base + 1, base + n + 1))


def _existing_digests(keys: Sequence[str]) -> dict[str, str]:
    """Idempotency digests of journal entries already posted under ``keys`` (a retried proposal)."""
    out = {}
    for part in _chunks(list(keys), 900):
        for t in Transfer.objects.filter(key__in=part).select_related("unit_type", "debit_account", "credit_account"):
            out[t.key] = chain.idempotency_digest(
                kind=t.kind, unit_type=t.unit_type.code, debit=t.debit_account.number if t.debit_account else "",
                debit_position=t.debit_position, credit=t.credit_account.number, credit_position=t.credit_position,
                quantity=t.quantity, reference=t.reference, beneficiary=str(t.beneficiary_id) if t.beneficiary_id else "")
    return out


@transaction.atomic
def issuance_batch_post(*, key: str, unit_type: UnitType, lines: Sequence[IssuanceLine], actor, approver,
                        effective_at: dt.datetime | None = None) -> dict:
    """Post the lines of an issuance proposal in one transaction with set-based SQL: the same journal
    as :func:`issuance_lines_post` — entry ``{key}:{i}`` per line, same kinds, quantities (tonnes CO2e,
    int), references, beneficiaries, times, previous hashes and hashes, with ascending ``seq`` in line
    order (the national total account's chain advances line by line) — and the same holdings and
    account heads. Returns ``{"issued_t", "clawed_back_t", "lines"}`` (tonnes, int).

    Every line is checked first, in line order, against the balances the lines before it leave
    (locked accounts; registry position): R0101 (account unknown), R0301 (quantity), R0501 (approver
    is the actor), R0401 (key posted with other content), R0105, R0106 (account kinds), R0102/R0103
    (closed/frozen), R0202 (unit type), R0302 (not enough held: national total for issues, the account
    for claw-backs). The first failing line raises the code the line-by-line path raises, and nothing
    is written. Idempotent: lines whose key is already in the journal with the same content are
    skipped, so a proposal posted twice changes nothing.
    Rules: 2023–2024 allocation plan, issuance flow (cn-ets-rules.md §1.4.4: pre-allocation, then the
    final allocation issued or clawed back, 多退少补) and the Registry rules' 初始分配/发放 operation
    (§4.1). The batch changes how the entries are written, not what they are."""
    total = system_account(INSTRUMENT_MARKET[unit_type.instrument], AccountKind.NATIONAL_TOTAL)
    wanted = sorted({ln.beneficiary for ln in lines if ln.beneficiary})
    bens = {u: pk for part in _chunks(wanted, 900) for u, pk in Organisation.objects.filter(uscc__in=part).values_list("uscc", "pk")}
    conn = transaction.get_connection()
    vendor = conn.vendor
    pos = Position.REGISTRY
    lock = _SQL_LOCK_MANY + (" FOR UPDATE" if conn.features.has_select_for_update else "")
    keys = [f"{key}:{i}" for i in range(len(lines))]
    with conn.cursor() as cur:
        # 1. the accounts named by the lines, then every account of the proposal locked in id order across
        #    chunks (the order transfer_post locks in, so no deadlock with it)
        accounts = {number: pk for pk, number in _select_in(cur, vendor, _SQL_IDS, sorted({ln.account for ln in lines}))}
        ids = sorted({total.pk, *accounts.values()})
        rows = {r[0]: _AccountRow(*r) for r in _select_in(cur, vendor, lock, ids)}
        # 2. which lines were posted before (a retry), and what the accounts hold
        posted = {r[0] for r in _select_in(cur, vendor, _SQL_KEYS, keys)}
        held: dict[int, int] = dict(_select_in(cur, vendor, _SQL_HELD, ids, head=(unit_type.pk, pos)))
        had_row = set(held)
        theirs = _existing_digests(sorted(posted)) if posted else {}
        # 3. check and chain every line in order, against running balances and heads
        heads = {pk: r.head_hash or chain.GENESIS for pk, r in rows.items()}
        last: dict[int, int] = {}  # account id → index of its last new entry
        entries: list[list] = []
        adapt = conn.ops.adapt_datetimefield_value
        issued = clawed = 0
        for i, ln in enumerate(lines):
            acc_id = accounts.get(ln.account)
            if acc_id is None:
                raise CetsError(R0101, ln.account)
            q = ln.quantity
            kind, qty = (TransferKind.ISSUE, q) if q > 0 else (TransferKind.CLAWBACK, -q)
            _check_quantity(qty)
            if approver is not None and actor is not None and approver.pk == actor.pk:
                raise CetsError(R0501)
            ben = bens.get(ln.beneficiary) if ln.beneficiary else None
            if kind == TransferKind.ISSUE:
                issued += qty
                d_id, c_id, d_num, c_num = total.pk, acc_id, total.number, ln.account
            else:
                clawed += qty
                d_id, c_id, d_num, c_num = acc_id, total.pk, ln.account, total.number
            if keys[i] in posted:
                mine = chain.idempotency_digest(
                    kind=kind, unit_type=unit_type.code, debit=d_num, debit_position=pos, credit=c_num, credit_position=pos,
                    quantity=qty, reference=ln.reference, beneficiary=str(ben) if ben else "")
                if theirs.get(keys[i]) != mine:
                    raise CetsError(R0401, keys[i])
                continue
            if d_id not in rows or c_id not in rows:
                raise CetsError(R0101)
            d_acc, c_acc = rows[d_id], rows[c_id]
            if d_id == c_id:
                raise CetsError(R0105)
            _check_kind_legs(kind, d_acc, c_acc)
            _check_status(kind, d_acc, c_acc)
            _check_unit_allowed(c_acc, unit_type)
            _check_unit_allowed(d_acc, unit_type)
            have = held.get(d_id)
            if have is None or have < qty:
                raise CetsError(R0302, f"{d_acc.number} {unit_type.code} {pos}: {have or 0} < {qty}")
            held[d_id] = have - qty
            held[c_id] = held.get(c_id, 0) + qty
            now = timezone.now()
            eff = effective_at or now
            d_prev, c_prev = heads[d_id], heads[c_id]
            text = chain.content(
                key=keys[i], kind=kind, unit_type=unit_type.code, debit=d_acc.number, debit_position=pos, credit=c_acc.number,
                credit_position=pos, quantity=qty, reference=ln.reference, related="", actor=_user_id(actor), approver=_user_id(approver),
                effective_at=eff, recorded_at=now, beneficiary=str(ben) if ben else "",
            )
            h = chain.entry_hash(text, d_prev, c_prev)
            heads[d_id] = heads[c_id] = h
            last[d_id] = last[c_id] = len(entries)
            entries.append([None, keys[i], kind, unit_type.pk, d_id, pos, c_id, pos, qty, ln.reference, None,
                            actor.pk if actor else None, approver.pk if approver else None, adapt(eff), adapt(now), d_prev, c_prev, h, ben])
        result = {"issued_t": issued, "clawed_back_t": clawed, "lines": len(lines)}
        if not entries:
            return result
        # 4. the journal, with explicit ascending seq in line order
        for e, seq in zip(entries, _seqs_reserve(cur, vendor, len(entries))):
            e[0] = seq
        _many(cur, _SQL_JOURNAL_SEQ, entries)
        # 5. holdings: each touched account's net change; existing rows updated, missing ones inserted (only a
        #    credit can need a new row, so its quantity is ≥ 0)
        delta: dict[int, int] = {}
        for e in entries:
            delta[e[4]] = delta.get(e[4], 0) - e[8]
            delta[e[6]] = delta.get(e[6], 0) + e[8]
        _many(cur, _SQL_HOLD_ADD, [(dq, acc_id, unit_type.pk, pos) for acc_id, dq in sorted(delta.items()) if acc_id in had_row])
        _many(cur, _SQL_CREDIT, [(acc_id, unit_type.pk, pos, dq) for acc_id, dq in sorted(delta.items()) if acc_id not in had_row])
        # 6. heads: each touched account points at its last new entry
        _many(cur, _SQL_HEAD_SET, [(entries[ix][17], entries[ix][0], acc_id) for acc_id, ix in sorted(last.items())])
    return result


# -- operations that hold units while they wait: voluntary cancellation (自愿注销) and deduction (核减)

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
    _check_quantity(quantity)
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


four_eyes("cancellation", proposers=(Role.REGISTRY_OPERATOR, Role.ENTITY, Role.TRADER), on_reject=_release)(
    lambda p, approver: _retire(p, approver, TransferKind.CANCELLATION, AccountKind.CANCELLATION))


def deduction_propose(*, key: str, account: Account, unit_type: UnitType, quantity: int, decision_ref: str, actor,
                      effective_at: dt.datetime | None = None) -> Proposal:
    """Deduction (核减) of an entity's allowances on an authority's decision (Regulations Art. 22, 24):
    held at once, moved to the deduction account on a second registry operator's approval."""
    return proposal_submit(key=key, kind="deduction", payload=_held_payload(account, unit_type, quantity, f"核减 {decision_ref}", effective_at),
                           actor=actor, hold=_hold)


four_eyes("deduction", on_reject=_release)(lambda p, approver: _retire(p, approver, TransferKind.DEDUCTION, AccountKind.DEDUCTION))


# -- reversal (冲正): a new, linked entry; nothing is ever edited or deleted

IRREVERSIBLE = frozenset({TransferKind.CREATE, TransferKind.REVERSAL})


def reversal_propose(*, key: str, transfer_key: str, reason: str, actor) -> Proposal:
    """Propose reversing a completed transfer by a new entry in the opposite direction, linked to it.
    R0110 for creation and reversal entries; R0108 if already reversed (checked again on approval)."""
    t = Transfer.objects.filter(key=transfer_key).first()
    if t is None:
        raise CetsError(R0504, transfer_key)
    if t.kind in IRREVERSIBLE:
        raise CetsError(R0110, t.kind)
    if Transfer.objects.filter(kind=TransferKind.REVERSAL, related=t).exists():
        raise CetsError(R0108, transfer_key)
    return proposal_submit(key=key, kind="reversal", payload={"transfer": transfer_key, "reason": reason}, actor=actor)


@four_eyes("reversal")
def _execute_reversal(p: Proposal, approver) -> dict:
    t = Transfer.objects.select_related("debit_account", "credit_account", "unit_type", "beneficiary").get(key=p.payload["transfer"])
    if Transfer.objects.filter(kind=TransferKind.REVERSAL, related=t).exists():
        raise CetsError(R0108, t.key)
    r = transfer_post(key=f"{p.key}:reversal", kind=TransferKind.REVERSAL, unit_type=t.unit_type, debit=Leg(t.credit_account, t.credit_position),
                      credit=Leg(t.debit_account, t.debit_position), quantity=t.quantity, reference=f"冲正 reversal: {p.payload['reason']}",
                      related=t, actor=p.proposed_by, approver=approver, beneficiary=t.beneficiary)
    return {"transfer": r.key, "reverses": t.key, "quantity_t": t.quantity}


# -- account closure (only when empty)

def account_close_propose(*, key: str, account: Account, actor) -> Proposal:
    """Propose closing an account; refused (R0109) while it holds any unit, checked again on approval."""
    if Holding.objects.filter(account=account, quantity__gt=0).exists():
        raise CetsError(R0109, account.number)
    return proposal_submit(key=key, kind="account_close", payload={"account": account.number}, actor=actor)


@four_eyes("account_close")
def _execute_account_close(p: Proposal, approver) -> dict:
    acc = Account.objects.select_for_update().get(number=p.payload["account"])
    if Holding.objects.filter(account=acc, quantity__gt=0).exists():
        raise CetsError(R0109, acc.number)
    acc.status = AccountStatus.CLOSED
    acc.closed_at = timezone.now()
    acc.save(update_fields=["status", "closed_at"])
    return {"account": acc.number, "status": acc.status}


@transaction.atomic
def holding_transfer(*, key: str, from_account: Account, to_account: Account, unit_type: UnitType, quantity: int, actor,
                     reference: str, effective_at: dt.datetime | None = None) -> Transfer:
    """Move units from one holder's registry position to another's (变更, Measures Art. 23: trades
    settle on the exchange's results). The actor must act for the debit holder (R0502)."""
    _holder_or_operator(actor, from_account)
    return transfer_post(key=key, kind=TransferKind.TRANSFER, unit_type=unit_type, debit=Leg(from_account, Position.REGISTRY),
                         credit=Leg(to_account, Position.REGISTRY), quantity=quantity, reference=reference, actor=actor,
                         effective_at=effective_at)


def _holder_or_operator(actor, account: Account) -> None:
    """R0502 unless ``actor`` acts for the account's holder or is a registry operator."""
    m = membership_of(actor)
    if m is None or (m.role != Role.REGISTRY_OPERATOR and m.organisation_id != account.holder_id):
        raise CetsError(R0502, account.number)


HOLDER_MOVES = {(Position.REGISTRY, Position.TRADING), (Position.TRADING, Position.REGISTRY)}


@transaction.atomic
def position_move(*, key: str, account: Account, unit_type: UnitType, from_position: str, to_position: str, quantity: int, actor,
                  effective_at: dt.datetime | None = None) -> Transfer:
    """Move units between the registry position (登记持仓) and the trading position (交易持仓) of one
    account (2023–2024 plan 附5: carry-over applications need units in the registry position).
    The holder or a registry operator; other positions are moved only by their own operations (R0111)."""
    if (from_position, to_position) not in HOLDER_MOVES:
        raise CetsError(R0111, f"{from_position} → {to_position}")
    _holder_or_operator(actor, account)
    return transfer_post(key=key, kind=TransferKind.POSITION_MOVE, unit_type=unit_type, debit=Leg(account, from_position),
                         credit=Leg(account, to_position), quantity=quantity, reference="持仓划转 position move", actor=actor,
                         effective_at=effective_at)


@transaction.atomic
def judicial_freeze(*, key: str, account: Account, unit_type: UnitType, quantity: int, court_ref: str, actor,
                    from_position: str = Position.REGISTRY, effective_at: dt.datetime | None = None) -> Transfer:
    """Freeze units on a court's order (司法冻结): they move to the frozen position and count toward
    holdings but cannot be used. Registry operators only (R0502)."""
    require_role(actor, Role.REGISTRY_OPERATOR)
    if from_position not in (Position.REGISTRY, Position.TRADING):
        raise CetsError(R0111, from_position)
    return transfer_post(key=key, kind=TransferKind.FREEZE, unit_type=unit_type, debit=Leg(account, from_position),
                         credit=Leg(account, Position.FROZEN), quantity=quantity, reference=f"司法冻结 {court_ref}", actor=actor,
                         effective_at=effective_at)


@transaction.atomic
def judicial_release(*, key: str, account: Account, unit_type: UnitType, quantity: int, court_ref: str, actor,
                     effective_at: dt.datetime | None = None) -> Transfer:
    """Release frozen units (解除冻结) back to the registry position. Registry operators only."""
    require_role(actor, Role.REGISTRY_OPERATOR)
    return transfer_post(key=key, kind=TransferKind.RELEASE, unit_type=unit_type, debit=Leg(account, Position.FROZEN),
                         credit=Leg(account, Position.REGISTRY), quantity=quantity, reference=f"解除冻结 {court_ref}", actor=actor,
                         effective_at=effective_at)


@transaction.atomic
def account_status_set(*, account: Account, status: str, reason: str, actor) -> Account:
    """Set an account open, restricted (no outgoing) or frozen (nothing moves but judicial entries).
    Closing goes through :func:`account_close_propose` (four eyes). Registry operators only."""
    require_role(actor, Role.REGISTRY_OPERATOR)
    if status not in (AccountStatus.OPEN, AccountStatus.RESTRICTED, AccountStatus.FROZEN):
        raise CetsError(R0106, status)
    acc = Account.objects.select_for_update().get(pk=account.pk)
    if acc.status == AccountStatus.CLOSED:
        raise CetsError(R0102, acc.number)
    acc.status = status
    acc.save(update_fields=["status"])
    return acc


@transaction.atomic
def holder_change_register(*, key: str, kind: str, from_holder: Organisation, to_holder: Organisation, lines: Sequence[tuple[UnitType, int]],
                           decision_ref: str, province_approver, actor, published_at: dt.datetime | None = None):
    """Register a change of holder on a merger or split (Measures Art. 18): the province has approved
    (``province_approver`` must be the provincial authority of ``from_holder``), the registry moves
    the units and publishes the change. On a merger every unit moves and the old account is closed.
    Idempotent on ``key``."""
    from .models import HolderChange

    existing = HolderChange.objects.filter(key=key).first()
    if existing:
        return existing
    require_role(actor, Role.REGISTRY_OPERATOR)
    require_role(province_approver, Role.PROVINCIAL_AUTHORITY, province=from_holder.province)
    src = Account.objects.get(holder=from_holder, market="national")
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


# --- the exchange's side of the registry (trading settlement, Measures Art. 23–24) -------------------
# Called only by trading services inside their own transaction: units for a sell order are held in the
# pending position at order entry, delivered to the buyer's trading position trade by trade, and the
# rest released when the order is done.


def exchange_hold(*, key: str, account: Account, unit_type: UnitType, quantity: int, reference: str,
                  effective_at: dt.datetime | None = None) -> Transfer:
    """Hold ``quantity`` tonnes (int) of the trading position for a sell order (trading → pending).
    R0302 if the trading position holds less; R0102/R0103 for a closed or frozen account."""
    return transfer_post(key=key, kind=TransferKind.POSITION_MOVE, unit_type=unit_type, debit=Leg(account, Position.TRADING),
                         credit=Leg(account, Position.PENDING), quantity=quantity, reference=reference, effective_at=effective_at)


def exchange_release(*, key: str, account: Account, unit_type: UnitType, quantity: int, reference: str,
                     effective_at: dt.datetime | None = None) -> Transfer:
    """Release units held for a sell order that is done (pending → trading)."""
    return transfer_post(key=key, kind=TransferKind.POSITION_MOVE, unit_type=unit_type, debit=Leg(account, Position.PENDING),
                         credit=Leg(account, Position.TRADING), quantity=quantity, reference=reference, effective_at=effective_at)


def exchange_deliver(*, key: str, seller: Account, buyer: Account, unit_type: UnitType, quantity: int, reference: str,
                     effective_at: dt.datetime | None = None) -> Transfer:
    """Deliver a trade's units: the seller's held units (pending) → the buyer's trading position."""
    return transfer_post(key=key, kind=TransferKind.TRANSFER, unit_type=unit_type, debit=Leg(seller, Position.PENDING),
                         credit=Leg(buyer, Position.TRADING), quantity=quantity, reference=reference, effective_at=effective_at)
