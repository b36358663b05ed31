"""The entry side of the exchange's group commit (issue 19): queued commands appended to the command log in batches.

A queued command (:func:`.orders.order_place_queued`, :func:`.orders.order_take_queued`) is acknowledged when its
append has committed. On PostgreSQL the append is one statement, :func:`appends_write`, which also makes the
trading-rights checks of the portable path — the participant's registry account in the market open (T0208) and of
a kind the pack's ``[trading_rights]`` lets trade the subject (T0501), no suspended exchange member in the market
(T0502) — and, for a take, the check of the quote it names (a listing quote or block order of the market, received
or resting, not void, T0211; of a method in session, T0205), whose terms it takes — and takes the log's append lock
shared (:func:`.orders._append_lock`) before any ``seq`` is made. The
statement writes any number of commands: :class:`Appender` gathers the commands the threads of one process enter
while the previous statement runs and writes them with the next one — one round trip, one transaction and one WAL
flush for all of them — and answers each caller only after that statement has committed, so the acknowledgement of
receipt stays durable. It has no thread of its own: the first caller that finds no statement in flight writes
the batch on its own connection (a leader; the others wait for it), as PostgreSQL groups the WAL flushes of
concurrent commits. A caller inside a transaction appends alone in that transaction (its commit is the caller's).

A command the statement does not write (a check failed, or its key is in the log already, or another command of
the batch has the same key) is answered ``None``: the caller then runs the portable checks in their documented
order, which name the refusal, or answers the retry with the first command of that key. If the statement fails as
a whole (a value the database refuses), each command of the batch is written alone, so one caller's error is
nobody else's.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import threading
import zlib
from dataclasses import dataclass

from django.db.models import Model

from cets.core.db import prepared_cursor
from cets.registry.models import Account, AccountStatus

from .. import book as bk
from ..models import ExchangeMember, Order

APPEND_LOCK_CLASS = 19_0001  # the advisory lock space of the command log (issue 19)


def append_key(market: str) -> int:
    """The command log's append lock of ``market`` within :data:`APPEND_LOCK_CLASS` (int)."""
    return zlib.crc32(market.encode()) & 0x7FFFFFFF


def bound_type(f, conn) -> str:
    """The SQL type a parameter bound for model field ``f`` is cast to: the column's type without its length
    (``varchar(120)`` → ``varchar``), so that the column's own assignment refuses an over-long value — an explicit cast
    to ``varchar(120)`` would cut it to 120 characters without a word."""
    return re.sub(r"\(\d+\)", "", f.db_type(conn))


# The Python type a column's value must have, by the field's internal type (a related row's: its key's); no
# coercion — a string or a float for a number, a bool for a number, a time for a day are refused, not converted.
_TYPES = {"CharField": str, "BigIntegerField": int, "IntegerField": int, "BigAutoField": int, "AutoField": int, "BooleanField": bool,
          "DateField": dt.date, "DateTimeField": dt.datetime}


class _Column:
    """One column an append writes: the model field, the type its value must have, and its default for a command that
    does not name it."""

    __slots__ = ("field", "column", "name", "attname", "relation", "default", "call", "type")

    def __init__(self, f) -> None:
        self.field, self.column, self.name, self.attname = f, f.column, f.name, f.attname
        self.relation = f.is_relation
        self.call = f.has_default() and callable(f.default)  # a callable default (``terms``: a new dict) is called per command
        self.default = None if self.call else f.get_default()
        self.type = _TYPES.get((f.target_field if f.is_relation else f).get_internal_type())  # None: any (``terms``, JSON)

    def value(self, fields: dict):
        """The column's value for ``fields`` (by field name or attribute name; a related row given by its instance →
        its primary key), else the default. TypeError for a value not of the column's type (see :data:`_TYPES`)."""
        if self.name in fields:
            v = fields[self.name]
        elif self.attname in fields:
            v = fields[self.attname]
        else:
            return self.field.get_default() if self.call else self.default
        if self.relation and isinstance(v, Model):
            v = v.pk
        if v is not None and self.type is not None and (
                not isinstance(v, self.type) or (self.type is int and isinstance(v, bool)) or (self.type is dt.date and isinstance(v, dt.datetime))
                or (self.type is dt.datetime and v.utcoffset() is None)):
            raise TypeError(f"{self.column}: {type(v).__name__} {v!r:.40} is not a {self.field.get_internal_type()} value of the command log")
        return v


_COLUMNS: list[_Column] = []  # the order's columns an append writes, listed once per process


def _columns() -> list[_Column]:
    """The order's columns an append writes: all but ``seq`` (the sequence's) and ``account_id`` (read by the checks)."""
    if not _COLUMNS:
        _COLUMNS.extend(_Column(f) for f in Order._meta.concrete_fields if f.column not in ("seq", "account_id"))
    return _COLUMNS


_SQL: list[str] = []  # the statement's text, built once per process from the model


def _sql(conn) -> str:
    """``INSERT … SELECT`` over the commands sent as one JSON array of objects (``json_to_recordset``, each column
    declared with the column's type without its length — :func:`bound_type` — so the column itself refuses an
    over-long value; ``n`` the callers' order): each row's ``account_id`` is its participant's registry account in
    the market (the lowest id), read in the same statement, and a row is written only if that account is open and of
    a kind the market's trading rights (``rights``: subject or ``*`` → comma-joined kinds) admit for the row's subject,
    and the market has no suspended member. A take (``kind`` take) reads the quote it names by its key in the same
    statement and takes from it its subject, method, price and the opposite side; it is written only if that quote is
    a listing quote or block order of the market, received or resting, not void, of a method whose session is open
    (``open_methods``). ``ON CONFLICT (key) DO NOTHING``; returns ``seq, account_id, key, instrument, method, side,
    price_fen`` of the rows written. (One JSON text instead of one array per column: the arrays cost 0.50 ms of Python
    and 1.21 ms in all for four commands, the JSON 0.14 and 0.57 ms; the quote read in the statement saves a take its
    own round trip — issue 19; the quote's subquery keeps its ``LIMIT 1`` so that it stays a probe of the primary key
    per take: pulled up into a plain join, the planner hashed the whole command log for it, 0.24 × pgbench.)"""
    if not _SQL:
        names = [c.column for c in _columns()]
        declared = ", ".join(f"{c.column} {bound_type(c.field, conn)}" for c in _columns())
        taken = {"instrument": "q.instrument", "method": "q.method", "price_fen": "q.price_fen",
                 "side": f"CASE q.side WHEN '{bk.SELL}' THEN '{bk.BUY}' ELSE '{bk.SELL}' END"}
        select = ", ".join(f"CASE WHEN v.kind = '{Order.Kind.TAKE}' THEN {taken[n]} ELSE v.{n} END" if n in taken else f"v.{n}" for n in names)
        takeable = ", ".join(f"'{s}'" for s in TAKEABLE)
        kinds = "COALESCE(v.rights ->> i.instrument, v.rights ->> '*')"
        t, acc, em = Order._meta.db_table, Account._meta.db_table, ExchangeMember._meta.db_table
        _SQL.append(
            f"INSERT INTO {t} ({', '.join(names)}, account_id) SELECT {select}, a.id "
            f"FROM (SELECT pg_advisory_xact_lock_shared(%s, %s)) AS lock, "
            f"json_to_recordset(%s::json) AS v({declared}, rights json, open_methods text, n bigint) "
            f"LEFT JOIN LATERAL (SELECT seq, market, kind, status, voided, instrument, method, side, price_fen FROM {t} WHERE seq = v.target_id LIMIT 1) "
            f"AS q ON v.kind = '{Order.Kind.TAKE}' "
            f"CROSS JOIN LATERAL (SELECT CASE WHEN v.kind = '{Order.Kind.TAKE}' THEN q.instrument ELSE v.instrument END AS instrument) AS i, "
            f"LATERAL (SELECT id, kind, status FROM {acc} WHERE holder_id = v.participant_id AND market = v.market ORDER BY id LIMIT 1) AS a "
            f"WHERE a.status = %s AND ({kinds} IS NULL OR a.kind = ANY(string_to_array({kinds}, ','))) "
            f"AND (v.kind <> '{Order.Kind.TAKE}' OR (q.market = v.market AND q.kind = '{Order.Kind.PLACE}' AND q.status IN ({takeable}) "
            f"AND NOT q.voided AND q.method = ANY(string_to_array(v.open_methods, ',')))) "
            f"AND NOT EXISTS (SELECT 1 FROM {em} m WHERE m.market = %s AND m.status = %s) "
            f"ORDER BY v.n ON CONFLICT (key) DO NOTHING RETURNING seq, account_id, key, instrument, method, side, price_fen"
        )
    return _SQL[0]


TAKEABLE = frozenset({Order.Status.RESTING, Order.Status.RECEIVED})  # what a take may name: a quote resting or still queued


def _rights(rules) -> dict[str, str]:
    """The market's trading rights (:attr:`.orders.MarketRules.trading_rights`) as the statement reads them: subject or
    ``*`` → comma-joined account kinds; ``{}`` when the pack restricts nobody (:meth:`.orders.MarketRules.trading_kinds`).
    Built once per distinct table, not per command (the append is the exchange's hot path); the dict is only read."""
    return _rights_text(rules.trading_rights)


@functools.lru_cache(maxsize=64)
def _rights_text(trading_rights: tuple) -> dict[str, str]:
    return {subject: ",".join(sorted(kinds)) for subject, kinds in trading_rights}


def _json_value(v):
    """The JSON text of a value ``json`` does not write itself: a day or a time (with its zone, :class:`_Column`) as
    ISO 8601, read back by the column's type; anything else is refused (TypeError)."""
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    raise TypeError(f"{type(v).__name__} is not a value of the command log")


_FIELDS = Order._meta.concrete_fields


def appends_write(conn, market: str, commands: list[tuple]) -> list[Order | None]:
    """PostgreSQL: append ``commands`` — ``(rules, fields)`` pairs, ``fields`` the order's model fields of one queued
    command of ``market`` (``rules`` its :class:`.orders.MarketRules`); a take ``(rules, fields, open_methods)``, its
    ``target_id`` the quote it names, its subject, method, side and price taken from that quote (``open_methods``:
    the comma-joined methods whose session is open at its entry) — to the command log in ONE statement with the
    trading-rights checks (T0208, T0501, T0502) and a take's quote check (T0211, T0205; see the module and
    :func:`_sql`). Returns, in the same order, each command's order
    (received, ``seq`` and ``account_id`` set) or None where nothing was written for it (a check failed, its key is in
    the log, or an earlier command of the list has the same key). In autocommit the statement is its own
    transaction: its return is the commit. Database errors come out as Django's; a value not of its column's type (a
    float or a string for a number, a bool for a number, a time without its zone, an object) raises TypeError before
    anything is sent."""
    cols = _columns()
    rows = []
    for n, (rules, fields, *opens) in enumerate(commands):
        row = {c.column: c.value(fields) for c in cols}
        row["market"], row["queued"], row["rights"], row["open_methods"], row["n"] = market, True, _rights(rules), (opens or [None])[0], n
        rows.append(row)
    text = json.dumps(rows, default=_json_value, ensure_ascii=False, allow_nan=False)
    with prepared_cursor(conn) as cur:
        cur.execute(_sql(conn), [APPEND_LOCK_CLASS, append_key(market), text, AccountStatus.OPEN, market, ExchangeMember.Status.SUSPENDED],
                    prepare=True)
        written = {r[2]: r for r in cur.fetchall()}
    out: list[Order | None] = []
    for (_rules, fields, *_opens), row in zip(commands, rows):
        got = written.pop(row["key"], None)  # popped: a second command of the same key is answered as a retry
        if got is None:
            out.append(None)
            continue
        row["seq"], row["account_id"], _, row["instrument"], row["method"], row["side"], row["price_fen"] = got
        o = Order(*(row[f.column] for f in _FIELDS))  # positional: Django's fast path, no keyword resolution
        for c in cols:  # a related row the caller gave as an instance stays cached on the order, as ``Order(**fields)``
            if c.relation and c.name in fields and fields[c.name] is not None:
                c.field.set_cached_value(o, fields[c.name])
        o._state.adding, o._state.db = False, conn.alias
        out.append(o)
    return out


@dataclass(eq=False)
class _Waiting:
    market: str
    rules: object
    fields: dict
    opens: str | None = None
    done: bool = False
    order: Order | None = None
    error: BaseException | None = None


class Appender:
    """Group commit of the appends of one process (see the module): :meth:`append` returns when the statement that
    wrote the command has committed. ``max_batch`` bounds the commands of one statement; ``batches`` counts the
    statements that wrote."""

    def __init__(self, max_batch: int = 256) -> None:
        self.max_batch = max_batch
        self.batches = 0
        self._cond = threading.Condition()
        self._waiting: list[_Waiting] = []
        self._writing = False

    def append(self, conn, market: str, rules, fields: dict, open_methods: str | None = None) -> Order | None:
        """Append one queued command of ``market`` (:func:`appends_write`'s contract for one command; ``open_methods``
        for a take): the order, or None when nothing was written for it. ``conn`` must be in autocommit outside any
        transaction: it writes the batch when this caller leads."""
        me = _Waiting(market, rules, fields, open_methods)
        with self._cond:
            self._waiting.append(me)
            while not me.done:
                if self._writing:
                    self._cond.wait()
                    continue
                self._writing = True
                batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
                self._cond.release()
                try:
                    self._write(conn, batch)
                finally:
                    self._cond.acquire()
                    self._writing = False
                    self._cond.notify_all()
        if me.error is not None:
            raise me.error
        return me.order

    def _write(self, conn, batch: list[_Waiting]) -> None:
        """Write ``batch``, one statement per market in it; a statement that fails as a whole is retried command by
        command, so each caller gets its own answer or error. Marks every command done."""
        try:
            for market in dict.fromkeys(w.market for w in batch):
                mine = [w for w in batch if w.market == market]
                try:
                    got = appends_write(conn, market, [(w.rules, w.fields, w.opens) for w in mine])
                except Exception:  # noqa: BLE001 — one value the database refused: each command alone, below
                    got = None
                if got is not None:
                    self.batches += 1
                    for w, o in zip(mine, got):
                        w.order = o
                    continue
                for w in mine:
                    try:
                        w.order = appends_write(conn, market, [(w.rules, w.fields, w.opens)])[0]
                        self.batches += 1
                    except Exception as e:  # noqa: BLE001 — handed to its caller
                        w.error = e
        finally:
            for w in batch:
                w.done = True


APPENDER = Appender()  # the process's appender (its threads share it)
