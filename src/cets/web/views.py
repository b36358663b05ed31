"""Web pages. Thin: parse the request, call a selector, render. Nothing here writes.

Every page needs a logged-in user; what it shows is scoped by the user's membership
(:mod:`cets.web.selectors`). An entity outside the user's scope is a 404, never a 403.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe

from . import selectors


def _year(request) -> int:
    """``?year=`` if it is a plausible year, else the latest year with data."""
    raw = request.GET.get("year", "")
    requested = int(raw) if raw.isdigit() and 2005 <= int(raw) <= 2100 else None
    return selectors.reporting_year(requested=requested)


def _context(request, **extra) -> dict:
    year = extra.pop("year", None) or _year(request)
    return {"viewer": selectors.viewer_of(request.user), "year": year, "years": selectors.years_available(), **extra}


@require_safe
@login_required
def dashboard(request):
    ctx = _context(request)
    viewer, year = ctx["viewer"], ctx["year"]
    kind = viewer.dashboard
    if kind == "none":
        return render(request, "web/no_role.html", ctx)
    if kind in ("national", "provincial"):
        ctx["rows"], ctx["total"] = selectors.province_table(user=request.user, year=year)
        if kind == "provincial":
            ctx["problems"] = selectors.entities_late_or_incomplete(user=request.user, year=year)
    elif kind == "entity":
        ctx["summary"] = selectors.entity_summary(user=request.user, year=year)
    elif kind == "registry":
        ctx["proposals"] = selectors.proposals_overview()
        ctx["reconciliation"] = selectors.reconciliation()
    return render(request, f"web/dashboard_{kind}.html", ctx)


@require_safe
@login_required
def entity_list(request):
    ctx = _context(request)
    if ctx["viewer"].dashboard == "none":
        return render(request, "web/no_role.html", ctx)
    q = request.GET.get("q", "")[:100]
    province = request.GET.get("province", "")
    province = province if len(province) == 2 and province.isdigit() else ""
    ctx.update(q=q, province=province, page=selectors.entity_page(user=request.user, search=q, province=province,
                                                                  page=request.GET.get("page", 1), year=ctx["year"]))
    return render(request, "web/entity_list.html", ctx)


@require_safe
@login_required
def entity_detail(request, uscc: str):
    ctx = _context(request)
    ctx["d"] = selectors.entity_detail(user=request.user, uscc=uscc, year=ctx["year"])  # Http404 outside scope
    return render(request, "web/entity_detail.html", ctx)
