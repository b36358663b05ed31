"""Trading writes: order entry with pre-trade checks, the sequencer, trade-by-trade DVP settlement and
the end-of-day market data.

Flow (DESIGN.md § Trading): ``order_place`` / ``order_take`` / ``order_cancel`` check the order, then in ONE
transaction (``_entered``) lock the market, write it to the command log (``Order``) with what it needs frozen
(funds in the fund ledger, units in the registry's pending position) and apply the log up to it: the sequencer
(``_apply_log``; ``sequencer_drain`` for a log written by another path) applies the log in order to the in-memory
book (``trading.book``) and, for each event, updates the order, settles each trade (units through the registry,
the payment and fees set-based through ``funds.post_batch``: delivery versus payment) and releases what a finished
order no longer needs. The commit is the acknowledgement (issue 19: one commit per command instead of two).
The group commit (issue 19, :mod:`.groupcommit`): ``order_place_queued`` / ``order_take_queued`` append a command
without its freeze (a short transaction, the acknowledgement of receipt); ``sequencer_drain`` (``cets trading
sequencer``) checks, freezes, applies and settles up to N of them in one transaction, settlement set-based.
``day_close`` expires the day's orders and writes the
day's statistics and quote.

Rules: 《碳排放权交易管理规则（试行）》 and 《碳排放权结算管理规则（试行）》 (公告2021年第21号), reference §3;
numbers from the market's trading pack (``national/trading-2021-2026``, ``ccer/trading-2024-2026``): every
function takes the market, and a subject resolves to its registry unit type through the pack
(:meth:`MarketRules.subject_unit_type`).
"""

from __future__ import annotations

import datetime as dt
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone

from cets.core.batch import gc_paused
from cets.core.db import prepared_cursor
from cets.core.errors import CetsError
from cets.parties.access import membership_of
from cets.parties.models import Organisation, Role
from cets.registry.models import Account, AccountStatus, Holding, Position, TransferKind, UnitType
from cets.registry.services import Leg, exchange_deliver, exchange_hold, exchange_release
from cets.rules.markets import PRIMARY_MARKET
from cets.rules.packs import Pack, pack_for

from .. import auction as au
from .. import book as bk
from ..calendar import in_session, is_trading_day, parse_sessions
from ..checks import T0101, T0102, T0111, T0113, T0114, T0115, T0205, T0206, T0207, T0208, T0209, T0210, T0211, T0212, T0303, T0501, T0502
from ..models import DailyQuote, DailyStat, FundEntry, MarketState, Method, Order, Trade
from . import funds
from .appends import APPEND_LOCK_CLASS, APPENDER, TAKEABLE, append_key, appends_write, bound_type
from .groupcommit import Deferred, Fallback, PendingTrade

SHANGHAI = ZoneInfo("Asia/Shanghai")


# Roles that may trade for their own organisation (Measures Art. 21; Regulations Art. 7 bars regulators,
# the registry, the exchange and verification bodies).
TRADER_ROLES = frozenset({Role.ENTITY, Role.TRADER})


# --- rules from the pack ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MarketRules:
    """A market's trading rules read from its pack: limits for the book, instrument → unit type,
    sessions per method, fee rate (fraction, per side, rounded half-up to the fen), same-day resale."""

    pack_id: str
    limits: bk.Limits
    instruments: dict[str, str]
    sessions: dict[str, tuple]
    fee_rate: Decimal
    same_day_resale: bool
    closed_days: frozenset = frozenset()
    max_holding_non_entity_t: int = 0
    max_holding_entity_over_allocation_t: int = 0
    large_holder_report_t: int = 0
    trading_rights: tuple = ()  # ((subject or "*", frozenset of account kinds), ...) from [trading_rights]; () = no restriction
    member_kinds: tuple = ()
    acts_for_clients: frozenset = frozenset()

    def trading_kinds(self, instrument: str) -> frozenset | None:
        """The account kinds that may trade ``instrument`` in this market: the pack's ``[trading_rights]`` row for the
        subject, else its ``"*"`` row; None when neither exists (everyone may)."""
        rights = dict(self.trading_rights)
        return rights.get(instrument, rights.get("*"))

    def may_trade(self, account_kind: str, instrument: str) -> bool:
        """Whether a participant whose account in this market is of ``account_kind`` may trade ``instrument``
        (:meth:`trading_kinds`)."""
        kinds = self.trading_kinds(instrument)
        return kinds is None or account_kind in kinds
    families: dict[str, str] | None = None  # registry instrument → itself: its every unit type is a subject under its own code
    publication: str = "by_method"  # what the exchange publishes daily: "by_method" (national) or "daily_totals" (ccer)

    def subject_unit_type(self, instrument: str) -> str | None:
        """The registry unit type code a subject delivers: the pack's ``[instruments]`` entry, or for a
        pack with ``[instrument_families]`` a unit type code of a listed family (``CCER-<project>-<vintage>``).
        None if the subject is not this market's."""
        if instrument in self.instruments:
            return self.instruments[instrument]
        fam = instrument.split("-", 1)[0]
        if self.families and fam in self.families and "-" in instrument:
            return instrument
        return None

    @classmethod
    def from_pack(cls, pack: Pack) -> MarketRules:
        d = pack.decimal
        limits = bk.Limits.from_pack(pack)
        sessions = {m: parse_sessions(pack.raw(f"sessions.{m}")) for m in ("listing", "block", "auction")}
        sessions["continuous"] = sessions["listing"]
        closed = frozenset(dt.date.fromisoformat(x) for x in pack.data.get("calendar", {}).get("closed_days", []))
        return cls(pack.id, limits, dict(pack.raw("instruments")), sessions, d("fees.rate"), pack.flag("positions.same_day_resale"), closed,
                   int(d("positions.max_holding_non_entity_t")), int(d("positions.max_holding_entity_over_allocation_t")),
                   int(d("positions.large_holder_report_t")),
                   trading_rights=tuple((k, frozenset(v)) for k, v in pack.data.get("trading_rights", {}).items()),
                   member_kinds=tuple(pack.data.get("members", {}).get("kinds", ())),
                   acts_for_clients=frozenset(pack.data.get("members", {}).get("acts_for_clients", ())),
                   families=dict(pack.data.get("instrument_families", {})), publication=pack.data.get("publication", {}).get("figures", "by_method"))

    def fee(self, amount_fen: int) -> int:
        """Fee in fen (int) on an amount in fen: ``amount × rate`` rounded half-up (trading pack [fees])."""
        return int((Decimal(amount_fen) * self.fee_rate).to_integral_value(rounding=ROUND_HALF_UP))


@lru_cache(maxsize=64)
def _market_rules(market: str, year: int) -> MarketRules:
    return MarketRules.from_pack(pack_for(market, "trading", year))


def market_rules(market: str, day: dt.date) -> MarketRules:
    """The trading rules of ``market`` in force on ``day`` (PackError if no pack covers the year)."""
    return _market_rules(market, day.year)


def _local(at: dt.datetime | None) -> dt.datetime:
    return timezone.localtime(at or timezone.now(), SHANGHAI)


def _calendar_overrides(day: dt.date) -> dict:
    """The calendar's override of ``day`` (``{day: is_working}`` or ``{}``): the only date the trading-day check reads."""
    from cets.core.models import WorkingDayOverride

    if day.weekday() >= 5:
        return {}
    return dict(WorkingDayOverride.objects.filter(date=day).values_list("date", "is_working_day"))


def _check_open(method: str, at: dt.datetime, rules: MarketRules) -> None:
    day = at.date()
    if not is_trading_day(day, _calendar_overrides(day), rules.closed_days) or not in_session(at.time(), rules.sessions[method]):
        raise CetsError(T0205, f"{method} {at:%Y-%m-%d %H:%M}")


def _participant_check(actor, participant: Organisation, market: str = PRIMARY_MARKET) -> None:
    """The actor must act for ``participant`` in a trading role — its own organisation, or an active exchange
    member whose kind acts for clients and that has ``participant`` as a client (:mod:`.members`; T0502 if that
    member is suspended); ``actor=None`` is a system job. T0209 otherwise."""
    if actor is None:
        return
    m = membership_of(actor)
    if m is not None and m.role in TRADER_ROLES and m.organisation_id != participant.pk:
        from .members import acts_for, suspended_member_of

        if acts_for(member_org=m.organisation, participant=participant, market=market):
            return
        sm = suspended_member_of(participant=participant, market=market)
        if sm is not None and sm.organisation_id == m.organisation_id:  # its member, but suspended
            raise CetsError(T0502, sm.code)
    if m is None or m.organisation_id != participant.pk or m.role not in TRADER_ROLES:
        raise CetsError(T0209, participant.identifier or participant.name)


def _rights_check(participant: Organisation, instrument: str, market: str, rules: MarketRules) -> Account | None:
    """Who may trade what (draft Measures Art. 18; the pack's ``[trading_rights]``): T0501 when the kind of the
    participant's account in ``market`` may not trade ``instrument``; T0502 when the exchange member acting for it is
    suspended (Measures Art. 47 (七)). No account is T0208 later. Returns the participant's registry account in
    ``market`` (None if it has none), which the freeze uses."""
    from ..models import ExchangeMember
    from .members import suspended_member_of

    acc = Account.objects.filter(holder=participant, market=market).order_by().first()
    if acc is not None and not rules.may_trade(acc.kind, instrument):
        raise CetsError(T0501, f"{acc.kind} · {instrument}")
    # two plain reads (every order runs this): whether the market has a suspended member at all — usually not — and only
    # then whether one acts for (or is) the participant
    if ExchangeMember.objects.filter(market=market, status=ExchangeMember.Status.SUSPENDED).exists():
        member = suspended_member_of(participant=participant, market=market)
        if member is not None:
            raise CetsError(T0502, member.code)
    return acc


def _unit_type(rules: MarketRules, instrument: str) -> UnitType:
    code = rules.subject_unit_type(instrument)
    ut = UnitType.objects.filter(code=code).first() if code else None
    if ut is None or (rules.families and instrument not in rules.instruments and ut.instrument not in rules.families):
        raise CetsError(T0206, instrument)
    return ut


def tradeable_subjects(*, market: str, day: dt.date, rules: MarketRules | None = None) -> list[str]:
    """Subject codes (str) ``market`` trades on ``day``: the pack's ``[instruments]`` plus, for each
    ``[instrument_families]`` entry, every registry unit type of that instrument (CCER: one subject per
    project and vintage), in code order."""
    rules = rules or market_rules(market, day)
    codes = set(rules.instruments)
    if rules.families:
        codes |= set(UnitType.objects.filter(instrument__in=list(rules.families)).values_list("code", flat=True))
    return sorted(codes)


def _registry_account(participant: Organisation, market: str, acc: Account | None = None) -> Account:
    """The participant's open registry account in ``market`` (``acc`` if the caller read it already); T0208 otherwise."""
    acc = acc or Account.objects.filter(holder=participant, market=market).first()
    if acc is None or acc.status != AccountStatus.OPEN:
        raise CetsError(T0208, f"{participant.identifier or participant.name}: {acc.status if acc else 'no account'}")
    return acc


def sellable_t(*, participant: Organisation, instrument: str, day: dt.date, market: str = PRIMARY_MARKET, rules: MarketRules | None = None,
               account: Account | None = None, unit_type: UnitType | None = None) -> int:
    """Tonnes (int) ``participant`` may sell now from ``account`` (default: its own account): the trading
    position minus what it bought on ``day`` (allowances bought today cannot be sold today, reference
    §3.1) unless the pack allows same-day resale."""
    rules = rules or market_rules(market, day)
    ut = unit_type or _unit_type(rules, instrument)
    acc = account or Account.objects.filter(holder=participant, market=market).first()
    if acc is None:
        return 0
    held = Holding.objects.filter(account=acc, unit_type=ut, position=Position.TRADING).values_list("quantity", flat=True).first() or 0
    if rules.same_day_resale:
        return held
    bought = Trade.objects.filter(market=market, buyer=participant, instrument=instrument, trading_day=day).aggregate(s=Sum("quantity_t"))["s"] or 0
    return max(held - bought, 0)


def _allocation_t(participant: Organisation, unit_type: UnitType) -> int:
    """The entity's final allocation (Σ over its sectors) of the unit type's vintage year in the unit type's
    market (0 if none or not an entity)."""
    from cets.allocation.selectors import allocated_t
    from cets.registry.kinds import INSTRUMENT_MARKET

    try:
        year = int(str(unit_type.vintage)[-4:])
    except ValueError:
        return 0
    return allocated_t(entity=participant, year=year, market=INSTRUMENT_MARKET.get(unit_type.instrument, PRIMARY_MARKET)) or 0


def holding_limit_t(*, participant: Organisation, unit_type: UnitType, rules: MarketRules) -> int | None:
    """Maximum holding (最大持仓量) in tonnes (int) of one unit type: for a key emitting entity its
    allocation of that vintage + the pack's margin, for others the pack's fixed limit; None where the
    pack sets none (trading pack [positions]: the national market publishes no figure; Beijing's 2014
    rules do)."""
    if not rules.max_holding_non_entity_t:
        return None
    if participant.kind == Organisation.Kind.ENTITY:
        return _allocation_t(participant, unit_type) + rules.max_holding_entity_over_allocation_t
    return rules.max_holding_non_entity_t


def _check_holding_limit(o: Order, participant: Organisation, unit_type: UnitType, quantity_t: int, rules: MarketRules) -> None:
    """T0212 if the holding plus the open buy orders plus this order would exceed the maximum holding."""
    limit = holding_limit_t(participant=participant, unit_type=unit_type, rules=rules)
    if limit is None:
        return
    held = Holding.objects.filter(account=o.account, unit_type=unit_type).aggregate(s=Sum("quantity"))["s"] or 0
    open_buys = Order.objects.filter(participant=participant, side=bk.BUY, instrument=o.instrument, status=Order.Status.RESTING,
                                     market=o.market).aggregate(s=Sum("remaining_t"))["s"] or 0
    if held + open_buys + quantity_t > limit:
        raise CetsError(T0212, f"{held} + {open_buys} + {quantity_t} > {limit} t")


def _log(market: str, **fields) -> Order:
    """Append to the command log under the market lock, so log order = commit order (the sequencer
    never sees a gap that a slower transaction fills later)."""
    _market_lock(market)
    _append_lock(market)
    return Order.objects.create(market=market, **fields)


def _append_lock(market: str) -> None:
    """The command log's append lock of ``market``, exclusive, held until the transaction ends: a direct entry takes it
    after the market lock, so every command logged before it has committed (or rolled back) and nothing is logged
    while it applies the log up to its own command. Queued appends (:func:`order_place_queued`) take the same lock
    *shared*, before their ``seq`` is made, and hold it to their commit: they do not wait for each other, and the
    sequencer's batch reads the log only up to the horizon :func:`_log_horizon` proves complete, so it never skips a
    command that commits later. PostgreSQL: transaction-level advisory locks; SQLite: none (its IMMEDIATE
    transaction serialises every writer)."""
    conn = transaction.get_connection()
    if conn.vendor == "postgresql":
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [APPEND_LOCK_CLASS, append_key(market)])


def _log_horizon(market: str) -> int | None:
    """PostgreSQL: the last ``seq`` of ``market``'s log below which every command has committed or will never exist —
    the highest command visible when the statement began, after waiting (the append lock taken exclusive and at once
    released: a barrier) for every queued append then in flight, each of which holds the lock shared from before its
    ``seq`` was made to its commit. A command with a lower ``seq`` can no longer appear, so the sequencer may apply
    the log up to here without skipping one. None elsewhere (SQLite serialises writers: no bound needed)."""
    conn = transaction.get_connection()
    if conn.vendor != "postgresql":
        return None
    key = append_key(market)
    with prepared_cursor(conn) as cur:
        cur.execute(f"SELECT COALESCE((SELECT seq FROM {Order._meta.db_table} WHERE market = %s ORDER BY seq DESC LIMIT 1), 0), pg_advisory_unlock(%s, %s) "
                    "FROM (SELECT pg_advisory_lock(%s, %s)) AS barrier", [market, APPEND_LOCK_CLASS, key, APPEND_LOCK_CLASS, key], prepare=True)
        return cur.fetchone()[0]


def _market_lock(market: str) -> MarketState:
    """Lock the market's row (created on first use); held until the surrounding transaction ends."""
    ms = MarketState.objects.select_for_update().filter(market=market).first()
    if ms is None:
        MarketState.objects.get_or_create(market=market)
        ms = MarketState.objects.select_for_update().get(market=market)
    return ms


class _Entry:
    """What an order entry inside :func:`_entered` logs: :meth:`log` appends the command (the market row is locked
    already), the sequencer applies it before the transaction commits."""

    def __init__(self, market: str, state: MarketState) -> None:
        self.market, self.state, self.order = market, state, None
        self.ctx = _DrainCache(market)

    def log(self, **fields) -> Order:
        _append_lock(self.market)
        self.order = Order.objects.create(market=self.market, **fields)
        return self.order


@contextmanager
def _entered(market: str):
    """``with _entered(market) as e: e.log(...); _freeze(...)`` — order entry and sequencing in ONE transaction:
    lock the market (log order = commit order), log the command with its freeze, then apply the log up to it (book,
    trades, settlement) and commit once. The commit is the acknowledgement: a crash before it loses the order and
    everything it did (nothing was acknowledged), a crash after it finds the order applied and settled. Commands
    logged by another path and not applied yet (a process that died between its log and its drain) are applied
    first, in log order. One commit and one market lock per command instead of two."""
    drained = False
    try:
        with _BOOK_LOCK, transaction.atomic():  # the book lock first, as sequencer_drain takes them (no deadlock between threads)
            e = _Entry(market, _market_lock(market))
            yield e
            if e.order is not None:
                drained = True
                _apply_log(market, e.state, mine=e.order, ctx=e.ctx)
    except BaseException:
        if drained:  # the book applied what the database did not keep: rebuild it from the log next time
            _BOOKS.pop(market, None)
        raise


def _existing(key: str) -> Order | None:
    return Order.objects.filter(key=key).first()


def _freeze(o: Order, *, side: str, rules: MarketRules, participant: Organisation, instrument: str, price_fen: int, quantity_t: int,
            at: dt.datetime, unit_type: UnitType | None = None, account: Account | None = None, ctx: _DrainCache | None = None) -> None:
    """Pre-trade check and freeze (two-phase): a buy holds price × quantity + fee in fen, a sell holds
    the units in the registry's pending position. T0201 / T0207 when short; nothing changes then.
    ``unit_type`` and ``account`` (the participant's registry account) spare reads when the caller has them;
    ``ctx`` (the entry's drain cache) learns the rows read here."""
    ut = unit_type or _unit_type(rules, instrument)
    if ctx is not None:
        ctx.seed_unit_type(o.trading_day, instrument, ut)
    if side == bk.BUY:
        o.account = o.account or _registry_account(participant, o.market, account)
        _check_holding_limit(o, participant, ut, quantity_t, rules)
        amount = price_fen * quantity_t
        need = amount + rules.fee(amount)
        acc = funds.fund_account_of(holder=participant, market=o.market)
        if ctx is not None:
            ctx.seed_fund(participant, acc)
        funds.post(key=f"order-{o.seq}-freeze", kind=FundEntry.Kind.FREEZE, debit=(acc, funds.AVAILABLE), credit=(acc, funds.FROZEN),
                   amount_fen=need, reference=f"委托冻结 order #{o.seq}", order=o, at=at)
        o.frozen_fen = need
    else:
        acc = o.account or _registry_account(participant, o.market, account)
        can = sellable_t(participant=participant, instrument=instrument, day=o.trading_day, market=o.market, rules=rules, account=acc, unit_type=ut)
        if quantity_t > can:
            raise CetsError(T0207, f"{quantity_t} > {can} t")
        o.account = acc
        exchange_hold(key=f"order-{o.seq}-hold", account=acc, unit_type=ut, quantity=quantity_t,
                      reference=f"委托冻结 order #{o.seq}", effective_at=at)
        o.frozen_t = quantity_t
    if ctx is None:  # in an entry (ctx given) the sequencer's record of the order saves these with the rest
        o.save(update_fields=["frozen_fen", "frozen_t", "account"])


def _require_day_open(market: str, instrument: str, day: dt.date) -> None:
    last_open = (Order.objects.filter(market=market, kind=Order.Kind.OPEN_DAY, instrument=instrument).order_by("-seq")
                 .values_list("trading_day", flat=True).first())
    if last_open is None or last_open != day:
        raise CetsError(T0205, f"{instrument} {day} not opened")


def _validate_order_shape(side: str, price_fen, quantity_t) -> None:
    if side not in (bk.BUY, bk.SELL):
        raise CetsError(T0114, repr(side))
    if isinstance(price_fen, bool) or not isinstance(price_fen, int) or price_fen <= 0:
        raise CetsError(T0101, repr(price_fen))
    if isinstance(quantity_t, bool) or not isinstance(quantity_t, int) or quantity_t <= 0:
        raise CetsError(T0102, repr(quantity_t))


def order_place(*, key: str, participant: Organisation, instrument: str, method: str, side: str, price_fen: int, quantity_t: int, actor,
                counterparty: Organisation | None = None, market: str = PRIMARY_MARKET, at: dt.datetime | None = None) -> Order:
    """Enter an order (申报): a listing quote (挂牌), a block order (大宗, optionally directed to
    ``counterparty``) or a continuous limit order. ``price_fen`` fen per tonne (int), ``quantity_t``
    tonnes (int). Checks: T0209 the actor trades for ``participant``; T0205 trading day and the method's
    session, day opened; T0206 instrument; T0501 trading rights of the participant's kind (pack), T0502 its member
    suspended; T0101/T0102/T0114 shape; T0208 an open registry account;
    T0212 maximum holding (buys); T0201 funds / T0207 sellable units (frozen at entry). Band and size
    (T0103–T0105) are the book's checks and show as a rejected order.
    Idempotent on ``key``. Returns the order after the sequencer has applied it."""
    if (o := _existing(key)) is not None:
        return o
    _participant_check(actor, participant, market)
    _validate_order_shape(side, price_fen, quantity_t)
    now = _local(at)
    rules = market_rules(market, now.date())
    if method not in rules.sessions:
        raise CetsError(T0113, method)
    _check_open(method, now, rules)
    ut = _unit_type(rules, instrument)
    acc = _rights_check(participant, instrument, market, rules)
    with _entered(market) as e:
        _require_day_open(market, instrument, now.date())
        o = e.log(
            key=key,
            kind=Order.Kind.PLACE,
            trading_day=now.date(),
            instrument=instrument,
            method=method,
            side=side,
            price_fen=price_fen,
            quantity_t=quantity_t,
            remaining_t=quantity_t,
            participant=participant,
            counterparty=counterparty,
            actor=actor,
            entered_at=now,
        )
        _freeze(o, side=side, rules=rules, participant=participant, instrument=instrument, price_fen=price_fen, quantity_t=quantity_t, at=now,
                unit_type=ut, account=acc, ctx=e.ctx)
    return o


def order_take(
    *, key: str, participant: Organisation, quote_seq: int, quantity_t: int, actor, market: str = PRIMARY_MARKET, at: dt.datetime | None = None
) -> Order:
    """Take (摘牌) ``quantity_t`` tonnes of the resting listing quote ``quote_seq`` at its price, or
    confirm a block order (its whole quantity). The same entry checks as ``order_place``; T0211 if the
    quote is not resting; the book refuses T0106 (not in the best five levels), T0107, T0108, T0109,
    T0112. Returns the take order after the sequencer has applied it (status filled or rejected)."""
    if (o := _existing(key)) is not None:
        return o
    _participant_check(actor, participant, market)
    if isinstance(quantity_t, bool) or not isinstance(quantity_t, int) or quantity_t <= 0:
        raise CetsError(T0102, repr(quantity_t))
    quote = Order.objects.filter(seq=quote_seq, market=market, kind=Order.Kind.PLACE, status=Order.Status.RESTING).first()
    if quote is None:
        raise CetsError(T0211, f"#{quote_seq}")
    now = _local(at)
    rules = market_rules(market, now.date())
    _check_open(quote.method, now, rules)
    acc = _rights_check(participant, quote.instrument, market, rules)
    side = bk.BUY if quote.side == bk.SELL else bk.SELL
    with _entered(market) as e:
        o = e.log(
            key=key,
            kind=Order.Kind.TAKE,
            trading_day=now.date(),
            instrument=quote.instrument,
            method=quote.method,
            side=side,
            price_fen=quote.price_fen,
            quantity_t=quantity_t,
            remaining_t=quantity_t,
            participant=participant,
            target=quote,
            actor=actor,
            entered_at=now,
        )
        _freeze(o, side=side, rules=rules, participant=participant, instrument=quote.instrument, price_fen=quote.price_fen, quantity_t=quantity_t,
                at=now, account=acc, ctx=e.ctx)
    return o


# --- the group-commit entry (issue 19) --------------------------------------------------------------


def _append_statement(conn, market: str, fields: dict) -> Order:
    """PostgreSQL: the append as ONE statement (in autocommit its own transaction: one round trip) — the append lock
    (:func:`_append_lock`) is taken shared in its ``FROM`` before the row, and its ``seq``, is made, and held to its
    commit; a key already in the log inserts nothing and answers the first command."""
    o = Order(market=market, queued=True, **fields)
    cols = [f for f in Order._meta.concrete_fields if f.column != "seq"]
    values = [f.get_db_prep_save(getattr(o, f.attname), conn) for f in cols]
    marks = ", ".join(f"%s::{bound_type(f, conn)}" for f in cols)
    sql = (f"INSERT INTO {Order._meta.db_table} ({', '.join(f.column for f in cols)}) SELECT {marks} "
           f"FROM (SELECT pg_advisory_xact_lock_shared(%s, %s)) AS lock ON CONFLICT (key) DO NOTHING RETURNING seq")
    with conn.cursor() as cur:
        cur.execute(sql, [*values, APPEND_LOCK_CLASS, append_key(market)])
        row = cur.fetchone()
    if row is None:
        return Order.objects.get(key=fields["key"])
    o.seq = o.pk = row[0]
    o._state.adding, o._state.db = False, conn.alias
    return o


# What a queued entry read of the calendar and of the day's open, for at most a second per process: thousands of
# appends a second need not each read what changes a few times a day, and the book is the last word (a command
# appended after its instrument closed is rejected by the book when the batch applies it, T0111).
_RECENT: dict[tuple, tuple[float, object]] = {}
RECENT_S = 1.0


def _recently(key: tuple, read):
    """``read()``'s answer (None when it raised nothing), reused for :data:`RECENT_S` seconds; a refusal is not kept."""
    import time

    now = time.monotonic()
    hit = _RECENT.get(key)
    if hit is not None and now - hit[0] < RECENT_S:
        return hit[1]
    value = read()
    _RECENT[key] = (now, value)
    return value


def _check_open_recent(method: str, at: dt.datetime, rules: MarketRules) -> None:
    """:func:`_check_open` with the calendar's override of the day read at most once a second (T0205)."""
    day = at.date()
    overrides = _recently(("calendar", day), lambda: _calendar_overrides(day))
    if not is_trading_day(day, overrides, rules.closed_days) or not in_session(at.time(), rules.sessions[method]):
        raise CetsError(T0205, f"{method} {at:%Y-%m-%d %H:%M}")


_KNOWN_SUBJECTS: set[tuple[str, str]] = set()  # (pack, subject) pairs this process has resolved to a unit type


def _unit_type_known(rules: MarketRules, instrument: str) -> None:
    """T0206 unless ``instrument`` is a subject of the market that resolves to a registry unit type (:func:`_unit_type`),
    read once per process and subject (unit types are never deleted)."""
    if (rules.pack_id, instrument) not in _KNOWN_SUBJECTS:
        _unit_type(rules, instrument)
        _KNOWN_SUBJECTS.add((rules.pack_id, instrument))


@dataclass(frozen=True)
class _Quote:
    seq: int
    instrument: str
    method: str
    side: str
    price_fen: int


def _takeable(market: str, seq: object) -> _Quote | None:
    """The listing quote or block order ``seq`` of ``market`` that a take may name — resting, or still in the queue
    (received), not voided — else None (T0211). Read by its primary key alone (on PostgreSQL one prepared statement)
    and the other conditions checked here: with them in the statement, PostgreSQL's generic plan for the prepared
    text (chosen after five runs) filtered the market's whole log by kind and status — 2.3 ms a take at 16,000
    orders, growing with the log (issue 19, ``pg_stat_statements`` in ``bench/README.md``)."""
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 < seq < 2**63:
        return None
    conn = transaction.get_connection()
    if conn.vendor != "postgresql":
        row = Order.objects.filter(seq=seq).values_list("seq", "instrument", "method", "side", "price_fen", "market", "kind", "status", "voided").first()
    else:
        with prepared_cursor(conn) as cur:
            cur.execute(f"SELECT seq, instrument, method, side, price_fen, market, kind, status, voided FROM {Order._meta.db_table} WHERE seq = %s",
                        [seq], prepare=True)
            row = cur.fetchone()
    if row is None or row[5] != market or row[6] != Order.Kind.PLACE or row[7] not in TAKEABLE or row[8]:
        return None
    return _Quote(*row[:5])


def _append_fast(market: str, rules: MarketRules, fields: dict, *, day_open: bool = True) -> Order | None:
    """On PostgreSQL, when the subject's day is open (``day_open``: read at most once a second), the command appended
    with its trading-rights checks in one statement (:func:`.appends.appends_write`; a take with its quote's check
    against the methods in session at its entry, :func:`_open_methods`) — through the process's group commit (:data:`.appends.APPENDER`) in
    autocommit, alone inside the caller's transaction; None elsewhere, or when nothing was written — then the caller
    runs the portable checks in their documented order (T0211, T0501/T0502, T0205 day not opened or session closed,
    T0208), which name the refusal, and appends (or answers the retry)."""
    conn = transaction.get_connection()
    if conn.vendor != "postgresql":
        return None
    if day_open:
        day, instrument = fields["trading_day"], fields["instrument"]
        try:
            _recently(("open", market, instrument, day), lambda: _require_day_open(market, instrument, day))
        except CetsError:
            return None
    open_methods = _open_methods(fields["entered_at"], rules) if fields["kind"] == Order.Kind.TAKE else None
    if conn.in_atomic_block or not conn.get_autocommit():
        return appends_write(conn, market, [(rules, fields, open_methods)])[0]
    return APPENDER.append(conn, market, rules, fields, open_methods)


def _open_methods(at: dt.datetime, rules: MarketRules) -> str:
    """The methods whose session is open at ``at`` on a trading day (:func:`_check_open_recent` passes), comma-joined:
    what a take's quote's method must be (T0205 otherwise)."""
    out = []
    for method in rules.sessions:
        try:
            _check_open_recent(method, at, rules)
        except CetsError:
            continue
        out.append(method)
    return ",".join(out)


def _append(market: str, **fields) -> Order:
    """A queued command appended to the log in a short transaction of its own (the append lock only, not the market
    lock: the sequencer's batch does not hold it up); its commit is the acknowledgement of receipt. Idempotent on
    ``key`` (a concurrent append of the same key returns the first)."""
    from django.db import IntegrityError

    conn = transaction.get_connection()
    if conn.vendor == "postgresql":
        return _append_statement(conn, market, fields)
    try:
        with transaction.atomic():
            _append_lock(market)
            return Order.objects.create(market=market, queued=True, **fields)
    except IntegrityError:
        if (o := _existing(fields["key"])) is not None:
            return o
        raise


def order_place_queued(*, key: str, participant: Organisation, instrument: str, method: str, side: str, price_fen: int, quantity_t: int, actor,
                       counterparty: Organisation | None = None, market: str = PRIMARY_MARKET, at: dt.datetime | None = None) -> Order:
    """Enter an order through the group commit: the entry checks of :func:`order_place` that do not depend on
    positions (T0209, T0101/T0102/T0114, T0113, T0205 session and day opened, T0206, T0501/T0502, T0208) raise here;
    the order is then appended to the command log (``queued``, status ``received``) in its own short transaction and
    returned — received, not yet applied. The sequencer's next batch (:func:`sequencer_drain`) checks it against the
    positions it holds (T0212 maximum holding, T0201 funds, T0207 sellable units — a refusal shows as a rejected
    order with that code, nothing frozen), freezes, applies it to the book and settles its trades; the order row
    carries the result once that batch commits. ``price_fen`` fen per tonne (int), ``quantity_t`` tonnes (int).
    Idempotent on ``key`` (a retry is answered by the append, or after a refusal of the checks)."""
    try:
        _participant_check(actor, participant, market)
        _validate_order_shape(side, price_fen, quantity_t)
        now = _local(at)
        rules = market_rules(market, now.date())
        if method not in rules.sessions:
            raise CetsError(T0113, method)
        _check_open_recent(method, now, rules)
        _unit_type_known(rules, instrument)
        fields = dict(key=key, kind=Order.Kind.PLACE, trading_day=now.date(), instrument=instrument, method=method, side=side, price_fen=price_fen,
                      quantity_t=quantity_t, remaining_t=quantity_t, participant=participant, counterparty=counterparty, actor=actor, entered_at=now)
        if (o := _append_fast(market, rules, fields)) is not None:
            return o
        acc = _rights_check(participant, instrument, market, rules)
        _recently(("open", market, instrument, now.date()), lambda: _require_day_open(market, instrument, now.date()))
        acc = _registry_account(participant, market, acc)
    except CetsError:
        if (o := _existing(key)) is not None:
            return o
        raise
    return _append(market, **fields, account=acc)


def order_take_queued(*, key: str, participant: Organisation, quote_seq: int, quantity_t: int, actor, market: str = PRIMARY_MARKET,
                      at: dt.datetime | None = None) -> Order:
    """Take a listing quote or confirm a block order through the group commit (see :func:`order_place_queued`):
    T0209, T0102, T0211 (the quote is not resting nor received — a quote still in the queue may be taken; the book
    decides when the batch applies the take: T0106–T0109, T0112), T0205, T0501/T0502, T0208 raise here; T0201/T0207
    show on the rejected order after the batch. Idempotent on ``key``."""
    try:
        _participant_check(actor, participant, market)
        if isinstance(quantity_t, bool) or not isinstance(quantity_t, int) or quantity_t <= 0:
            raise CetsError(T0102, repr(quantity_t))
        now = _local(at)
        rules = market_rules(market, now.date())
        if not isinstance(quote_seq, bool) and isinstance(quote_seq, int) and 0 < quote_seq < 2**63:
            # on PostgreSQL the quote is read and checked in the append's own statement: subject, method, side and price
            # from it (one round trip for the take, none for the quote)
            named = dict(key=key, kind=Order.Kind.TAKE, trading_day=now.date(), instrument="", method="", side="", price_fen=0,
                         quantity_t=quantity_t, remaining_t=quantity_t, participant=participant, target_id=quote_seq, actor=actor, entered_at=now)
            if (o := _append_fast(market, rules, named, day_open=False)) is not None:
                return o
        quote = _takeable(market, quote_seq)
        if quote is None:
            raise CetsError(T0211, f"#{quote_seq}")
        _check_open_recent(quote.method, now, rules)
        fields = dict(key=key, kind=Order.Kind.TAKE, trading_day=now.date(), instrument=quote.instrument, method=quote.method,
                      side=bk.BUY if quote.side == bk.SELL else bk.SELL, price_fen=quote.price_fen, quantity_t=quantity_t, remaining_t=quantity_t,
                      participant=participant, target_id=quote.seq, actor=actor, entered_at=now)
        acc = _registry_account(participant, market, _rights_check(participant, quote.instrument, market, rules))
    except CetsError:
        if (o := _existing(key)) is not None:
            return o
        raise
    return _append(market, **fields, account=acc)


def order_cancel(*, key: str, participant: Organisation, order_seq: int, actor, market: str = PRIMARY_MARKET, at: dt.datetime | None = None) -> Order:
    """Cancel (撤单) a resting order of ``participant``; the book refuses T0110 if it is not resting or
    not the participant's. Frozen funds or units are released by the sequencer."""
    if (o := _existing(key)) is not None:
        return o
    _participant_check(actor, participant, market)
    now = _local(at)
    target = Order.objects.filter(seq=order_seq, market=market).first()
    with _entered(market) as e:
        o = e.log(
            key=key,
            kind=Order.Kind.CANCEL,
            trading_day=now.date(),
            participant=participant,
            target=target,
            actor=actor,
            entered_at=now,
            instrument=target.instrument if target else "",
        )
    return o


def trading_day(*, market: str, day: dt.date) -> bool:
    """Whether ``market`` trades on ``day``: a working day of the calendar (weekends closed even when made up as
    working days, :mod:`cets.trading.calendar`) and not one of the trading pack's closed days."""
    return is_trading_day(day, _calendar_overrides(day), market_rules(market, day).closed_days)


def day_open(*, market: str, instrument: str, day: dt.date, prev_close_fen: int | None = None, at: dt.datetime | None = None) -> Order:
    """Open ``day`` for ``instrument`` (开市) with the price-band reference: ``prev_close_fen`` when the
    exchange sets it (a new instrument's listing reference price, or a replay of the published
    close), otherwise the platform's own last close. T0210 if the instrument's previous day was not
    closed; T0205 if ``day`` is not a trading day; T0111 without any reference. Idempotent."""
    key = f"{market}-{instrument}-{day.isoformat()}-open"
    if (o := _existing(key)) is not None:
        return o
    if not trading_day(market=market, day=day):
        raise CetsError(T0205, day.isoformat())
    last = Order.objects.filter(market=market, instrument=instrument, kind__in=(Order.Kind.OPEN_DAY, Order.Kind.CLOSE_DAY)).order_by("-seq").first()
    if last is not None and last.kind == Order.Kind.OPEN_DAY:
        raise CetsError(T0210, f"{instrument} {last.trading_day}")
    prev = DailyQuote.objects.filter(market=market, instrument=instrument, date__lt=day).order_by("-date").values_list("close_fen", flat=True).first()
    ref = prev_close_fen if prev_close_fen is not None else prev
    if ref is None or ref <= 0:
        raise CetsError(T0111, f"{instrument}: no previous close")
    with _entered(market) as e:
        first_session = market_rules(market, day).sessions["listing"][0][0]
        o = e.log(
            key=key,
            kind=Order.Kind.OPEN_DAY,
            trading_day=day,
            instrument=instrument,
            price_fen=ref,
            entered_at=at or dt.datetime.combine(day, first_session, SHANGHAI),
        )
    return o


def day_close(*, market: str, instrument: str, day: dt.date, at: dt.datetime | None = None) -> DailyQuote:
    """Close ``day`` for ``instrument`` (闭市): every resting order expires (frozen funds and units are
    released), and the day's statistics per method (volume, amount, year-to-date and cumulative) and
    the quote are written. Close = volume-weighted average of the day's listing trades rounded half-up
    to the fen, or the previous close if there were none; open = the first listing trade or the previous
    close; high/low from listing trades (0 if none), as the exchange publishes them (reference §3.1).
    Idempotent."""
    key = f"{market}-{instrument}-{day.isoformat()}-close"
    if _existing(key) is None:
        with _entered(market) as e:
            last_session = max(end for spans in market_rules(market, day).sessions.values() for _start, end in spans)
            e.log(
                key=key,
                kind=Order.Kind.CLOSE_DAY,
                trading_day=day,
                instrument=instrument,
                entered_at=at or dt.datetime.combine(day, last_session, SHANGHAI),
            )
    return _market_data_write(market=market, instrument=instrument, day=day)


@transaction.atomic
def _market_data_write(*, market: str, instrument: str, day: dt.date) -> DailyQuote:
    existing = DailyQuote.objects.filter(market=market, instrument=instrument, date=day).first()
    if existing is not None:
        return existing
    opened = Order.objects.get(key=f"{market}-{instrument}-{day.isoformat()}-open")
    trades = list(
        Trade.objects.filter(market=market, instrument=instrument, trading_day=day)
        .order_by("seq")
        .values_list("method", "price_fen", "quantity_t", "amount_fen")
    )
    methods = (Method.LISTING, Method.BLOCK, Method.AUCTION)
    # the previous day's counters: a close writes one row per method, so the latest rows before ``day`` are usually
    # one per method; a method missing there is read by itself
    latest: dict[str, DailyStat] = {}
    for st in DailyStat.objects.filter(market=market, instrument=instrument, date__lt=day).order_by("-date", "method")[:len(methods)]:
        latest.setdefault(st.method, st)
    stats = []
    for method in methods:
        rows = [t for t in trades if t[0] == method]
        vol, amt = sum(t[2] for t in rows), sum(t[3] for t in rows)
        prev = latest.get(method) or DailyStat.objects.filter(market=market, instrument=instrument, method=method, date__lt=day).order_by("-date").first()
        same_year = prev is not None and prev.date.year == day.year
        stats.append(DailyStat(
            market=market,
            date=day,
            instrument=instrument,
            method=method,
            volume_t=vol,
            amount_fen=amt,
            trades=len(rows),
            ytd_volume_t=(prev.ytd_volume_t if same_year else 0) + vol,
            ytd_amount_fen=(prev.ytd_amount_fen if same_year else 0) + amt,
            cum_volume_t=(prev.cum_volume_t if prev else 0) + vol,
            cum_amount_fen=(prev.cum_amount_fen if prev else 0) + amt,
        ))
    DailyStat.objects.bulk_create(stats)
    listing = [t for t in trades if t[0] == Method.LISTING]
    vol, amt = sum(t[2] for t in listing), sum(t[3] for t in listing)
    if listing:
        close = bk.vwap_fen(amt, vol)
        o, h, lo = listing[0][1], max(t[1] for t in listing), min(t[1] for t in listing)
    else:
        close, o, h, lo = opened.price_fen, opened.price_fen, 0, 0
    return DailyQuote.objects.create(
        market=market,
        date=day,
        instrument=instrument,
        open_fen=o,
        high_fen=h,
        low_fen=lo,
        close_fen=close,
        prev_close_fen=opened.price_fen,
        volume_t=vol,
        amount_fen=amt,
    )


# --- one-way auction (单向竞价) -------------------------------------------------------------------


def auction_offer(
    *,
    key: str,
    initiator: Organisation,
    instrument: str,
    quantity_t: int,
    floor_fen: int,
    pricing: str = "uniform",
    min_bid_t: int = 1,
    max_bid_t: int = 0,
    account: Account | None = None,
    actor,
    market: str = PRIMARY_MARKET,
    at: dt.datetime | None = None,
) -> Order:
    """Announce a one-way auction: ``initiator`` sells ``quantity_t`` tonnes (int) of ``instrument`` at a
    floor of ``floor_fen`` fen per tonne (int), cleared at a ``uniform`` price or ``pay_as_bid``, bids of
    ``min_bid_t`` … ``max_bid_t`` tonnes (0 = no maximum). The units are held from ``account`` (default:
    the initiator's own account; for paid allocation an authority names the market's auction account,
    R0502 unless the actor is that authority or an exchange operator). Terms are checked with
    ``trading.auction`` (T0303). Idempotent on ``key``."""
    if (o := _existing(key)) is not None:
        return o
    if account is not None and account.holder_id != initiator.pk:
        from cets.parties.access import require_role

        if actor is not None:
            require_role(actor, Role.EXCHANGE_OPERATOR, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY)
    else:
        _participant_check(actor, initiator)
    if pricing not in ("uniform", "pay_as_bid"):
        raise CetsError(T0303, pricing)
    _validate_order_shape(bk.SELL, floor_fen, quantity_t)
    now = _local(at)
    rules = market_rules(market, now.date())
    _check_open("auction", now, rules)
    with _entered(market) as e:
        _require_day_open(market, instrument, now.date())
        o = e.log(
            key=key,
            kind=Order.Kind.AUCTION_OFFER,
            trading_day=now.date(),
            instrument=instrument,
            method=Method.AUCTION,
            side=bk.SELL,
            price_fen=floor_fen,
            quantity_t=quantity_t,
            remaining_t=quantity_t,
            participant=initiator,
            actor=actor,
            entered_at=now,
            account=account,
            terms={"pricing": pricing, "min_bid_t": min_bid_t, "max_bid_t": max_bid_t},
        )
        _freeze(o, side=bk.SELL, rules=rules, participant=initiator, instrument=instrument, price_fen=floor_fen, quantity_t=quantity_t, at=now,
                ctx=e.ctx)
    return o


def auction_bid(
    *,
    key: str,
    participant: Organisation,
    auction_seq: int,
    price_fen: int,
    quantity_t: int,
    actor,
    market: str = PRIMARY_MARKET,
    at: dt.datetime | None = None,
) -> Order:
    """A sealed bid (竞买申报) of ``quantity_t`` tonnes at ``price_fen`` fen per tonne; price × quantity + fee
    is frozen at entry (T0201). The book refuses T0301/T0302/T0304/T0115 (the bid is then rejected and
    its funds released)."""
    if (o := _existing(key)) is not None:
        return o
    _participant_check(actor, participant, market)
    _validate_order_shape(bk.BUY, price_fen, quantity_t)
    offer = Order.objects.filter(seq=auction_seq, market=market, kind=Order.Kind.AUCTION_OFFER).first()
    if offer is None:
        raise CetsError(T0115, f"#{auction_seq}")
    now = _local(at)
    rules = market_rules(market, now.date())
    _check_open("auction", now, rules)
    acc = _rights_check(participant, offer.instrument, market, rules)
    with _entered(market) as e:
        o = e.log(
            key=key,
            kind=Order.Kind.AUCTION_BID,
            trading_day=now.date(),
            instrument=offer.instrument,
            method=Method.AUCTION,
            side=bk.BUY,
            price_fen=price_fen,
            quantity_t=quantity_t,
            remaining_t=quantity_t,
            participant=participant,
            target=offer,
            actor=actor,
            entered_at=now,
        )
        _freeze(o, side=bk.BUY, rules=rules, participant=participant, instrument=offer.instrument, price_fen=price_fen, quantity_t=quantity_t, at=now,
                account=acc, ctx=e.ctx)
    return o


def auction_close(*, key: str, auction_seq: int, actor, market: str = PRIMARY_MARKET, at: dt.datetime | None = None) -> Order:
    """Clear the auction (出清) by price priority then time; each fill settles as a trade (DVP); unfilled
    bids and unsold units are released. An exchange operator (R0502) or a system job."""
    if (o := _existing(key)) is not None:
        return o
    if actor is not None:
        from cets.parties.access import require_role

        require_role(actor, Role.EXCHANGE_OPERATOR)
    offer = Order.objects.filter(seq=auction_seq, market=market, kind=Order.Kind.AUCTION_OFFER).first()
    if offer is None:
        raise CetsError(T0115, f"#{auction_seq}")
    now = _local(at)
    with _entered(market) as e:
        o = e.log(
            key=key,
            kind=Order.Kind.AUCTION_CLEAR,
            trading_day=now.date(),
            instrument=offer.instrument,
            method=Method.AUCTION,
            target=offer,
            actor=actor,
            entered_at=now,
        )
    return o


# --- the sequencer ---------------------------------------------------------------------------------

# The in-memory book of each market in this process and the last command it has applied. Whoever holds
# the market lock brings this book up to the log (replaying commands other processes applied) before
# applying new ones, so the book is always a function of the log.
_BOOKS: dict[str, tuple[bk.Book, int]] = {}
_BOOK_LOCK = threading.RLock()  # threads of one process share _BOOKS: one applies or reads at a time


def _command(o: Order):
    """The book command of a log entry; None for a voided entry (skipped on replay)."""
    if o.voided:
        return None
    p = str(o.participant_id or "")
    if o.kind == Order.Kind.PLACE:
        return bk.Place(o.seq, p, o.instrument, o.method, o.side, o.price_fen, o.quantity_t, str(o.counterparty_id or ""))
    if o.kind == Order.Kind.TAKE:
        return bk.Take(o.seq, p, o.target_id, o.quantity_t)
    if o.kind == Order.Kind.CANCEL:
        return bk.Cancel(o.seq, p, o.target_id or 0)
    if o.kind == Order.Kind.OPEN_DAY:
        return bk.OpenDay(o.seq, o.instrument, o.price_fen)
    if o.kind == Order.Kind.AUCTION_OFFER:
        return bk.AuctionOffer(o.seq, p, o.instrument, au.AuctionSpec(o.quantity_t, o.price_fen, **o.terms))
    if o.kind == Order.Kind.AUCTION_BID:
        return bk.AuctionBid(o.seq, p, o.target_id or 0, o.price_fen, o.quantity_t)
    if o.kind == Order.Kind.AUCTION_CLEAR:
        return bk.AuctionClear(o.seq, o.target_id or 0)
    return bk.CloseDay(o.seq, o.instrument)


def _limits(market: str) -> bk.Limits:
    return market_rules(market, timezone.localdate()).limits


def _rebuild(market: str, upto: int) -> bk.Book:
    """A fresh book replayed from the log up to ``upto``: every order resting now was entered after
    the latest open of its instrument, so replaying from the earliest of those opens is enough."""
    book = bk.Book(_limits(market))
    opens = Order.objects.filter(market=market, kind=Order.Kind.OPEN_DAY, seq__lte=upto).values("instrument").annotate(m=Max("seq"))
    start = min((r["m"] for r in opens), default=None)
    if start is not None:
        for o in Order.objects.filter(market=market, seq__gte=start, seq__lte=upto).order_by("seq").iterator():
            if (cmd := _command(o)) is not None:
                book.apply(cmd)
    return book


def sequencer_drain(*, market: str = PRIMARY_MARKET, batch: int = 5000, group_commit: bool = True) -> int:
    """Apply every command of the log not applied yet, in order, writing each event's effects (order
    status, trades with their settlement, releases), ``batch`` commands per transaction. One sequencer at a time per
    market (the ``MarketState`` row lock). Returns the number of commands applied. If anything fails, the
    transaction rolls back and this process's book is dropped (it is rebuilt from the log next time).

    ``group_commit`` (issue 19, :mod:`.groupcommit`): each batch checks queued commands against positions held in
    memory and writes its settlement set-based at its end (the same rows and hashes as trade by trade); if that
    write is refused, the batch rolls back and runs again with settlement trade by trade (``group_commit=False``),
    where a refusal voids one command only."""
    total = 0
    while True:
        try:
            with _BOOK_LOCK:
                try:
                    new = _drain_batch(market, batch, deferred=group_commit)
                except Fallback:
                    FALLBACKS[market] = FALLBACKS.get(market, 0) + 1
                    _BOOKS.pop(market, None)
                    new = _drain_batch(market, batch, deferred=False)
        except BaseException:
            _BOOKS.pop(market, None)
            raise
        total += len(new)
        if len(new) < batch:
            return total


FALLBACKS: dict[str, int] = {}  # batches of this process that fell back to settlement trade by trade, per market


@gc_paused()  # a batch's plain rows (issue 19)
def _drain_batch(market: str, batch: int, deferred: bool = False) -> list[Order]:
    """One transaction of the sequencer: lock the market, bring the book up to the log, apply up to
    ``batch`` new commands and record their effects (``deferred``: the group commit's settlement at the end)."""
    with transaction.atomic():
        return _apply_log(market, _market_lock(market), batch=batch, deferred=deferred)


def _apply_log(market: str, ms: MarketState, *, batch: int = 0, mine: Order | None = None, ctx: _DrainCache | None = None,
               deferred: bool = False) -> list[Order]:
    """Under the market lock (``ms``, locked by the caller's transaction): bring this process's book up to the log,
    apply the commands logged after ``ms.applied_seq`` in order — up to ``batch`` of them, or, with ``mine`` (the
    command the caller's entry just logged, the last of the log while the lock is held), every one up to and
    including ``mine``, updating ``mine`` in place — and record their effects."""
    book, applied = _BOOKS.get(market, (None, -1))
    if book is None or applied > ms.applied_seq:
        book = _rebuild(market, ms.applied_seq)
    elif applied < ms.applied_seq:
        for o in Order.objects.filter(market=market, seq__gt=applied, seq__lte=ms.applied_seq).order_by("seq").iterator():
            if (cmd := _command(o)) is not None:
                book.apply(cmd)
    ctx = ctx or _DrainCache(market)
    if mine is None:
        log = Order.objects.filter(market=market, seq__gt=ms.applied_seq)
        if (horizon := _log_horizon(market)) is not None:
            log = log.filter(seq__lte=horizon)
        new = ctx.with_parties(log.order_by("seq")[:batch])
    elif mine.seq == ms.applied_seq + 1:  # nothing can sit between (the usual case): no read
        new = [mine]
    else:
        new = [*Order.objects.filter(market=market, seq__gt=ms.applied_seq, seq__lt=mine.seq).select_related("participant", "account").order_by("seq"),
               mine]
    if deferred and any(o.queued and market_rules(o.market, o.trading_day).max_holding_non_entity_t for o in new):
        deferred = False  # a maximum holding (T0212) reads open orders and holdings of the database: trade by trade, decided
        # before anything is applied (a Fallback would drop this process's book and rebuild it from the whole log)
    if deferred and new:
        ctx.deferred = _deferred_start(ctx, new)
    try:
        for o in new:
            book = _apply_one(market, book, o, mine, ctx)
        if ctx.deferred is not None:
            ctx.deferred.flush()
    except BaseException:
        _BOOKS.pop(market, None)
        raise
    if new:
        ms.applied_seq = new[-1].seq
        ms.save(update_fields=["applied_seq"])
    _BOOKS[market] = (book, ms.applied_seq)
    return new


def _apply_one(market: str, book: bk.Book, o: Order, mine: Order | None, ctx: _DrainCache) -> bk.Book:
    """Apply one command of the log (a queued one is first checked and frozen) and record its effects; the book
    (rebuilt without the command if settlement voided it)."""
    if o.queued and o.status == Order.Status.RECEIVED and o.kind in (Order.Kind.PLACE, Order.Kind.TAKE):
        refused = _queued_freeze(o, ctx)
        if refused is not None:
            _queued_refuse(o, refused)
            return book
    if ctx.deferred is not None:
        try:
            _record(o, book.apply(_command(o)), ctx)
        except CetsError as e:
            raise Fallback(str(e)) from e
        return book
    before = {f: getattr(o, f) for f in _SAVED} if o is mine else None
    try:
        with transaction.atomic():
            _record(o, book.apply(_command(o)), ctx)
    except CetsError as e:
        # Settlement refused what the book accepted (an account frozen or closed since
        # entry): the command is void, and the book is rebuilt without it, so one
        # refusal never halts the market. (``mine`` is not saved before its record: its
        # fields go back to what the entry set, not to the database's row.)
        if before is not None:
            for f, v in before.items():
                setattr(o, f, v)
        _void(o, e, ctx, refresh=before is None)
        book = _rebuild(market, o.seq)
    return book


def _deferred_start(ctx: _DrainCache, new: list[Order]) -> Deferred:
    """The batch's positions in memory, read in a few statements: the fund accounts of its participants, the holdings
    of its accounts, tonnes its sellers bought today, the quotes its takes name."""
    d = Deferred(ctx.market)
    d.orders = {o.seq: o for o in new}
    ctx.prefetch_funds(*{o.participant.pk: o.participant for o in new if o.participant is not None}.values())
    targets = {o.target_id for o in new if o.target_id and o.target_id not in d.orders}
    if targets:
        d.orders.update({t.seq: t for t in ctx.with_parties(Order.objects.filter(seq__in=targets))})
    uts = {ctx.unit_type(o.trading_day, o.instrument).pk for o in new if o.kind in (Order.Kind.PLACE, Order.Kind.TAKE) and o.instrument}
    accounts = [a.account_id for a in d.orders.values() if a.account_id]
    if uts and accounts:
        d.load_units(accounts, sorted(uts))
    sellers: dict[tuple[str, dt.date], list[int]] = {}
    for o in new:
        if o.queued and o.side == bk.SELL and o.participant_id:
            sellers.setdefault((o.instrument, o.trading_day), []).append(o.participant_id)
    for (instrument, day), ps in sellers.items():
        if not market_rules(ctx.market, day).same_day_resale:
            d.load_bought(ps, instrument, day)
    return d


def _queued_freeze(o: Order, ctx: _DrainCache) -> CetsError | None:
    """The pre-trade check and freeze of a queued command, in the sequencer's batch: :func:`_freeze` (trade by trade,
    in a savepoint) or, in a group commit, the same checks against the batch's positions in memory. Returns the
    refusal (T0212, T0201, T0204, T0207, T0202, R01xx) or None."""
    rules = market_rules(o.market, o.trading_day)
    d = ctx.deferred
    try:
        if d is None:
            with transaction.atomic():
                _freeze(o, side=o.side, rules=rules, participant=o.participant, instrument=o.instrument, price_fen=o.price_fen,
                        quantity_t=o.quantity_t, at=o.entered_at, account=o.account, ctx=ctx)
                o.save(update_fields=["frozen_fen", "frozen_t", "account"])  # a void after it (refreshed from the row) releases it
            return None
        if rules.max_holding_non_entity_t:
            raise Fallback("maximum holding: checked trade by trade")  # T0212 reads open orders and holdings of the database
        ut = ctx.unit_type(o.trading_day, o.instrument)
        if o.side == bk.BUY:
            amount = o.price_fen * o.quantity_t
            need = amount + rules.fee(amount)
            acc = ctx.participant_fund(o.participant)
            d.fund_post(funds.FundPost(key=f"order-{o.seq}-freeze", kind=FundEntry.Kind.FREEZE, debit=(acc, funds.AVAILABLE),
                                       credit=(acc, funds.FROZEN), amount_fen=need, reference=f"委托冻结 order #{o.seq}", order=o, at=o.entered_at),
                        check=True)
            o.frozen_fen = need
        else:
            can = d.sellable(account=o.account, unit_type=ut, participant_id=o.participant_id, instrument=o.instrument, day=o.trading_day,
                             same_day_resale=rules.same_day_resale)
            if o.quantity_t > can:
                raise CetsError(T0207, f"{o.quantity_t} > {can} t")
            d.hold(key=f"order-{o.seq}-hold", account=o.account, unit_type=ut, quantity=o.quantity_t, reference=f"委托冻结 order #{o.seq}",
                   effective_at=o.entered_at)
            o.frozen_t = o.quantity_t
    except CetsError as e:
        return e
    return None


def _queued_refuse(o: Order, e: CetsError) -> None:
    """A queued command the pre-trade check refused: rejected with that check, void (the book never sees it), nothing
    frozen."""
    o.status = Order.Status.REJECTED
    o.voided = True
    o.reject_code = e.code
    o.reject_detail = (f"{e.check.en} / {e.check.zh}" + (f" ({e.detail})" if e.detail else ""))[:300]
    o.save(update_fields=[*_SAVED, "voided"])


@contextmanager
def book_read(market: str = PRIMARY_MARKET):
    """``with book_read("national") as book:`` — this process's book of ``market``, brought up to the
    log, for reading (depth, resting quotes) while no thread of this process applies commands to it."""
    sequencer_drain(market=market)
    with _BOOK_LOCK:
        yield _BOOKS[market][0]


class _DrainCache:
    """Rows one drain looks up again and again (unit types, fund accounts), kept for that drain only."""

    def __init__(self, market: str) -> None:
        self.market = market
        self._ut: dict[tuple[int, str], UnitType] = {}
        self._funds: dict[int, object] = {}
        self._fees = None
        self.deferred: Deferred | None = None  # the group commit's batch (issue 19), None trade by trade
        self._orgs: dict[int, Organisation] = {}  # participants and accounts of the orders read (:meth:`with_parties`)
        self._accounts: dict[int, Account] = {}

    def with_parties(self, orders) -> list[Order]:
        """``orders`` (a queryset of ``Order``) read, each with its participant and registry account as a join would give
        them (``select_related``), from rows this drain reads once: one statement per table for those not read yet,
        instead of a joined row and two model instances per order."""
        out = list(orders)
        orgs = {o.participant_id for o in out if o.participant_id is not None and o.participant_id not in self._orgs}
        if orgs:
            self._orgs.update(Organisation.objects.in_bulk(orgs))
        accounts = {o.account_id for o in out if o.account_id is not None and o.account_id not in self._accounts}
        if accounts:
            self._accounts.update(Account.objects.in_bulk(accounts))
        for o in out:
            _PARTICIPANT.set_cached_value(o, self._orgs[o.participant_id] if o.participant_id is not None else None)
            _ACCOUNT.set_cached_value(o, self._accounts[o.account_id] if o.account_id is not None else None)
        return out

    def seed_unit_type(self, day: dt.date, instrument: str, ut: UnitType) -> None:
        self._ut[(day.year, instrument)] = ut

    def seed_fund(self, holder: Organisation, acc) -> None:
        self._funds[holder.pk] = acc

    def unit_type(self, day: dt.date, instrument: str) -> UnitType:
        k = (day.year, instrument)
        if k not in self._ut:
            self._ut[k] = _unit_type(market_rules(self.market, day), instrument)
        return self._ut[k]

    def fund(self, holder: Organisation):
        if holder.pk not in self._funds:
            self._funds[holder.pk] = funds.fund_account_of(holder=holder, market=self.market, create=True)
        return self._funds[holder.pk]

    def participant_fund(self, holder: Organisation):
        """The participant's fund account as an order's freeze needs it (T0204 if none; not created)."""
        if holder.pk not in self._funds:
            self._funds[holder.pk] = funds.fund_account_of(holder=holder, market=self.market)
        return self._funds[holder.pk]

    def fees(self):
        if self._fees is None:
            self._fees = funds.system_fund_account(self.market, "fees")
        return self._fees

    def prefetch_funds(self, *holders: Organisation) -> None:
        """Read the fund accounts of ``holders`` and the fees account not read yet, in one statement."""
        if self._fees is not None and all(h.pk in self._funds for h in holders):
            return  # read already (every trade of a batch asks)
        from django.db.models import Q

        from ..models import FundAccount

        missing = {h.pk for h in holders if h.pk not in self._funds}
        fees_number = f"{self.market.upper()}-FUND-FEES"
        if not missing and self._fees is not None:
            return
        q = Q(market=self.market, holder_id__in=missing) if missing else Q(pk__in=[])
        if self._fees is None:
            q |= Q(number=fees_number)
        for acc in FundAccount.objects.filter(q):
            if acc.number == fees_number:
                self._fees = acc
            elif acc.holder_id in missing and acc.holder_id not in self._funds:
                self._funds[acc.holder_id] = acc


_PARTICIPANT, _ACCOUNT = Order._meta.get_field("participant"), Order._meta.get_field("account")
_SAVED = ["status", "filled_t", "filled_amount_fen", "remaining_t", "frozen_fen", "frozen_t", "reject_code", "reject_detail", "account"]


def _record(o: Order, events: list, ctx: _DrainCache) -> None:
    orders: dict[int, Order] = {o.seq: o}

    batch = ctx.deferred

    def get(seq: int) -> Order:
        if seq not in orders:
            if batch is not None and seq in batch.orders:
                orders[seq] = batch.orders[seq]
            else:
                orders[seq] = Order.objects.select_related("participant", "account").get(seq=seq)
                if batch is not None:
                    batch.orders[seq] = orders[seq]
        return orders[seq]

    for ev in events:
        t = type(ev)
        if t is bk.Accepted:
            if o.kind in (Order.Kind.PLACE, Order.Kind.AUCTION_OFFER, Order.Kind.AUCTION_BID):
                o.status = Order.Status.RESTING
            else:
                o.status = Order.Status.DONE
        elif t is bk.Rejected:
            o.status = Order.Status.REJECTED
            o.reject_code = ev.check.code
            o.reject_detail = (f"{ev.check.en} / {ev.check.zh}" + (f" ({ev.detail})" if ev.detail else ""))[:300]
        elif t is bk.Traded:
            _settle(ev, get(ev.buy_order), get(ev.sell_order), ctx)
        elif t is bk.Done:
            d = get(ev.order_id)
            d.status = {"filled": Order.Status.FILLED, "cancelled": Order.Status.CANCELLED, "expired": Order.Status.EXPIRED}[ev.reason]
            d.remaining_t = ev.remaining_t
    if o.kind == Order.Kind.TAKE and o.status == Order.Status.DONE:
        o.status = Order.Status.FILLED
    for d in orders.values():
        if d.status not in (Order.Status.RESTING, Order.Status.RECEIVED):
            _release(d, ctx)
        if ctx.deferred is not None:
            ctx.deferred.dirty[d.seq] = d  # saved with the batch (groupcommit.Deferred.flush)
        else:
            d.save(update_fields=_SAVED)


def _void(o: Order, e: CetsError, ctx: _DrainCache, refresh: bool = True) -> None:
    """Mark ``o`` void and rejected with the settlement's check, and give back what it holds where the
    registry still allows it (units of a frozen account stay held and the order says so). ``refresh=False``:
    ``o`` holds its logged state already (an entry's own command, not saved before its record)."""
    if refresh:
        o.refresh_from_db()
    o.voided = True
    o.status = Order.Status.REJECTED
    o.reject_code = e.code
    o.reject_detail = f"settlement refused / 交收被拒: {e}"[:300]
    try:
        with transaction.atomic():
            _release(o, ctx)
    except CetsError as again:
        o.reject_detail = f"{o.reject_detail[:200]}; still held / 仍冻结: {again.code}"[:300]
    o.save(update_fields=[*_SAVED, "voided"])


def _settle(ev: bk.Traded, buy: Order, sell: Order, ctx: _DrainCache) -> Trade | PendingTrade:
    """Settle one trade by itself, delivery versus payment: the buyer's frozen funds pay the seller,
    the seller's held units go to the buyer's trading position, fees go to the exchange — all in the
    sequencer's transaction, so either everything moves or nothing does. Fees are charged on the
    cumulative filled amount of each order, so the fees of an order's trades add up exactly to the fee
    on its total (never more than was frozen)."""
    market = ctx.market
    rules = market_rules(market, buy.trading_day)
    amount = ev.price_fen * ev.quantity_t
    fees = {}
    for od in (buy, sell):
        before = od.filled_amount_fen
        od.filled_amount_fen = before + amount
        fees[od.seq] = rules.fee(before + amount) - rules.fee(before)
        od.filled_t += ev.quantity_t
        if od.kind in (Order.Kind.PLACE, Order.Kind.AUCTION_OFFER, Order.Kind.AUCTION_BID):
            od.remaining_t -= ev.quantity_t
    at = _local(None) if buy.entered_at is None else max(buy.entered_at, sell.entered_at)
    ut = ctx.unit_type(buy.trading_day, ev.instrument)
    d = ctx.deferred
    if d is not None:  # the group commit: the trade, its delivery and its entries moved in memory, written with the batch
        tr = d.trade(PendingTrade(market=market, trading_day=buy.trading_day, instrument=ev.instrument, method=ev.method, price_fen=ev.price_fen,
                                  quantity_t=ev.quantity_t, amount_fen=amount, buy_order_id=buy.seq, sell_order_id=sell.seq,
                                  buyer_id=buy.participant_id, seller_id=sell.participant_id, buyer_fee_fen=fees[buy.seq],
                                  seller_fee_fen=fees[sell.seq], executed_at=at))
        # its seq is given at the flush: the keys and references that name it are built then
        d.unit_move(key=lambda: f"trade-{tr.seq}-units", kind=TransferKind.TRANSFER, unit_type=ut, debit=Leg(sell.account, Position.PENDING),
                    credit=Leg(buy.account, Position.TRADING), quantity=ev.quantity_t, reference=lambda: f"成交 trade #{tr.seq} {ev.instrument}",
                    effective_at=at, via_exchange=True)
    else:
        tr = Trade.objects.create(
            market=market,
            trading_day=buy.trading_day,
            instrument=ev.instrument,
            method=ev.method,
            price_fen=ev.price_fen,
            quantity_t=ev.quantity_t,
            amount_fen=amount,
            buy_order=buy,
            sell_order=sell,
            buyer_id=buy.participant_id,
            seller_id=sell.participant_id,
            buyer_fee_fen=fees[buy.seq],
            seller_fee_fen=fees[sell.seq],
            executed_at=at,
        )
        exchange_deliver(
            key=f"trade-{tr.seq}-units",
            seller=sell.account,
            buyer=buy.account,
            unit_type=ut,
            quantity=ev.quantity_t,
            reference=f"成交 trade #{tr.seq} {ev.instrument}",
            effective_at=at,
        )

    def named(text):
        """A key or reference naming the trade (``text``: seq → str); in a group commit built at the flush."""
        return (lambda: text(tr.seq)) if d is not None else text(tr.seq)

    reference = named(lambda s: f"成交 trade #{s}")
    sell.frozen_t -= ev.quantity_t
    ctx.prefetch_funds(buy.participant, sell.participant)
    bfund, sfund, fee_acc = ctx.fund(buy.participant), ctx.fund(sell.participant), ctx.fees()
    # payment, then each side's fee from its own bucket (the buyer's was frozen with the order, the seller's comes from
    # the proceeds): the entries post() would write one by one, set-based (funds.post_batch)
    entries = [funds.FundPost(key=named(lambda s: f"trade-{s}-funds"), kind=FundEntry.Kind.SETTLE, debit=(bfund, funds.FROZEN), credit=(sfund, funds.AVAILABLE),
                              amount_fen=amount, reference=reference, trade=tr, at=at if d is not None else None)]
    for side, order, fund, bucket in (("buyer", buy, bfund, funds.FROZEN), ("seller", sell, sfund, funds.AVAILABLE)):
        if fees[order.seq]:
            entries.append(funds.FundPost(key=named(lambda s, side=side: f"trade-{s}-fee-{side}"), kind=FundEntry.Kind.FEE, debit=(fund, bucket),
                                          credit=(fee_acc, funds.AVAILABLE), amount_fen=fees[order.seq], trade=tr, at=at if d is not None else None))
    if d is not None:
        for e in entries:
            d.fund_post(e)
    else:
        funds.post_batch(entries, at=at)
    buy.frozen_fen -= amount + fees[buy.seq]
    return tr


def _release(o: Order, ctx: _DrainCache) -> None:
    """Give back what a finished order still holds: frozen funds to available, held units to trading."""
    d = ctx.deferred
    if d is not None:  # the group commit: moved in memory, written with the batch
        if o.frozen_fen:
            acc = ctx.fund(o.participant)
            d.fund_post(funds.FundPost(key=f"order-{o.seq}-release", kind=FundEntry.Kind.RELEASE, debit=(acc, funds.FROZEN),
                                       credit=(acc, funds.AVAILABLE), amount_fen=o.frozen_fen, reference=f"委托解冻 order #{o.seq}", order=o))
            o.frozen_fen = 0
        if o.frozen_t:
            d.unit_move(key=f"order-{o.seq}-release", kind=TransferKind.POSITION_MOVE, unit_type=ctx.unit_type(o.trading_day, o.instrument),
                        debit=Leg(o.account, Position.PENDING), credit=Leg(o.account, Position.TRADING), quantity=o.frozen_t,
                        reference=f"委托解冻 order #{o.seq}")
            o.frozen_t = 0
        return
    if o.frozen_fen:
        acc = ctx.fund(o.participant)
        funds.post(
            savepoint=False,
            key=f"order-{o.seq}-release",
            kind=FundEntry.Kind.RELEASE,
            debit=(acc, funds.FROZEN),
            credit=(acc, funds.AVAILABLE),
            amount_fen=o.frozen_fen,
            reference=f"委托解冻 order #{o.seq}",
            order=o,
        )
        o.frozen_fen = 0
    if o.frozen_t:
        exchange_release(
            key=f"order-{o.seq}-release",
            account=o.account,
            unit_type=ctx.unit_type(o.trading_day, o.instrument),
            quantity=o.frozen_t,
            reference=f"委托解冻 order #{o.seq}",
        )
        o.frozen_t = 0
