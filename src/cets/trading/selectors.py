"""Trading reads: market data for other contexts, and the exchange's API and pages (orders, trades,
funds, the quote board) with their role checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from cets.core.errors import CetsError
from cets.parties.access import DENIED, membership_of
from cets.parties.models import Organisation, Role
from cets.rules.markets import PRIMARY_MARKET

from . import book as bk
from .models import DailyQuote, DailyStat, FundAccount, FundEntry, Order, Trade
from .services import TRADER_ROLES, book_read


@dataclass(frozen=True)
class DayFigure:
    """One instrument and method on one trading day: ``volume_t`` tonnes (int), ``amount_fen`` fen (int)."""

    date: dt.date
    instrument: str
    method: str
    volume_t: int
    amount_fen: int


def day_figures(*, market: str, start: dt.date, end: dt.date, methods: tuple[str, ...] | None = None) -> list[DayFigure]:
    """The platform's own end-of-day figures for ``start`` ≤ date ≤ ``end`` (inclusive), every
    instrument, optionally only the given trade ``methods`` (``Method`` values). Sorted by date,
    instrument, method. Public market data: no role check."""
    qs = DailyStat.objects.filter(market=market, date__gte=start, date__lte=end)
    if methods is not None:
        qs = qs.filter(method__in=methods)
    return [DayFigure(r.date, r.instrument, r.method, r.volume_t, r.amount_fen)
            for r in qs.order_by("date", "instrument", "method")]


def last_close_fen(*, market: str, instrument: str, before: dt.date) -> int | None:
    """The close (fen per tonne) of ``instrument`` on the last trading day before ``before``, or None."""
    q = DailyQuote.objects.filter(market=market, instrument=instrument, date__lt=before).order_by("-date").first()
    return q.close_fen if q else None


@dataclass(frozen=True)
class LargeHolder:
    """A participant whose holding of a unit type is above the reporting threshold (大户报告)."""

    participant: str
    uscc: str
    unit_type: str
    holding_t: int
    threshold_t: int


def large_holders(*, market: str = PRIMARY_MARKET, day: dt.date | None = None) -> list[LargeHolder]:
    """Holders above the large-holder reporting threshold of the market's trading pack: for a key
    emitting entity its allocation of the vintage + the threshold, for others the threshold itself.
    For exchange operators and authorities (the caller checks the role)."""
    from django.db.models import Sum
    from django.utils import timezone

    from cets.parties.models import Organisation
    from cets.registry.models import Holding

    from .services import _allocation_t, market_rules

    rules = market_rules(market, day or timezone.localdate())
    codes = set(rules.instruments.values())
    rows = (Holding.objects.filter(account__market=market, unit_type__code__in=codes, account__holder__isnull=False)
            .values("account__holder", "unit_type").annotate(t=Sum("quantity")).filter(t__gt=rules.large_holder_report_t))
    out = []
    from cets.registry.models import UnitType

    for r in rows:
        org = Organisation.objects.get(pk=r["account__holder"])
        ut = UnitType.objects.get(pk=r["unit_type"])
        threshold = rules.large_holder_report_t + (_allocation_t(org, ut) if org.kind == Organisation.Kind.ENTITY else 0)
        if r["t"] > threshold:
            out.append(LargeHolder(org.name, org.identifier, ut.code, r["t"], threshold))
    return sorted(out, key=lambda h: -h.holding_t)
# --- reads for the exchange's API and pages ---------------------------------------------------------
#
# Who sees what (DESIGN.md, Who uses it; Measures Art. 21, Regulations Art. 7): a key emitting entity or
# a trader (institution / individual) sees the orders, trades and funds of its own organisation; an
# exchange operator sees every participant's; authorities, the registry and verification bodies see
# market data only (the quote board and the end-of-day figures), like the public.

def participant_of(user) -> Organisation | None:
    """The organisation ``user`` trades for (entity or trader role), else None."""
    m = membership_of(user)
    if m is None or m.role not in TRADER_ROLES:
        return None
    return m.organisation


def is_exchange_operator(user) -> bool:
    m = membership_of(user)
    return m is not None and m.role == Role.EXCHANGE_OPERATOR


def _denied(user, what: str) -> CetsError:
    m = membership_of(user)
    return CetsError(DENIED, f"role {m.role if m else 'none'}: {what}")


def _whose(user, participant: str = "") -> Organisation | None:
    """The organisation whose orders/trades ``user`` asks for: its own for a trader; ``participant``
    (USCC) or None (= everyone) for an exchange operator; R0502 for everybody else."""
    org = participant_of(user)
    if org is not None:
        return org
    if not is_exchange_operator(user):
        raise _denied(user, "market data only")
    if not participant:
        return None
    return Organisation.objects.filter(uscc=participant.strip().upper()).first() or Organisation(pk=-1, uscc=participant)


def orders_visible(*, user, market: str = PRIMARY_MARKET, participant: str = "", day: dt.date | None = None, status: str = "",
                   limit: int | None = 200) -> QuerySet[Order]:
    """Orders (申报 and 摘牌/确认, not the log's day and cancel commands) ``user`` may see, newest first:
    its own organisation's, or every participant's (optionally one USCC) for an exchange operator.
    R0502 for other roles. ``limit`` is capped at 1000; ``None`` returns the whole queryset (the pages
    paginate it)."""
    org = _whose(user, participant)
    qs = Order.objects.filter(market=market, kind__in=(Order.Kind.PLACE, Order.Kind.TAKE))
    if org is not None:
        qs = qs.filter(participant_id=org.pk)
    if day is not None:
        qs = qs.filter(trading_day=day)
    if status:
        qs = qs.filter(status=status)
    qs = qs.select_related("participant", "counterparty").order_by("-seq")
    return qs if limit is None else qs[: min(max(limit, 1), 1000)]


def trades_visible(*, user, market: str = PRIMARY_MARKET, participant: str = "", day: dt.date | None = None, method: str = "",
                   limit: int | None = 200) -> QuerySet[Trade]:
    """Trades ``user`` may see, newest first: those where its organisation bought or sold, or all (or one
    participant's) for an exchange operator; optionally one trade ``method``. R0502 for other roles.
    ``limit`` is capped at 1000; ``None`` returns the whole queryset (the pages paginate it)."""
    org = _whose(user, participant)
    qs = Trade.objects.filter(market=market)
    if org is not None:
        qs = qs.filter(Q(buyer_id=org.pk) | Q(seller_id=org.pk))
    if day is not None:
        qs = qs.filter(trading_day=day)
    if method:
        qs = qs.filter(method=method)
    qs = qs.select_related("buyer", "seller").order_by("-seq")
    return qs if limit is None else qs[: min(max(limit, 1), 1000)]


@dataclass(frozen=True)
class Funds:
    """A participant's fund account: ``available_fen`` / ``frozen_fen`` fen (int); ``entries`` newest first,
    each with ``signed_fen`` = the change of this account (+ in, − out) and the bucket it touched."""

    holder: Organisation
    number: str | None
    available_fen: int
    frozen_fen: int
    entries: list = field(default_factory=list)
    entries_total: int = 0  # all the account's entries; ``entries`` is the page ``offset`` … ``offset + limit``


@dataclass(frozen=True)
class FundLine:
    seq: int
    kind: str
    recorded_at: dt.datetime
    reference: str
    available_change_fen: int
    frozen_change_fen: int


def funds_visible(*, user, market: str = PRIMARY_MARKET, participant: str = "", limit: int = 200, offset: int = 0) -> Funds:
    """The fund account of the caller's organisation, or of ``participant`` (USCC) for an exchange
    operator (required then). An organisation without an account shows zero balances. R0502 for other
    roles; R0502 too for an operator naming no or an unknown participant (nothing to show). The entries are
    ``limit`` (1–1000) from ``offset``, newest first; ``entries_total`` counts them all."""
    org = participant_of(user)
    if org is None:
        if not is_exchange_operator(user) or not participant:
            raise _denied(user, "funds of a participant")
        org = Organisation.objects.filter(uscc=participant.strip().upper()).first()
        if org is None:
            raise CetsError(DENIED, participant)
    acc = FundAccount.objects.filter(market=market, holder=org).first()
    if acc is None:
        return Funds(org, None, 0, 0, [])
    lines = []
    every = FundEntry.objects.filter(Q(debit_account=acc) | Q(credit_account=acc)).order_by("-seq")
    offset = max(offset, 0)
    entries = every[offset:offset + min(max(limit, 1), 1000)]
    for e in entries:
        change = {"available": 0, "frozen": 0}
        if e.debit_account_id == acc.pk:
            change[e.debit_bucket] -= e.amount_fen
        if e.credit_account_id == acc.pk:
            change[e.credit_bucket] += e.amount_fen
        lines.append(FundLine(e.seq, e.kind, e.recorded_at, e.reference, change["available"], change["frozen"]))
    return Funds(org, acc.number, acc.available_fen, acc.frozen_fen, lines, every.count())


@dataclass(frozen=True)
class Quote:
    """A resting order on the board: ``seq`` is what a taker sends; ``mine`` if the viewer's
    organisation entered it; ``takeable`` if the viewer may take it (not its own, and for a directed
    block order only the named counterparty)."""

    seq: int
    remaining_t: int
    mine: bool
    directed: bool
    takeable: bool


@dataclass(frozen=True)
class Level:
    price_fen: int
    quantity_t: int
    orders: int
    quotes: list


@dataclass(frozen=True)
class Board:
    """The best-five board of one instrument and method: ``bids`` best (highest) first, ``asks`` best
    (lowest) first; ``open`` if the instrument's trading day is open; price band in fen."""

    instrument: str
    method: str
    open: bool
    prev_close_fen: int | None
    band_low_fen: int | None
    band_high_fen: int | None
    bids: list
    asks: list


def board(*, instrument: str, method: str, viewer=None, market: str = PRIMARY_MARKET, levels: int | None = None,
          today: dt.date | None = None) -> Board:
    """The best ``levels`` (pack ``order.take_levels``, 5) price levels of each side from the market's
    book (``services.book_read``), with the resting quotes of those levels in priority order.
    ``open`` is the real state of ``today`` (default the local date): the instrument's day was opened
    for today and not closed (a day left open from an earlier date shows closed: orders would be refused
    T0205). Market data: any viewer; participants are never named, ``viewer`` only marks its own quotes."""
    with book_read(market) as b:
        n = levels or b.limits.take_levels
        ins = b.instruments.get(instrument)
        org = participant_of(viewer) if viewer is not None else None
        me = str(org.pk) if org is not None else None
        sides = {}
        for side in (bk.BUY, bk.SELL):
            depth = b.depth(instrument, method, side, n)
            top = {p for p, _q, _n in depth}
            by_price: dict[int, list] = {}
            for o in b.resting(instrument, method, side):  # best price first, then time
                if o.price_fen not in top:
                    break
                by_price.setdefault(o.price_fen, []).append(o)
            out = []
            for price, qty, count in depth:
                quotes = []
                for o in by_price.get(price, []):
                    mine = me is not None and o.participant == me
                    takeable = me is not None and not mine and method in ("listing", "block") and (not o.counterparty or o.counterparty == me)
                    quotes.append(Quote(o.id, o.remaining_t, mine, bool(o.counterparty), takeable))
                out.append(Level(price, qty, count, quotes))
            sides[side] = out
        if ins is None:
            return Board(instrument, method, False, None, None, None, sides[bk.BUY], sides[bk.SELL])
        band = {"listing": b.limits.listing_band, "block": b.limits.block_band}.get(method, b.limits.continuous_band)
        low, high = bk.price_band(ins.prev_close_fen, band, b.limits.band_rounding)
        is_open = day_state(market=market, instrument=instrument, today=today).open_today
        return Board(instrument, method, is_open, ins.prev_close_fen, low, high, sides[bk.BUY], sides[bk.SELL])


@dataclass(frozen=True)
class DayState:
    """The trading-day state of one instrument: ``open_day`` the day opened and not yet closed (None when
    the last day was closed), ``open_today`` if that day is ``today`` (only then are orders accepted),
    ``stale`` if a day of an earlier date was left open (it must be closed before the next opens, T0210),
    ``last_closed`` the last closed day and ``last_close_fen`` its close (fen per tonne, int)."""

    instrument: str
    today: dt.date
    open_day: dt.date | None
    last_closed: dt.date | None
    last_close_fen: int | None

    @property
    def open_today(self) -> bool:
        return self.open_day is not None and self.open_day == self.today

    @property
    def stale(self) -> bool:
        return self.open_day is not None and self.open_day != self.today


def day_state(*, market: str = PRIMARY_MARKET, instrument: str, today: dt.date | None = None) -> DayState:
    """The real open/closed state of ``instrument``'s trading day, read from the command log (the last
    开市 / 闭市 command). Market data: any viewer."""
    from django.utils import timezone

    today = today or timezone.localdate()
    days = Order.objects.filter(market=market, instrument=instrument, kind__in=(Order.Kind.OPEN_DAY, Order.Kind.CLOSE_DAY))
    last = days.order_by("-seq").first()
    open_day = last.trading_day if last is not None and last.kind == Order.Kind.OPEN_DAY else None
    closed = days.filter(kind=Order.Kind.CLOSE_DAY).order_by("-seq").values_list("trading_day", flat=True).first()
    q = DailyQuote.objects.filter(market=market, instrument=instrument).order_by("-date").first()
    return DayState(instrument, today, open_day, closed, q.close_fen if q else None)


def quotes_between(*, market: str = PRIMARY_MARKET, instrument: str, start: dt.date, end: dt.date) -> list[DailyQuote]:
    """The published daily quotes (open/high/low/close fen, listing volume t and amount fen) of
    ``instrument`` for ``start`` ≤ date ≤ ``end``, oldest first. Public market data."""
    return list(DailyQuote.objects.filter(market=market, instrument=instrument, date__gte=start, date__lte=end).order_by("date"))


def stats_between(*, market: str = PRIMARY_MARKET, instrument: str, start: dt.date, end: dt.date) -> list[DailyStat]:
    """The daily statistics per method (volume t, amount fen, trades, year-to-date and cumulative) of
    ``instrument`` for ``start`` ≤ date ≤ ``end``, by date then method. Public market data."""
    return list(DailyStat.objects.filter(market=market, instrument=instrument, date__gte=start, date__lte=end).order_by("date", "method"))


def instruments_listed(*, market: str = PRIMARY_MARKET) -> list[str]:
    """Instruments with published market data or an opened day, in code order (CEA, CEA21 …)."""
    a = set(DailyQuote.objects.filter(market=market).values_list("instrument", flat=True).distinct())
    a |= set(Order.objects.filter(market=market, kind=Order.Kind.OPEN_DAY).values_list("instrument", flat=True).distinct())
    return sorted(a)


def latest_quote(*, market: str = PRIMARY_MARKET, instrument: str) -> DailyQuote | None:
    """The last published daily quote of ``instrument``, or None. Public market data."""
    return DailyQuote.objects.filter(market=market, instrument=instrument).order_by("-date").first()


def trading_markets() -> list:
    """Markets (``rules.markets.Market``) with a trading pack (``[[packs]] kind = "trading"`` in their
    market.toml), the primary market first."""
    from cets.rules.markets import markets

    return sorted((m for m in markets() if m.years("trading")), key=lambda m: (m.id != PRIMARY_MARKET, m.id))


def trading_market(market: str) -> str:
    """``market`` if it is a market with a trading pack; T0601 otherwise."""
    from cets.core.errors import CetsError

    from .checks import T0601

    if market not in {m.id for m in trading_markets()}:
        raise CetsError(T0601, repr(market)[:40])
    return market


@dataclass(frozen=True)
class Treasury:
    """An authority's treasury fund account of one market (收支两条线: paid allocation and reserve auction proceeds, buy-back
    payments): ``number`` ('' before its first entry), ``available_fen`` and ``frozen_fen`` (fen, int), its latest entries."""

    market: str
    number: str
    available_fen: int
    frozen_fen: int
    entries: list = field(default_factory=list)


def treasury(*, market: str, limit: int = 50) -> Treasury:
    """The treasury fund account of ``market`` and its latest ``limit`` entries (newest first); zero before any entry.
    Authorisation is the caller's (the authority's pages and API)."""
    acc = FundAccount.objects.filter(market=market, kind=FundAccount.Kind.TREASURY).first()
    if acc is None:
        return Treasury(market, "", 0, 0, [])
    entries = list(FundEntry.objects.filter(Q(debit_account=acc) | Q(credit_account=acc)).select_related("debit_account", "credit_account")
                   .order_by("-seq")[:limit])
    return Treasury(market, acc.number, acc.available_fen, acc.frozen_fen, entries)
