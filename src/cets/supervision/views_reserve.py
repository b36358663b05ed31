"""The national authority's reserve and market-stabilisation page (``/supervision/reserve/``): the reserve's holdings,
the triggers' alerts and their decisions, and the four-eyes reserve decisions (fund, auction release, buy-back) — one
person proposes, a second approves here. Services: :mod:`cets.supervision.stabilisation`, :mod:`cets.registry.services.reserve`."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cets.core.errors import CetsError
from cets.core.labels import say
from cets.core.quantities import is_digits
from cets.parties.access import membership_of
from cets.parties.models import Role
from cets.registry import selectors as registry_selectors
from cets.registry import services as registry
from cets.registry.checks import R0201
from cets.registry.models import Proposal, UnitType
from cets.registry.signing import signing_require
from cets.rules.markets import PRIMARY_MARKET
from cets.trading.selectors import treasury

from . import selectors, stabilisation
from .checks import G0604, G0606


def _national(user) -> None:
    m = membership_of(user)
    if m is None or m.role != Role.NATIONAL_AUTHORITY:
        raise Http404


def _unit_type(code: str) -> UnitType:
    ut = UnitType.objects.filter(code=code.strip()).first()
    if ut is None:
        raise CetsError(R0201, code[:40])
    return ut


def _int(v: str, check) -> int:
    v = (v or "").strip()
    if not is_digits(v) or len(v) > 18:
        raise CetsError(check, v[:40])
    return int(v)


def _lines(text: str) -> list[dict]:
    """``account,price_fen,quantity_t`` per line → reserve lines."""
    return [{"account": b.participant, "quantity": b.quantity_t, "price_fen": b.price_fen} for b in stabilisation.parse_bids(text)]


def _proposal_decide(name: str, p, user) -> None:
    """Approve or reject the four-eyes proposal ``p["proposal"]`` (the reserve's and a pilot's paid allocation):
    approving is review-then-sign, as on the registry page and the API — the approver's own TOTP code
    (``p["otp_token"]``; R1201, R1202) — then :func:`cets.registry.services.proposal_approve` (R0501 the proposer
    itself, the proposal's own checks); G0604 a proposal number that is not one."""
    pid = _int(p.get("proposal", ""), G0604)
    if name == "approve":
        signing_require(user, p.get("otp_token", ""), f"proposal {pid}")
        registry.proposal_approve(proposal_id=pid, approver=user)
    else:
        registry.proposal_reject(proposal_id=pid, approver=user, reason=p.get("reason", "").strip() or "—")


@require_safe
@login_required
def reserve(request):
    _national(request.user)
    market = request.GET.get("market", PRIMARY_MARKET)
    return render(request, "supervision/reserve.html", {
        "market": market,
        "holdings": registry_selectors.reserve_holdings(market=market),
        "alerts": selectors.stabilisation_alerts(status="open"),
        "decided_alerts": Paginator(selectors.stabilisation_alerts(status="decided"), 50).get_page(request.GET.get("apage")),
        "pending": registry_selectors.reserve_proposals(status=Proposal.Status.PROPOSED),
        "decisions": Paginator(registry_selectors.reserve_proposals(status=Proposal.Status.EXECUTED), 50).get_page(request.GET.get("page")),
        "query": urlencode({"market": market}) + "&",
        "today": dt.date.today().isoformat(),
        "treasury": treasury(market=market, limit=20),
    })


@login_required
@require_POST
def reserve_action(request, name: str):
    """POST one reserve or stabilisation action; the services check role (national authority) and refuse with their codes."""
    _national(request.user)
    p, user = request.POST, request.user
    key = p.get("key", "").strip()[:100]
    try:
        if name == "triggers":
            day = dt.date.fromisoformat(p.get("day", ""))
            raised = stabilisation.stabilisation_triggers_check(market=p.get("market", PRIMARY_MARKET), day=day, actor=user)
            messages.info(request, f"{len(raised)} alert(s)")
        elif name == "decide":
            stabilisation.stabilisation_alert_decide(alert_id=_int(p.get("alert", ""), G0604), actor=user, decision=p.get("decision", ""),
                                                     decision_reference=p.get("decision_reference", ""), proposal_key=p.get("proposal_key", ""))
        elif name == "fund":
            registry.reserve_fund_propose(key=key, unit_type=_unit_type(p.get("unit_type", "")), year=_int(p.get("year", ""), G0606),
                                          decision_ref=p.get("decision_ref", ""), actor=user)
        elif name == "auction":
            stabilisation.reserve_auction_propose(key=key, unit_type=_unit_type(p.get("unit_type", "")), quantity_t=_int(p.get("quantity_t", ""), G0606),
                                                  floor_fen=_int(p.get("floor_fen", ""), G0606), bids=stabilisation.parse_bids(p.get("bids", "")),
                                                  decision_ref=p.get("decision_ref", ""), actor=user, year=_int(p.get("year", ""), G0606))
        elif name == "withdraw":
            registry.reserve_withdraw_propose(key=key, unit_type=_unit_type(p.get("unit_type", "")), lines=_lines(p.get("lines", "")),
                                              decision_ref=p.get("decision_ref", ""), actor=user)
        elif name in ("approve", "reject"):
            _proposal_decide(name, p, user)
        else:
            raise Http404
        messages.success(request, _("Recorded: see the lists below."))
    except CetsError as e:
        messages.error(request, say(request, e))
    except ValueError as e:
        messages.error(request, str(e)[:200])
    return redirect(reverse("supervision:reserve"))


# ---- paid allocation by auction (有偿分配) of a pilot market: its provincial authority (e.g. the Beijing bureau)

def _pilot_markets() -> list[str]:
    """Markets without a national level (pilots): their provincial authority decides paid allocation."""
    from cets.rules.markets import markets

    return [m.id for m in markets() if m.pilot]


def _bureau(user) -> None:
    m = membership_of(user)
    if m is None or m.role != Role.PROVINCIAL_AUTHORITY:
        raise Http404


@require_safe
@login_required
def paid_allocation(request):
    """The provincial authority's paid allocation page: the auction form, its proposals awaiting a second person, the
    decisions taken, and the market's treasury fund account the winners paid into."""
    _bureau(request.user)
    pilots = _pilot_markets()
    market = request.GET.get("market", "")
    market = market if market in pilots else (pilots[0] if pilots else "")
    qs = Proposal.objects.filter(kind="paid_allocation", payload__market=market).select_related("proposed_by").order_by("-proposed_at", "-pk")
    return render(request, "supervision/paid_allocation.html", {
        "market": market, "markets": pilots, "treasury": treasury(market=market, limit=20),
        "pending": qs.filter(status=Proposal.Status.PROPOSED),
        "decisions": Paginator(qs.exclude(status=Proposal.Status.PROPOSED), 50).get_page(request.GET.get("page")),
        "query": urlencode({"market": market}) + "&",
    })


@login_required
@require_POST
def paid_allocation_action(request, name: str):
    """``auction`` (clear and propose), ``approve``, ``reject``: the services check role, jurisdiction and funds."""
    from cets.allocation.paid import paid_allocation_auction_propose

    _bureau(request.user)
    p, user = request.POST, request.user
    market = p.get("market", "")[:16]
    try:
        if name == "auction":
            bids = [{"account": b.participant, "price_fen": b.price_fen, "quantity_t": b.quantity_t} for b in stabilisation.parse_bids(p.get("bids", ""))]
            paid_allocation_auction_propose(key=p.get("key", "").strip()[:100], unit_type=_unit_type(p.get("unit_type", "")),
                                            quantity_t=_int(p.get("quantity_t", ""), G0606), floor_fen=_int(p.get("floor_fen", ""), G0606), bids=bids,
                                            decision_ref=p.get("decision_ref", ""), actor=user)
        elif name in ("approve", "reject"):
            _proposal_decide(name, p, user)
        else:
            raise Http404
        messages.success(request, _("Recorded: see the lists below."))
    except CetsError as e:
        messages.error(request, say(request, e))
    return redirect(reverse("supervision:paid_allocation") + (f"?market={market}" if market in _pilot_markets() else ""))
