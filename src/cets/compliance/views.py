"""Compliance pages. Every page checks role and jurisdiction through the selectors and
:mod:`cets.parties.access` (out of scope → 404); the public pages show only what is published."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from . import documents, selectors


def penalties_public(request):
    """Published penalty decisions for failing to surrender (处罚信息公开, notice 国环规气候〔2024〕1号 §三(四)):
    public, no login."""
    return render(request, "compliance/penalties_public.html", {"decisions": selectors.penalties_published()[:500]})


@login_required
def overview(request, year: int):
    """Obligations of ``year`` in the user's scope with status, notice and certificate."""
    obs = list(selectors.obligations_visible(user=request.user, year=year))
    st = selectors.statuses(year=year, entity_qs=[o.entity_id for o in obs]) if obs else {}
    rows = [(o, st.get(o.entity_id), getattr(o, "notice", None), getattr(o, "certificate", None)) for o in obs]
    from cets.parties.access import membership_of

    m = membership_of(request.user)
    return render(request, "compliance/overview.html", {"year": year, "rows": rows, "today": timezone.localdate(),
                                                        "province": m.province if m and m.province else ""})


@login_required
def notice_page(request, notice_id: int):
    n = selectors.notice_for(user=request.user, notice_id=notice_id)
    if n is None:
        raise Http404
    return render(request, "compliance/notice.html", {"n": n, "rules": documents.offset_rules(n)})


def _pdf_response(data: bytes, name: str) -> HttpResponse:
    r = HttpResponse(data, content_type="application/pdf")
    r["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    return r


@login_required
def notice_pdf(request, notice_id: int):
    n = selectors.notice_for(user=request.user, notice_id=notice_id)
    if n is None:
        raise Http404
    return _pdf_response(documents.notice_pdf(n), n.number)


@login_required
def certificate_pdf(request, certificate_id: int):
    c = selectors.certificate_for(user=request.user, certificate_id=certificate_id)
    if c is None:
        raise Http404
    return _pdf_response(documents.certificate_pdf(c), c.number)


@login_required
def summary_xlsx(request, year: int, province: str):
    """附件5 summary table of ``province`` for ``year`` as XLSX: the national authority and the registry, or
    that province's provincial and municipal authorities (others: 404)."""
    from cets.parties.access import membership_of
    from cets.parties.models import Role

    from . import reports

    m = membership_of(request.user)
    ok = m is not None and (m.role in (Role.NATIONAL_AUTHORITY, Role.REGISTRY_OPERATOR)
                            or (m.role in (Role.PROVINCIAL_AUTHORITY, Role.MUNICIPAL_AUTHORITY) and m.province == province))
    if not ok:
        raise Http404
    data = reports.summary_xlsx(reports.summary(province=province, year=year))
    r = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    r["Content-Disposition"] = f'attachment; filename="compliance-summary-{year}-{province}.xlsx"'
    return r


@login_required
def monitoring(request, year: int):
    """Compliance risk index per entity, the weekly net-purchase report of the last month before the
    deadline and the real outcome counts beside the platform's (authorities and the registry; others 404)."""
    from cets.parties.access import membership_of

    rows = selectors.risk_rows(user=request.user, year=year)
    if rows is None:
        raise Http404
    m = membership_of(request.user)
    province = m.province or request.GET.get("province", "")
    weekly = selectors.weekly_net_purchases(user=request.user, province=province, year=year) if province else None
    counts = selectors.outcome_counts(year=year, entity_qs=[r["entity"].pk for r in rows])
    real = selectors.real_outcomes(year=year)
    return render(request, "compliance/monitoring.html", {"year": year, "rows": rows, "weekly": weekly, "province": province, "real": real,
                                                          "platform": {k: counts.get(k, 0) for k in ("on_time", "late", "incomplete", "open")},
                                                          "platform_total": sum(counts.values())})
