"""Allocation pages: the stamped allocation tables a province sends to the registry (报送) and the registry's
receipt, listed with their due date, late flag and issue-by date. GET pages read through ``selectors``; each
POST validates its form and calls the service (role and jurisdiction are checked there), then redirects."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cets.core.errors import CetsError
from cets.core.labels import say
from cets.core.quantities import is_digits
from cets.parties.access import membership_of, viewer_of
from cets.parties.models import Role
from cets.parties.security import run
from cets.rules.packs import PackError

from . import selectors, services
from .forms import BasisScopeForm, BasisUploadForm, SubmissionForm

STATUSES = {"waiting": Q(received_on__isnull=True), "received": Q(received_on__isnull=False),
            "late": Q(due__isnull=False, submitted_on__gt=F("due"))}


def _context(request, form: SubmissionForm | None = None) -> dict | None:
    m = membership_of(request.user)
    if m is None or m.role not in (Role.NATIONAL_AUTHORITY, Role.REGISTRY_OPERATOR, Role.PROVINCIAL_AUTHORITY, Role.MUNICIPAL_AUTHORITY):
        return None
    raw = request.GET.get("year", "")
    year = int(raw) if is_digits(raw) and 2005 <= int(raw) <= 2100 else None
    status = request.GET.get("status", "")
    status = status if status in STATUSES else ""
    qs = selectors.submissions_visible(user=request.user, year=year)
    if status:
        qs = qs.filter(STATUSES[status])
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    q = urlencode({k: v for k, v in {"year": year or "", "status": status}.items() if v})
    province = m.role == Role.PROVINCIAL_AUTHORITY
    return {"viewer": viewer_of(request.user), "page": page, "year": year, "status": status, "query": q + "&" if q else "",
            "statuses": [("waiting", _("waiting for receipt")), ("received", _("received")), ("late", _("submitted late"))],
            "records": province, "receives": m.role == Role.REGISTRY_OPERATOR,
            "form": form or (SubmissionForm() if province else None)}


@require_safe
@login_required
def submissions(request):
    """Submissions in the user's scope (province: its own; national authority and registry: all),
    paginated and filtered by year and status; the form to record one (province) and receive buttons
    (registry)."""
    ctx = _context(request)
    if ctx is None:
        raise Http404
    return render(request, "allocation/submissions.html", ctx)


@require_POST
@login_required
def submission_record(request):
    """``services.allocation_submission_record`` for the user's own province (R0502 for anyone else)."""
    m = membership_of(request.user)
    form = SubmissionForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        market, _sep, sector = d["scope"].partition(":")
        try:
            s = services.allocation_submission_record(market=market, sector=sector, year=d["year"], stage=d["stage"],
                                                      province=m.province if m is not None else "", actor=request.user, on=d["sent_on"])
        except CetsError as e:
            form.add_error(None, say(request, e))
        except PackError as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, _("Submission recorded: %(n)s entities, %(t)s t.") % {"n": s.entities, "t": f"{s.total_t:,}"})
            return redirect("allocation:submissions")
    ctx = _context(request, form)
    if ctx is None:
        raise Http404
    return render(request, "allocation/submissions.html", ctx)


@require_POST
@login_required
def submission_receive(request, submission_id: int):
    """``services.allocation_submission_receive`` (R0502 unless a registry operator; A0126, A0125)."""
    try:
        s = services.allocation_submission_receive(submission_id=submission_id, actor=request.user)
    except CetsError as e:
        messages.error(request, say(request, e))
    except PackError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("Receipt recorded; issue by %(d)s.") % {"d": s.issue_by.isoformat() if s.issue_by else "—"})
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/allocation/submissions/") else "allocation:submissions")


# ---- the bureau's approval basis (核定依据) and the allocation computed from it (Beijing)

def _basis_context(request, upload: BasisUploadForm | None = None) -> dict | None:
    m = membership_of(request.user)
    if m is None or m.role not in (Role.NATIONAL_AUTHORITY, Role.REGISTRY_OPERATOR, Role.PROVINCIAL_AUTHORITY):
        return None
    scope = BasisScopeForm(request.GET or None)
    pack_id, year = scope.pack_and_year() if scope.is_valid() else (selectors.basis_scopes() or [("", 0)])[0]
    rows = selectors.bases_visible(user=request.user, pack_id=pack_id, year=year) if pack_id else []
    bureau = m.role == Role.PROVINCIAL_AUTHORITY
    ctx = {"viewer": viewer_of(request.user), "scope": BasisScopeForm(initial={"scope": f"{pack_id}:{year}"}), "pack_id": pack_id, "year": year,
           "rows": rows, "bureau": bureau, "computed": sum(1 for r in rows if r.allocation is not None),
           "upload": upload or (BasisUploadForm(initial={"scope": f"{pack_id}:{year}"}) if bureau else None)}
    ctx.update(_preissue_context(request, pack_id, year, rows, bureau))
    return ctx


def _preissue_context(request, pack_id: str, year: int, rows, bureau: bool) -> dict:
    """The pre-issue (免费配额预发) and final issue (核发) part of the basis page: the preview per entity before a
    pre-issue is proposed (from stored data only), the proposals waiting, and what the bureau may do next."""
    import uuid

    from .models import EntityAllocation, PreIssue

    if not pack_id or not rows:
        return {}
    try:
        preview = services.preissue_preview(pack_id=pack_id, year=year, province=membership_of(request.user).province or None)
    except CetsError:
        return {"preissue_basis": False}
    in_force = [r.preissue for r in rows if r.preissue is not None and r.preissue.status != PreIssue.Status.REJECTED]
    allocs = [r.allocation for r in rows if r.allocation is not None]
    market = preview[0]["market"] if preview else ""
    return {
        "preissue_basis": True, "preview": preview if not in_force else [],
        "preview_total": sum(ln["pre_issue_t"] for ln in preview), "preissued_total": sum(q.pre_issue_t for q in in_force),
        "preissue_waiting": sorted({q.proposal_key for q in in_force if q.status == PreIssue.Status.PROPOSED}),
        "can_preissue": bureau and not in_force and not allocs, "client_key": uuid.uuid4().hex[:32],
        "unit_types": selectors.allowance_unit_types(market=market, year=year) if bureau and market else [],
        "can_final": bureau and any(a.stage == EntityAllocation.Stage.PRE_ISSUED and not a.proposal_key for a in allocs),
        "final_waiting": sorted({a.proposal_key for a in allocs if a.proposal_key}), "market": market,
    }


@require_safe
@login_required
def basis(request):
    """The approval bases of one pack and year in the user's scope, with the allocation computed from them; the
    bureau's upload form and its compute button (authorities and the registry; others 404)."""
    ctx = _basis_context(request)
    if ctx is None:
        raise Http404
    return render(request, "allocation/basis.html", ctx)


@require_POST
@login_required
def basis_upload(request):
    """``services.allocation_basis_import`` from the uploaded CSV; every problem is listed with its row and column."""
    from cets.core.errors import InputError
    from cets.core.tables import UploadedTable

    form = BasisUploadForm(request.POST, request.FILES)
    problems = []
    if form.is_valid():
        pack_id, year = form.pack_and_year()
        f = form.cleaned_data["file"]
        try:
            n = services.allocation_basis_import(pack_id=pack_id, year=year, path=UploadedTable(name=f.name[:200], data=f.read()), actor=request.user)
        except CetsError as e:
            form.add_error(None, say(request, e))
        except InputError as e:
            problems = e.problems[:200]
            form.add_error(None, _("The file has %(n)s problem(s); nothing was imported.") % {"n": len(e.problems)})
        else:
            messages.success(request, _("Approval basis recorded for %(n)s entities.") % {"n": n})
            return redirect(f"{reverse('allocation:basis')}?{urlencode({'scope': f'{pack_id}:{year}'})}")
    ctx = _basis_context(request, form)
    if ctx is None:
        raise Http404
    ctx["problems"] = problems
    return render(request, "allocation/basis.html", ctx, status=422)


@require_POST
@login_required
def basis_compute(request):
    """``services.allocation_compute`` for the chosen pack and year (A0101 once issued; R0502 for other roles)."""
    form = BasisScopeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an allocation pack and year."))
        return redirect("allocation:basis")
    pack_id, year = form.pack_and_year()
    try:
        out = services.allocation_compute(year=year, pack_id=pack_id, actor=request.user)
    except CetsError as e:
        messages.error(request, say(request, e))
    else:
        messages.success(request, _("Allocation computed: %(n)s entities, %(t)s t free allocation.") % {"n": out["entities"],
                                                                                                       "t": f"{out['final_allocation_t']:,}"})
    return redirect(f"{reverse('allocation:basis')}?{urlencode({'scope': f'{pack_id}:{year}'})}")


def _scope_redirect(pack_id: str, year: int):
    return redirect(f"{reverse('allocation:basis')}?{urlencode({'scope': f'{pack_id}:{year}'})}")


def _unit_type(code: str):
    from cets.registry.models import UnitType

    return UnitType.objects.filter(code=code[:80]).first()


@require_POST
@login_required
def preissue_propose(request):
    """``services.preissue_propose``: the bureau proposes the pre-issue of the year (its client key from the form makes a
    double submission return the same proposal); a second bureau user signs it on the registry page with its TOTP."""
    form = BasisScopeForm(request.POST)
    ut = _unit_type(request.POST.get("unit_type", ""))
    if not form.is_valid() or ut is None:
        messages.error(request, _("Choose an allocation pack, year and unit type."))
        return redirect("allocation:basis")
    pack_id, year = form.pack_and_year()
    run(request, lambda: services.preissue_propose(pack_id=pack_id, year=year, unit_type=ut, actor=request.user,
                                                  client_key=request.POST.get("client_key", "")[:64]),
        lambda p: _("Pre-issue proposed: %(key)s, %(t)s t. A second bureau user signs it on the registry page.") % {
            "key": p.key, "t": f"{sum(ln['quantity'] for ln in p.payload['lines']):,}"})
    return _scope_redirect(pack_id, year)


@require_POST
@login_required
def final_propose(request):
    """``services.allocation_issue_propose`` (stage final) by the bureau: final allocation − adjustments − pre-issued,
    negative lines returned to the market's total account (R1402 when the entity holds too little)."""
    form = BasisScopeForm(request.POST)
    ut = _unit_type(request.POST.get("unit_type", ""))
    if not form.is_valid() or ut is None:
        messages.error(request, _("Choose an allocation pack, year and unit type."))
        return redirect("allocation:basis")
    pack_id, year = form.pack_and_year()
    from cets.rules.packs import load_pack

    try:
        market = load_pack(pack_id).market
    except PackError as e:
        messages.error(request, str(e))
        return _scope_redirect(pack_id, year)
    run(request, lambda: services.allocation_issue_propose(year=year, stage="final", unit_type=ut, actor=request.user, market=market),
        lambda p: _("Final issue proposed: %(key)s. A second bureau user signs it on the registry page.") % {"key": p.key})
    return _scope_redirect(pack_id, year)


@require_POST
@login_required
def issuance_record(request):
    """Record the signed outcome of the year's pre-issue and final issue proposals (``services.preissue_confirm``,
    ``services.allocation_issue_confirm``); authorities of the scope only."""
    from cets.parties.access import require_role
    from cets.rules.packs import load_pack

    from .checks import A0104

    form = BasisScopeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an allocation pack and year."))
        return redirect("allocation:basis")
    pack_id, year = form.pack_and_year()
    try:
        require_role(request.user, Role.PROVINCIAL_AUTHORITY, Role.REGISTRY_OPERATOR)
        market = load_pack(pack_id).market
        services.preissue_confirm(market=market, year=year)
        try:
            for sector in sorted(set(selectors.allocation_sectors(market=market, year=year))):
                services.allocation_issue_confirm(year=year, stage="final", market=market, sector=sector)
        except CetsError as e:
            if e.check != A0104:
                raise
    except CetsError as e:
        messages.error(request, say(request, e))
    else:
        messages.success(request, _("Outcome recorded."))
    return _scope_redirect(pack_id, year)
