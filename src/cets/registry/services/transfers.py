"""Single transfers: :func:`transfer_post` (every movement that is not a batch goes through it) and the
holder's own transfer :func:`holding_transfer`. The checks and the journal row come from
:mod:`.ledger` (refusal precedence documented there)."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from cets.core.db import prepared_cursor
from cets.core.errors import CetsError
from cets.parties.access import membership_of
from cets.parties.models import Organisation
from cets.parties.notifications import MAX_TITLE, email_written, notify_many, recipients, written_notices

from .. import chain
from ..checks import R0101, R0302, R0401, R0506
from ..models import Account, Position, Transfer, TransferKind, UnitType
from . import ledger
from .accounts import _holder_or_operator
from .blocks import blocks_follow, has_serials
from .ledger import (
    HASH_COL,
    SQL_AVAILABLE,
    SQL_CREDIT,
    SQL_DEBIT,
    SQL_HEADS,
    SQL_JOURNAL,
    SQL_LOCK,
    AccountRow,
    Leg,
    account_row,
    check_entry,
    check_people,
    check_quantity,
    cursor_for,
    entry_content,
    entry_notices,
    fingerprint,
    journal_row,
    lock_clause,
    party,
    prev_heads,
    transfer_digest,
)


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
    via_exchange: bool = False,
) -> Transfer:
    """Post one transfer of ``quantity`` tonnes CO2e (int): check, move the holdings, append the chained
    journal entry, atomically.

    Idempotent on ``key``: the same key with the same content returns the first entry; with other
    content raises R0401. Refusals, in the order of :mod:`cets.registry.services.ledger`: R0301, R0501,
    R0401, R0101, R0105, R0106, R0111, R0102/R0103/R0104, R0202, R0302. A refusal changes nothing.

    A new entry notifies the holders on its legs in the same transaction (:func:`.ledger.entry_notices`,
    :mod:`cets.parties.notifications`); ``via_exchange`` (the exchange's settlement) names the exchange, not
    the counterparty, in the notices. A retry notifies nothing.

    On PostgreSQL (a unit type without serial numbers) it is one statement, :func:`_post_one`: outside a transaction
    one round trip with its commit, inside the caller's transaction one statement and no savepoint.
    """
    quantity = check_quantity(quantity)
    debit_acc_id = debit.account.pk if debit else None

    def digest_args() -> dict:  # what a retry must repeat; built only when a retry is seen
        return dict(
            kind=kind, unit_type=unit_type.code, debit=debit.account.number if debit else "", debit_position=debit.position if debit else "",
            credit=credit.account.number, credit_position=credit.position, quantity=quantity, reference=reference,
            beneficiary=str(beneficiary.pk) if beneficiary else "",
        )

    check_people(actor, approver)
    conn = transaction.get_connection()
    if conn.vendor == "postgresql" and ledger.PG_FUNCTION and not has_serials(unit_type):
        entry = _post_one(conn, key, kind, unit_type, debit, credit, quantity, reference, related, actor, approver, effective_at,
                          beneficiary, via_exchange, digest_args)
        if entry is not None:
            return entry
        # a refusal of the accounts as the caller loaded them, or accounts changed since: the path below decides, on the
        # locked rows, with the documented precedence (the function wrote nothing)
    try:
        # A savepoint when nested, so that a refusal leaves the caller's transaction usable and unchanged.
        with transaction.atomic():
            entry = _post_locked(key, kind, unit_type, debit, credit, quantity, reference, related, actor, approver, effective_at, debit_acc_id,
                                 beneficiary)
            if has_serials(unit_type):  # credits with serial numbers: the blocks follow the entry (services/blocks.py)
                blocks_follow(entry)
            notify_many(entry_notices(key=key, kind=kind, unit_type_code=unit_type.code, quantity=quantity,
                                      debit=party(debit.account) if debit else None, debit_position=debit.position if debit else "",
                                      credit=party(credit.account), credit_position=credit.position, reference=reference,
                                      via_exchange=via_exchange), at=entry.recorded_at)
            return entry
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
    if transfer_digest(t) != chain.idempotency_digest(**digest_args):
        raise CetsError(R0401, key)
    return t


class _AlreadyPosted(Exception):
    """Raised inside the transaction when the key is found in the journal; rolls back, then answers as a retry."""


def _post_locked(key, kind, unit_type, debit, credit, quantity, reference, related, actor, approver, effective_at, debit_acc_id,
                 beneficiary=None):
    conn = transaction.get_connection()
    if conn.vendor == "postgresql" and ledger.PG_FUNCTION:
        entry = _post_function(conn, key, kind, unit_type, debit, credit, quantity, reference, related, actor, approver, effective_at,
                               beneficiary)
        if entry is not None:
            return entry
        # a refusal before the lock, or accounts changed since the caller read them: the portable path decides, on the
        # locked rows, with the documented precedence (the function wrote nothing; its locks are the ones taken again)
    c_id = credit.account.pk
    d_id = debit_acc_id if debit_acc_id is not None else c_id
    lock = SQL_LOCK + lock_clause(conn)
    with conn.wrap_database_errors, cursor_for(conn) as cur:  # psycopg errors as Django's (a lost key race: IntegrityError)
        # 1. lock both accounts in id order (no deadlocks; SQLite's IMMEDIATE transaction is the lock there),
        #    and learn whether this key was posted before (a retry)
        cur.execute(lock, [key, min(d_id, c_id), max(d_id, c_id)])
        fetched = cur.fetchall()
        if fetched and fetched[0][6]:
            raise _AlreadyPosted
        rows = {r[0]: AccountRow(*r[:6]) for r in fetched}
        if c_id not in rows or d_id not in rows:
            raise CetsError(R0101)
        d_acc = rows[d_id] if debit else None
        c_acc = rows[c_id]
        d_pos = debit.position if debit else ""
        check_entry(kind, unit_type, d_acc, d_pos, c_acc, credit.position)
        # 2. debit, only if enough is there
        if d_acc is not None:
            cur.execute(SQL_DEBIT, [quantity, d_acc.pk, unit_type.pk, d_pos, quantity])
            if cur.rowcount != 1:
                cur.execute(SQL_AVAILABLE, [d_acc.pk, unit_type.pk, d_pos])
                have = cur.fetchone()
                raise CetsError(R0302, f"{d_acc.number} {unit_type.code} {d_pos}: {have[0] if have else 0} < {quantity}")
        # 3. credit (insert the holding or add to it)
        cur.execute(SQL_CREDIT, [c_acc.pk, unit_type.pk, credit.position, quantity])
        # 4. the journal entry, chained to both accounts' heads
        now = timezone.now()
        effective_at = effective_at or now
        debit_prev, credit_prev = prev_heads(d_acc, c_acc)
        values = journal_row(key=key, kind=kind, unit_type=unit_type, debit=d_acc, debit_position=d_pos, credit=c_acc,
                             credit_position=credit.position, quantity=quantity, reference=reference, related=related, actor=actor,
                             approver=approver, effective_at=effective_at, recorded_at=now, debit_prev=debit_prev, credit_prev=credit_prev,
                             beneficiary_id=beneficiary.pk if beneficiary else None, adapt=conn.ops.adapt_datetimefield_value)
        cur.execute(SQL_JOURNAL, values)
        seq = cur.fetchone()[0]
        h = values[HASH_COL]
        # 5. both heads move to this entry
        cur.execute(SQL_HEADS, [h, seq, d_id, c_id])
    return Transfer(seq=seq, key=key, kind=kind, unit_type=unit_type, debit_account_id=d_acc.pk if d_acc else None,
                    debit_position=d_pos, credit_account_id=c_acc.pk, credit_position=credit.position,
                    quantity=quantity, reference=reference, related=related, beneficiary=beneficiary, actor=actor, approver=approver,
                    effective_at=effective_at, recorded_at=now, debit_prev_hash=debit_prev, credit_prev_hash=credit_prev, hash=h)


def _checked_entry(key, kind, unit_type, debit, credit, quantity, reference, related, actor, approver, effective_at, beneficiary):
    """What both PostgreSQL functions are called with: the checks on the accounts as the caller loaded them, then the
    entry's content (the text its hash covers) stamped now — ``(debit row, credit row, debit position, recorded_at,
    effective_at, beneficiary id, content)``. ``None`` when the checks refuse: the portable path then answers a retry of
    the key before the refusal, in the ledger's documented precedence."""
    d_acc = account_row(debit.account) if debit else None
    c_acc = account_row(credit.account)
    d_pos = debit.position if debit else ""
    try:
        check_entry(kind, unit_type, d_acc, d_pos, c_acc, credit.position)
    except CetsError:
        return None
    now = timezone.now()
    effective_at = effective_at or now
    ben_id = beneficiary.pk if beneficiary else None
    text = entry_content(key=key, kind=kind, unit_type=unit_type, debit=d_acc, debit_position=d_pos, credit=c_acc,
                         credit_position=credit.position, quantity=quantity, reference=reference, related=related, actor=actor,
                         approver=approver, effective_at=effective_at, recorded_at=now, beneficiary_id=ben_id)
    return d_acc, c_acc, d_pos, now, effective_at, ben_id, text


def _post_function(conn, key, kind, unit_type, debit, credit, quantity, reference, related, actor, approver, effective_at, beneficiary):
    """PostgreSQL: the checks on the accounts as the caller loaded them, then one call of ``cets_ledger_post``
    (migration registry 0009), which confirms them under the lock and writes. ``None``: take the portable path."""
    entry = _checked_entry(key, kind, unit_type, debit, credit, quantity, reference, related, actor, approver, effective_at, beneficiary)
    if entry is None:
        return None
    d_acc, c_acc, d_pos, now, effective_at, ben_id, text = entry
    adapt = conn.ops.adapt_datetimefield_value
    with conn.wrap_database_errors, cursor_for(conn) as cur:
        cur.execute(ledger.SQL_POST_FN, [
            key, d_acc.pk if d_acc else None, c_acc.pk, fingerprint(d_acc) if d_acc else None, fingerprint(c_acc), kind, unit_type.pk,
            d_pos, credit.position, quantity, reference, related.pk if related else None, actor.pk if actor else None,
            approver.pk if approver else None, adapt(effective_at), adapt(now), ben_id, text])
        status, seq, debit_prev, credit_prev, h, available = cur.fetchone()
    if status == "posted":
        raise _AlreadyPosted
    if status == "stale":
        return None
    if status == "short":
        raise CetsError(R0302, f"{d_acc.number} {unit_type.code} {d_pos}: {available} < {quantity}")
    return Transfer(seq=seq, key=key, kind=kind, unit_type=unit_type, debit_account_id=d_acc.pk if d_acc else None,
                    debit_position=d_pos, credit_account_id=c_acc.pk, credit_position=credit.position,
                    quantity=quantity, reference=reference, related=related, beneficiary=beneficiary, actor=actor, approver=approver,
                    effective_at=effective_at, recorded_at=now, debit_prev_hash=debit_prev, credit_prev_hash=credit_prev, hash=h)


def _post_one(conn, key, kind, unit_type, debit, credit, quantity, reference, related, actor, approver, effective_at, beneficiary,
              via_exchange, digest_args):
    """PostgreSQL, a unit type without serial numbers: the whole transfer in one statement, ``cets_ledger_post_one``
    (migration registry 0010, body 0012) — lock, retry answer, confirmation of the checked accounts, debit, credit, journal row
    and hash, heads, the holders' notices and their e-mail recipients. Outside a transaction the statement is its own
    transaction (one round trip, commit included); inside the caller's it runs there without a savepoint, because it
    writes nothing unless it posts (a refusal is raised after the statement, and leaves the caller's transaction
    usable). ``None``: the checks refuse the accounts as loaded, or they changed under the lock: take the other path.
    The same journal row, hash, holdings, heads and notices as the portable path (``tests/registry/test_ledger_pg.py``)."""
    entry = _checked_entry(key, kind, unit_type, debit, credit, quantity, reference, related, actor, approver, effective_at, beneficiary)
    if entry is None:
        return None
    d_acc, c_acc, d_pos, now, effective_at, ben_id, text = entry
    notices = entry_notices(key=key, kind=kind, unit_type_code=unit_type.code, quantity=quantity, debit=party(debit.account) if debit else None,
                            debit_position=d_pos, credit=party(credit.account), credit_position=credit.position, reference=reference,
                            via_exchange=via_exchange)
    if len({(n.kind, n.link, n.user_id) for n in notices}) > 1:
        return None  # the statement takes one kind and link for all its notices, to all users of each organisation
    adapt = conn.ops.adapt_datetimefield_value
    params = [key, d_acc.pk if d_acc else None, c_acc.pk, fingerprint(d_acc) if d_acc else None, fingerprint(c_acc), kind, unit_type.pk,
              d_pos, credit.position, quantity, reference, related.pk if related else None, actor.pk if actor else None,
              approver.pk if approver else None, adapt(effective_at), adapt(now), ben_id, text,
              [n.organisation_id for n in notices], [n.title_zh[:MAX_TITLE] for n in notices], [n.title_en[:MAX_TITLE] for n in notices],
              [n.body_zh for n in notices], [n.body_en for n in notices], notices[0].kind[:32] if notices else "ledger",
              notices[0].link[:300] if notices else ""]
    conn.ensure_connection()
    nested = conn.in_atomic_block
    if nested:
        conn.validate_no_broken_transaction()
    # server-side binding, prepared once per connection (core.db): the server parses and plans the call once, and the
    # client sends the parameters instead of quoting them into the text (Django's cursors bind on the client)
    with prepared_cursor(conn) as cur:
        if nested:  # an unexpected database error marks the caller's transaction for rollback, as Django's own statements do
            with transaction.atomic(savepoint=False):
                cur.execute(ledger.SQL_POST_ONE, params, prepare=True)
        else:
            cur.execute(ledger.SQL_POST_ONE, params, prepare=True)
        (status, seq, debit_prev, credit_prev, h, available, notice_ids, mail_org, mail_user, mail_email, e_kind, e_ut, e_debit, e_dpos,
         e_credit, e_cpos, e_qty, e_ref, e_ben, e_related, e_actor, e_approver, e_eff, e_rec, e_debit_id, e_credit_id) = cur.fetchone()
    if status == "stale":
        return None
    if status == "short":
        raise CetsError(R0302, f"{d_acc.number} {unit_type.code} {d_pos}: {available} < {quantity}")
    if status == "posted":  # a retry, or a concurrent request with this key committed first: its entry, or R0401
        earlier = chain.idempotency_digest(kind=e_kind, unit_type=e_ut, debit=e_debit, debit_position=e_dpos, credit=e_credit,
                                           credit_position=e_cpos, quantity=e_qty, reference=e_ref, beneficiary=str(e_ben) if e_ben else "")
        if earlier != chain.idempotency_digest(**digest_args()):
            raise CetsError(R0401, key)
        # the same content: the same unit type, accounts (numbers) and beneficiary as the caller's objects
        t = Transfer(seq=seq, key=key, kind=e_kind, unit_type=unit_type, debit_account=debit.account if e_debit_id is not None else None,
                     debit_position=e_dpos, credit_account=credit.account, credit_position=e_cpos, quantity=e_qty, reference=e_ref,
                     related_id=e_related, beneficiary=beneficiary if e_ben is not None else None, actor_id=e_actor, approver_id=e_approver,
                     effective_at=e_eff, recorded_at=e_rec, debit_prev_hash=debit_prev, credit_prev_hash=credit_prev, hash=h)
        t._state.adding = False
        return t
    if mail_email:
        email_written(written_notices(notice_ids, notices, now), recipients(zip(mail_org, mail_user, mail_email)))
    return Transfer(seq=seq, key=key, kind=kind, unit_type=unit_type, debit_account_id=d_acc.pk if d_acc else None,
                    debit_position=d_pos, credit_account_id=c_acc.pk, credit_position=credit.position,
                    quantity=quantity, reference=reference, related=related, beneficiary=beneficiary, actor=actor, approver=approver,
                    effective_at=effective_at, recorded_at=now, debit_prev_hash=debit_prev, credit_prev_hash=credit_prev, hash=h)


@transaction.atomic
def holding_transfer(*, key: str, from_account: Account, to_account: Account, unit_type: UnitType, quantity: int, actor,
                     reference: str, effective_at: dt.datetime | None = None) -> Transfer:
    """Move ``quantity`` tonnes (int) from one holder's registry position to another's (变更, Measures
    Art. 23: trades settle on the exchange's results). The actor must act for the debit holder (R0502); a
    registry operator moving a holder's units the holder did not instruct needs a second operator
    (:func:`cets.registry.services.operator.operator_transfer_propose`): R0506."""
    _holder_or_operator(actor, from_account)
    m = membership_of(actor)
    if m is not None and m.organisation_id != from_account.holder_id:
        raise CetsError(R0506, from_account.number)
    return transfer_post(key=key, kind=TransferKind.TRANSFER, unit_type=unit_type, debit=Leg(from_account, Position.REGISTRY),
                         credit=Leg(to_account, Position.REGISTRY), quantity=quantity, reference=reference, actor=actor,
                         effective_at=effective_at)
