"""Web pages. Thin: parse the request, call a selector, render. Nothing here writes (but the password change,
the enrolment of the second factor through the parties services, and the security events they record).

Every page needs a logged-in user; what it shows is scoped by the user's membership
(:mod:`cets.web.selectors`). An entity outside the user's scope is a 404, never a 403.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe
from django_otp import login as otp_login

from cets.core.errors import CetsError
from cets.core.labels import say
from cets.core.quantities import is_digits
from cets.parties.access import SECOND_FACTOR_ROLES, role_of, second_factor_unenrolled
from cets.parties.models import SecurityEvent
from cets.parties.security import ENROL_PENDING, ENROL_REQUIRED, event_record, events_for, refused
from cets.parties.selectors import totp_device_active, totp_enrolment
from cets.parties.services import totp_device_enrol_confirm, totp_device_enrol_start

from . import selectors


def _year(request) -> int:
    """``?year=`` if it is a plausible year, else the latest year with data."""
    raw = request.GET.get("year", "")
    requested = int(raw) if is_digits(raw) and 2005 <= int(raw) <= 2100 else None
    return selectors.reporting_year(requested=requested)


def _context(request, **extra) -> dict:
    year = extra.pop("year", None) or _year(request)
    return {"viewer": selectors.viewer_of(request.user), "year": year, "years": selectors.years_available(), **extra}


def _progress_chart(rows):
    """Compliance progress per province: Σ verified emissions (what is to be surrendered), Σ final allocation and
    Σ surrendered, tonnes (cets.core.chart.grouped_bars); None without a row."""
    from cets.core.chart import grouped_bars
    from cets.web.templatetags.cets_web import province_name

    if not rows:
        return None
    return grouped_bars([str(_("Verified emissions (t)")), str(_("Final allocation (t)")), str(_("Surrendered (t)"))],
                        [(province_name(r.province), [r.verified_emissions_t, r.final_allocation_t, r.surrendered_t]) for r in rows])


def _holdings_chart(summary):
    """An entity's surrender obligation against what it surrendered and what it holds now (tonnes, all unit types);
    None without an obligation."""
    from cets.core.chart import grouped_bars

    if summary is None or summary.obligation is None:
        return None
    held = sum(h.quantity for h in summary.holdings)
    return grouped_bars([str(_("tonnes CO2e"))], [(str(_("Surrender obligation")), [summary.obligation.obligation_t]),
                                                 (str(_("Surrendered (t)")), [summary.status.surrendered_t if summary.status else 0]),
                                                 (str(_("Held now (t)")), [held])])


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
        ctx["chart"] = _progress_chart(ctx["rows"])
        total = ctx["total"]
        ctx["progress_pct"] = total.surrendered_t * 100 // total.verified_emissions_t if total.verified_emissions_t > 0 else None
        if kind == "provincial":
            ctx["problems"] = selectors.entities_late_or_incomplete(user=request.user, year=year)
    elif kind == "entity":
        ctx["summary"] = selectors.entity_summary(user=request.user, year=year)
        ctx["chart"] = _holdings_chart(ctx["summary"])
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
    province = province if len(province) == 2 and is_digits(province) else ""
    ctx.update(q=q, province=province, page=selectors.entity_page(user=request.user, search=q, province=province,
                                                                  page=request.GET.get("page", 1), year=ctx["year"]))
    return render(request, "web/entity_list.html", ctx)


@require_safe
@login_required
def entity_detail(request, uscc: str):
    from cets.rules.markets import named_jurisdictions

    ctx = _context(request)
    ctx["d"] = selectors.entity_detail(user=request.user, uscc=uscc, year=ctx["year"])  # Http404 outside scope
    province = ctx["d"].entity.province
    ctx["jurisdictions"] = [j for j in named_jurisdictions().values() if j.province == province]
    ctx["jurisdiction"] = next((j for j in ctx["jurisdictions"] if j.code == ctx["d"].entity.jurisdiction), None)
    return render(request, "web/entity_detail.html", ctx)


@require_http_methods(["POST"])
@login_required
def entity_jurisdiction(request, uscc: str):
    """POST: the province's authority puts the entity under a named district-level jurisdiction (北京经济技术开发区) or
    back under its GB/T district (``cets.parties.services.organisation_jurisdiction_set``; R0502, S0401, S0402)."""
    from cets.parties.access import require_second_factor
    from cets.parties.selectors import entity_get
    from cets.parties.services import organisation_jurisdiction_set

    org = entity_get(user=request.user, uscc=uscc)  # Http404 outside scope
    try:
        require_second_factor(request.user)
        organisation_jurisdiction_set(organisation=org, jurisdiction=request.POST.get("jurisdiction", "")[:6], actor=request.user)
    except CetsError as e:
        refused(request, e)
        messages.error(request, say(request, e))
    else:
        messages.success(request, _("Jurisdiction recorded."))
    return redirect("web:entity_detail", uscc=org.uscc)


@require_safe
@login_required
def security_events(request):
    """The security events (failed sign-ins, lockouts S0301, wrong TOTP codes S0302, refusals R0502/R0505),
    newest first, 100 a page, for an auditor or the national authority; read-only. Anyone else: 404."""
    kind = request.GET.get("kind", "")
    kind = kind if kind in SecurityEvent.Kind.values else ""
    try:
        events = events_for(user=request.user, kind=kind, limit=None)
    except CetsError as e:
        refused(request, e)
        raise Http404 from None
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    return render(request, "web/security_events.html", _context(request, events=page.object_list, page=page, kind=kind,
                                                               kinds=SecurityEvent.Kind.choices, query=f"kind={kind}&" if kind else ""))


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


# ---------------------------------------------------------------- the second factor: sign-in and enrolment


class Login(auth_views.LoginView):
    """``/login/``: password, and the TOTP code once the user has a device (:class:`~cets.web.forms.LoginForm`). A
    user of :data:`~cets.parties.access.SECOND_FACTOR_ROLES` without a device is sent to enrol one first
    (:class:`~cets.web.middleware.SecondFactorEnrolmentMiddleware` keeps it there until it has)."""

    template_name = "web/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        out = super().form_valid(form)
        if second_factor_unenrolled(self.request.user):
            self.request.session[ENROL_REQUIRED] = True
            return redirect(f"{reverse('web:second_factor')}?{urlencode({'next': self.get_success_url()})}")
        return out


def _next(request) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    return nxt if url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()) else ""


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def second_factor(request):
    """``/security/second-factor/``: the signed-in user's second factor (TOTP, an authenticator app).

    Without a confirmed device: ``action=start`` creates an unconfirmed one and shows its secret (base32 and
    ``otpauth://`` URI); ``action=confirm`` with ``code``, a current code, confirms it and verifies the session
    (L0501 wrong code, L0503 nothing started in this session). With one: it is shown active, and ``action=start``
    with ``current_code`` of it begins a replacement (L0502 without it). Services:
    :func:`cets.parties.services.totp_device_enrol_start`, ``totp_device_enrol_confirm``."""
    user, nxt = request.user, _next(request)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "start":
                e = totp_device_enrol_start(user=user, current_code=request.POST.get("current_code", "")[:16], request=request)
                request.session[ENROL_PENDING] = e.device_id
            elif action == "confirm":
                device = totp_device_enrol_confirm(user=user, device_id=request.session.get(ENROL_PENDING), code=request.POST.get("code", "")[:16],
                                                   request=request)
                otp_login(request, device)
                request.session.pop(ENROL_PENDING, None)
                request.session.pop(ENROL_REQUIRED, None)
                messages.success(request, _("Your second factor is active; this session is verified with it."))
                return redirect(nxt or "web:second_factor")
            else:
                raise Http404
        except CetsError as e:
            refused(request, e)
            messages.error(request, say(request, e))
            if e.code == "L0502":
                return redirect(f"{reverse('web:second_factor')}?{urlencode({'next': nxt})}" if nxt else "web:second_factor")
    pending = totp_enrolment(user=user, device_id=request.session.get(ENROL_PENDING))
    required = role_of(user) in SECOND_FACTOR_ROLES
    return render(request, "web/second_factor.html", _context(request, device=totp_device_active(user=user), pending=pending, required=required,
                                                              held=bool(request.session.get(ENROL_REQUIRED)), next=nxt))
