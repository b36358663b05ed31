"""A batch of transfers in one transaction, set-based: :func:`transfer_batch_post` posts a list of entries
(the exchange's settlement of a batch of orders: holds, deliveries, releases) with the journal rows, hashes,
holdings, heads and notices that :func:`cets.registry.services.transfers.transfer_post` would write posting them
one by one in the same order under the same clock (``tests/registry/test_batch_transfers.py`` proves it on SQLite
and PostgreSQL). The checks and the row come from :mod:`.ledger` (refusal precedence documented there).

Statements: one read of the keys, one lock of all accounts (in id order), one read of the debited and credited
holdings per (unit type, position), one reservation of journal sequence numbers, the journal (``COPY`` on
PostgreSQL), the holdings and heads (arrays on PostgreSQL), the notices — instead of about six statements a transfer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cets.core.errors import CetsError
from cets.parties.checks import L0601
from cets.parties.models import Organisation
from cets.parties.notifications import notify_many

from ..checks import R0101, R0302, R0401
from ..models import Transfer, UnitType
from . import ledger
from .blocks import has_serials
from .ledger import (
    SQL_HELD,
    SQL_KEYS,
    SQL_LOCK_MANY,
    AccountRow,
    Leg,
    check_entry,
    check_people,
    check_quantity,
    entry_notices,
    holdings_heads_write,
    journal_copy,
    journal_row,
    party,
    prev_heads,
    select_any,
    seqs_reserve,
)


@dataclass(frozen=True)
class TransferLine:
    """One entry of :func:`transfer_batch_post`: the arguments of :func:`.transfers.transfer_post` (quantity in tonnes
    CO2e, int; ``debit`` None for an entry that creates units)."""

    key: str
    kind: str
    unit_type: UnitType
    debit: Leg | None
    credit: Leg
    quantity: int
    reference: str = ""
    related: Transfer | None = None
    actor: object = None
    approver: object = None
    effective_at: dt.datetime | None = None
    beneficiary: Organisation | None = None
    via_exchange: bool = False


class BatchRefused(CetsError):
    """A refusal of one line of a batch: the code and detail that line would raise posted one by one after the lines
    before it (``check``, ``detail``), and its index in the batch (``line``). The batch wrote nothing."""

    def __init__(self, error: CetsError, line: int) -> None:
        self.line = line
        super().__init__(error.check, error.detail)


def transfer_batch_post(*, lines: Sequence[TransferLine], result: bool = True, savepoint: bool = True) -> list[Transfer]:
    """Post ``lines`` in order, in one transaction, set-based; returns their entries (``Transfer``, in order).

    The same as :func:`.transfers.transfer_post` called line by line under the same clock: the same checks in the
    same precedence (:mod:`.ledger`: R0301, R0501, R0101, R0105, R0106, R0111, R0102/R0103/R0104, R0202, R0302 on the
    running balance the lines before leave), the same journal rows and hashes (chained through the running heads),
    holdings, heads and holders' notices (one ``recorded_at`` for the batch: the clock read once).

    Refusals: the first line refused refuses the whole batch — nothing is written — with :class:`BatchRefused`
    (a :class:`CetsError` with that line's code and detail, and ``line``, its index), so the caller can drop the
    command that line belongs to and post the rest again. For new keys only: a key already in the journal is R0401,
    a key twice in the batch L0601 (the exchange's keys are new by construction; a retry of a whole batch is the
    caller's, in its transaction). Unit types with serial numbers (CCER: the blocks follow each entry) are posted
    line by line through ``transfer_post``, which writes the same rows.

    ``result=False`` (the exchange's group commit, which reads nothing back): the same rows, no ``Transfer`` built, an
    empty list returned; the holders' notices are written from plain tuples (:func:`_notices_write`).
    ``savepoint=False`` (inside a caller's transaction that rolls back as a whole on any refusal, as the group commit's
    batch does): no savepoint around the batch — a refusal then leaves the caller's transaction to be rolled back.
    """
    if not lines:
        return []
    if any(has_serials(ln.unit_type) for ln in lines):
        return _one_by_one(lines)
    with transaction.atomic(savepoint=savepoint):
        return _post_set(lines, result)


def _one_by_one(lines: Sequence[TransferLine]) -> list[Transfer]:
    from .transfers import transfer_post

    out = []
    with transaction.atomic():
        for i, ln in enumerate(lines):
            try:
                out.append(transfer_post(key=ln.key, kind=ln.kind, unit_type=ln.unit_type, debit=ln.debit, credit=ln.credit, quantity=ln.quantity,
                                         reference=ln.reference, related=ln.related, actor=ln.actor, approver=ln.approver,
                                         effective_at=ln.effective_at, beneficiary=ln.beneficiary, via_exchange=ln.via_exchange))
            except CetsError as e:
                raise BatchRefused(e, i) from None
    return out


def _post_set(lines: Sequence[TransferLine], result: bool = True) -> list[Transfer]:
    conn = transaction.get_connection()
    vendor = conn.vendor
    with conn.cursor() as cur:
        posted = {r[0] for r in select_any(cur, vendor, SQL_KEYS, [ln.key for ln in lines])}
        seen: set[str] = set()
        # lock every account in id order (one statement per chunk; SQLite's IMMEDIATE transaction is the lock there)
        ids = sorted({ln.credit.account.pk for ln in lines} | {ln.debit.account.pk for ln in lines if ln.debit is not None})
        rows = {r[0]: AccountRow(*r[:6]) for r in select_any(cur, vendor, SQL_LOCK_MANY + ledger.lock_clause(conn), ids)}
        # the holdings the lines touch, per (unit type, position)
        touched: dict[tuple[int, str], set[int]] = {}
        for ln in lines:
            touched.setdefault((ln.unit_type.pk, ln.credit.position), set()).add(ln.credit.account.pk)
            if ln.debit is not None:
                touched.setdefault((ln.unit_type.pk, ln.debit.position), set()).add(ln.debit.account.pk)
        stored: dict[tuple[int, int, str], int] = {}
        for (ut, pos), accs in touched.items():
            for acc, q in select_any(cur, vendor, SQL_HELD, sorted(accs), head=(ut, pos)):
                stored[(acc, ut, pos)] = q
        balance = dict(stored)
        heads: dict[int, tuple[str, int]] = {}  # account id → (hash, index of its last line)
        running: dict[int, str] = {}  # account id → its head hash after the lines so far
        now = timezone.now()
        adapt = conn.ops.adapt_datetimefield_value
        values: list[list] = []
        passed: set[tuple] = set()  # (kind, unit type, debit, position, credit, position) that check_entry passed
        for i, ln in enumerate(lines):
            try:
                check_quantity(ln.quantity)
                check_people(ln.actor, ln.approver)
                if ln.key in posted:
                    raise CetsError(R0401, ln.key)
                if ln.key in seen:
                    raise CetsError(L0601, ln.key)
                seen.add(ln.key)
                c_id = ln.credit.account.pk
                d_id = ln.debit.account.pk if ln.debit is not None else c_id
                if c_id not in rows or d_id not in rows:
                    raise CetsError(R0101)
                d_acc = rows[d_id] if ln.debit is not None else None
                c_acc = rows[c_id]
                d_pos = ln.debit.position if ln.debit is not None else ""
                memo = (ln.kind, ln.unit_type.pk, d_id if d_acc is not None else None, d_pos, c_id, ln.credit.position)
                if memo not in passed:  # the accounts' rows are fixed under the lock: the same entry checks the same
                    check_entry(ln.kind, ln.unit_type, d_acc, d_pos, c_acc, ln.credit.position)
                    passed.add(memo)
                ut = ln.unit_type.pk
                if d_acc is not None:
                    have = balance.get((d_id, ut, d_pos), 0)
                    if have < ln.quantity:
                        raise CetsError(R0302, f"{d_acc.number} {ln.unit_type.code} {d_pos}: {have} < {ln.quantity}")
                    balance[(d_id, ut, d_pos)] = have - ln.quantity
                balance[(c_id, ut, ln.credit.position)] = balance.get((c_id, ut, ln.credit.position), 0) + ln.quantity
            except CetsError as e:
                raise BatchRefused(e, i) from None
            debit_prev, credit_prev = prev_heads(d_acc, c_acc, running)
            row = journal_row(key=ln.key, kind=ln.kind, unit_type=ln.unit_type, debit=d_acc, debit_position=d_pos, credit=c_acc,
                              credit_position=ln.credit.position, quantity=ln.quantity, reference=ln.reference, related=ln.related,
                              actor=ln.actor, approver=ln.approver, effective_at=ln.effective_at or now, recorded_at=now,
                              debit_prev=debit_prev, credit_prev=credit_prev, beneficiary_id=ln.beneficiary.pk if ln.beneficiary else None,
                              adapt=adapt)
            values.append(row)
            h = row[ledger.HASH_COL]
            heads[c_id], running[c_id] = (h, i), h
            if d_acc is not None:
                heads[d_id], running[d_id] = (h, i), h
        seqs = seqs_reserve(cur, vendor, len(lines))
        journal_copy(cur, [[s, *r] for s, r in zip(seqs, values)])
        groups: dict[tuple[int, str], tuple[list, list]] = {}
        for (acc, ut, pos), q in balance.items():
            add, insert = groups.setdefault((ut, pos), ([], []))
            if (acc, ut, pos) not in stored:
                insert.append((acc, q))
            elif q != stored[(acc, ut, pos)]:
                add.append((acc, q - stored[(acc, ut, pos)]))
        head_rows = sorted((h, seqs[i], acc) for acc, (h, i) in heads.items())
        for n, ((ut, pos), (add, insert)) in enumerate(sorted(groups.items())):
            holdings_heads_write(cur, unit_type_id=ut, position=pos, add=sorted(add), insert=sorted(insert),
                                 heads=head_rows if n == 0 else [])
    notices = [n for ln in lines for n in entry_notices(
        key=ln.key, kind=ln.kind, unit_type_code=ln.unit_type.code, quantity=ln.quantity,
        debit=party(ln.debit.account) if ln.debit is not None else None, debit_position=ln.debit.position if ln.debit is not None else "",
        credit=party(ln.credit.account), credit_position=ln.credit.position, reference=ln.reference, via_exchange=ln.via_exchange)]
    if not result:
        _notices_write(notices, now)
        return []
    notify_many(notices, at=now)
    out = []
    for s, ln, r in zip(seqs, lines, values):
        out.append(Transfer(seq=s, key=ln.key, kind=ln.kind, unit_type=ln.unit_type, debit_account_id=r[3], debit_position=r[4],
                            credit_account_id=r[5], credit_position=r[6], quantity=ln.quantity, reference=ln.reference, related=ln.related,
                            beneficiary=ln.beneficiary, actor=ln.actor, approver=ln.approver, effective_at=ln.effective_at or now,
                            recorded_at=now, debit_prev_hash=r[14], credit_prev_hash=r[15], hash=r[ledger.HASH_COL]))
    return out


_N_COLS = ("organisation_id", "user_id", "kind", "title_zh", "title_en", "body_zh", "body_en", "link", "created_at")


def _notices_write(notices: list, at: dt.datetime) -> None:
    """The rows :func:`cets.parties.notifications.notify_many` writes for ``notices`` (ids from the table's default, in
    order), from plain tuples: one ``COPY`` on PostgreSQL, one ``executemany`` elsewhere. The e-mail, after the commit,
    as ``notify_many``'s: the notified organisations' active members with an address are read then (one statement) and
    only if there are any are the rows read back and mailed (:func:`cets.parties.notifications.email_written`)."""
    from cets.parties.models import Notification
    from cets.parties.notifications import MAX_TITLE

    if not notices:
        return
    conn = transaction.get_connection()
    table = Notification._meta.db_table
    pg = conn.vendor == "postgresql"
    when = at if pg else conn.ops.adapt_datetimefield_value(at)
    data = [(n.organisation_id, n.user_id, n.kind[:32], n.title_zh[:MAX_TITLE], n.title_en[:MAX_TITLE], n.body_zh, n.body_en, n.link[:300], when)
            for n in notices]
    if pg:
        with conn.connection.cursor() as raw, raw.copy(f"COPY {table} ({', '.join(_N_COLS)}) FROM STDIN") as copy:
            for r in data:
                copy.write_row(r)
    else:
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {table} ({', '.join(_N_COLS)}) VALUES ({', '.join(['%s'] * len(_N_COLS))})", data)
    orgs = {n.organisation_id for n in notices}
    transaction.on_commit(lambda: _notices_email(orgs, at))


def _notices_email(orgs: set[int], at: dt.datetime) -> None:
    """After the commit of :func:`_notices_write`: e-mail its rows (those of ``orgs`` created at ``at``) to the
    organisations' active members with an address, when there are any."""
    from cets.parties.models import Membership, Notification
    from cets.parties.notifications import email_written

    people: dict[int, list[tuple[int, str]]] = {}
    for org_id, uid, email in (Membership.objects.filter(organisation_id__in=orgs, user__is_active=True).exclude(user__email="")
                               .values_list("organisation_id", "user_id", "user__email")):
        people.setdefault(org_id, []).append((uid, email))
    if people:
        email_written(list(Notification.objects.filter(created_at=at, organisation_id__in=list(people), emailed_at__isnull=True).order_by("pk")), people)
