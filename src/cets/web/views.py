"""Web pages. Thin: parse the request, call a selector, render. Nothing here writes (but the password change
and the security events they record).

Every page needs a logged-in user; what it shows is scoped by the user's membership
(:mod:`cets.web.selectors`). An entity outside the user's scope is a 404, never a 403.
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse_lazy
from django.views.decorators.http import require_safe

from cets.core.errors import CetsError
from cets.parties.models import SecurityEvent
from cets.parties.security import event_record, events_for, refused

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
    ctx["inbox"] = selectors.inbox(user=request.user, year=year)
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


@require_safe
@login_required
def security_events(request):
    """The security events (failed sign-ins, lockouts S0301, wrong TOTP codes S0302, refusals R0502/R0505),
    newest first, for an auditor or the national authority; read-only. Anyone else: 404."""
    kind = request.GET.get("kind", "")
    kind = kind if kind in SecurityEvent.Kind.values else ""
    try:
        events = events_for(user=request.user, kind=kind, limit=500)
    except CetsError as e:
        refused(request, e)
        raise Http404 from None
    return render(request, "web/security_events.html", _context(request, events=events, kind=kind, kinds=SecurityEvent.Kind.choices))


class PasswordChange(auth_views.PasswordChangeView):
    """Django's password change (old password, new one twice, the password validators of settings); the
    session stays signed in and the change is recorded as a security event."""

    template_name = "web/password_change.html"
    success_url = reverse_lazy("web:password_change_done")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **_context(self.request)}

    def form_valid(self, form):
        out = super().form_valid(form)
        event_record(request=self.request, kind=SecurityEvent.Kind.PASSWORD_CHANGED)
        return out


class PasswordChangeDone(auth_views.PasswordChangeDoneView):
    template_name = "web/password_change_done.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **_context(self.request)}
