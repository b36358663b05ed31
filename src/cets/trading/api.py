"""Exchange endpoints (``/api/v1/trading``): order entry, take, cancel, the best-five board, my orders,
trades and funds, and public market data.

Authentication is the Django session with CSRF on every POST (as the other routers); market data
(``GET /market-data``, ``GET /instruments``) is public. Who sees what: entities and traders act and
read for their own organisation only; exchange operators read every participant's orders, trades and
funds (they do not trade); authorities and everyone else see market data only (R0502, 403).

Idempotency: every POST carries the client's key, in the ``Idempotency-Key`` header or the ``key``
field (the header wins). A retry with the same key returns the same order; the same key with other
content is T0203. Prices are sent either as ``price`` — CNY per tonne as a decimal string with at most
two decimals (``"96.50"``), converted exactly to fen — or as ``price_fen`` (int); never a float.

Refusals answer 422 (403 for R0502) with ``{"code", "message_zh", "message_en"}``. A command the book
refuses after it was logged (band T0105, best five T0106, own quote T0108, …) is answered 200 with the
order in status ``rejected`` and its ``reject_code``: it is part of the command log.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from ninja import Field, Router, Schema

from cets.core.errors import CetsError
from cets.core.schema import Fen, Limit, ObjectId, Offset, Tonnes
from cets.rules.markets import PRIMARY_MARKET

from . import entry, selectors
from .checks import T0113, T0403, T0404, T0405, T0406
from .models import Order
from .prices import cny_to_fen, fen_to_cny

router = Router(tags=["trading"])



def _key(request, body_key: str | None) -> str:
    k = request.headers.get("Idempotency-Key") or body_key
    if not k:
        raise CetsError(T0405)
    return k


class OrderIn(Schema):
    key: str | None = Field(None, description="idempotency key (or the Idempotency-Key header)")
    instrument: str = Field(..., description="subject code: CEA, CEA21 … CEA25")
    method: str = Field("listing", description="listing (挂牌协议) or block (大宗协议)")
    side: str = Field(..., description="B (buy) or S (sell)")
    price: str | None = Field(None, description="CNY per tonne, decimal string with at most 2 decimals, e.g. \"96.50\"")
    price_fen: Fen | None = Field(None, description="fen per tonne (int), instead of price")
    quantity_t: Tonnes = Field(..., description="tonnes CO2e (int)")
    counterparty: str = Field("", description="USCC of the counterparty of a directed block order")
    client_account: str = Field("", max_length=40,
                                description="an exchange member's client: the client's registry account number (T0209 unless the member acts for it)")
    market: str = Field(PRIMARY_MARKET, description="the market (a market with a trading pack, e.g. ccer; T0601 otherwise)")


class TakeIn(Schema):
    key: str | None = None
    market: str = Field(PRIMARY_MARKET, description="the market of the quote")
    quote: ObjectId = Field(..., description="seq of the resting quote (from the board)")
    quantity_t: Tonnes = Field(..., description="tonnes (int); a block order is confirmed for its whole quantity")


class CancelIn(Schema):
    key: str | None = None
    market: str = Field(PRIMARY_MARKET, description="the market of the order")
    order: ObjectId = Field(..., description="seq of the caller's resting order")


class OrderOut(Schema):
    seq: int
    key: str
    kind: str
    trading_day: dt.date
    instrument: str
    method: str
    side: str
    price_fen: int
    price: str
    quantity_t: int
    filled_t: int
    filled_amount_fen: int
    remaining_t: int
    frozen_fen: int
    frozen_t: int
    status: str
    reject_code: str
    reject_detail: str
    participant: str | None
    counterparty: str | None
    target: int | None
    entered_at: dt.datetime


class TradeOut(Schema):
    seq: int
    trading_day: dt.date
    instrument: str
    method: str
    price_fen: int
    price: str
    quantity_t: int
    amount_fen: int
    side: str = Field(..., description="B if the caller's organisation bought, S if it sold; '' for an operator's view")
    fee_fen: int | None
    buyer: str | None
    seller: str | None
    executed_at: dt.datetime


class FundLineOut(Schema):
    seq: int
    kind: str
    recorded_at: dt.datetime
    reference: str
    available_change_fen: int
    frozen_change_fen: int


class FundsOut(Schema):
    participant: str
    account: str | None
    available_fen: int
    frozen_fen: int
    entries: list[FundLineOut]
    entries_count: int = 0  # all of them; ``entries`` is the page ``offset`` … ``offset + limit``


class QuoteOut(Schema):
    seq: int
    remaining_t: int
    mine: bool
    directed: bool
    takeable: bool


class LevelOut(Schema):
    price_fen: int
    price: str
    quantity_t: int
    orders: int
    quotes: list[QuoteOut]


class BoardOut(Schema):
    instrument: str
    method: str
    open: bool
    prev_close_fen: int | None
    band_low_fen: int | None
    band_high_fen: int | None
    bids: list[LevelOut]
    asks: list[LevelOut]


class DailyQuoteOut(Schema):
    date: dt.date
    open_fen: int
    high_fen: int
    low_fen: int
    close_fen: int
    prev_close_fen: int | None
    volume_t: int
    amount_fen: int


class DailyStatOut(Schema):
    date: dt.date
    method: str
    volume_t: int
    amount_fen: int
    trades: int
    ytd_volume_t: int
    ytd_amount_fen: int
    cum_volume_t: int
    cum_amount_fen: int


class MarketDataOut(Schema):
    instrument: str
    start: dt.date
    end: dt.date
    quotes: list[DailyQuoteOut]
    stats: list[DailyStatOut]


def order_out(o: Order, *, show_participant: bool = True) -> OrderOut:
    return OrderOut(seq=o.seq, key=o.key, kind=o.kind, trading_day=o.trading_day, instrument=o.instrument, method=o.method, side=o.side,
                    price_fen=o.price_fen, price=fen_to_cny(o.price_fen), quantity_t=o.quantity_t, filled_t=o.filled_t,
                    filled_amount_fen=o.filled_amount_fen, remaining_t=o.remaining_t, frozen_fen=o.frozen_fen, frozen_t=o.frozen_t,
                    status=o.status, reject_code=o.reject_code, reject_detail=o.reject_detail,
                    participant=(o.participant.identifier or o.participant.name) if (show_participant and o.participant_id) else None,
                    counterparty=(o.counterparty.identifier or o.counterparty.name) if o.counterparty_id else None,
                    target=o.target_id, entered_at=o.entered_at)


def trade_out(t, org) -> TradeOut:
    if org is None:
        side, fee = "", None
    else:
        side = "B" if t.buyer_id == org.pk else "S"
        fee = t.buyer_fee_fen if side == "B" else t.seller_fee_fen
    return TradeOut(seq=t.seq, trading_day=t.trading_day, instrument=t.instrument, method=t.method, price_fen=t.price_fen,
                    price=fen_to_cny(t.price_fen), quantity_t=t.quantity_t, amount_fen=t.amount_fen, side=side, fee_fen=fee,
                    buyer=t.buyer.identifier if org is None else None, seller=t.seller.identifier if org is None else None, executed_at=t.executed_at)


def _reloaded(o: Order) -> Order:
    return Order.objects.select_related("participant", "counterparty").get(pk=o.pk)


@router.post("/orders", response=OrderOut)
def order_place(request, body: OrderIn):
    """Place a listing quote (挂牌) or a block order (大宗, optionally directed to ``counterparty``) for the
    caller's organisation. Funds (price × quantity + fee) or units are frozen at entry (T0201 / T0207);
    the session and trading day are checked with the exchange's clock (T0205)."""
    if (body.price is None) == (body.price_fen is None):
        raise CetsError(T0404)
    price_fen = cny_to_fen(body.price) if body.price is not None else body.price_fen
    market = selectors.trading_market(body.market)
    o = entry.place(user=request.user, key=_key(request, body.key), instrument=body.instrument, method=body.method, side=body.side,
                    price_fen=price_fen, quantity_t=body.quantity_t, counterparty=body.counterparty, client_account=body.client_account, market=market)
    return order_out(_reloaded(o))


@router.post("/take", response=OrderOut)
def order_take(request, body: TakeIn):
    """Take (摘牌) a resting listing quote among the best five levels, or confirm a block order."""
    market = selectors.trading_market(body.market)
    o = entry.take(user=request.user, key=_key(request, body.key), quote=body.quote, quantity_t=body.quantity_t, market=market)
    return order_out(_reloaded(o))


@router.post("/cancel", response=OrderOut)
def order_cancel(request, body: CancelIn):
    """Cancel (撤单) one of the caller's organisation's resting orders; frozen funds or units are released."""
    market = selectors.trading_market(body.market)
    o = entry.cancel(user=request.user, key=_key(request, body.key), order=body.order, market=market)
    return order_out(_reloaded(o))


@router.get("/board", response=BoardOut)
def board(request, instrument: str, method: str = "listing", market: str = PRIMARY_MARKET):
    """The best-five board of ``instrument`` and ``method``: price levels with quantity and order count,
    and the resting quotes of those levels (their ``seq`` is what a taker sends). Participants are not
    named; ``mine`` marks the caller's own quotes."""
    if method not in ("listing", "block", "continuous"):
        raise CetsError(T0113, method[:40])
    b = selectors.board(instrument=instrument, method=method, viewer=request.user, market=selectors.trading_market(market))

    def levels(rows):
        return [LevelOut(price_fen=lv.price_fen, price=fen_to_cny(lv.price_fen), quantity_t=lv.quantity_t, orders=lv.orders,
                         quotes=[QuoteOut(**q.__dict__) for q in lv.quotes]) for lv in rows]

    return BoardOut(instrument=b.instrument, method=b.method, open=b.open, prev_close_fen=b.prev_close_fen, band_low_fen=b.band_low_fen,
                    band_high_fen=b.band_high_fen, bids=levels(b.bids), asks=levels(b.asks))


@router.get("/orders", response=list[OrderOut])
def my_orders(request, day: dt.date | None = None, status: str = "", participant: str = "", limit: Limit = 200, market: str = PRIMARY_MARKET):
    """The caller's organisation's orders (all participants', or one USCC, for an exchange operator) in ``market``, newest first."""
    rows = selectors.orders_visible(user=request.user, day=day, status=status, participant=participant, limit=limit,
                                    market=selectors.trading_market(market))
    return [order_out(o) for o in rows]


@router.get("/trades", response=list[TradeOut])
def my_trades(request, day: dt.date | None = None, participant: str = "", limit: Limit = 200, market: str = PRIMARY_MARKET):
    """The caller's organisation's trades in ``market`` with its side and fee (an exchange operator: every trade, buyer and seller)."""
    org = selectors.participant_of(request.user)
    rows = selectors.trades_visible(user=request.user, day=day, participant=participant, limit=limit, market=selectors.trading_market(market))
    return [trade_out(t, org) for t in rows]


@router.get("/funds", response=FundsOut)
def my_funds(request, participant: str = "", limit: Limit = 200, offset: Offset = 0, market: str = PRIMARY_MARKET):
    """Available and frozen funds in fen and the fund entries in ``market``, newest first, ``limit`` from ``offset``
    (``entries_count`` in all; an exchange operator names the ``participant``)."""
    f = selectors.funds_visible(user=request.user, participant=participant, limit=limit, offset=offset, market=selectors.trading_market(market))
    return FundsOut(participant=f.holder.identifier or f.holder.name, account=f.number, available_fen=f.available_fen, frozen_fen=f.frozen_fen,
                    entries=[FundLineOut(**e.__dict__) for e in f.entries], entries_count=f.entries_total)


class DepositIn(Schema):
    market: str = Field(PRIMARY_MARKET, max_length=16)
    participant: str = Field(min_length=1, max_length=18, description="a holder's unified social credit code, or 'treasury'")
    amount_fen: Fen
    bank_reference: str = Field(min_length=1, max_length=60, description="the settlement bank's reference: one deposit per reference")


class DepositOut(Schema):
    seq: int
    key: str
    account: str
    amount_fen: int


@router.post("/funds/deposits", response=DepositOut)
def funds_deposit(request, body: DepositIn):
    """An exchange operator records a deposit the settlement bank confirmed, in fen (int), to a participant's fund account
    or the market's treasury fund account; idempotent on the bank reference (R0502, L0201, T0202, T0805, T0806)."""
    from .services.funds import funds_deposit_record

    e = funds_deposit_record(market=body.market, participant=body.participant, amount_fen=body.amount_fen, bank_reference=body.bank_reference,
                             actor=request.user)
    return DepositOut(seq=e.seq, key=e.key, account=e.credit_account.number, amount_fen=e.amount_fen)


@router.get("/market-data", response=MarketDataOut, auth=None)
def market_data(request, instrument: str, start: dt.date | None = None, end: dt.date | None = None, market: str = PRIMARY_MARKET):
    """Public: the daily quotes (open/high/low/close fen, listing volume and amount) and the daily
    statistics per method (volume, amount, year-to-date, cumulative) of ``instrument``; default the 90
    days up to today; at most 2000 days (T0406)."""
    end = end or timezone.localdate()
    start = start or end - dt.timedelta(days=90)
    if start > end or (end - start).days > 2000:
        raise CetsError(T0406, f"{start} … {end}")
    market = selectors.trading_market(market)
    quotes = selectors.quotes_between(instrument=instrument, start=start, end=end, market=market)
    stats = selectors.stats_between(instrument=instrument, start=start, end=end, market=market)
    return MarketDataOut(
        instrument=instrument, start=start, end=end,
        quotes=[DailyQuoteOut(date=q.date, open_fen=q.open_fen, high_fen=q.high_fen, low_fen=q.low_fen, close_fen=q.close_fen,
                              prev_close_fen=q.prev_close_fen, volume_t=q.volume_t, amount_fen=q.amount_fen) for q in quotes],
        stats=[DailyStatOut(date=s.date, method=s.method, volume_t=s.volume_t, amount_fen=s.amount_fen, trades=s.trades, ytd_volume_t=s.ytd_volume_t,
                            ytd_amount_fen=s.ytd_amount_fen, cum_volume_t=s.cum_volume_t, cum_amount_fen=s.cum_amount_fen) for s in stats])


@router.get("/instruments", response=list[str], auth=None)
def instruments(request, market: str = PRIMARY_MARKET):
    """Public: instruments of ``market`` with market data or an opened trading day."""
    return selectors.instruments_listed(market=selectors.trading_market(market))



# -- exchange members and service institutions (draft Measures Art. 19; issue 17) ----------------------------------

class MemberOut(Schema):
    code: str
    market: str
    organisation: str
    kind: str
    status: str
    status_reason: str
    clients: list[str] = Field(description="clients' registry account numbers")


class MemberIn(Schema):
    uscc: str = Field(max_length=18)
    kind: str = Field(max_length=24)
    code: str = Field(max_length=20)


class ClientIn(Schema):
    account: str = Field(max_length=40, description="the client's registry account number")


class ReasonIn(Schema):
    reason: str = Field("", max_length=300)


def _member_out(m) -> MemberOut:
    from cets.registry.models import Account

    from .models import MemberClient

    ids = MemberClient.objects.filter(member=m).values_list("participant_id", flat=True)
    accounts = Account.objects.filter(holder_id__in=list(ids), market=m.market).values_list("number", flat=True)
    return MemberOut(code=m.code, market=m.market, organisation=m.organisation.name, kind=m.kind, status=m.status, status_reason=m.status_reason,
                     clients=sorted(accounts))


def _member_get(code: str):
    from .checks import T0505
    from .models import ExchangeMember

    m = ExchangeMember.objects.filter(code=code[:20]).select_related("organisation").first()
    if m is None:
        raise CetsError(T0505, code[:20])
    return m


@router.get("/members", response=list[MemberOut])
def members(request):
    """Members and service institutions of the exchange (exchange operators; R0502 otherwise)."""
    from cets.parties.access import require_role
    from cets.parties.models import Role

    from . import services

    require_role(request.user, Role.EXCHANGE_OPERATOR)
    return [_member_out(m) for m in services.members_list()]


@router.post("/members", response=MemberOut)
def member_admit(request, body: MemberIn):
    """Admit a member (kinds from the trading pack's ``[members]``; T0503, T0505)."""
    from cets.parties.models import Organisation

    from . import services

    org = Organisation.objects.filter(uscc=body.uscc.strip().upper()).first()
    if org is None:
        raise CetsError(T0403, body.uscc)
    return _member_out(services.member_admit(organisation=org, kind=body.kind, code=body.code, actor=request.user))


@router.post("/members/{code}/clients", response=MemberOut)
def member_client_add(request, code: str, body: ClientIn):
    """Record a client the member acts for (T0504 a kind that does not act for clients, T0506 another member does)."""
    from cets.registry.models import Account

    from . import services

    acc = Account.objects.filter(number=body.account.strip(), holder__isnull=False).select_related("holder").first()
    if acc is None:
        raise CetsError(T0403, body.account)
    m = _member_get(code)
    services.member_client_add(member=m, participant=acc.holder, actor=request.user)
    return _member_out(m)


@router.post("/members/{code}/suspend", response=MemberOut)
def member_suspend(request, code: str, body: ReasonIn):
    """Suspend a member: its clients' orders are refused T0502 (registry accounts unchanged)."""
    from . import services

    return _member_out(services.member_suspend(member=_member_get(code), reason=body.reason, actor=request.user))


@router.post("/members/{code}/reinstate", response=MemberOut)
def member_reinstate(request, code: str, body: ReasonIn):
    from . import services

    return _member_out(services.member_reinstate(member=_member_get(code), reason=body.reason, actor=request.user))
