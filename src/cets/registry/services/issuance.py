"""Issuance (发放) and claw-back (多退少补): proposed as a batch of lines, posted on a second person's
approval — line by line through :func:`.transfers.transfer_post`, or set-based for large batches
(:func:`issuance_batch_post`). Both paths run the ledger's checks and build the journal rows with
:mod:`.ledger`, so they write the same journal (tests/registry/test_batch.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cets.core.batch import gc_paused
from cets.core.db import pipelined
from cets.core.errors import CetsError
from cets.parties.models import Organisation
from cets.parties.notifications import notify_batch, recipients, recipients_sql

from .. import chain
from ..checks import R0101, R0301, R0302, R0401, R1401, R1402
from ..kinds import INSTRUMENT_MARKET
from ..models import Account, AccountKind, Position, Proposal, Transfer, TransferKind, UnitType
from .accounts import system_account
from .blocks import has_serials
from .ledger import (
    HASH_COL,
    SQL_HELD,
    SQL_KEYS,
    SQL_LOCK_NUMBERS,
    AccountRow,
    EntryChecks,
    Leg,
    Party,
    check_people,
    check_quantity,
    chunks,
    entry_notices,
    holdings_heads_write,
    journal_row,
    journal_stream,
    lock_clause,
    prev_heads,
    select_any,
    seqs_reserve,
    transfer_digest,
)
from .proposals import _eff, four_eyes, proposal_submit
from .transfers import transfer_post


@dataclass(frozen=True)
class IssuanceLine:
    """One line of an issuance proposal: account number and quantity (tonnes; negative = claw-back).
    ``beneficiary`` is the entity's credit code when the account is a provincial authority account."""

    account: str
    quantity: int
    reference: str = ""
    beneficiary: str = ""


def _payload_lines(lines: Sequence[IssuanceLine]) -> list[dict]:
    """The proposal payload's lines: quantity 0 dropped, a quantity not an int refused (R0301)."""
    rows = []
    for ln in lines:
        if isinstance(ln.quantity, bool) or not isinstance(ln.quantity, int):
            raise CetsError(R0301, repr(ln.quantity))
        if ln.quantity:
            row = {"account": ln.account, "quantity": ln.quantity, "reference": ln.reference}
            if ln.beneficiary:
                row["beneficiary"] = ln.beneficiary
            rows.append(row)
    return rows


def issuance_propose(*, key: str, unit_type: UnitType, lines: Sequence[IssuanceLine], actor, effective_at: dt.datetime | None = None,
                     note: str = "") -> Proposal:
    """Propose an issuance (or claw-back, 多退少补) batch; it takes effect on a second person's approval.

    Only registry operators may propose (R0502). Idempotent on ``key``. Lines with quantity 0 are
    dropped; quantities must be integers (R0301).
    """
    rows = _payload_lines(lines)
    payload = {"unit_type": unit_type.code, "lines": rows, "note": note,
               "effective_at": effective_at.isoformat() if effective_at else None}
    return proposal_submit(key=key, kind="issue", payload=payload, actor=actor)


def _free_allocation_bureau(actor, market: str, province: str, accounts: Sequence[str]) -> None:
    """``actor`` is the provincial authority of pilot ``market`` in ``province`` and every account is in that province
    (R1401 for a market with a national level or no province, R0502 otherwise)."""
    from cets.parties.access import require_role
    from cets.parties.models import Role
    from cets.rules.markets import is_pilot

    if not is_pilot(market) or not province:
        raise CetsError(R1401, market)
    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=province)
    for number, prov in Account.objects.filter(number__in=list(accounts)).values_list("number", "province"):
        if prov and prov != province:
            require_role(actor, Role.PROVINCIAL_AUTHORITY, province=prov)


def free_allocation_propose(*, key: str, unit_type: UnitType, lines: Sequence[IssuanceLine], actor, province: str,
                            effective_at: dt.datetime | None = None, note: str = "", basis: dict | None = None) -> Proposal:
    """Propose a pilot market's free allocation batch (proposal kind ``free_allocation``): positive lines are issued
    from the market's total account, negative lines (a pre-issue above the final allocation, 多退少补) are returned to
    it. Proposed and approved by two different users of the market's provincial authority (R0501, R0502); posted on
    approval by :func:`issuance_lines_post` or :func:`issuance_batch_post` (the same journal as ``issue``).
    ``basis``: what the lines were computed from (shown to the approver; stored in the payload).

    Refusals: R1401 (not a pilot market of ``unit_type``'s instrument, or no province), R0502 (role or an account
    outside ``province``), R0301 (a quantity not an int), R0101 (unknown account), R1402 (a claw-back line larger than
    the account holds of ``unit_type`` in its registry position, named with the shortfall: nothing is proposed and
    the bureau decides), R0401 (key reused with another payload). Idempotent on ``key``. Source: 京环发〔2024〕8号 三(三)2."""
    from ..models import Holding

    market = INSTRUMENT_MARKET[unit_type.instrument]
    rows = _payload_lines(lines)
    _free_allocation_bureau(actor, market, province, [r["account"] for r in rows])
    known = dict(Account.objects.filter(number__in=[r["account"] for r in rows]).values_list("number", "pk"))
    for r in rows:
        if r["account"] not in known:
            raise CetsError(R0101, r["account"])
    existing = Proposal.objects.filter(key=key).first()
    if existing is None:  # a retry of the same key is answered by proposal_submit (no second holding check)
        for r in rows:
            if r["quantity"] < 0:
                held = Holding.objects.filter(account_id=known[r["account"]], unit_type=unit_type, position=Position.REGISTRY) \
                    .values_list("quantity", flat=True).first() or 0
                if held < -r["quantity"]:
                    raise CetsError(R1402, f"{r['account']}: claw-back {-r['quantity']} t, held {held} t, shortfall {-r['quantity'] - held} t")
    payload = {"unit_type": unit_type.code, "lines": rows, "note": note, "market": market, "province": province, "basis": basis or {},
               "effective_at": effective_at.isoformat() if effective_at else None}
    return proposal_submit(key=key, kind="free_allocation", payload=payload, actor=actor)


@four_eyes("free_allocation")
def _execute_free_allocation(p: Proposal, approver) -> dict:
    _free_allocation_bureau(approver, p.payload["market"], p.payload["province"], [ln["account"] for ln in p.payload["lines"]])
    return _execute_issue_lines(p, approver)


# Proposals with more lines than this are posted by :func:`issuance_batch_post` (set-based SQL); smaller
# ones line by line through :func:`transfer_post`. Both write exactly the same journal (tests/registry/test_batch.py).
BATCH_MIN_LINES = 8


@four_eyes("issue")
def _execute_issue(p: Proposal, approver) -> dict:
    return _execute_issue_lines(p, approver)


def _execute_issue_lines(p: Proposal, approver) -> dict:
    """Post an issuance-shaped proposal's lines (``issue`` and ``free_allocation``)."""
    ut = UnitType.objects.get(code=p.payload["unit_type"])
    lines = [IssuanceLine(account=ln["account"], quantity=ln["quantity"], reference=ln["reference"], beneficiary=ln.get("beneficiary", ""))
             for ln in p.payload["lines"]]
    post = issuance_batch_post if len(lines) > BATCH_MIN_LINES else issuance_lines_post
    return post(key=p.key, unit_type=ut, lines=lines, actor=p.proposed_by, approver=approver, effective_at=_eff(p))


def line_legs(ln: IssuanceLine, total, account):
    """``(kind, quantity, debit, credit)`` of one issuance line: an ``issue`` national total → account for a
    positive quantity (tonnes, int), a ``clawback`` account → national total for a negative one.
    ``total`` and ``account`` are whatever the caller names accounts by (objects, or (id, number))."""
    if ln.quantity > 0:
        return TransferKind.ISSUE, ln.quantity, total, account
    return TransferKind.CLAWBACK, -ln.quantity, account, total


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
        kind, qty, d, c = line_legs(ln, total, acc)
        transfer_post(key=f"{key}:{i}", kind=kind, unit_type=unit_type, debit=Leg(d, Position.REGISTRY), credit=Leg(c, Position.REGISTRY),
                      quantity=qty, reference=ln.reference, actor=actor, approver=approver, effective_at=effective_at,
                      beneficiary=bens.get(ln.beneficiary))
        if kind == TransferKind.ISSUE:
            issued += qty
        else:
            clawed += qty
    return {"issued_t": issued, "clawed_back_t": clawed, "lines": len(lines)}


def _existing_digests(keys: Sequence[str]) -> dict[str, str]:
    """Idempotency digests of journal entries already posted under ``keys`` (a retried proposal)."""
    out = {}
    for part in chunks(list(keys), 900):
        for t in Transfer.objects.filter(key__in=part).select_related("unit_type", "debit_account", "credit_account"):
            out[t.key] = transfer_digest(t)
    return out


@gc_paused()  # thousands of plain rows, no cycles (issue 19)
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
    is written (on PostgreSQL the journal rows go to the server by one COPY as the lines are checked; a
    refusal aborts it, leaving only a gap in ``seq``). Idempotent: lines whose key is already in the journal
    with the same content are skipped, so a proposal posted twice changes nothing.
    Rules: 2023–2024 allocation plan, issuance flow (cn-ets-rules.md §1.4.4: pre-allocation, then the
    final allocation issued or clawed back, 多退少补) and the Registry rules' 初始分配/发放 operation
    (§4.1). The batch changes how the entries are written, not what they are. Units with serial numbers
    (CCER, :mod:`.blocks`) are posted line by line so that their serial blocks follow each entry."""
    if has_serials(unit_type):
        return issuance_lines_post(key=key, unit_type=unit_type, lines=lines, actor=actor, approver=approver, effective_at=effective_at)
    total = system_account(INSTRUMENT_MARKET[unit_type.instrument], AccountKind.NATIONAL_TOTAL)
    wanted = sorted({ln.beneficiary for ln in lines if ln.beneficiary})
    bens = {u: pk for part in chunks(wanted, 900) for u, pk in Organisation.objects.filter(uscc__in=part).values_list("uscc", "pk")}
    conn = transaction.get_connection()
    vendor = conn.vendor
    pos = Position.REGISTRY
    keys = [f"{key}:{i}" for i in range(len(lines))]
    with conn.cursor() as cur:
        # 1. every account of the proposal — the market's total and those the lines name — locked in id order (the
        #    order transfer_post locks in, so no deadlock with it; one statement on PostgreSQL), with its holder
        locked = select_any(cur, vendor, SQL_LOCK_NUMBERS + lock_clause(conn), sorted({ln.account for ln in lines}), head=(total.pk,))
        rows = {r[0]: AccountRow(*r[:6]) for r in locked}
        accounts = {r[1]: r[0] for r in locked}  # number → id
        holders = {r[0]: r[6] for r in locked if r[6] is not None}  # the holders of the notices below
        ids = sorted(rows)
        # 2. which lines were posted before (a retry), and what the accounts hold
        posted = {r[0] for r in select_any(cur, vendor, SQL_KEYS, keys)}
        held: dict[int, int] = dict(select_any(cur, vendor, SQL_HELD, ids, head=(unit_type.pk, pos)))
        had_row = set(held)
        theirs = _existing_digests(sorted(posted)) if posted else {}
        # 3. check and chain every line in order, against running balances and heads
        heads = {pk: r.head_hash or chain.GENESIS for pk, r in rows.items()}
        last: dict[int, int] = {}  # account id → index of its last new entry
        entries: list[list] = []
        adapt = conn.ops.adapt_datetimefield_value
        checks = EntryChecks()  # the lines' entry checks, each passing combination once
        issued = clawed = 0
        # 4. the journal, with explicit ascending seq in line order, written as the lines are checked and chained (one
        #    COPY on PostgreSQL: the server stores the rows meanwhile, issue 19); a refused line aborts it and nothing is
        #    stored. The sequence numbers are taken first (a refused batch leaves a gap in seq, as any rollback does).
        fresh = sum(1 for k in keys if k not in posted)
        seqs = iter(seqs_reserve(cur, vendor, fresh) if fresh else ())
        with journal_stream(cur) if fresh else nullcontext(None) as write:
            for i, ln in enumerate(lines):
                acc_id = accounts.get(ln.account)
                if acc_id is None:
                    raise CetsError(R0101, ln.account)
                kind, qty, (d_id, d_num), (c_id, c_num) = line_legs(ln, (total.pk, total.number), (acc_id, ln.account))
                check_quantity(qty)
                check_people(actor, approver)
                ben = bens.get(ln.beneficiary) if ln.beneficiary else None
                if kind == TransferKind.ISSUE:
                    issued += qty
                else:
                    clawed += qty
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
                checks(kind, unit_type, d_acc, pos, c_acc, pos)
                have = held.get(d_id)
                if have is None or have < qty:
                    raise CetsError(R0302, f"{d_acc.number} {unit_type.code} {pos}: {have or 0} < {qty}")
                held[d_id] = have - qty
                held[c_id] = held.get(c_id, 0) + qty
                now = timezone.now()
                d_prev, c_prev = prev_heads(d_acc, c_acc, heads)
                row = journal_row(key=keys[i], kind=kind, unit_type=unit_type, debit=d_acc, debit_position=pos, credit=c_acc, credit_position=pos,
                                  quantity=qty, reference=ln.reference, related=None, actor=actor, approver=approver,
                                  effective_at=effective_at or now, recorded_at=now, debit_prev=d_prev, credit_prev=c_prev, beneficiary_id=ben,
                                  adapt=adapt)
                heads[d_id] = heads[c_id] = row[HASH_COL]
                last[d_id] = last[c_id] = len(entries)
                entry = [next(seqs), *row]
                write(entry)  # PostgreSQL: the server stores it while the next line is checked and chained
                entries.append(entry)
        result = {"issued_t": issued, "clawed_back_t": clawed, "lines": len(lines)}
        if not entries:
            return result
        # 5. holdings: each touched account's net change; existing rows updated, missing ones inserted (only a
        #    credit can need a new row, so its quantity is ≥ 0)
        delta: dict[int, int] = {}
        for e in entries:
            delta[e[4]] = delta.get(e[4], 0) - e[8]
            delta[e[6]] = delta.get(e[6], 0) + e[8]
        with pipelined(conn):  # PostgreSQL: the server writes holdings and heads while the notices are built (issue 19)
            # 6. heads: each touched account points at its last new entry
            holdings_heads_write(cur, unit_type_id=unit_type.pk, position=pos,
                                 add=[(acc_id, dq) for acc_id, dq in sorted(delta.items()) if acc_id in had_row],
                                 insert=[(acc_id, dq) for acc_id, dq in sorted(delta.items()) if acc_id not in had_row],
                                 heads=[(entries[ix][1 + HASH_COL], entries[ix][0], acc_id) for acc_id, ix in sorted(last.items())])
            # 7. the holders' notices, set-based (the same notices as line by line), written below by one bulk insert
            notices = []
            for e in entries:
                d, c = rows[e[4]], rows[e[6]]  # [seq, *T_COLS]: key 1, kind 2, debit 4/5, credit 6/7, quantity 8, reference 9
                notices += entry_notices(key=e[1], kind=e[2], unit_type_code=unit_type.code, quantity=e[8],
                                         debit=Party(d.number, d.kind, holders.get(d.pk)), debit_position=e[5],
                                         credit=Party(c.number, c.kind, holders.get(c.pk)), credit_position=e[7], reference=e[9])
    with conn.cursor() as cur:  # their e-mail recipients, read here: one statement (an array on PostgreSQL), none after the commit
        people = recipients(select_any(cur, vendor, recipients_sql(), sorted({n.organisation_id for n in notices})))
    notify_batch(notices, people=people)  # instances only for the notices mailed
    return result

