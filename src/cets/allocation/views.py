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
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cets.core.errors import CetsError
from cets.parties.access import membership_of, viewer_of
from cets.parties.models import Role
from cets.rules.packs import PackError

from . import selectors, services
from .forms import SubmissionForm

STATUSES = {"waiting": Q(received_on__isnull=True), "received": Q(received_on__isnull=False),
            "late": Q(due__isnull=False, submitted_on__gt=F("due"))}


def _say(request, e: CetsError) -> str:
    return f"{e.code} {e.zh if (request.LANGUAGE_CODE or 'zh').startswith('zh') else e.en}"


def _context(request, form: SubmissionForm | None = None) -> dict | None:
    m = membership_of(request.user)
    if m is None or m.role not in (Role.NATIONAL_AUTHORITY, Role.REGISTRY_OPERATOR, Role.PROVINCIAL_AUTHORITY, Role.MUNICIPAL_AUTHORITY):
        return None
    raw = request.GET.get("year", "")
    year = int(raw) if raw.isdigit() and 2005 <= int(raw) <= 2100 else None
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
            form.add_error(None, _say(request, e))
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
        messages.error(request, _say(request, e))
    except PackError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("Receipt recorded; issue by %(d)s.") % {"d": s.issue_by.isoformat() if s.issue_by else "—"})
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/allocation/submissions/") else "allocation:submissions")
