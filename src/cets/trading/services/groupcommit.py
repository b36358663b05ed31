"""The exchange's group commit (issue 19): what one batch of the sequencer holds in memory and writes at its end.

Clients append commands to the log (:func:`.orders.order_place_queued`, :func:`.orders.order_take_queued`: a short
transaction of its own whose commit is the acknowledgement of receipt); the sequencer
(:func:`.orders.sequencer_drain`) takes up to N of them in ONE transaction under the market lock and, in log order,
checks each against the positions held here (:class:`Deferred`: units by holding, funds by bucket, tonnes bought
today — read once, then moved in memory), freezes, applies it to the book and settles its trades; the registry
lines (holds, deliveries, releases) and the fund entries (freezes, payments, fees, releases) are collected in order
and written at the end of the batch set-based — :func:`cets.registry.services.transfer_batch_post` and
:func:`.funds.post_batch` — with the same rows and hashes as trade by trade. The batch's commit makes every result
durable at once; a client learns its result from the order row after it.

If the registry or the fund ledger refuses the collected lines (a race the checks in memory could not see: an
account frozen between entry and batch), the batch's transaction rolls back and the sequencer applies the same
commands again with settlement trade by trade (:class:`Fallback`), where a refusal voids one command only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db import transaction

from cets.core.db import pg_array
from cets.core.errors import CetsError
from cets.registry.checks import R0302
from cets.registry.models import Account, Holding, Position, TransferKind, UnitType
from cets.registry.services import BatchRefused, Leg, TransferLine, transfer_batch_post
from cets.registry.services.ledger import EntryChecks, account_row

from ..checks import T0201
from ..models import FundAccount, Trade
from . import funds

# The columns of an order the sequencer changes (``orders._SAVED``), written for a whole batch in one statement.
_O_COLS = ("status", "filled_t", "filled_amount_fen", "remaining_t", "frozen_fen", "frozen_t", "reject_code", "reject_detail", "account_id")
_O_TYPES = ("text", "bigint", "bigint", "bigint", "bigint", "bigint", "text", "text", "bigint")


def orders_save(orders: list) -> None:
    """Save the sequencer's columns of ``orders`` (``Order``): on PostgreSQL one ``UPDATE … FROM unnest(arrays)``, elsewhere
    one ``executemany`` (Django's ``bulk_update`` builds a CASE per column and row, which cost more than the batch's
    settlement)."""
    from django.db import connection

    from ..models import Order

    table = Order._meta.db_table
    rows = [[getattr(o, c) for c in _O_COLS] + [o.seq] for o in orders]
    if connection.vendor == "postgresql":
        import json

        import psycopg

        sets = ", ".join(f"{c} = v.{c}" for c in _O_COLS)
        declared = ", ".join(f"{c} {t}" for c, t in zip((*_O_COLS, "seq"), (*_O_TYPES, "bigint")))
        # bound on the server as one JSON text (psycopg's arrays are dumped element by element in Python, and ten of
        # them parsed on the server); the ``= ANY`` makes the planner probe the primary key for the batch's rows —
        # without it, knowing the rows' number, it hashes the whole command log (a cost that grew with the log: 12 of
        # 18 ms at 45,000 orders)
        with psycopg.Cursor(connection.connection) as cur:
            cur.execute(f"UPDATE {table} o SET {sets} FROM json_to_recordset(%s::json) AS v({declared}) "
                        f"WHERE o.seq = v.seq AND o.seq = ANY(%s::bigint[])",
                        [json.dumps([dict(zip((*_O_COLS, "seq"), r)) for r in rows], ensure_ascii=False), pg_array(o.seq for o in orders)])
        return
    with connection.cursor() as cur:
        cur.executemany(f"UPDATE {table} SET {', '.join(f'{c} = %s' for c in _O_COLS)} WHERE seq = %s", rows)


# The columns of a trade (``Trade``) as the batch writes them, after ``seq`` (the order of :class:`PendingTrade`'s fields).
_T_COLS = ("market", "trading_day", "instrument", "method", "price_fen", "quantity_t", "amount_fen", "buy_order_id", "sell_order_id", "buyer_id",
           "seller_id", "buyer_fee_fen", "seller_fee_fen", "executed_at")


@dataclasses.dataclass(slots=True)
class PendingTrade:
    """A trade of the batch, written at its end (:meth:`Deferred.flush`): the columns of ``Trade`` (prices and amounts in
    fen, quantity in tonnes, ints); ``seq`` is given at the flush (the trade table's sequence, in the batch's order —
    the numbers trade by trade would take), and the keys and references that name it are built then."""

    market: str
    trading_day: dt.date
    instrument: str
    method: str
    price_fen: int
    quantity_t: int
    amount_fen: int
    buy_order_id: int
    sell_order_id: int
    buyer_id: int
    seller_id: int
    buyer_fee_fen: int
    seller_fee_fen: int
    executed_at: dt.datetime
    seq: int | None = None

    @property
    def pk(self) -> int | None:
        return self.seq


def trades_write(trades: list[PendingTrade]) -> None:
    """Give ``trades`` their ``seq`` (ascending, in order) and write them: on PostgreSQL the numbers from the table's
    sequence (one statement) and the rows by one ``COPY``; on SQLite the numbers after the largest used (the write
    lock is held) and one ``executemany``. The same rows as ``Trade.objects.create`` one by one."""
    if not trades:
        return
    conn = transaction.get_connection()
    table = Trade._meta.db_table
    cols = ("seq", *_T_COLS)
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            cur.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'seq')) FROM generate_series(1, %s)", [len(trades)])
            for t, s in zip(trades, sorted(r[0] for r in cur.fetchall())):
                t.seq = s
            with conn.connection.cursor() as raw, raw.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                for t in trades:
                    copy.write_row((t.seq, *(getattr(t, c) for c in _T_COLS)))
            return
        cur.execute(f"SELECT MAX(s) FROM (SELECT seq AS s FROM sqlite_sequence WHERE name = %s UNION ALL SELECT MAX(seq) FROM {table})", [table])
        base = cur.fetchone()[0] or 0
        day, when = conn.ops.adapt_datefield_value, conn.ops.adapt_datetimefield_value
        rows = []
        for n, t in enumerate(trades, start=base + 1):
            t.seq = n
            rows.append((n, t.market, day(t.trading_day), t.instrument, t.method, t.price_fen, t.quantity_t, t.amount_fen, t.buy_order_id,
                         t.sell_order_id, t.buyer_id, t.seller_id, t.buyer_fee_fen, t.seller_fee_fen, when(t.executed_at)))
        cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})", rows)


def _late(x):
    """A key or reference built at the flush (a callable: it names a trade whose ``seq`` is given then), else ``x``."""
    return x() if callable(x) else x


class Fallback(Exception):
    """The batch cannot settle set-based (a refusal the checks in memory did not foresee): roll back, and apply the
    same commands again trade by trade."""


class Deferred:
    """One batch's positions in memory and the entries it will write. Units: ``(account id, unit type id, position)``
    → tonnes (int), read from the holdings before the batch moves them; funds: fund account id → ``[available,
    frozen]`` fen (int), from the fund account rows as the batch read them; tonnes bought on a day by a participant
    (for the rule that allowances bought today cannot be sold today)."""

    def __init__(self, market: str) -> None:
        self.market = market
        self.lines: list[TransferLine] = []
        self.posts: list[funds.FundPost] = []
        self.units: dict[tuple[int, int, str], int] = {}
        self.cash: dict[int, list[int]] = {}
        self.bought: dict[tuple[int, str, dt.date], int] = {}
        self.orders: dict[int, object] = {}  # seq → Order: the rows this batch read and changes (saved at its end)
        self.dirty: dict[int, object] = {}
        self.trades: list[PendingTrade] = []  # written at the flush, before the entries that name them
        self.checks = EntryChecks()  # the registry lines' entry checks, on the accounts as this batch read them

    # ------------------------------------------------------------------ reads, once per batch

    def load_units(self, accounts: list[int], unit_types: list[int]) -> None:
        """Read the holdings of ``accounts`` in ``unit_types`` not read yet (one statement)."""
        want = [a for a in set(accounts) if any((a, u, p) not in self.units for u in unit_types for p in (Position.TRADING, Position.PENDING))]
        if not want:
            return
        for u in unit_types:
            for a in want:
                for p in (Position.TRADING, Position.PENDING):
                    self.units.setdefault((a, u, p), 0)
        for a, u, p, q in Holding.objects.filter(account_id__in=want, unit_type_id__in=unit_types,
                                                 position__in=(Position.TRADING, Position.PENDING)).values_list(
                                                     "account_id", "unit_type_id", "position", "quantity"):
            self.units[(a, u, p)] = q

    def load_bought(self, participants: list[int], instrument: str, day: dt.date) -> None:
        """Tonnes of ``instrument`` each of ``participants`` bought on ``day`` (trades written so far, one statement)."""
        from django.db.models import Sum

        want = [p for p in set(participants) if (p, instrument, day) not in self.bought]
        if not want:
            return
        for p in want:
            self.bought[(p, instrument, day)] = 0
        for p, s in (Trade.objects.filter(market=self.market, buyer_id__in=want, instrument=instrument, trading_day=day).values("buyer_id")
                     .annotate(s=Sum("quantity_t")).values_list("buyer_id", "s")):
            self.bought[(p, instrument, day)] = s or 0
        wanted = set(want)
        for t in self.trades:  # the batch's trades so far, not written yet
            if t.buyer_id in wanted and t.instrument == instrument and t.trading_day == day:
                self.bought[(t.buyer_id, instrument, day)] += t.quantity_t

    def _cash(self, acc: FundAccount) -> list[int]:
        if acc.pk not in self.cash:
            self.cash[acc.pk] = [acc.available_fen, acc.frozen_fen]
        return self.cash[acc.pk]

    # ------------------------------------------------------------------ checks and moves in memory

    def sellable(self, *, account: Account, unit_type: UnitType, participant_id: int, instrument: str, day: dt.date, same_day_resale: bool) -> int:
        """What :func:`.orders.sellable_t` reads from the database, from the batch's positions."""
        k = (account.pk, unit_type.pk, Position.TRADING)
        if k not in self.units:
            self.load_units([account.pk], [unit_type.pk])
        held = self.units[k]
        if same_day_resale:
            return held
        self.load_bought([participant_id], instrument, day)
        return max(held - self.bought[(participant_id, instrument, day)], 0)

    def unit_move(self, *, key, kind: str, unit_type: UnitType, debit: Leg, credit: Leg, quantity: int, reference,
                  effective_at: dt.datetime | None = None, via_exchange: bool = False) -> None:
        """A registry line, checked now as ``transfer_post`` would (kinds, positions, statuses on the accounts as read;
        the balance from the batch's positions) and moved in memory; written at :meth:`flush`. ``key`` and ``reference``:
        strings, or callables that build them at the flush (a line that names a trade of the batch)."""
        ut, da, ca = unit_type.pk, debit.account.pk, credit.account.pk
        self.checks(kind, unit_type, account_row(debit.account), debit.position, account_row(credit.account), credit.position)
        d, c = (da, ut, debit.position), (ca, ut, credit.position)
        if d not in self.units or c not in self.units:
            self.load_units([da, ca], [ut])
        if self.units[d] < quantity:
            raise CetsError(R0302, f"{debit.account.number} {unit_type.code} {debit.position}: {self.units[d]} < {quantity}")
        self.units[d] -= quantity
        self.units[c] += quantity
        self.lines.append(TransferLine(key=key, kind=kind, unit_type=unit_type, debit=debit, credit=credit, quantity=quantity, reference=reference,
                                       effective_at=effective_at, via_exchange=via_exchange))

    def trade(self, trade: PendingTrade) -> PendingTrade:
        """A trade of the batch: counted in the tonnes its buyer bought that day, written at :meth:`flush`."""
        self.trades.append(trade)
        if (trade.buyer_id, trade.instrument, trade.trading_day) in self.bought:
            self.bought[(trade.buyer_id, trade.instrument, trade.trading_day)] += trade.quantity_t
        return trade

    def fund_post(self, post: funds.FundPost, *, check: bool = False) -> None:
        """A fund entry moved in memory (``check``: T0201 when the debit bucket holds less, as :func:`.funds.post`);
        written at :meth:`flush` (``post.key`` and ``post.reference`` may be callables, as in :meth:`unit_move`)."""
        funds.check_amount(post.amount_fen)
        (dacc, dbucket), (cacc, cbucket) = post.debit, post.credit
        d, c = self._cash(dacc), self._cash(cacc)
        di, ci = (0 if dbucket == funds.AVAILABLE else 1), (0 if cbucket == funds.AVAILABLE else 1)
        if check and dacc.kind != FundAccount.Kind.BANK and d[di] < post.amount_fen:
            raise CetsError(T0201, f"{dacc.number} {dbucket} {d[di]} < {post.amount_fen} fen")
        d[di] -= post.amount_fen
        c[ci] += post.amount_fen
        self.posts.append(post)

    def hold(self, *, key: str, account: Account, unit_type: UnitType, quantity: int, reference: str, effective_at: dt.datetime) -> None:
        self.unit_move(key=key, kind=TransferKind.POSITION_MOVE, unit_type=unit_type, debit=Leg(account, Position.TRADING),
                       credit=Leg(account, Position.PENDING), quantity=quantity, reference=reference, effective_at=effective_at)

    # ------------------------------------------------------------------ the batch's writes

    def flush(self) -> None:
        """Write the batch: the orders it changed, its trades, the registry lines (one set-based batch), the fund entries
        (one set-based batch). A refusal there raises :class:`Fallback` (the caller's transaction must roll back)."""
        if self.dirty:
            orders_save(list(self.dirty.values()))
        trades_write(self.trades)
        lines = [ln if isinstance(ln.key, str) else dataclasses.replace(ln, key=ln.key(), reference=_late(ln.reference)) for ln in self.lines]
        posts = [p if isinstance(p.key, str) else dataclasses.replace(p, key=p.key(), reference=_late(p.reference)) for p in self.posts]
        try:
            transfer_batch_post(lines=lines, result=False, savepoint=False)
            funds.post_batch(posts, rows=False)
        except (BatchRefused, CetsError) as e:
            raise Fallback(str(e)) from e

