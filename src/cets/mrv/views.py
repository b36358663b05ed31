"""MRV pages. Thin: parse the request, call a selector (or, for a POST, a service), render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cets.core.errors import CetsError
from cets.parties.access import viewer_of

from . import selectors, services
from .forms import ResolveForm
from .models import VerificationRecord


@require_safe
@login_required
def blocked_cases(request):
    """不符合 verification conclusions in the viewer's jurisdiction (blocked until resolved)."""
    raw = request.GET.get("year", "")
    year = int(raw) if raw.isdigit() and 2005 <= int(raw) <= 2100 else None
    unresolved = request.GET.get("unresolved") == "1"
    qs = selectors.blocked_cases(user=request.user, year=year, unresolved_only=unresolved)
    page = Paginator(qs, 100).get_page(request.GET.get("page", 1))
    viewer = viewer_of(request.user)
    ctx = {"viewer": viewer, "year": year, "unresolved": unresolved, "page": page, "years": [2022, 2023, 2024],
           "resolves": viewer.role in ("provincial_authority", "national_authority"), "form": ResolveForm(auto_id=False),
           "query": "".join(f"{k}={v}&" for k, v in (("year", year), ("unresolved", 1 if unresolved else "")) if v)}
    return render(request, "mrv/blocked.html", ctx)


@require_POST
@login_required
def blocked_resolve(request, record_id: int):
    """Resolve a blocked case (``services.verification_resolve``: role and jurisdiction R0502, V0201 a
    conforming conclusion, V0202 already resolved, V0203 unknown resolution); unknown record 404."""
    form = ResolveForm(request.POST)
    if not form.is_valid():
        for field, errs in form.errors.items():
            for err in errs:
                messages.error(request, f"{form.fields[field].label}: {err}" if field in form.fields else err)
    else:
        if not VerificationRecord.objects.filter(pk=record_id).exists():
            raise Http404
        try:
            services.verification_resolve(record_id=record_id, actor=request.user, resolution=form.cleaned_data["resolution"],
                                          note=form.cleaned_data["note"])
        except CetsError as e:
            messages.error(request, f"{e.code} {e.zh if (request.LANGUAGE_CODE or 'zh').startswith('zh') else e.en}")
        else:
            messages.success(request, _("Case resolved: the entity's final allocation may be issued."))
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/mrv/blocked/") else "mrv:blocked")


KIND_LABELS = {
    "dq_plan": "数据质量控制方案 data-quality plan",
    "monthly_filing": "月度存证 monthly filing",
    "monthly_review": "月度审核 monthly review",
    "annual_report": "年度排放报告 annual report",
    "notification": "核查结果告知 result notification",
    "objection_decision": "异议决定 objection decision",
    "list_publication": "名录公布 list publication",
}


@require_safe
@login_required
def deadlines(request):
    """The deadlines dashboard of an authority: what is due, late or missing in its jurisdiction."""
    from django.utils import timezone

    from cets.core.errors import CetsError

    raw = request.GET.get("year", "")
    today = timezone.localdate()
    year = int(raw) if raw.isdigit() and 2005 <= int(raw) <= 2100 else today.year - 1
    try:
        counts, items = selectors.deadline_items(user=request.user, year=year, today=today)
    except CetsError:
        raise Http404 from None
    kind = request.GET.get("kind", "")
    shown = [{**i, "label": KIND_LABELS[i["kind"]]} for i in items if not kind or i["kind"] == kind]
    page = Paginator(shown, 200).get_page(request.GET.get("page", 1))
    rows = [{"kind": k, "label": KIND_LABELS[k], **{s: c.get(s, 0) for s in ("on_time", "late", "due", "missing")}}
            for k, c in counts.items()]
    ctx = {"viewer": viewer_of(request.user), "year": year, "today": today, "rows": rows, "page": page, "kind": kind,
           "kind_label": KIND_LABELS.get(kind, ""), "years": list(range(today.year - 3, today.year + 1))}
    return render(request, "mrv/deadlines.html", ctx)
