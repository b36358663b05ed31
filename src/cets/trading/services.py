"""Trading writes: order entry with pre-trade checks, the sequencer, trade-by-trade DVP settlement and
the end-of-day market data.

Flow (DESIGN.md § Trading): ``order_place`` / ``order_take`` / ``order_cancel`` check the order, freeze
what it needs (funds in the fund ledger, units in the registry's pending position) and write it to the
command log (``Order``) in one transaction — that is the acknowledgement. ``sequencer_drain`` then
applies the log in order to the in-memory book (``trading.book``) and, for each event, updates the
order, settles each trade by itself (units and funds in one transaction: delivery versus payment) and
releases what a finished order no longer needs. ``day_close`` expires the day's orders and writes the
day's statistics and quote.

Rules: 《碳排放权交易管理规则（试行）》 and 《碳排放权结算管理规则（试行）》 (公告2021年第21号), reference §3;
numbers from the market's trading pack (``national/trading-2021-2026``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone

from cets.core.errors import CetsError, Check
from cets.parties.access import membership_of
from cets.parties.models import Organisation, Role
from cets.registry.models import Account, AccountStatus, Holding, Position, UnitType
from cets.registry.services import exchange_deliver, exchange_hold, exchange_release
from cets.rules.packs import Pack, pack_for

from . import book as bk
from . import funds
from .calendar import in_session, is_trading_day, parse_sessions
from .models import DailyQuote, DailyStat, FundEntry, MarketState, Method, Order, Trade

SHANGHAI = ZoneInfo("Asia/Shanghai")

T0205 = Check("T0205", "非交易日或非交易时段", "the market is closed (not a trading day or outside the session)")
T0206 = Check("T0206", "未知交易标的", "unknown instrument")
T0207 = Check("T0207", "可卖持仓不足（当日买入的配额当日不得卖出）", "not enough sellable units (allowances bought today cannot be sold today)")
T0208 = Check("T0208", "账户状态不允许交易", "the account's status does not allow trading")
T0209 = Check("T0209", "无交易权限", "not a trading participant or not acting for it")
T0210 = Check("T0210", "前一交易日尚未闭市", "the previous trading day is not closed")
T0211 = Check("T0211", "报价不存在或已失效", "the quote does not exist or is no longer open")

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

    @classmethod
    def from_pack(cls, pack: Pack) -> MarketRules:
        d = pack.decimal
        limits = bk.Limits(listing_band=d("order.listing_band"), block_band=d("order.block_band"),
                           listing_max_t=int(d("order.listing_max_t")), block_min_t=int(d("order.block_min_t")),
                           take_levels=int(d("order.take_levels")), continuous_band=d("order.continuous_band"))
        sessions = {m: parse_sessions(pack.raw(f"sessions.{m}")) for m in ("listing", "block", "auction")}
        sessions["continuous"] = sessions["listing"]
        return cls(pack.id, limits, dict(pack.raw("instruments")), sessions, d("fees.rate"), pack.flag("positions.same_day_resale"))

    def fee(self, amount_fen: int) -> int:
        """Fee in fen (int) on an amount in fen: ``amount × rate`` rounded half-up (trading pack [fees])."""
        return int((Decimal(amount_fen) * self.fee_rate).to_integral_value(rounding=ROUND_HALF_UP))


def market_rules(market: str, day: dt.date) -> MarketRules:
    return MarketRules.from_pack(pack_for(market, "trading", day.year))


def _local(at: dt.datetime | None) -> dt.datetime:
    return timezone.localtime(at or timezone.now(), SHANGHAI)


def _calendar_overrides() -> dict:
    from cets.core.calendar import overrides

    return overrides()


def _check_open(method: str, at: dt.datetime, rules: MarketRules) -> None:
    day = at.date()
    if not is_trading_day(day, _calendar_overrides()) or not in_session(at.time(), rules.sessions[method]):
        raise CetsError(T0205, f"{method} {at:%Y-%m-%d %H:%M}")


def _participant_check(actor, participant: Organisation) -> None:
    """The actor must act for ``participant`` in a trading role; ``actor=None`` is a system job."""
    if actor is None:
        return
    m = membership_of(actor)
    if m is None or m.organisation_id != participant.pk or m.role not in TRADER_ROLES:
        raise CetsError(T0209, participant.uscc or participant.name)


def _unit_type(rules: MarketRules, instrument: str) -> UnitType:
    code = rules.instruments.get(instrument)
    ut = UnitType.objects.filter(code=code).first() if code else None
    if ut is None:
        raise CetsError(T0206, instrument)
    return ut


def _registry_account(participant: Organisation, market: str) -> Account:
    acc = Account.objects.filter(holder=participant, market=market).first()
    if acc is None or acc.status != AccountStatus.OPEN:
        raise CetsError(T0208, f"{participant.uscc}: {acc.status if acc else 'no account'}")
    return acc


def sellable_t(*, participant: Organisation, instrument: str, day: dt.date, market: str = "national", rules: MarketRules | None = None) -> int:
    """Tonnes (int) ``participant`` may sell now: its trading position minus what it bought on ``day``
    (allowances bought today cannot be sold today, reference §3.1) unless the pack allows same-day resale."""
    rules = rules or market_rules(market, day)
    ut = _unit_type(rules, instrument)
    acc = Account.objects.filter(holder=participant, market=market).first()
    if acc is None:
        return 0
    held = Holding.objects.filter(account=acc, unit_type=ut, position=Position.TRADING).values_list("quantity", flat=True).first() or 0
    if rules.same_day_resale:
        return held
    bought = Trade.objects.filter(market=market, buyer=participant, instrument=instrument, trading_day=day).aggregate(s=Sum("quantity_t"))["s"] or 0
    return max(held - bought, 0)


def _log(market: str, **fields) -> Order:
    """Append to the command log under the market lock, so log order = commit order (the sequencer
    never sees a gap that a slower transaction fills later)."""
    MarketState.objects.get_or_create(market=market)
    MarketState.objects.select_for_update().get(market=market)
    return Order.objects.create(market=market, **fields)


def _existing(key: str) -> Order | None:
    return Order.objects.filter(key=key).first()


def _freeze(o: Order, *, side: str, rules: MarketRules, participant: Organisation, instrument: str, price_fen: int, quantity_t: int,
            at: dt.datetime) -> None:
    """Pre-trade check and freeze (two-phase): a buy holds price × quantity + fee in fen, a sell holds
    the units in the registry's pending position. T0201 / T0207 when short; nothing changes then."""
    if side == bk.BUY:
        _registry_account(participant, o.market)  # T0208 now, not a settlement failure that halts the sequencer
        amount = price_fen * quantity_t
        need = amount + rules.fee(amount)
        acc = funds.fund_account_of(holder=participant, market=o.market)
        funds.post(key=f"order-{o.seq}-freeze", kind=FundEntry.Kind.FREEZE, debit=(acc, funds.AVAILABLE), credit=(acc, funds.FROZEN),
                   amount_fen=need, reference=f"委托冻结 order #{o.seq}", order=o, at=at)
        o.frozen_fen = need
    else:
        can = sellable_t(participant=participant, instrument=instrument, day=o.trading_day, market=o.market, rules=rules)
        if quantity_t > can:
            raise CetsError(T0207, f"{quantity_t} > {can} t")
        acc = _registry_account(participant, o.market)
        exchange_hold(key=f"order-{o.seq}-hold", account=acc, unit_type=_unit_type(rules, instrument), quantity=quantity_t,
                      reference=f"委托冻结 order #{o.seq}", effective_at=at)
        o.frozen_t = quantity_t
    o.save(update_fields=["frozen_fen", "frozen_t"])


def _require_day_open(market: str, instrument: str, day: dt.date) -> None:
    last_open = Order.objects.filter(market=market, kind=Order.Kind.OPEN_DAY, instrument=instrument).order_by("-seq").first()
    if last_open is None or last_open.trading_day != day:
        raise CetsError(T0205, f"{instrument} {day} not opened")


def _validate_order_shape(side: str, price_fen, quantity_t) -> None:
    if side not in (bk.BUY, bk.SELL):
        raise CetsError(bk.T0114, repr(side))
    if isinstance(price_fen, bool) or not isinstance(price_fen, int) or price_fen <= 0:
        raise CetsError(bk.T0101, repr(price_fen))
    if isinstance(quantity_t, bool) or not isinstance(quantity_t, int) or quantity_t <= 0:
        raise CetsError(bk.T0102, repr(quantity_t))


def order_place(*, key: str, participant: Organisation, instrument: str, method: str, side: str, price_fen: int, quantity_t: int, actor,
                counterparty: Organisation | None = None, market: str = "national", at: dt.datetime | None = None) -> Order:
    """Enter an order (申报): a listing quote (挂牌), a block order (大宗, optionally directed to
    ``counterparty``) or a continuous limit order. ``price_fen`` fen per tonne (int), ``quantity_t``
    tonnes (int). Checks: T0209 the actor trades for ``participant``; T0205 trading day and the method's
    session, day opened; T0206 instrument; T0101/T0102/T0114 shape; T0201 funds / T0207 sellable units
    (frozen at entry). Band and size (T0103–T0105) are the book's checks and show as a rejected order.
    Idempotent on ``key``. Returns the order after the sequencer has applied it."""
    if (o := _existing(key)) is not None:
        return o
    _participant_check(actor, participant)
    _validate_order_shape(side, price_fen, quantity_t)
    now = _local(at)
    rules = market_rules(market, now.date())
    if method not in rules.sessions:
        raise CetsError(bk.T0113, method)
    _check_open(method, now, rules)
    _unit_type(rules, instrument)
    with transaction.atomic():
        _require_day_open(market, instrument, now.date())
        o = _log(market, key=key, kind=Order.Kind.PLACE, trading_day=now.date(), instrument=instrument, method=method, side=side,
                 price_fen=price_fen, quantity_t=quantity_t, remaining_t=quantity_t, participant=participant, counterparty=counterparty,
                 actor=actor, entered_at=now)
        _freeze(o, side=side, rules=rules, participant=participant, instrument=instrument, price_fen=price_fen, quantity_t=quantity_t, at=now)
    sequencer_drain(market=market)
    o.refresh_from_db()
    return o


def order_take(*, key: str, participant: Organisation, quote_seq: int, quantity_t: int, actor, market: str = "national",
               at: dt.datetime | None = None) -> Order:
    """Take (摘牌) ``quantity_t`` tonnes of the resting listing quote ``quote_seq`` at its price, or
    confirm a block order (its whole quantity). The same entry checks as ``order_place``; T0211 if the
    quote is not resting; the book refuses T0106 (not in the best five levels), T0107, T0108, T0109,
    T0112. Returns the take order after the sequencer has applied it (status filled or rejected)."""
    if (o := _existing(key)) is not None:
        return o
    _participant_check(actor, participant)
    if isinstance(quantity_t, bool) or not isinstance(quantity_t, int) or quantity_t <= 0:
        raise CetsError(bk.T0102, repr(quantity_t))
    quote = Order.objects.filter(seq=quote_seq, market=market, kind=Order.Kind.PLACE, status=Order.Status.RESTING).first()
    if quote is None:
        raise CetsError(T0211, f"#{quote_seq}")
    now = _local(at)
    rules = market_rules(market, now.date())
    _check_open(quote.method, now, rules)
    side = bk.BUY if quote.side == bk.SELL else bk.SELL
    with transaction.atomic():
        o = _log(market, key=key, kind=Order.Kind.TAKE, trading_day=now.date(), instrument=quote.instrument, method=quote.method, side=side,
                 price_fen=quote.price_fen, quantity_t=quantity_t, remaining_t=quantity_t, participant=participant, target=quote, actor=actor,
                 entered_at=now)
        _freeze(o, side=side, rules=rules, participant=participant, instrument=quote.instrument, price_fen=quote.price_fen,
                quantity_t=quantity_t, at=now)
    sequencer_drain(market=market)
    o.refresh_from_db()
    return o


def order_cancel(*, key: str, participant: Organisation, order_seq: int, actor, market: str = "national", at: dt.datetime | None = None) -> Order:
    """Cancel (撤单) a resting order of ``participant``; the book refuses T0110 if it is not resting or
    not the participant's. Frozen funds or units are released by the sequencer."""
    if (o := _existing(key)) is not None:
        return o
    _participant_check(actor, participant)
    now = _local(at)
    target = Order.objects.filter(seq=order_seq, market=market).first()
    with transaction.atomic():
        o = _log(market, key=key, kind=Order.Kind.CANCEL, trading_day=now.date(), participant=participant, target=target, actor=actor,
                 entered_at=now, instrument=target.instrument if target else "")
    sequencer_drain(market=market)
    o.refresh_from_db()
    return o


def day_open(*, market: str, instrument: str, day: dt.date, prev_close_fen: int | None = None, at: dt.datetime | None = None) -> Order:
    """Open ``day`` for ``instrument`` (开市) with the previous close as the price-band reference: the
    last published close, or ``prev_close_fen`` for the first day of an instrument. T0210 if the
    instrument's previous day was not closed; T0205 if ``day`` is not a trading day. Idempotent."""
    key = f"{market}-{instrument}-{day.isoformat()}-open"
    if (o := _existing(key)) is not None:
        return o
    if not is_trading_day(day, _calendar_overrides()):
        raise CetsError(T0205, day.isoformat())
    last = Order.objects.filter(market=market, instrument=instrument, kind__in=(Order.Kind.OPEN_DAY, Order.Kind.CLOSE_DAY)).order_by("-seq").first()
    if last is not None and last.kind == Order.Kind.OPEN_DAY:
        raise CetsError(T0210, f"{instrument} {last.trading_day}")
    prev = DailyQuote.objects.filter(market=market, instrument=instrument, date__lt=day).order_by("-date").values_list("close_fen", flat=True).first()
    ref = prev if prev is not None else prev_close_fen
    if ref is None or ref <= 0:
        raise CetsError(bk.T0111, f"{instrument}: no previous close")
    with transaction.atomic():
        o = _log(market, key=key, kind=Order.Kind.OPEN_DAY, trading_day=day, instrument=instrument, price_fen=ref,
                 entered_at=at or dt.datetime.combine(day, dt.time(9, 15), SHANGHAI))
    sequencer_drain(market=market)
    return o


def day_close(*, market: str, instrument: str, day: dt.date, at: dt.datetime | None = None) -> DailyQuote:
    """Close ``day`` for ``instrument`` (闭市): every resting order expires (frozen funds and units are
    released), and the day's statistics per method (volume, amount, year-to-date and cumulative) and
    the quote are written. Close = volume-weighted average of the day's listing trades rounded half-up
    to the fen, or the previous close if there were none; open/high/low from listing trades (0 if none),
    as the exchange publishes them (reference §3.1). Idempotent."""
    key = f"{market}-{instrument}-{day.isoformat()}-close"
    if _existing(key) is None:
        with transaction.atomic():
            _log(market, key=key, kind=Order.Kind.CLOSE_DAY, trading_day=day, instrument=instrument,
                 entered_at=at or dt.datetime.combine(day, dt.time(15, 0), SHANGHAI))
        sequencer_drain(market=market)
    return _market_data_write(market=market, instrument=instrument, day=day)


@transaction.atomic
def _market_data_write(*, market: str, instrument: str, day: dt.date) -> DailyQuote:
    existing = DailyQuote.objects.filter(market=market, instrument=instrument, date=day).first()
    if existing is not None:
        return existing
    opened = Order.objects.get(key=f"{market}-{instrument}-{day.isoformat()}-open")
    trades = list(Trade.objects.filter(market=market, instrument=instrument, trading_day=day).order_by("seq").values_list("method", "price_fen", "quantity_t", "amount_fen"))
    for method in (Method.LISTING, Method.BLOCK, Method.AUCTION):
        rows = [t for t in trades if t[0] == method]
        vol, amt = sum(t[2] for t in rows), sum(t[3] for t in rows)
        prev = DailyStat.objects.filter(market=market, instrument=instrument, method=method, date__lt=day).order_by("-date").first()
        same_year = prev is not None and prev.date.year == day.year
        DailyStat.objects.create(
            market=market, date=day, instrument=instrument, method=method, volume_t=vol, amount_fen=amt, trades=len(rows),
            ytd_volume_t=(prev.ytd_volume_t if same_year else 0) + vol, ytd_amount_fen=(prev.ytd_amount_fen if same_year else 0) + amt,
            cum_volume_t=(prev.cum_volume_t if prev else 0) + vol, cum_amount_fen=(prev.cum_amount_fen if prev else 0) + amt,
        )
    listing = [t for t in trades if t[0] == Method.LISTING]
    vol, amt = sum(t[2] for t in listing), sum(t[3] for t in listing)
    if listing:
        close = vwap_fen(amt, vol)
        o, h, lo = listing[0][1], max(t[1] for t in listing), min(t[1] for t in listing)
    else:
        close, o, h, lo = opened.price_fen, 0, 0, 0
    return DailyQuote.objects.create(market=market, date=day, instrument=instrument, open_fen=o, high_fen=h, low_fen=lo, close_fen=close,
                                     prev_close_fen=opened.price_fen, volume_t=vol, amount_fen=amt)


def vwap_fen(amount_fen: int, volume_t: int) -> int:
    """Volume-weighted average price in fen per tonne (int): amount / volume rounded half-up (reference §3.1)."""
    q, r = divmod(amount_fen, volume_t)
    return q + (1 if 2 * r >= volume_t else 0)


# --- the sequencer ---------------------------------------------------------------------------------

# The in-memory book of each market in this process and the last command it has applied. Whoever holds
# the market lock brings this book up to the log (replaying commands other processes applied) before
# applying new ones, so the book is always a function of the log.
_BOOKS: dict[str, tuple[bk.Book, int]] = {}


def _command(o: Order):
    p = str(o.participant_id or "")
    if o.kind == Order.Kind.PLACE:
        return bk.Place(o.seq, p, o.instrument, o.method, o.side, o.price_fen, o.quantity_t, str(o.counterparty_id or ""))
    if o.kind == Order.Kind.TAKE:
        return bk.Take(o.seq, p, o.target_id, o.quantity_t)
    if o.kind == Order.Kind.CANCEL:
        return bk.Cancel(o.seq, p, o.target_id or 0)
    if o.kind == Order.Kind.OPEN_DAY:
        return bk.OpenDay(o.seq, o.instrument, o.price_fen)
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
            book.apply(_command(o))
    return book


def sequencer_drain(*, market: str = "national", batch: int = 5000) -> int:
    """Apply every command of the log not applied yet, in order, writing each event's effects (order
    status, trades with their settlement, releases). One sequencer at a time per market (the
    ``MarketState`` row lock). Returns the number of commands applied. If anything fails, the
    transaction rolls back and this process's book is dropped (it is rebuilt from the log next time)."""
    total = 0
    while True:
        try:
            with transaction.atomic():
                MarketState.objects.get_or_create(market=market)
                ms = MarketState.objects.select_for_update().get(market=market)
                book, applied = _BOOKS.get(market, (None, -1))
                if book is None or applied > ms.applied_seq:
                    book = _rebuild(market, ms.applied_seq)
                elif applied < ms.applied_seq:
                    for o in Order.objects.filter(market=market, seq__gt=applied, seq__lte=ms.applied_seq).order_by("seq").iterator():
                        book.apply(_command(o))
                new = list(Order.objects.filter(market=market, seq__gt=ms.applied_seq).select_related("participant").order_by("seq")[:batch])
                for o in new:
                    _record(o, book.apply(_command(o)), market)
                if new:
                    ms.applied_seq = new[-1].seq
                    ms.save(update_fields=["applied_seq"])
                _BOOKS[market] = (book, ms.applied_seq)
        except BaseException:
            _BOOKS.pop(market, None)
            raise
        total += len(new)
        if len(new) < batch:
            return total


def book_of(market: str = "national") -> bk.Book:
    """This process's book of ``market``, brought up to the log (read-only use: depth, quotes)."""
    sequencer_drain(market=market)
    return _BOOKS[market][0]


def _record(o: Order, events: list, market: str) -> None:
    orders: dict[int, Order] = {o.seq: o}

    def get(seq: int) -> Order:
        if seq not in orders:
            orders[seq] = Order.objects.select_related("participant").get(seq=seq)
        return orders[seq]

    for ev in events:
        t = type(ev)
        if t is bk.Accepted:
            if o.kind == Order.Kind.PLACE:
                o.status = Order.Status.RESTING
            else:
                o.status = Order.Status.DONE
        elif t is bk.Rejected:
            o.status = Order.Status.REJECTED
            o.reject_code = ev.check.code
            o.reject_detail = f"{ev.check.en} / {ev.check.zh}" + (f" ({ev.detail})" if ev.detail else "")
        elif t is bk.Traded:
            _settle(ev, get(ev.buy_order), get(ev.sell_order), market)
        elif t is bk.Done:
            d = get(ev.order_id)
            d.status = {"filled": Order.Status.FILLED, "cancelled": Order.Status.CANCELLED, "expired": Order.Status.EXPIRED}[ev.reason]
            d.remaining_t = ev.remaining_t
    if o.kind == Order.Kind.TAKE and o.status == Order.Status.DONE:
        o.status = Order.Status.FILLED
    for d in orders.values():
        if d.status not in (Order.Status.RESTING, Order.Status.RECEIVED):
            _release(d)
        d.save()


def _settle(ev: bk.Traded, buy: Order, sell: Order, market: str) -> Trade:
    """Settle one trade by itself, delivery versus payment: the buyer's frozen funds pay the seller,
    the seller's held units go to the buyer's trading position, fees go to the exchange — all in the
    sequencer's transaction, so either everything moves or nothing does. Fees are charged on the
    cumulative filled amount of each order, so the fees of an order's trades add up exactly to the fee
    on its total (never more than was frozen)."""
    rules = market_rules(market, buy.trading_day)
    amount = ev.price_fen * ev.quantity_t
    fees = {}
    for od in (buy, sell):
        before = od.filled_amount_fen
        od.filled_amount_fen = before + amount
        fees[od.seq] = rules.fee(before + amount) - rules.fee(before)
        od.filled_t += ev.quantity_t
        if od.kind == Order.Kind.PLACE:
            od.remaining_t -= ev.quantity_t
    at = _local(None) if buy.entered_at is None else max(buy.entered_at, sell.entered_at)
    tr = Trade.objects.create(market=market, trading_day=buy.trading_day, instrument=ev.instrument, method=ev.method, price_fen=ev.price_fen,
                              quantity_t=ev.quantity_t, amount_fen=amount, buy_order=buy, sell_order=sell, buyer_id=buy.participant_id,
                              seller_id=sell.participant_id, buyer_fee_fen=fees[buy.seq], seller_fee_fen=fees[sell.seq], executed_at=at)
    ut = _unit_type(rules, ev.instrument)
    seller_acc = Account.objects.get(holder_id=sell.participant_id, market=market)
    buyer_acc = Account.objects.get(holder_id=buy.participant_id, market=market)
    exchange_deliver(key=f"trade-{tr.seq}-units", seller=seller_acc, buyer=buyer_acc, unit_type=ut, quantity=ev.quantity_t,
                     reference=f"成交 trade #{tr.seq} {ev.instrument}", effective_at=at)
    sell.frozen_t -= ev.quantity_t
    bfund = funds.fund_account_of(holder=buy.participant, market=market)
    sfund = funds.fund_account_of(holder=sell.participant, market=market, create=True)
    fee_acc = funds.system_fund_account(market, "fees")
    funds.post(key=f"trade-{tr.seq}-funds", kind=FundEntry.Kind.SETTLE, debit=(bfund, funds.FROZEN), credit=(sfund, funds.AVAILABLE),
               amount_fen=amount, reference=f"成交 trade #{tr.seq}", trade=tr, at=at)
    buy.frozen_fen -= amount
    if fees[buy.seq]:
        funds.post(key=f"trade-{tr.seq}-fee-buyer", kind=FundEntry.Kind.FEE, debit=(bfund, funds.FROZEN), credit=(fee_acc, funds.AVAILABLE),
                   amount_fen=fees[buy.seq], trade=tr, at=at)
        buy.frozen_fen -= fees[buy.seq]
    if fees[sell.seq]:
        funds.post(key=f"trade-{tr.seq}-fee-seller", kind=FundEntry.Kind.FEE, debit=(sfund, funds.AVAILABLE), credit=(fee_acc, funds.AVAILABLE),
                   amount_fen=fees[sell.seq], trade=tr, at=at)
    return tr


def _release(o: Order) -> None:
    """Give back what a finished order still holds: frozen funds to available, held units to trading."""
    if o.frozen_fen:
        acc = funds.fund_account_of(holder=o.participant, market=o.market)
        funds.post(key=f"order-{o.seq}-release", kind=FundEntry.Kind.RELEASE, debit=(acc, funds.FROZEN), credit=(acc, funds.AVAILABLE),
                   amount_fen=o.frozen_fen, reference=f"委托解冻 order #{o.seq}", order=o)
        o.frozen_fen = 0
    if o.frozen_t:
        rules = market_rules(o.market, o.trading_day)
        exchange_release(key=f"order-{o.seq}-release", account=Account.objects.get(holder_id=o.participant_id, market=o.market),
                         unit_type=_unit_type(rules, o.instrument), quantity=o.frozen_t, reference=f"委托解冻 order #{o.seq}")
        o.frozen_t = 0
