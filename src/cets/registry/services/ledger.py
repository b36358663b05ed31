"""The ledger's one write path: the per-entry checks and the journal row + hash, built in one place for
single transfers (:func:`cets.registry.services.transfers.transfer_post`, which the exchange's settlement
``exchange_*`` and every registry operation go through) and for batch issuance
(:func:`cets.registry.services.issuance.issuance_batch_post`). Both paths call :func:`check_quantity`,
:func:`check_people`, :func:`check_entry` and :func:`journal_row`; they differ only in how the rows reach
the database (one statement per entry, or set-based statements for a proposal).

Refusal precedence (the first that applies is raised; a refusal changes nothing):

1. R0101 — an account named by number does not exist (issuance lines: before anything else of the line);
2. R0301 — the quantity is not a positive integer (tonnes CO2e, ``int``; ``bool`` refused);
3. R0501 — the approver is the actor (four eyes);
4. R0401 — the idempotency key is already in the journal with other content (the same content is a
   retry and returns the first entry: nothing below runs);
5. R0101 — an account id to lock is not there;
6. R0105 — debit and credit are the same holding (account and position);
7. R0106 — the transfer-kind table (:data:`cets.registry.kinds.TRANSFER_KINDS`) does not allow these
   debit/credit account kinds (or not one account where it must be);
8. R0111 — a leg's position is not one the table allows for the kind;
9. R0102, R0103, R0104 — an account status the kind does not allow: closed on either leg, then
   frozen on either leg, then restricted (debit then credit within each status);
10. R0202 — the unit type is not allowed in the credit account, then in the debit account (market
    instruments, :data:`cets.registry.kinds.MARKET_INSTRUMENTS`);
11. R0302 — the debit holding (account, unit type, position) holds less than the quantity.

R0201 (unit type does not exist) is raised before the ledger, where a code is resolved to a unit type.

The hot path is explicit SQL (no ORM per transfer), portable between SQLite and PostgreSQL; table and
column names come from the models. On PostgreSQL a single transfer is one call of the function
``cets_ledger_post`` (migration registry 0009: lock, retry test, confirmation of the checked accounts, debit,
credit, journal row and hash, heads), and a batch sends its journal by ``COPY`` and its holdings and heads as
arrays; the rows and hashes are the same as the portable path's (``tests/registry/test_ledger_pg.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import transaction

from cets.core.db import pg_array
from cets.core.errors import CetsError
from cets.parties.notifications import Notice

from .. import chain
from ..checks import R0105, R0106, R0202, R0301, R0501
from ..kinds import HOLDER_KINDS, MARKET_INSTRUMENTS, legs_refusal, positions_refusal, status_refusal
from ..models import Account as _Account
from ..models import AccountKind, Holding, Instrument, Position, Transfer, TransferKind, UnitType


@dataclass(frozen=True)
class Leg:
    """One side of a transfer: an account and a position (``Position`` value)."""

    account: _Account
    position: str

# The hot path of the ledger is written as explicit SQL (six statements, portable between SQLite and
# PostgreSQL): it runs for every movement of every unit, and the ORM's per-query overhead was most of
# its cost. Table and column names come from the models.
_A, _H, _T = _Account._meta.db_table, Holding._meta.db_table, Transfer._meta.db_table
T_COLS = ("key", "kind", "unit_type_id", "debit_account_id", "debit_position", "credit_account_id", "credit_position", "quantity",
           "reference", "related_id", "actor_id", "approver_id", "effective_at", "recorded_at", "debit_prev_hash", "credit_prev_hash",
           "hash", "beneficiary_id")
# Locks both accounts and, in the same round trip, asks whether the idempotency key is already in the journal.
def lock_clause(conn) -> str:
    """The row lock the ledger takes on the accounts it posts to: ``FOR NO KEY UPDATE`` on PostgreSQL — it serialises
    ledger writers on an account but, unlike ``FOR UPDATE``, does not block the ``FOR KEY SHARE`` lock that another
    transaction's (deferred) foreign-key check takes on the account at commit; with ``FOR UPDATE``, two holders
    instructing transfers to each other at the same moment deadlocked there (found by the PostgreSQL crash test).
    SQLite: none (its IMMEDIATE transaction is the lock)."""
    if conn.vendor == "postgresql":
        return " FOR NO KEY UPDATE"
    return " FOR UPDATE" if conn.features.has_select_for_update else ""


SQL_LOCK = (f"SELECT id, number, kind, market, status, head_hash, EXISTS (SELECT 1 FROM {_T} WHERE key = %s) FROM {_A} "
             f"WHERE id IN (%s, %s) ORDER BY id")
SQL_DEBIT = (f"UPDATE {_H} SET quantity = quantity - %s WHERE account_id = %s AND unit_type_id = %s AND position = %s "
              f"AND quantity >= %s")
SQL_AVAILABLE = f"SELECT quantity FROM {_H} WHERE account_id = %s AND unit_type_id = %s AND position = %s"
SQL_CREDIT = (f"INSERT INTO {_H} (account_id, unit_type_id, position, quantity) VALUES (%s, %s, %s, %s) "
               f"ON CONFLICT (account_id, unit_type_id, position) DO UPDATE SET quantity = {_H}.quantity + excluded.quantity")
SQL_JOURNAL = f"INSERT INTO {_T} ({', '.join(T_COLS)}) VALUES ({', '.join(['%s'] * len(T_COLS))}) RETURNING seq"
SQL_HEADS = f"UPDATE {_A} SET head_hash = %s, head_seq = %s WHERE id IN (%s, %s)"


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


def cursor_for(conn):
    """On PostgreSQL the ledger's statements go straight to psycopg, prepared once per connection:
    the server parses and plans them once, and Django's cursor layers are skipped (measured with
    bench/registry_transfers.py). On SQLite, Django's cursor, which translates the ``%s``
    placeholders. The SQL text is the same on both."""
    return _PreparedCursor(conn.connection.cursor()) if conn.vendor == "postgresql" else conn.cursor()


@dataclass(frozen=True)
class AccountRow:
    """The columns of a locked account the checks and the chain need."""

    pk: int
    number: str
    kind: str
    market: str
    status: str
    head_hash: str


def account_row(account: _Account) -> AccountRow:
    """The :class:`AccountRow` of an account as the caller loaded it (not locked: the PostgreSQL function confirms
    its number, kind, market and status under the lock, :func:`fingerprint`)."""
    return AccountRow(account.pk, account.number, account.kind, account.market, account.status, account.head_hash)


def fingerprint(a: AccountRow) -> str:
    """What the checks read of an account, as the PostgreSQL function ``cets_ledger_post`` rebuilds it under the lock
    (number, kind, market, status joined by 0x1f): equal means the checks made before the lock still hold."""
    return "\x1f".join((a.number, a.kind, a.market, a.status))


# The PostgreSQL path (migration registry 0009, function ``cets_ledger_post``): lock, retry test, confirmation of the
# checked accounts, debit, credit, journal row with its hash, heads — one statement, one round trip. ``PG_FUNCTION``
# False sends PostgreSQL through the portable path too (the tests compare the two paths' rows and hashes).
PG_FUNCTION = True
SQL_POST_FN = ("SELECT status, seq, debit_prev, credit_prev, hash, available FROM cets_ledger_post(%s::text, %s::bigint, %s::bigint, "
               "%s::text, %s::text, %s::text, %s::bigint, %s::text, %s::text, %s::bigint, %s::text, %s::bigint, %s::bigint, %s::bigint, "
               "%s::timestamptz, %s::timestamptz, %s::bigint, %s::text)")

# The whole single transfer in one statement (migration registry 0010, body 0012, ``cets_ledger_post_one``): the above, plus the
# answer to a retry (the earlier entry's row), the holders' notices and their e-mail recipients. Outside a transaction
# it is its own transaction: one round trip, commit included (:func:`cets.registry.services.transfers.transfer_post`).
SQL_POST_ONE = ("SELECT status, seq, debit_prev, credit_prev, hash, available, notice_ids, mail_org, mail_user, mail_email, e_kind, "
                "e_unit_type, e_debit, e_debit_position, e_credit, e_credit_position, e_quantity, e_reference, e_beneficiary_id, "
                "e_related_id, e_actor_id, e_approver_id, e_effective_at, e_recorded_at, e_debit_id, e_credit_id "
                "FROM cets_ledger_post_one(%s::text, %s::bigint, %s::bigint, "
                "%s::text, %s::text, %s::text, %s::bigint, %s::text, %s::text, %s::bigint, %s::text, %s::bigint, %s::bigint, %s::bigint, "
                "%s::timestamptz, %s::timestamptz, %s::bigint, %s::text, %s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], "
                "%s::text, %s::text)")

# ---------------------------------------------------------------- checks (in precedence order)

def check_quantity(quantity: object) -> int:
    """R0301 unless ``quantity`` is a positive ``int`` (tonnes CO2e; ``bool`` is refused)."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise CetsError(R0301, repr(quantity))
    return quantity


def check_people(actor, approver) -> None:
    """R0501 if the approver is the actor (four eyes)."""
    if approver is not None and actor is not None and approver.pk == actor.pk:
        raise CetsError(R0501)


def check_unit_allowed(account, unit_type: UnitType) -> None:
    """R0202 unless the account's market holds the unit type's instrument (a CCER holding account: CCER only)."""
    allowed = MARKET_INSTRUMENTS.get(account.market, frozenset())
    if unit_type.instrument not in allowed or (account.kind == AccountKind.CCER_HOLDING and unit_type.instrument != Instrument.CCER):
        raise CetsError(R0202, f"{unit_type.code} in {account.number}")


def check_entry(kind: str, unit_type: UnitType, debit: AccountRow | None, debit_position: str, credit: AccountRow,
                credit_position: str) -> None:
    """The per-entry checks after the accounts are locked, in precedence order: R0105 same holding,
    R0106 account kinds (the transfer-kind table), R0111 positions, R0102/R0103/R0104 statuses,
    R0202 unit type (credit, then debit). The balance (R0302) is the caller's: it is where the paths
    differ (a conditional UPDATE, or running balances)."""
    same = debit is not None and debit.pk == credit.pk
    if same and debit_position == credit_position:
        raise CetsError(R0105)
    d_pos = debit_position if debit is not None else None
    code = legs_refusal(kind, debit.kind if debit is not None else None, credit.kind, same) or positions_refusal(kind, d_pos, credit_position)
    if code is R0106:
        raise CetsError(R0106, f"{kind}: {debit.number if debit else '-'} → {credit.number}")
    if code is not None:
        raise CetsError(code, f"{kind}: {d_pos or '-'} → {credit_position}")
    refused = status_refusal(kind, debit.status if debit is not None else None, credit.status)
    if refused is not None:
        code, leg = refused
        raise CetsError(code, (debit if leg == "debit" else credit).number)
    check_unit_allowed(credit, unit_type)
    if debit is not None:
        check_unit_allowed(debit, unit_type)


class EntryChecks:
    """:func:`check_entry` for the many entries of one batch, each passing combination remembered: the checks read only
    the kind, the unit type, the positions and each leg's account kind, status and market (and whether both legs are
    one account), so an entry that repeats all of them passes as the first did — 5,500 lines of an issuance are one
    combination. A refusal is never remembered: it is raised, with its account's number, as :func:`check_entry`
    raises it. For the accounts as the batch read them (locked), within that batch."""

    def __init__(self) -> None:
        self._passed: set[tuple] = set()

    def __call__(self, kind: str, unit_type: UnitType, debit: AccountRow | None, debit_position: str, credit: AccountRow,
                 credit_position: str) -> None:
        legs = (credit.kind, credit.status, credit.market,
                None if debit is None else (debit.kind, debit.status, debit.market, debit.pk == credit.pk))
        key = (kind, unit_type.pk, unit_type.instrument, debit_position if debit is not None else None, credit_position, legs)
        if key not in self._passed:
            check_entry(kind, unit_type, debit, debit_position, credit, credit_position)
            self._passed.add(key)


# ---------------------------------------------------------------- the journal row and its hash

def user_id(user) -> str:
    return str(user.pk) if user is not None else ""


def prev_heads(debit: AccountRow | None, credit: AccountRow, heads: dict[int, str] | None = None) -> tuple[str, str]:
    """The previous heads an entry chains to: ``""`` for no debit, GENESIS for an account's first entry;
    one account on both legs chains once. ``heads`` overrides the stored heads (a batch's running heads)."""
    def head(a: AccountRow) -> str:
        return heads[a.pk] if heads is not None and a.pk in heads else (a.head_hash or chain.GENESIS)

    d_prev = head(debit) if debit is not None else ""
    c_prev = d_prev if debit is not None and debit.pk == credit.pk else head(credit)
    return d_prev, c_prev


def entry_content(*, key: str, kind: str, unit_type: UnitType, debit: AccountRow | None, debit_position: str, credit: AccountRow,
                  credit_position: str, quantity: int, reference: str, related: Transfer | None, actor, approver, effective_at,
                  recorded_at, beneficiary_id: int | None) -> str:
    """The canonical content of one entry (:func:`cets.registry.chain.content`), the part of its hash that does not
    depend on the accounts' previous heads. Quantity in tonnes CO2e (int)."""
    return chain.content(
        key=key, kind=kind, unit_type=unit_type.code, debit=debit.number if debit else "", debit_position=debit_position if debit else "",
        credit=credit.number, credit_position=credit_position, quantity=quantity, reference=reference,
        related=related.key if related else "", actor=user_id(actor), approver=user_id(approver), effective_at=effective_at,
        recorded_at=recorded_at, beneficiary=str(beneficiary_id) if beneficiary_id else "",
    )


def journal_row(*, key: str, kind: str, unit_type: UnitType, debit: AccountRow | None, debit_position: str, credit: AccountRow,
                credit_position: str, quantity: int, reference: str, related: Transfer | None, actor, approver, effective_at,
                recorded_at, debit_prev: str, credit_prev: str, beneficiary_id: int | None, adapt) -> list:
    """The journal row (values in ``T_COLS`` order; the hash at :data:`HASH_COL`) of one entry:
    ``hash = sha256(content ‖ debit_prev ‖ credit_prev)`` (:mod:`cets.registry.chain`). ``adapt``
    is the connection's datetime adapter. Quantity in tonnes CO2e (int)."""
    text = entry_content(key=key, kind=kind, unit_type=unit_type, debit=debit, debit_position=debit_position, credit=credit,
                         credit_position=credit_position, quantity=quantity, reference=reference, related=related, actor=actor,
                         approver=approver, effective_at=effective_at, recorded_at=recorded_at, beneficiary_id=beneficiary_id)
    h = chain.entry_hash(text, debit_prev, credit_prev)
    return [key, kind, unit_type.pk, debit.pk if debit else None, debit_position if debit else "", credit.pk, credit_position, quantity,
            reference, related.pk if related else None, actor.pk if actor else None, approver.pk if approver else None,
            adapt(effective_at), adapt(recorded_at), debit_prev, credit_prev, h, beneficiary_id]


HASH_COL = 16


def transfer_digest(t: Transfer) -> str:
    """The idempotency digest of a posted entry (``t`` with unit type and accounts loaded)."""
    return chain.idempotency_digest(
        kind=t.kind, unit_type=t.unit_type.code, debit=t.debit_account.number if t.debit_account else "",
        debit_position=t.debit_position, credit=t.credit_account.number, credit_position=t.credit_position,
        quantity=t.quantity, reference=t.reference, beneficiary=str(t.beneficiary_id) if t.beneficiary_id else "")


# ---------------------------------------------------------------- the holders' notices

@dataclass(frozen=True)
class Party:
    """What a notice needs of one leg's account: number, kind and holder (organisation id, or None)."""

    number: str
    kind: str
    holder_id: int | None


def party(account: _Account) -> Party:
    return Party(account.number, account.kind, account.holder_id)


EXCHANGE_ZH, EXCHANGE_EN = "交易机构（交易结算）", "the exchange (trade settlement)"


@functools.cache
def _choice_labels(choices) -> dict:
    """The labels of a choices class (plain strings, fixed when the class is defined), built once per process."""
    return dict(choices.choices)


def _label(choices, value: str) -> tuple[str, str]:
    """``(zh, en)`` of a ``"中文 english"`` choice label."""
    text = str(_choice_labels(choices).get(value, value))
    zh, _, en = text.partition(" ")
    return zh, en or zh


def entry_notices(*, key: str, kind: str, unit_type_code: str, quantity: int, debit: Party | None, debit_position: str, credit: Party,
                  credit_position: str, reference: str, via_exchange: bool = False) -> list[Notice]:
    """The notices of one journal entry to the holders on its legs (account kinds of
    :data:`cets.registry.kinds.HOLDER_KINDS` with a holder; the national, provincial and retirement
    accounts get none): one to the debited holder, one to the credited holder, one only when both legs are
    one account (a move between its positions). A settlement on the exchange (``via_exchange``) names the
    exchange as the other side, never the counterparty's account (issue 16, privacy on the ledger).
    Quantity in tonnes CO2e (int). Source: EU Registry Regulation (EU) 2019/1122 Art. 40 (the holder is
    informed of every transaction)."""
    kz, ke = _label(TransferKind, kind)
    out: list[Notice] = []

    def pos(p: str) -> tuple[str, str]:
        return _label(Position, p) if p else ("", "")

    def add(me: Party, out_of: bool, other: Party | None) -> None:
        if me.holder_id is None or me.kind not in HOLDER_KINDS:
            return
        if debit is not None and debit.number == credit.number:
            (fz, fe), (tz, te) = pos(debit_position), pos(credit_position)
            title = (f"持仓划转 {quantity:,} 吨 {unit_type_code}：{fz}→{tz}（{kz}）", f"{quantity:,} t {unit_type_code} moved {fe} → {te} ({ke})")
            side = ("本账户", "this account")
        else:
            if via_exchange:
                side = (EXCHANGE_ZH, EXCHANGE_EN)
            elif other is None:
                side = ("—", "—")
            else:
                side = (f"账户 {other.number}", f"account {other.number}")
            if out_of:
                title = (f"转出 {quantity:,} 吨 {unit_type_code}（{kz}）", f"{quantity:,} t {unit_type_code} out of your account ({ke})")
            else:
                title = (f"转入 {quantity:,} 吨 {unit_type_code}（{kz}）", f"{quantity:,} t {unit_type_code} into your account ({ke})")
        (mz, me_) = pos(debit_position if out_of else credit_position)
        body_zh = f"账户 {me.number}（{mz}）；对方：{side[0]}；分录 {key}" + (f"；摘要：{reference}" if reference else "")
        body_en = f"Account {me.number} ({me_}); other side: {side[1]}; entry {key}" + (f"; reference: {reference}" if reference else "")
        out.append(Notice(organisation_id=me.holder_id, kind="ledger", title_zh=title[0], title_en=title[1], body_zh=body_zh, body_en=body_en,
                          link="/registry/"))

    if debit is not None:
        add(debit, True, credit)
    if debit is None or debit.number != credit.number:
        add(credit, False, debit)
    return out


# ---------------------------------------------------------------- set-based statements (batches)

# The batch path: set-based statements for a whole proposal. SQLite: reads are IN lists cut into chunks (select_in),
# writes one ``executemany`` per table. PostgreSQL: each read is one statement over an array (select_any), the journal
# goes by COPY (journal_stream), holdings and heads as one statement each over arrays (holdings_heads_write).
SQL_LOCK_MANY = f"SELECT id, number, kind, market, status, head_hash FROM {_A} WHERE id IN ({{marks}}) ORDER BY id"
# An issuance batch's accounts by the numbers its lines name, and the market's total account (``id = %s``), with holders
SQL_LOCK_NUMBERS = f"SELECT id, number, kind, market, status, head_hash, holder_id FROM {_A} WHERE id = %s OR number IN ({{marks}}) ORDER BY id"
SQL_KEYS = f"SELECT key FROM {_T} WHERE key IN ({{marks}})"
SQL_HELD = f"SELECT account_id, quantity FROM {_H} WHERE unit_type_id = %s AND position = %s AND account_id IN ({{marks}})"
SQL_JOURNAL_SEQ = f"INSERT INTO {_T} (seq, {', '.join(T_COLS)}) VALUES ({', '.join(['%s'] * (len(T_COLS) + 1))})"
SQL_HOLD_ADD = f"UPDATE {_H} SET quantity = quantity + %s WHERE account_id = %s AND unit_type_id = %s AND position = %s"
SQL_HEAD_SET = f"UPDATE {_A} SET head_hash = %s, head_seq = %s WHERE id = %s"
# Parameters per read statement: psycopg re-parses (uncached) any statement with more than 50 parameters,
# which costs more than the database's work; SQLite's limit is 32,766 and Django's conversion is cheap.
IN_PARAMS = {"postgresql": 48, "sqlite": 900}


def chunks(items: Sequence, n: int):
    for i in range(0, len(items), n):
        yield items[i:i + n]


def execute_many(cur, sql: str, rows: list) -> None:
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


# PostgreSQL: a batch's holdings and heads, one statement each over arrays (``unnest``), instead of one statement a row.
SQL_HOLD_ADD_PG = (f"UPDATE {_H} h SET quantity = h.quantity + v.q FROM unnest(%s::bigint[], %s::bigint[]) AS v(q, acc) "
                   f"WHERE h.account_id = v.acc AND h.unit_type_id = %s AND h.position = %s")
SQL_CREDIT_PG = (f"INSERT INTO {_H} (account_id, unit_type_id, position, quantity) SELECT v.acc, %s, %s, v.q "
                 f"FROM unnest(%s::bigint[], %s::bigint[]) AS v(acc, q) "
                 f"ON CONFLICT (account_id, unit_type_id, position) DO UPDATE SET quantity = {_H}.quantity + excluded.quantity")
SQL_HEAD_SET_PG = (f"UPDATE {_A} a SET head_hash = v.h, head_seq = v.s FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) AS v(h, s, id) "
                   f"WHERE a.id = v.id")


def holdings_heads_write(cur, *, unit_type_id: int, position: str, add: list[tuple[int, int]], insert: list[tuple[int, int]],
                         heads: list[tuple[str, int, int]]) -> None:
    """A batch's holdings and heads: ``add`` (account id, change in tonnes) to existing holdings, ``insert`` (account id,
    tonnes ≥ 0) new holdings, ``heads`` (hash, seq, account id). PostgreSQL: one statement per list (arrays, sent as
    literals: :func:`cets.core.db.pg_array`);
    elsewhere one ``executemany`` per list. The same rows either way."""
    if transaction.get_connection().vendor == "postgresql":
        if add:
            cur.execute(SQL_HOLD_ADD_PG, [pg_array(q for _, q in add), pg_array(a for a, _ in add), unit_type_id, position])
        if insert:
            cur.execute(SQL_CREDIT_PG, [unit_type_id, position, pg_array(a for a, _ in insert), pg_array(q for _, q in insert)])
        if heads:
            cur.execute(SQL_HEAD_SET_PG, [pg_array(h for h, _, _ in heads), pg_array(s for _, s, _ in heads), pg_array(a for _, _, a in heads)])
        return
    execute_many(cur, SQL_HOLD_ADD, [(q, a, unit_type_id, position) for a, q in add])
    execute_many(cur, SQL_CREDIT, [(a, unit_type_id, position, q) for a, q in insert])
    execute_many(cur, SQL_HEAD_SET, heads)


def journal_copy(cur, rows: list) -> None:
    """The journal rows of a batch (``[seq, *T_COLS]`` each, explicit ascending ``seq``), all at once
    (:func:`journal_stream`)."""
    if not rows:
        return
    with journal_stream(cur) as write:
        for r in rows:
            write(r)


@contextmanager
def journal_stream(cur):
    """The journal rows of a batch written as they are made: the block gets ``write(row)`` (``[seq, *T_COLS]``, explicit
    ascending ``seq``). On PostgreSQL one ``COPY`` is open for the block (psycopg's ``cursor.copy``: no per-row parse or
    bind, and the server stores each buffer of rows while the block goes on making the next — issue 19); no other
    statement may run on the connection inside the block. An exception in the block aborts the ``COPY`` (psycopg sends
    the failure, and the exception raised is the block's own) and nothing is stored. Elsewhere the rows are gathered
    and written at the end of the block by :data:`SQL_JOURNAL_SEQ` (``executemany``). The same rows either way."""
    conn = transaction.get_connection()
    if conn.vendor != "postgresql":
        rows: list = []
        yield rows.append
        execute_many(cur, SQL_JOURNAL_SEQ, rows)
        return
    with conn.connection.cursor() as raw, raw.copy(f"COPY {_T} (seq, {', '.join(T_COLS)}) FROM STDIN") as copy:
        yield copy.write_row


def select_in(cur, vendor: str, template: str, items: Sequence, head: Sequence = ()) -> list:
    """Rows of ``template`` (its ``{marks}`` an IN list) over ``items``, in chunks."""
    out: list = []
    for part in chunks(items, IN_PARAMS.get(vendor, 900) - len(head)):
        cur.execute(template.format(marks=", ".join(["%s"] * len(part))), [*head, *part])
        out.extend(cur.fetchall())
    return out


def select_any(cur, vendor: str, template: str, items: Sequence, head: Sequence = ()) -> list:
    """:func:`select_in` in one statement on PostgreSQL: the IN list of ``template`` becomes ``= ANY(%s)`` over one array
    parameter, bound on the server (thousands of items: one round trip, no per-item parameter), sent as one array
    literal (:func:`cets.core.db.pg_array`: ``items`` all ints or all strings); the same rows, in the caller's
    transaction. Elsewhere :func:`select_in`."""
    if vendor != "postgresql" or not items:
        return select_in(cur, vendor, template, items, head)
    field, sep, rest = template.partition(" IN ({marks})")
    if not sep:
        return select_in(cur, vendor, template, items, head)
    import psycopg

    with psycopg.Cursor(transaction.get_connection().connection) as raw:
        raw.execute(f"{field} = ANY(%s){rest}", [*head, pg_array(items)])
        return raw.fetchall()


def seqs_reserve(cur, vendor: str, n: int) -> list[int]:
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

