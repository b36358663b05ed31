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
    st = selectors.statuses(year=year, entity_qs=[o.entity_id for o in obs], market=None) if obs else {}
    rows = [(o, st.get(o.entity_id), getattr(o, "notice", None), getattr(o, "certificate", None)) for o in obs]
    from cets.parties.access import membership_of

    m = membership_of(request.user)
    return render(request, "compliance/overview.html", {"year": year, "rows": rows, "today": timezone.localdate(),
                                                        "province": m.province if m and m.province else "",
                                                        "authority": selectors.authority_scope(request.user) is not None})


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
    still = selectors.status_of(obligation=c.obligation).outstanding_t
    if still > 0:  # a registry reversal reopened the obligation after the certificate was issued
        from .checks import C0901

        return HttpResponse(f"{C0901.code} {C0901.zh} / {C0901.en} ({still} t)", status=409, content_type="text/plain; charset=utf-8")
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


def _obligation_in_scope(user, obligation_id: int):
    from cets.parties.access import organisation_scope

    from .models import Obligation

    scope = selectors.authority_scope(user)
    if scope is None:
        return None
    return Obligation.objects.filter(pk=obligation_id, entity__in=scope.filter(organisation_scope(user))).select_related("entity").first()


@login_required
def obligation_page(request, obligation_id: int):
    """Non-compliance file of one obligation for the authorities in scope: status, the price basis and
    lawful range of the fine (Art. 24: window, counted volume and amount, P̄), the rectification order,
    the fine decision, the deduction; forms to act (CSRF)."""
    from cets.allocation.models import AllocationAdjustment
    from cets.core.errors import CetsError
    from cets.rules.packs import load_pack

    from .services import penalty_range

    ob = _obligation_in_scope(request.user, obligation_id)
    if ob is None:
        raise Http404
    pack = load_pack(ob.pack_id)
    status = selectors.status_of(obligation=ob)
    basis = error = None
    try:
        q, price, rng = penalty_range(obligation=ob, pack=pack)
        basis = {"unsurrendered_t": q, "price": price, "range": rng}
    except CetsError as e:
        error = f"{e.code} {e.zh if request.LANGUAGE_CODE.startswith('zh') else e.en}"
    order = getattr(ob, "rectification", None)  # reverse one-to-one: None when absent
    decision = getattr(ob, "penalty", None)
    deduction = AllocationAdjustment.objects.filter(source=f"compliance.rectification:{order.pk}").first() if order else None
    return render(request, "compliance/obligation.html", {"ob": ob, "status": status, "basis": basis, "basis_error": error, "order": order,
                                                          "decision": decision, "deduction": deduction, "pack": pack,
                                                          "deadline": selectors.deadline_of(obligation=ob)})


@login_required
def obligation_action(request, obligation_id: int, action: str):
    """POST: ``rectify`` (reference, optional deadline), ``fine`` (reference, reason, multiple or amount in
    yuan), ``publish``, ``deduct``. The services check role and jurisdiction and refuse with their codes."""
    import datetime as dt

    from django.contrib import messages
    from django.shortcuts import redirect

    from cets.core.errors import CetsError

    from . import services

    if request.method != "POST":
        raise Http404
    ob = _obligation_in_scope(request.user, obligation_id)
    if ob is None:
        raise Http404
    p, user = request.POST, request.user
    try:
        if action == "rectify":
            d = p.get("deadline") or None
            services.rectification_order_issue(obligation_id=ob.pk, reference=p.get("reference", ""), actor=user,
                                               deadline=dt.date.fromisoformat(d) if d else None)
        elif action == "fine":
            amount = p.get("amount_yuan") or None
            services.penalty_decide(obligation_id=ob.pk, reference=p.get("reference", ""), reason=p.get("reason", ""), actor=user,
                                    multiple=p.get("multiple") or None,
                                    amount_fen=_yuan_to_fen(amount) if amount else None)
        elif action == "publish" and getattr(ob, "penalty", None) is not None:
            services.penalty_publish(decision_id=ob.penalty.pk, actor=user)
        elif action == "deduct":
            services.arrears_deduction_decide(obligation_id=ob.pk, actor=user)
        else:
            raise Http404
        messages.success(request, "OK")
    except CetsError as e:
        messages.error(request, f"{e.code} {e.zh if request.LANGUAGE_CODE.startswith('zh') else e.en}")
    except ValueError as e:
        messages.error(request, str(e))
    return redirect("compliance:obligation", obligation_id=ob.pk)


def _yuan_to_fen(text: str) -> int:
    """Yuan as typed ("25000" or "25,000.50") → fen (int, exact); ValueError for sub-fen digits or text."""
    from cets.core.quantities import yuan_to_fen

    return yuan_to_fen(text.replace(",", "").strip())
