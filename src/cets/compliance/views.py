"""Compliance pages. Every page checks role and jurisdiction through the selectors and
:mod:`cets.parties.access` (out of scope → 404); the public pages show only what is published."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from cets.core.errors import CetsError
from cets.core.labels import say
from cets.core.quantities import is_digits
from cets.parties.access import require_second_factor

from . import documents, selectors


def penalties_public(request):
    """Published penalty decisions for failing to surrender (处罚信息公开, notice 国环规气候〔2024〕1号 §三(四)):
    public, no login. Paginated (:data:`PENALTIES_PER_PAGE` a page, ``?page=N``; a page that is not a number or out
    of range shows the first or the last page), never capped."""
    from django.core.paginator import Paginator

    page = Paginator(selectors.penalties_published(), PENALTIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "compliance/penalties_public.html", {"decisions": page, "page": page})


PENALTIES_PER_PAGE = 100


@login_required
def overview(request, year: int):
    """Obligations of ``year`` in the user's scope with status, notice and certificate (PDF links),
    paginated (100 a page) and filtered by status; the registry operator issues the notices from here.
    ``format=xlsx`` exports every row of the same filtered list (S0501 past the export's bound)."""
    from django.core.paginator import Paginator
    from django.utils.translation import gettext as _

    from cets.core.exports import wants_xlsx, xlsx_or_refusal
    from cets.parties.access import membership_of, viewer_of
    from cets.parties.models import Role

    from .status import LABELS as OUTCOMES

    status = request.GET.get("status", "")
    status = status if status in OUTCOMES else ""
    obs = selectors.obligations_visible(user=request.user, year=year)
    if status:
        st_all = selectors.statuses(year=year, entity_qs=list(obs.values_list("entity_id", flat=True)), market=None)
        obs = obs.filter(entity_id__in=[e for e, s in st_all.items() if s.status == status])
    if wants_xlsx(request.GET):
        zh = request.LANGUAGE_CODE.startswith("zh")
        every = selectors.statuses(year=year, entity_qs=list(obs.values_list("entity_id", flat=True)), market=None)
        resp = xlsx_or_refusal(request, filename=f"obligations-{year}", columns=[
            _("Entity"), _("Credit code"), _("Surrender obligation"), _("Surrendered"), _("Outstanding"), _("Deadline"), _("Status"),
            _("Compliance notice"), _("Compliance certificate")], rows=(
            [o.entity.name, o.entity.uscc, o.obligation_t, getattr(every.get(o.entity_id), "surrendered_t", None),
             getattr(every.get(o.entity_id), "outstanding_t", None), o.deadline.isoformat() if o.deadline else "",
             OUTCOMES.get(getattr(every.get(o.entity_id), "status", ""), ("", ""))[0 if zh else 1],
             getattr(getattr(o, "notice", None), "number", ""), getattr(getattr(o, "certificate", None), "number", "")] for o in obs))
        if resp is not None:
            return resp
    page = Paginator(obs, 100).get_page(request.GET.get("page"))
    ids = [o.entity_id for o in page.object_list]
    st = selectors.statuses(year=year, entity_qs=ids, market=None) if ids else {}
    rows = [(o, st.get(o.entity_id), getattr(o, "notice", None), getattr(o, "certificate", None)) for o in page.object_list]
    m = membership_of(request.user)
    return render(request, "compliance/overview.html", {"year": year, "rows": rows, "today": timezone.localdate(), "page": page,
                                                        "status": status, "outcomes": OUTCOMES, "query": f"status={status}&" if status else "",
                                                        "viewer": viewer_of(request.user),
                                                        "registry": m is not None and m.role == Role.REGISTRY_OPERATOR,
                                                        "province": m.province if m and m.province else "",
                                                        "authority": selectors.authority_scope(request.user) is not None})


@login_required
def notice_page(request, notice_id: int):
    n = selectors.notice_for(user=request.user, notice_id=notice_id)
    if n is None:
        raise Http404
    from cets.parties.access import membership_of, viewer_of, within
    from cets.parties.models import Role

    from .models import ComplianceNotice

    m = membership_of(request.user)
    entity = n.obligation.entity
    may_forward = (m is not None and m.role == Role.PROVINCIAL_AUTHORITY and within(m, province=entity.province) and n.forwarded_at is None
                   and n.delivered_to == ComplianceNotice.DeliveredTo.PROVINCE)
    certificate = getattr(n.obligation, "certificate", None)
    may_certify = (certificate is None and m is not None and m.role == Role.REGISTRY_OPERATOR
                   and selectors.status_of(obligation=n.obligation).outstanding_t == 0)
    return render(request, "compliance/notice.html", {"n": n, "rules": documents.offset_rules(n), "viewer": viewer_of(request.user),
                                                      "may_forward": may_forward, "certificate": certificate, "may_certify": may_certify})


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


def monitoring(request, year: int):
    """The compliance risk index moved to supervision (``/supervision/risk/?year=<year>``): a permanent redirect, the query kept."""
    from django.http import HttpResponsePermanentRedirect
    from django.urls import reverse

    q = request.GET.copy()
    q["year"] = str(year)
    return HttpResponsePermanentRedirect(f"{reverse('supervision:risk')}?{q.urlencode()}")


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
        error = say(request, e)
    order = getattr(ob, "rectification", None)  # reverse one-to-one: None when absent
    decision = getattr(ob, "penalty", None)
    deduction = AllocationAdjustment.objects.filter(source=f"compliance.rectification:{order.pk}").first() if order else None
    return render(request, "compliance/obligation.html", {"ob": ob, "status": status, "basis": basis, "basis_error": error, "order": order,
                                                          "decision": decision, "deduction": deduction, "pack": pack,
                                                          "deadline": selectors.deadline_of(obligation=ob), "today": timezone.localdate(),
                                                          "rectify_by": selectors.rectification_deadline_of(obligation=ob)})


def _form_errors(request, form) -> None:
    from django.contrib import messages

    for field, errs in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for err in errs:
            messages.error(request, f"{label}: {err}" if label else err)


@login_required
def obligation_action(request, obligation_id: int, action: str):
    """POST: ``rectify`` (reference, a deadline only if the pack has none), ``fine`` (reference, reason,
    multiple or amount in yuan), ``publish``, ``deduct``. Input is validated by the forms (never a 500); the
    rectification deadline is never silently replaced: a date other than the pack's, or a deadline that is
    not after today, is refused here. The services check role and jurisdiction and refuse with their codes."""
    from django.contrib import messages
    from django.shortcuts import redirect
    from django.utils.translation import gettext as _

    from . import services
    from .forms import FineForm, RectifyForm

    if request.method != "POST":
        raise Http404
    ob = _obligation_in_scope(request.user, obligation_id)
    if ob is None:
        raise Http404
    user = request.user
    try:
        if action == "rectify":
            form = RectifyForm(request.POST)
            if not form.is_valid():
                _form_errors(request, form)
                return redirect("compliance:obligation", obligation_id=ob.pk)
            entered = form.cleaned_data["deadline"]
            fixed = selectors.rectification_deadline_of(obligation=ob)
            today = timezone.localdate()
            if fixed is not None and entered is not None and entered != fixed:
                messages.error(request, _("The rule pack sets the rectification deadline %(d)s; another date cannot be used.") % {"d": fixed})
                return redirect("compliance:obligation", obligation_id=ob.pk)
            deadline = fixed or entered
            if deadline is not None and deadline <= today:
                messages.error(request, _("The rectification deadline %(d)s is not after today (%(today)s): no order is issued with a past deadline.")
                               % {"d": deadline, "today": today})
                return redirect("compliance:obligation", obligation_id=ob.pk)
            services.rectification_order_issue(obligation_id=ob.pk, reference=form.cleaned_data["reference"], actor=user, deadline=entered)
            messages.success(request, _("Rectification order issued."))
        elif action == "fine":
            form = FineForm(request.POST)
            if not form.is_valid():
                _form_errors(request, form)
                return redirect("compliance:obligation", obligation_id=ob.pk)
            d = form.cleaned_data
            services.penalty_decide(obligation_id=ob.pk, reference=d["reference"], reason=d["reason"], actor=user, multiple=d["multiple"],
                                    amount_fen=d["amount_yuan"])
            messages.success(request, _("Penalty decided."))
        elif action == "publish" and getattr(ob, "penalty", None) is not None:
            services.penalty_publish(decision_id=ob.penalty.pk, actor=user)
            messages.success(request, _("Penalty decision published."))
        elif action == "deduct":
            services.arrears_deduction_decide(obligation_id=ob.pk, actor=user)
            messages.success(request, _("Deduction decided."))
        else:
            raise Http404
    except CetsError as e:
        messages.error(request, say(request, e))
    return redirect("compliance:obligation", obligation_id=ob.pk)


# --- surrender decisions (the province) --------------------------------------------------------------


def _int_or_none(raw: str, lo: int, hi: int) -> int | None:
    return int(raw) if is_digits(raw) and lo <= int(raw) <= hi else None


@login_required
def surrenders(request):
    """Surrender applications in the user's scope, paginated, filtered by year and status (default: those
    waiting for a decision); the entity's provincial authority approves or returns each one. ``format=xlsx``
    exports every row of the same filtered list (S0501 past the export's bound)."""
    from django.core.paginator import Paginator
    from django.utils.http import urlencode
    from django.utils.translation import gettext as _

    from cets.core.exports import local_minute, wants_xlsx, xlsx_or_refusal
    from cets.core.labels import choice_label
    from cets.parties.access import membership_of, viewer_of
    from cets.parties.models import Role

    from .models import SurrenderApplication

    if request.method != "GET":
        raise Http404
    year = _int_or_none(request.GET.get("year", ""), 2005, 2100)
    status = request.GET.get("status", "submitted")
    status = status if status in SurrenderApplication.Status.values else ""
    qs = selectors.surrenders_visible(user=request.user, year=year, status=status)
    if qs is None:
        raise Http404
    if wants_xlsx(request.GET):
        resp = xlsx_or_refusal(request, filename="surrender-applications", columns=[
            "#", _("Year"), _("Entity"), _("Credit code"), _("Unit type"), _("Quantity (t)"), _("Submitted"), _("Status"), _("Decided")], rows=(
            [a.pk, a.obligation.year, a.obligation.entity.name, a.obligation.entity.uscc, a.unit_type.code, a.quantity, local_minute(a.submitted_at),
             choice_label(a.get_status_display()), local_minute(a.decided_at)] for a in qs.select_related("obligation__entity", "unit_type")))
        if resp is not None:
            return resp
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    m = membership_of(request.user)
    q = urlencode({k: v for k, v in {"year": year or "", "status": status}.items() if v})
    return render(request, "compliance/surrenders.html", {
        "viewer": viewer_of(request.user), "page": page, "year": year, "status": status, "query": q + "&" if q else "",
        "statuses": SurrenderApplication.Status.choices, "decides": m is not None and m.role == Role.PROVINCIAL_AUTHORITY})


@login_required
def surrender_decide(request, application_id: int, action: str):
    """POST approve / reject: ``services.surrender_approve`` / ``surrender_reject`` (role, jurisdiction and
    status checked there: R0502, R0605)."""
    from django.contrib import messages
    from django.shortcuts import redirect
    from django.utils.translation import gettext as _

    from . import services

    if request.method != "POST" or action not in ("approve", "reject"):
        raise Http404
    try:
        require_second_factor(request.user)
        if action == "approve":
            app = services.surrender_approve(application_id=application_id, approver=request.user)
            messages.success(request, _("Surrender of %(q)s t approved.") % {"q": f"{app.quantity:,}"})
        else:
            app = services.surrender_reject(application_id=application_id, approver=request.user)
            messages.success(request, _("Surrender of %(q)s t returned to the entity.") % {"q": f"{app.quantity:,}"})
    except CetsError as e:
        messages.error(request, say(request, e))
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/compliance/surrenders/") else "compliance:surrenders")


@login_required
def notices_issue(request, year: int):
    """POST: the registry operator issues the compliance notices of ``year`` (``services.compliance_notices_issue``:
    R0502 for anyone else; one notice per obligation whose final allocation is issued; idempotent)."""
    from django.contrib import messages
    from django.shortcuts import redirect
    from django.utils.translation import gettext as _

    from . import services

    if request.method != "POST" or not 2005 <= year <= 2100:
        raise Http404
    try:
        n = services.compliance_notices_issue(year=year, actor=request.user)
    except CetsError as e:
        messages.error(request, say(request, e))
    else:
        messages.success(request, _("%(n)s compliance notices issued.") % {"n": n})
    return redirect("compliance:overview", year=year)


@login_required
def notice_forward(request, notice_id: int):
    """POST: the entity's provincial authority forwards a notice delivered to the province to the entity
    (``services.compliance_notice_forward``: L0201 without a verified session, R0502 another province or role, C0902 a
    notice delivered to the entity directly; idempotent). A notice the user may not read is a 404."""
    from django.shortcuts import redirect
    from django.utils.translation import gettext as _

    from cets.parties.security import run

    from . import services

    if request.method != "POST":
        raise Http404
    n = selectors.notice_for(user=request.user, notice_id=notice_id)
    if n is None:
        raise Http404

    def forward():
        require_second_factor(request.user)
        return services.compliance_notice_forward(notice_id=n.pk, actor=request.user)

    run(request, forward, lambda n: _("Compliance notice %(number)s forwarded to the entity on %(date)s.") % {
        "number": n.number, "date": f"{timezone.localtime(n.forwarded_at):%Y-%m-%d}"})
    return redirect("compliance:notice", notice_id=notice_id)


@login_required
def certificate_issue(request, obligation_id: int):
    """POST: the registry operator issues the compliance certificate (履约完成证明) of an obligation surrendered in
    full (``services.compliance_certificate_issue``: L0201 without a verified session, R0502 anyone else, R0606 no
    obligation, C0901 still outstanding; idempotent). Back to the year's compliance overview."""
    from django.shortcuts import redirect
    from django.utils.translation import gettext as _

    from cets.parties.access import membership_of
    from cets.parties.models import Role
    from cets.parties.security import run

    from . import services
    from .models import Obligation

    if request.method != "POST":
        raise Http404
    m = membership_of(request.user)
    ob = Obligation.objects.filter(pk=obligation_id).only("year").first() if obligation_id <= 2**62 else None
    if ob is None or m is None or m.role != Role.REGISTRY_OPERATOR:  # out of scope: 404, as every compliance page
        raise Http404

    def issue():
        require_second_factor(request.user)
        return services.compliance_certificate_issue(obligation_id=ob.pk, actor=request.user)

    run(request, issue, lambda c: _("Compliance certificate %(number)s issued.") % {"number": c.number})
    return redirect("compliance:overview", year=ob.year)


def _yuan_to_fen(text: str) -> int:
    """Yuan as typed ("25000" or "25,000.50") → fen (int, exact); ValueError for sub-fen digits or text."""
    from cets.core.quantities import yuan_to_fen

    return yuan_to_fen(text.replace(",", "").strip())


_YUAN = __import__("re").compile(r"^[0-9]{1,9}(\.[0-9]{1,2})?$")


def _reporting_post(request, market: str, year: int) -> str:
    import datetime as dt

    from django.utils.translation import gettext as _

    from .checks import C1204, C1207
    from .services.reporting import reporting_fine_decide, reporting_missing, reporting_order

    require_second_factor(request.user)
    missing = reporting_missing(user=request.user, market=market, year=year)
    if "order" in request.POST:
        raw, duty = request.POST.get("entity", ""), request.POST.get("duty", "")[:40]
        target = next((m for m in missing if str(m.entity.pk) == raw and m.duty == duty), None)
        if target is None:
            raise Http404
        try:
            correct_by = dt.date.fromisoformat(request.POST.get("correct_by", "")[:10])
        except ValueError:
            raise CetsError(C1204, "date") from None
        reporting_order(entity_id=target.entity.pk, market=market, year=year, duty=duty, correct_by=correct_by,
                        reference=request.POST.get("reference", "")[:120], actor=request.user)
        return _("Order to correct issued.")
    raw = request.POST.get("enforcement", "")
    ids = {m.enforcement.pk for m in missing if m.enforcement is not None}
    if "fine" not in request.POST or not is_digits(raw) or int(raw) not in ids:
        raise Http404
    yuan = request.POST.get("fine_cny", "").strip()
    if not _YUAN.match(yuan):
        raise CetsError(C1207, yuan[:20])
    whole, _dot, cents = yuan.partition(".")
    fen = int(whole) * 100 + int((cents + "00")[:2])
    reporting_fine_decide(enforcement_id=int(raw), fine_fen=fen, reference=request.POST.get("reference", "")[:120], actor=request.user)
    return _("Fine decided.")


@login_required
def reporting(request):
    """Units that did not report (京环发〔2024〕8号 五(二)): the reports of a market's year not filed by their due date
    in the authority's jurisdiction, with the order to correct within a deadline and, after it, the fine within the
    pack's range (CNY, to the fen). Key emitting and general reporting units alike. Others get 404."""
    from django.contrib import messages
    from django.shortcuts import redirect

    from cets.parties.access import viewer_of
    from cets.parties.models import Role
    from cets.rules.markets import PRIMARY_MARKET, market_ids, markets

    from .services.reporting import _pack, reporting_missing

    v = viewer_of(request.user)
    if v.role not in (Role.PROVINCIAL_AUTHORITY, Role.DISTRICT_AUTHORITY, Role.NATIONAL_AUTHORITY):
        raise Http404
    src = request.POST if request.method == "POST" else request.GET
    market = src.get("market") or next((m.id for m in markets() if m.pilot), PRIMARY_MARKET)  # the pilots fine non-reporting
    raw = src.get("year", "")
    year = int(raw) if is_digits(raw) and 2005 <= int(raw) <= 2100 else timezone.localdate().year - 1
    if market not in market_ids():
        raise Http404
    if request.method == "POST":
        try:
            messages.success(request, _reporting_post(request, market, year))
        except CetsError as e:
            messages.error(request, say(request, e))
        return redirect(f"{request.path}?market={market}&year={year}")
    pack = _pack(market, year)
    rows = reporting_missing(user=request.user, market=market, year=year)
    return render(request, "compliance/reporting.html", {"viewer": v, "market": market, "year": year, "rows": rows, "pack": pack,
                                                         "max_fine_cny": int(pack.decimal("reporting_penalty.max_fine_fen")) // 100 if pack else None,
                                                         "today": timezone.localdate()})
