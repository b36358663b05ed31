"""The exchange's pages: the quote board with order entry and take buttons, my orders (cancel) and
trades, funds, and the public market-data pages with a server-drawn SVG chart.

GET pages read through ``trading.selectors``; each POST validates its form, calls ``trading.entry``
(which calls ``trading.services``), reports the outcome with the check code and redirects
(post/redirect/get). CSRF protection is Django's middleware. Who sees what is the selectors' rule:
entities and traders for their own organisation, exchange operators everything, authorities and the
public market data only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cets.core.errors import CetsError
from cets.core.exports import local_minute, wants_xlsx, xlsx_or_refusal
from cets.core.labels import choice_label, say
from cets.core.quantities import is_digits
from cets.parties.access import viewer_of
from cets.rules.markets import PRIMARY_MARKET
from cets.rules.packs import PackError

from . import entry, selectors, services
from .chart import Day, chart_of
from .checks import T0209
from .forms import CancelForm, DayCloseForm, DayOpenForm, OrderForm, TakeForm
from .models import Order

METHODS = ("listing", "block")


trading_markets = selectors.trading_markets


def _market(request) -> str:
    """The market a page or form is about: ``market`` of the query or form when it is a market with a trading
    pack, else the primary market."""
    m = request.POST.get("market") or request.GET.get("market") or PRIMARY_MARKET
    return m if m in {x.id for x in trading_markets()} else PRIMARY_MARKET


def _with_market(url: str, market: str) -> str:
    """``url`` with ``market=…`` added for a market other than the primary one."""
    if market == PRIMARY_MARKET:
        return url
    return url + ("&" if "?" in url else "?") + urlencode({"market": market})


def _key() -> str:
    return uuid.uuid4().hex


def _rules(market: str):
    """The trading pack's rules for today, or None if no pack covers this year."""
    try:
        return services.market_rules(market, timezone.localdate())
    except PackError:  # no pack for this year: the page loses only the size hints and the pack's instrument list
        return None


def _instruments(rules, market: str) -> list[str]:
    """Subjects of ``market``: those with market data or an opened day, and what its pack lists (the pack's
    instruments, or the registry unit types of its instrument families: CCER per project and vintage)."""
    listed = selectors.instruments_listed(market=market)
    packed = services.tradeable_subjects(market=market, day=timezone.localdate(), rules=rules) if rules else ()
    return sorted(set(listed) | set(packed))


def _default_instrument(rules, market: str) -> str:
    last = Order.objects.filter(market=market, kind=Order.Kind.OPEN_DAY).order_by("-seq").values_list("instrument", flat=True).first()
    if last:
        return last
    names = _instruments(rules, market)
    return names[-1] if names else ""


def _board_url(instrument: str, method: str, market: str = PRIMARY_MARKET) -> str:
    return _with_market(reverse("trading:board") + "?" + urlencode({"instrument": instrument, "method": method}), market)


def _price_history(market: str, instrument: str):
    """The close and volume chart of ``instrument`` over the 90 days up to its latest published day (issue 15: a price
    history where prices are shown); None without a published day."""
    latest = selectors.latest_quote(market=market, instrument=instrument) if instrument else None
    if latest is None:
        return None
    quotes = selectors.quotes_between(market=market, instrument=instrument, start=latest.date - dt.timedelta(days=90), end=latest.date)
    return chart_of([Day(q.date, q.close_fen, q.volume_t, 0) for q in quotes])


def _board_context(request, instrument: str, method: str, market: str, order_form: OrderForm | None = None) -> dict:
    rules = _rules(market)
    names = _instruments(rules, market)
    b = selectors.board(instrument=instrument, method=method, viewer=request.user, market=market)
    trader = selectors.participant_of(request.user)
    ctx = {
        "viewer": viewer_of(request.user),
        "instruments": names,
        "instrument": instrument,
        "method": method,
        "methods": METHODS,
        "board": b,
        "ask_rows": [(len(b.asks) - i, lv) for i, lv in enumerate(reversed(b.asks))],
        "bid_rows": list(enumerate(b.bids, start=1)),
        "trader": trader,
        "now": timezone.localtime(),
        "day_state": selectors.day_state(market=market, instrument=instrument),
        "operator": selectors.is_exchange_operator(request.user),
        "market": market,
        "markets": trading_markets(),
        "chart": _price_history(market, instrument),
    }
    if trader is not None:
        ctx["order_form"] = order_form or OrderForm(
            instruments=names, limits=rules.limits if rules else None, initial={"key": _key(), "instrument": instrument, "method": method}
        )
        ctx["take_prefix"] = _key()  # each take button's key: <prefix>-<quote seq>, fresh for every page shown
    return ctx


@require_safe
@login_required
def board(request):
    """The best-five quote board of one instrument and method, with order entry for traders."""
    market = _market(request)
    rules = _rules(market)
    instrument = request.GET.get("instrument") or _default_instrument(rules, market)
    if instrument not in _instruments(rules, market):
        if request.GET.get("instrument"):
            raise Http404
        instrument = ""  # a market with nothing to trade yet: the board is empty
    method = request.GET.get("method", "listing")
    method = method if method in METHODS else "listing"
    return render(request, "trading/board.html", _board_context(request, instrument, method, market))


@require_POST
@login_required
def order_submit(request):
    if selectors.participant_of(request.user) is None:  # authorities, operators … do not trade (T0209)
        messages.error(request, say(request, CetsError(T0209, request.user.get_username())))
        return redirect(_back(request))
    market = _market(request)
    rules = _rules(market)
    names = _instruments(rules, market)
    form = OrderForm(request.POST, instruments=names, limits=rules.limits if rules else None)
    instrument = request.POST.get("instrument", "")
    method = request.POST.get("method", "listing") if request.POST.get("method") in METHODS else "listing"
    if instrument not in names:
        instrument = _default_instrument(rules, market)
    if form.is_valid():
        d = form.cleaned_data
        try:
            o = entry.place(
                user=request.user,
                key=d["key"],
                instrument=d["instrument"],
                method=d["method"],
                side=d["side"],
                price_fen=d["price"],
                quantity_t=d["quantity_t"],
                counterparty=d["counterparty"],
                channel="web",
                market=market,
            )
        except CetsError as e:
            form.add_error(None, say(request, e))
        else:
            _outcome(request, o)
            return redirect(_board_url(d["instrument"], d["method"], market))
    return render(request, "trading/board.html", _board_context(request, instrument, method, market, order_form=form), status=200)


def _outcome(request, o: Order) -> None:
    if o.status == Order.Status.REJECTED:
        messages.error(request, _("Order #%(seq)s rejected: %(code)s %(detail)s") % {"seq": o.seq, "code": o.reject_code, "detail": _reject_text(o)})
    else:
        messages.success(request, _("Order #%(seq)s: %(status)s") % {"seq": o.seq, "status": _status(o.status)})


def _reject_text(o: Order) -> str:
    en, _sep, zh = o.reject_detail.partition(" / ")
    return zh if (get_language() or "zh").startswith("zh") and zh else en


def _status(code: str) -> str:
    from .templatetags.trading_tags import STATUS

    return str(STATUS.get(code, code))


def _back(request) -> str:
    market = _market(request)
    if request.POST.get("back") == "orders":
        return _with_market(reverse("trading:orders"), market)
    instrument, method = request.POST.get("instrument", ""), request.POST.get("method", "listing")
    if instrument and method in METHODS:
        return _board_url(instrument, method, market)
    return _with_market(reverse("trading:board"), market)


@require_POST
@login_required
def take_submit(request):
    form = TakeForm(request.POST)
    if not form.is_valid():
        for errs in form.errors.values():
            for err in errs:
                messages.error(request, err)
        return redirect(_back(request))
    d = form.cleaned_data
    try:
        o = entry.take(user=request.user, key=d["key"], quote=d["quote"], quantity_t=d["quantity_t"], channel="web", market=_market(request))
    except CetsError as e:
        messages.error(request, say(request, e))
    else:
        _outcome(request, o)
    return redirect(_back(request))


@require_POST
@login_required
def cancel_submit(request):
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            o = entry.cancel(user=request.user, key=form.cleaned_data["key"], order=form.cleaned_data["order"], channel="web",
                             market=_market(request))
        except CetsError as e:
            messages.error(request, say(request, e))
        else:
            _outcome(request, o)
    return redirect(_back(request))


def _denied(request, e: CetsError):
    return render(request, "trading/denied.html", {"viewer": viewer_of(request.user), "message": say(request, e)}, status=403)


def _day(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


PAGE_SIZE = 50


def _query(**params) -> str:
    """The page's filters as a query string ending in ``&`` (for the pager's links), empty values left out."""
    q = urlencode({k: v for k, v in params.items() if v})
    return q + "&" if q else ""


@require_safe
@login_required
def orders(request):
    """My orders (cancel buttons on resting ones) and my trades; an exchange operator sees everyone's.
    Both lists are paginated (``page`` / ``tpage``, 50 rows), orders filtered by status, trades by method;
    ``format=xlsx`` exports every row of the filtered orders (``list=trades``: trades), S0501 past the bound."""
    participant = request.GET.get("participant", "")[:18]
    day = _day(request.GET.get("day", ""))
    status = request.GET.get("status", "")
    status = status if status in Order.Status.values else ""
    method = request.GET.get("method", "")
    method = method if method in METHODS else ""
    market = _market(request)
    try:
        order_qs = selectors.orders_visible(user=request.user, participant=participant, day=day, status=status, market=market, limit=None)
        trade_qs = selectors.trades_visible(user=request.user, participant=participant, day=day, method=method, market=market, limit=None)
    except CetsError as e:
        return _denied(request, e)
    if wants_xlsx(request.GET):
        resp = _orders_xlsx(request, order_qs) if request.GET.get("list") != "trades" else _trades_xlsx(request, trade_qs)
        if resp is not None:
            return resp
    order_page = Paginator(order_qs, PAGE_SIZE).get_page(request.GET.get("page"))
    trade_page = Paginator(trade_qs, PAGE_SIZE).get_page(request.GET.get("tpage"))
    trader = selectors.participant_of(request.user)
    rows, trades = list(order_page.object_list), list(trade_page.object_list)
    for o in rows:
        o.cancel_key = _key() if trader is not None and o.kind == Order.Kind.PLACE and o.status == Order.Status.RESTING else ""
    for t in trades:
        t.my_side = ("B" if t.buyer_id == trader.pk else "S") if trader is not None else ""
        t.my_fee_fen = (t.buyer_fee_fen if t.my_side == "B" else t.seller_fee_fen) if trader is not None else None
    filters = {"participant": participant, "day": day.isoformat() if day else "", "status": status, "method": method,
               "market": market if market != PRIMARY_MARKET else ""}
    return render(
        request,
        "trading/orders.html",
        {"viewer": viewer_of(request.user), "orders": rows, "trades": trades, "trader": trader, "participant": participant, "day": day,
         "status": status, "statuses": [(v, _status(v)) for v in Order.Status.values], "method": method, "methods": METHODS,
         "order_page": order_page, "trade_page": trade_page, "market": market, "markets": trading_markets(),
         "order_query": _query(**filters, tpage=request.GET.get("tpage", "")),
         "trade_query": _query(**filters, page=request.GET.get("page", ""))},
    )


def _cny(fen: int | None) -> Decimal | None:
    return None if fen is None else Decimal(fen) / 100


def _orders_xlsx(request, qs):
    from .templatetags.trading_tags import method_name, side_name

    return xlsx_or_refusal(request, filename="orders", columns=[
        "#", _("Trading day"), _("Participant"), _("Trading subject"), _("Trade method"), _("Side"), _("Price (CNY/t)"), _("Quantity (t)"),
        _("Filled (t)"), _("Remaining (t)"), _("Status"), _("Refusal")], rows=(
        [o.seq, o.trading_day.isoformat() if o.trading_day else "", o.participant.identifier, o.instrument, str(method_name(o.method)),
         str(side_name(o.side)), _cny(o.price_fen), o.quantity_t, o.filled_t, o.remaining_t if o.kind == Order.Kind.PLACE else None,
         _status(o.status), o.reject_code] for o in qs.select_related("participant").iterator()))


def _trades_xlsx(request, qs):
    from .templatetags.trading_tags import method_name

    return xlsx_or_refusal(request, filename="trades", columns=[
        "#", _("Trading day"), _("Trading subject"), _("Trade method"), _("Buyer"), _("Seller"), _("Price (CNY/t)"), _("Quantity (t)"),
        _("Amount (CNY)"), _("Time")], rows=(
        [t.seq, t.trading_day.isoformat(), t.instrument, str(method_name(t.method)), t.buyer.identifier, t.seller.identifier, _cny(t.price_fen),
         t.quantity_t, _cny(t.amount_fen), local_minute(t.executed_at)] for t in qs.select_related("buyer", "seller").iterator()))


# --- the trading day (开市 / 闭市), for the exchange operator ----------------------------------------------


def _day_context(request, open_form: DayOpenForm | None = None) -> dict:
    market = _market(request)
    rules = _rules(market)
    names = _instruments(rules, market)
    today = timezone.localdate()
    return {"viewer": viewer_of(request.user), "today": today, "now": timezone.localtime(), "market": market, "markets": trading_markets(),
            "states": [selectors.day_state(market=market, instrument=i, today=today) for i in names],
            "open_form": open_form or DayOpenForm(instruments=names, initial={"instrument": _default_instrument(rules, market)})}


def _not_operator(request):
    if selectors.is_exchange_operator(request.user):
        return None
    from cets.parties.access import DENIED

    return _denied(request, CetsError(DENIED, request.user.get_username()))


@require_safe
@login_required
def trading_day(request):
    """The exchange operator's trading-day page: every instrument's real state (open today, closed, or a
    day of an earlier date left open), a form to open today's day and a button to close an open one."""
    if (r := _not_operator(request)) is not None:
        return r
    return render(request, "trading/day.html", _day_context(request))


@require_POST
@login_required
def day_open_submit(request):
    if (r := _not_operator(request)) is not None:
        return r
    market = _market(request)
    form = DayOpenForm(request.POST, instruments=_instruments(_rules(market), market))
    if form.is_valid():
        d = form.cleaned_data
        day = timezone.localdate()
        try:
            entry.day_open(user=request.user, instrument=d["instrument"], day=day, prev_close_fen=d["prev_close"], market=market)
        except CetsError as e:
            form.add_error(None, say(request, e))
        else:
            messages.success(request, _("%(instrument)s: trading day %(day)s opened.") % {"instrument": d["instrument"], "day": day.isoformat()})
            return redirect(_with_market(reverse("trading:day"), market))
    return render(request, "trading/day.html", _day_context(request, open_form=form))


@require_POST
@login_required
def day_close_submit(request):
    if (r := _not_operator(request)) is not None:
        return r
    market = _market(request)
    back = _with_market(reverse("trading:day"), market)
    form = DayCloseForm(request.POST)
    if not form.is_valid():
        for errs in form.errors.values():
            for err in errs:
                messages.error(request, err)
        return redirect(back)
    d = form.cleaned_data
    try:
        q = entry.day_close(user=request.user, instrument=d["instrument"], day=d["day"], market=market)
    except CetsError as e:
        messages.error(request, say(request, e))
    else:
        from .templatetags.trading_tags import cny

        messages.success(request, _("%(instrument)s: trading day %(day)s closed at %(close)s CNY per tonne.")
                         % {"instrument": d["instrument"], "day": d["day"].isoformat(), "close": cny(q.close_fen)})
    return redirect(back)


@require_safe
@login_required
def funds(request):
    """Available and frozen funds and the fund entries, 50 a page (an exchange operator picks the participant)."""
    participant = request.GET.get("participant", "")[:18]
    operator = selectors.is_exchange_operator(request.user)
    market = _market(request)
    ctx = {"viewer": viewer_of(request.user), "participant": participant, "operator": operator, "market": market, "markets": trading_markets()}
    if operator and not participant:
        return render(request, "trading/funds.html", ctx)
    page_no = request.GET.get("page", "")
    page_no = int(page_no) if is_digits(page_no) and len(page_no) < 7 else 1
    try:
        ctx["funds"] = f = selectors.funds_visible(user=request.user, participant=participant, market=market, limit=PAGE_SIZE,
                                                   offset=(max(page_no, 1) - 1) * PAGE_SIZE)
    except CetsError as e:
        return _denied(request, e)
    # the entries are fetched one page at a time; the pager counts them all (every entry reachable)
    ctx["entries_page"] = Paginator(range(f.entries_total), PAGE_SIZE).get_page(page_no)
    ctx["query"] = _query(participant=participant, market=market if market != PRIMARY_MARKET else "")
    return render(request, "trading/funds.html", ctx)


@require_POST
@login_required
def funds_deposit(request):
    """An exchange operator records a deposit the settlement bank confirmed (participant credit code or ``treasury``,
    amount in CNY, the bank's reference): :func:`cets.trading.services.funds.funds_deposit_record` (R0502, L0201,
    T0202, T0805, T0806)."""
    from .checks import T0202
    from .prices import cny_to_fen
    from .services.funds import funds_deposit_record

    market = _market(request)
    participant = request.POST.get("participant", "").strip()[:18]
    try:
        try:
            amount = cny_to_fen(request.POST.get("amount_cny", "")[:20])
        except CetsError:
            raise CetsError(T0202, request.POST.get("amount_cny", "")[:20]) from None
        e = funds_deposit_record(market=market, participant=participant, amount_fen=amount, bank_reference=request.POST.get("bank_reference", "")[:60],
                                 actor=request.user)
        from .templatetags.trading_tags import cny

        messages.success(request, _("Deposit recorded: %(amount)s CNY (entry %(seq)s).") % {"amount": cny(e.amount_fen), "seq": e.seq})
    except CetsError as e:
        messages.error(request, say(request, e))
    # the treasury's balance is on the authority's reserve page; a participant's funds are shown here
    shown = "" if participant.lower() == "treasury" else participant
    return redirect(_with_market(f"{reverse('trading:funds')}?{urlencode({'participant': shown})}", market))


# --- public market data -------------------------------------------------------------------------------


def _viewer(request):
    return viewer_of(request.user) if request.user.is_authenticated else None


@require_safe
def market(request):
    """Public: every instrument with its latest published day."""
    market = _market(request)
    rows = []
    for ins in selectors.instruments_listed(market=market):
        rows.append((ins, selectors.latest_quote(market=market, instrument=ins)))
    return render(request, "trading/market.html", {"viewer": _viewer(request), "rows": rows, "market": market, "markets": trading_markets()})


@require_safe
def market_instrument(request, instrument: str):
    """Public: one instrument's daily quotes and statistics over a date range (default the 90 days up
    to its latest published day, at most 2000 days), with the close and volume chart."""
    market = _market(request)
    if instrument not in selectors.instruments_listed(market=market):
        raise Http404
    latest = selectors.latest_quote(market=market, instrument=instrument)
    end = _day(request.GET.get("end", "")) or (latest.date if latest else timezone.localdate())
    start = _day(request.GET.get("start", "")) or end - dt.timedelta(days=90)
    if start > end or (end - start).days > 2000:
        start = end - dt.timedelta(days=90)
    quotes = selectors.quotes_between(market=market, instrument=instrument, start=start, end=end)
    stats = selectors.stats_between(market=market, instrument=instrument, start=start, end=end)
    vol: dict[tuple[dt.date, str], int] = {(s.date, s.method): s.volume_t for s in stats}
    days = [Day(q.date, q.close_fen, vol.get((q.date, "listing"), q.volume_t), vol.get((q.date, "block"), 0)) for q in quotes]
    by_date: dict[dt.date, dict] = {}
    for s in stats:
        by_date.setdefault(s.date, {})[s.method] = s
    table = [
        (q, by_date.get(q.date, {}), sum(x.cum_volume_t for x in by_date.get(q.date, {}).values()) if q.date in by_date else None) for q in reversed(quotes)
    ]
    return render(
        request,
        "trading/market_instrument.html",
        {"viewer": _viewer(request), "instrument": instrument, "start": start, "end": end, "chart": chart_of(days), "table": table,
         "market": market, "markets": trading_markets()},
    )


# -- exchange members and service institutions (draft Measures Art. 19; issue 17) --------------------------------

def _org_by_code(code: str):
    """The organisation with this credit code, or the holder of the registry account with this number (a natural
    person has no credit code and is never looked up by identity number here)."""
    from cets.parties.models import Organisation
    from cets.registry.models import Account

    from .checks import T0403

    code = (code or "").strip()
    org = Organisation.objects.filter(uscc=code.upper()).first() if code else None
    if org is None and code:
        acc = Account.objects.filter(number=code, holder__isnull=False).select_related("holder").first()
        org = acc.holder if acc else None
    if org is None:
        raise CetsError(T0403, (code or "")[:18])
    return org


def _member(code: str, market: str):
    from .checks import T0505
    from .models import ExchangeMember

    m = ExchangeMember.objects.filter(market=market, code=(code or "").strip()).first()
    if m is None:
        raise CetsError(T0505, (code or "")[:20])
    return m


@require_http_methods(["GET", "POST"])
@login_required
def members(request):
    """The exchange operator's members page: members and service institutions with their kind, status and clients;
    admit a member, record a client it acts for, suspend or reinstate it (T05xx refusals shown with their code).
    ``format=xlsx`` exports the members with their clients."""
    if (r := _not_operator(request)) is not None:
        return r
    from .models import MemberClient

    market = _market(request)
    if request.method == "POST":
        p, action = request.POST, request.POST.get("action")
        try:
            if action == "admit":
                m = services.member_admit(organisation=_org_by_code(p.get("uscc", "")), kind=p.get("kind", ""), code=p.get("code", ""),
                                          actor=request.user, market=market)
                messages.success(request, _("Member %(code)s admitted.") % {"code": m.code})
            elif action == "client":
                link = services.member_client_add(member=_member(p.get("member", ""), market), participant=_org_by_code(p.get("uscc", "")), actor=request.user)
                messages.success(request, _("Member %(code)s now acts for %(who)s.") % {"code": link.member.code, "who": link.participant.name})
            elif action in ("suspend", "reinstate"):
                fn = services.member_suspend if action == "suspend" else services.member_reinstate
                m = fn(member=_member(p.get("member", ""), market), reason=p.get("reason", "")[:300], actor=request.user)
                messages.success(request, _("Member %(code)s: %(status)s.") % {"code": m.code, "status": choice_label(m.get_status_display())})
            else:
                raise Http404
        except CetsError as e:
            messages.error(request, say(request, e))
        return redirect(_with_market(reverse("trading:members"), market))
    rules = _rules(market)
    rows = list(services.members_list(market=market))
    clients = {}
    for link in MemberClient.objects.filter(market=market).select_related("participant", "member"):
        clients.setdefault(link.member_id, []).append(link.participant)
    if wants_xlsx(request.GET):
        acting = rules.acts_for_clients if rules else ()
        resp = xlsx_or_refusal(request, filename="members", columns=[
            _("Member code"), _("Organisation"), _("Credit code"), _("Kind"), _("Acts for clients"), _("Status"), _("Reason"), _("Clients")], rows=(
            [m.code, m.organisation.name, m.organisation.identifier, m.kind, _("yes") if m.kind in acting else _("no"),
             choice_label(m.get_status_display()), m.status_reason, "; ".join(f"{c.name} {c.identifier}" for c in clients.get(m.pk, []))]
            for m in rows))
        if resp is not None:
            return resp
    return render(request, "trading/members.html", {"viewer": viewer_of(request.user), "market": market, "markets": trading_markets(),
                                                    "rows": [(m, clients.get(m.pk, [])) for m in rows],
                                                    "kinds": rules.member_kinds if rules else (),
                                                    "acting": rules.acts_for_clients if rules else ()})
