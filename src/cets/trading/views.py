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
from cets.parties.access import viewer_of
from cets.rules.markets import PRIMARY_MARKET
from cets.rules.packs import PackError

from . import entry, selectors, services
from .chart import Day, chart_of
from .checks import T0209
from .forms import CancelForm, DayCloseForm, DayOpenForm, OrderForm, TakeForm
from .models import Order

MARKET = PRIMARY_MARKET
METHODS = ("listing", "block")


def _key() -> str:
    return uuid.uuid4().hex


def _say(e: CetsError) -> str:
    return f"{e.code} {e.zh if (get_language() or 'zh').startswith('zh') else e.en}"


def _rules():
    """The trading pack's rules for today, or None if no pack covers this year."""
    try:
        return services.market_rules(MARKET, timezone.localdate())
    except PackError:  # no pack for this year: the page loses only the size hints and the pack's instrument list
        return None


def _instruments(rules) -> list[str]:
    listed = selectors.instruments_listed(market=MARKET)
    return sorted(set(listed) | set(rules.instruments if rules else ()))


def _default_instrument(rules) -> str:
    last = Order.objects.filter(market=MARKET, kind=Order.Kind.OPEN_DAY).order_by("-seq").values_list("instrument", flat=True).first()
    if last:
        return last
    names = _instruments(rules)
    return names[-1] if names else "CEA"


def _board_url(instrument: str, method: str) -> str:
    return reverse("trading:board") + "?" + urlencode({"instrument": instrument, "method": method})


def _board_context(request, instrument: str, method: str, order_form: OrderForm | None = None) -> dict:
    rules = _rules()
    names = _instruments(rules)
    b = selectors.board(instrument=instrument, method=method, viewer=request.user, market=MARKET)
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
        "day_state": selectors.day_state(market=MARKET, instrument=instrument),
        "operator": selectors.is_exchange_operator(request.user),
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
    rules = _rules()
    instrument = request.GET.get("instrument") or _default_instrument(rules)
    if instrument not in _instruments(rules):
        raise Http404
    method = request.GET.get("method", "listing")
    method = method if method in METHODS else "listing"
    return render(request, "trading/board.html", _board_context(request, instrument, method))


@require_POST
@login_required
def order_submit(request):
    if selectors.participant_of(request.user) is None:  # authorities, operators … do not trade (T0209)
        messages.error(request, _say(CetsError(T0209, request.user.get_username())))
        return redirect(_back(request))
    rules = _rules()
    form = OrderForm(request.POST, instruments=_instruments(rules), limits=rules.limits if rules else None)
    instrument = request.POST.get("instrument", "")
    method = request.POST.get("method", "listing") if request.POST.get("method") in METHODS else "listing"
    if instrument not in _instruments(rules):
        instrument = _default_instrument(rules)
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
                market=MARKET,
            )
        except CetsError as e:
            form.add_error(None, _say(e))
        else:
            _outcome(request, o)
            return redirect(_board_url(d["instrument"], d["method"]))
    return render(request, "trading/board.html", _board_context(request, instrument, method, order_form=form), status=200)


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
    if request.POST.get("back") == "orders":
        return reverse("trading:orders")
    instrument, method = request.POST.get("instrument", ""), request.POST.get("method", "listing")
    if instrument and method in METHODS:
        return _board_url(instrument, method)
    return reverse("trading:board")


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
        o = entry.take(user=request.user, key=d["key"], quote=d["quote"], quantity_t=d["quantity_t"], channel="web", market=MARKET)
    except CetsError as e:
        messages.error(request, _say(e))
    else:
        _outcome(request, o)
    return redirect(_back(request))


@require_POST
@login_required
def cancel_submit(request):
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            o = entry.cancel(user=request.user, key=form.cleaned_data["key"], order=form.cleaned_data["order"], channel="web", market=MARKET)
        except CetsError as e:
            messages.error(request, _say(e))
        else:
            _outcome(request, o)
    return redirect(_back(request))


def _denied(request, e: CetsError):
    return render(request, "trading/denied.html", {"viewer": viewer_of(request.user), "message": _say(e)}, status=403)


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
    Both lists are paginated (``page`` / ``tpage``, 50 rows), orders filtered by status, trades by method."""
    participant = request.GET.get("participant", "")[:18]
    day = _day(request.GET.get("day", ""))
    status = request.GET.get("status", "")
    status = status if status in Order.Status.values else ""
    method = request.GET.get("method", "")
    method = method if method in METHODS else ""
    try:
        order_qs = selectors.orders_visible(user=request.user, participant=participant, day=day, status=status, market=MARKET, limit=None)
        trade_qs = selectors.trades_visible(user=request.user, participant=participant, day=day, method=method, market=MARKET, limit=None)
    except CetsError as e:
        return _denied(request, e)
    order_page = Paginator(order_qs, PAGE_SIZE).get_page(request.GET.get("page"))
    trade_page = Paginator(trade_qs, PAGE_SIZE).get_page(request.GET.get("tpage"))
    trader = selectors.participant_of(request.user)
    rows, trades = list(order_page.object_list), list(trade_page.object_list)
    for o in rows:
        o.cancel_key = _key() if trader is not None and o.kind == Order.Kind.PLACE and o.status == Order.Status.RESTING else ""
    for t in trades:
        t.my_side = ("B" if t.buyer_id == trader.pk else "S") if trader is not None else ""
        t.my_fee_fen = (t.buyer_fee_fen if t.my_side == "B" else t.seller_fee_fen) if trader is not None else None
    filters = {"participant": participant, "day": day.isoformat() if day else "", "status": status, "method": method}
    return render(
        request,
        "trading/orders.html",
        {"viewer": viewer_of(request.user), "orders": rows, "trades": trades, "trader": trader, "participant": participant, "day": day,
         "status": status, "statuses": [(v, _status(v)) for v in Order.Status.values], "method": method, "methods": METHODS,
         "order_page": order_page, "trade_page": trade_page,
         "order_query": _query(**filters, tpage=request.GET.get("tpage", "")),
         "trade_query": _query(**filters, page=request.GET.get("page", ""))},
    )


# --- the trading day (开市 / 闭市), for the exchange operator ----------------------------------------------


def _day_context(request, open_form: DayOpenForm | None = None) -> dict:
    names = _instruments(_rules())
    today = timezone.localdate()
    return {"viewer": viewer_of(request.user), "today": today, "now": timezone.localtime(),
            "states": [selectors.day_state(market=MARKET, instrument=i, today=today) for i in names],
            "open_form": open_form or DayOpenForm(instruments=names, initial={"instrument": _default_instrument(_rules())})}


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
    form = DayOpenForm(request.POST, instruments=_instruments(_rules()))
    if form.is_valid():
        d = form.cleaned_data
        day = timezone.localdate()
        try:
            entry.day_open(user=request.user, instrument=d["instrument"], day=day, prev_close_fen=d["prev_close"], market=MARKET)
        except CetsError as e:
            form.add_error(None, _say(e))
        else:
            messages.success(request, _("%(instrument)s: trading day %(day)s opened.") % {"instrument": d["instrument"], "day": day.isoformat()})
            return redirect("trading:day")
    return render(request, "trading/day.html", _day_context(request, open_form=form))


@require_POST
@login_required
def day_close_submit(request):
    if (r := _not_operator(request)) is not None:
        return r
    form = DayCloseForm(request.POST)
    if not form.is_valid():
        for errs in form.errors.values():
            for err in errs:
                messages.error(request, err)
        return redirect("trading:day")
    d = form.cleaned_data
    try:
        q = entry.day_close(user=request.user, instrument=d["instrument"], day=d["day"], market=MARKET)
    except CetsError as e:
        messages.error(request, _say(e))
    else:
        from .templatetags.trading_tags import cny

        messages.success(request, _("%(instrument)s: trading day %(day)s closed at %(close)s CNY per tonne.")
                         % {"instrument": d["instrument"], "day": d["day"].isoformat(), "close": cny(q.close_fen)})
    return redirect("trading:day")


@require_safe
@login_required
def funds(request):
    """Available and frozen funds and the fund entries (an exchange operator picks the participant)."""
    participant = request.GET.get("participant", "")[:18]
    operator = selectors.is_exchange_operator(request.user)
    ctx = {"viewer": viewer_of(request.user), "participant": participant, "operator": operator}
    if operator and not participant:
        return render(request, "trading/funds.html", ctx)
    try:
        ctx["funds"] = selectors.funds_visible(user=request.user, participant=participant, market=MARKET)
    except CetsError as e:
        return _denied(request, e)
    return render(request, "trading/funds.html", ctx)


# --- public market data -------------------------------------------------------------------------------


def _viewer(request):
    return viewer_of(request.user) if request.user.is_authenticated else None


@require_safe
def market(request):
    """Public: every instrument with its latest published day."""
    rows = []
    for ins in selectors.instruments_listed(market=MARKET):
        rows.append((ins, selectors.latest_quote(market=MARKET, instrument=ins)))
    return render(request, "trading/market.html", {"viewer": _viewer(request), "rows": rows})


@require_safe
def market_instrument(request, instrument: str):
    """Public: one instrument's daily quotes and statistics over a date range (default the 90 days up
    to its latest published day, at most 2000 days), with the close and volume chart."""
    if instrument not in selectors.instruments_listed(market=MARKET):
        raise Http404
    latest = selectors.latest_quote(market=MARKET, instrument=instrument)
    end = _day(request.GET.get("end", "")) or (latest.date if latest else timezone.localdate())
    start = _day(request.GET.get("start", "")) or end - dt.timedelta(days=90)
    if start > end or (end - start).days > 2000:
        start = end - dt.timedelta(days=90)
    quotes = selectors.quotes_between(market=MARKET, instrument=instrument, start=start, end=end)
    stats = selectors.stats_between(market=MARKET, instrument=instrument, start=start, end=end)
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
        {"viewer": _viewer(request), "instrument": instrument, "start": start, "end": end, "chart": chart_of(days), "table": table},
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


def _member(code: str):
    from .checks import T0505
    from .models import ExchangeMember

    m = ExchangeMember.objects.filter(market=MARKET, code=(code or "").strip()).first()
    if m is None:
        raise CetsError(T0505, (code or "")[:20])
    return m


@require_http_methods(["GET", "POST"])
@login_required
def members(request):
    """The exchange operator's members page: members and service institutions with their kind, status and clients;
    admit a member, record a client it acts for, suspend or reinstate it (T05xx refusals shown with their code)."""
    if (r := _not_operator(request)) is not None:
        return r
    from .models import MemberClient

    if request.method == "POST":
        p, action = request.POST, request.POST.get("action")
        try:
            if action == "admit":
                m = services.member_admit(organisation=_org_by_code(p.get("uscc", "")), kind=p.get("kind", ""), code=p.get("code", ""),
                                          actor=request.user, market=MARKET)
                messages.success(request, _("Member %(code)s admitted.") % {"code": m.code})
            elif action == "client":
                link = services.member_client_add(member=_member(p.get("member", "")), participant=_org_by_code(p.get("uscc", "")), actor=request.user)
                messages.success(request, _("Member %(code)s now acts for %(who)s.") % {"code": link.member.code, "who": link.participant.name})
            elif action in ("suspend", "reinstate"):
                fn = services.member_suspend if action == "suspend" else services.member_reinstate
                m = fn(member=_member(p.get("member", "")), reason=p.get("reason", "")[:300], actor=request.user)
                messages.success(request, _("Member %(code)s: %(status)s.") % {"code": m.code, "status": m.get_status_display()})
            else:
                raise Http404
        except CetsError as e:
            messages.error(request, _say(e))
        return redirect("trading:members")
    rules = _rules()
    rows = list(services.members_list(market=MARKET))
    clients = {}
    for link in MemberClient.objects.filter(market=MARKET).select_related("participant", "member"):
        clients.setdefault(link.member_id, []).append(link.participant)
    return render(request, "trading/members.html", {"viewer": viewer_of(request.user), "rows": [(m, clients.get(m.pk, [])) for m in rows],
                                                    "kinds": rules.member_kinds if rules else (),
                                                    "acting": rules.acts_for_clients if rules else ()})
