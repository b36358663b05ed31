"""MRV pages. Thin: parse the request, call a selector (or, for a POST, a service), render."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST, require_safe

from cets.core.errors import CetsError
from cets.core.labels import say
from cets.core.quantities import is_digits
from cets.parties.access import viewer_of
from cets.rules.markets import PRIMARY_MARKET

from . import selectors, services
from .forms import ResolveForm
from .models import VerificationRecord


@require_safe
@login_required
def blocked_cases(request):
    """不符合 verification conclusions in the viewer's jurisdiction (blocked until resolved)."""
    raw = request.GET.get("year", "")
    year = int(raw) if is_digits(raw) and 2005 <= int(raw) <= 2100 else None
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
            messages.error(request, say(request, e))
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
    year = int(raw) if is_digits(raw) and 2005 <= int(raw) <= 2100 else today.year - 1
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


# -- the year's duties of steel, cement and aluminium facilities ------------------------------------------------

FACILITY_LINE_FIELDS = ("source", "part", "material", "quantity", "ncv", "carbon_content", "oxidation_rate", "measured_value")
FACILITY_NUMBER_FIELDS = ("quantity", "ncv", "carbon_content", "oxidation_rate", "measured_value")
FACILITY_BLANK_LINES = 6
FACILITY_MAX_LINES = 200  # rows of one form read at most
DUTY_LABELS = {"dq_plan": "数据质量控制方案 data-quality plan", "monthly_filing": "月度存证 monthly filing",
               "annual_report": "年度排放报告 annual report", "verification": "核查 verification"}


def _zh(request) -> bool:
    return (getattr(request, "LANGUAGE_CODE", "") or "zh").startswith("zh")


def _refusal(request, e: CetsError) -> str:
    return f"{e.code} {e.zh if _zh(request) else e.en}"


def _year(request, default: int) -> int:
    raw = request.GET.get("year", "") or request.POST.get("year", "")
    return int(raw) if is_digits(raw) and 2005 <= int(raw) <= 2100 else default


def _market(request, user, year: int) -> str:
    """The market of the facility pages: ``?market=`` (or the form's) if it is a market, else the first market whose
    list names the user's entity for ``year`` with a facility sector (:func:`selectors.facility_markets`), else the
    primary market."""
    from cets.rules.markets import market_ids

    raw = request.GET.get("market", "") or request.POST.get("market", "")
    if raw in market_ids():
        return raw
    found = selectors.facility_markets(user=user, year=year)
    return found[0] if found else PRIMARY_MARKET


#: Labels of the annual report's per-facility figures (``details`` of :class:`cets.mrv.accounting_industry.FacilityYear`)
#: shown on the facility page; a figure without a label is shown by its key.
DETAIL_LABELS = {
    "e_fuel_t": _lazy("Fossil fuel combustion (t CO2)"),
    "e_electricity_t": _lazy("Purchased electricity, net of green electricity (t CO2)"),
    "e_heat_t": _lazy("Purchased heat (t CO2)"),
    "e_carbonate_t": _lazy("Clinker carbonate decomposition (t CO2)"),
    "e_raw_meal_carbon_t": _lazy("Raw-meal non-fuel carbon (t CO2)"),
    "electricity_mwh": _lazy("Purchased electricity (MWh)"),
    "green_electricity_mwh": _lazy("Green electricity counted as zero (MWh)"),
    "heat_gj": _lazy("Purchased heat (GJ)"),
}


def _day(text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


_NUMBER = re.compile(r"^\d+(\.\d+)?$")


def _rows_of(post) -> int:
    raw = str(post.get("rows", "0"))
    return min(int(raw), FACILITY_MAX_LINES) if is_digits(raw) and len(raw) < 6 else 0


def parse_facility_lines(post) -> tuple[list, list]:
    """The monthly filing form's rows → (``LineIn`` list, problems). A row with every cell blank is skipped; a number that
    is not a plain decimal (digits, one point; no sign, exponent or separator) is M0407 (no coercion)."""
    from decimal import Decimal

    from cets.core.errors import InputProblem

    from .checks import M0407
    from .facility_services import LineIn

    lines, problems = [], []
    n = 0
    for i in range(_rows_of(post)):
        cells = {f: (post.get(f"{f}-{i}", "") or "").strip() for f in FACILITY_LINE_FIELDS}
        if not any(cells.values()):
            continue
        n += 1
        nums = {}
        for f in FACILITY_NUMBER_FIELDS:
            v = cells[f]
            if v and not _NUMBER.match(v):
                problems.append(InputProblem("form", n, f, v, f"{M0407.code} {M0407.zh}", f"{M0407.code} {M0407.en}"))
            nums[f] = Decimal(v) if v and _NUMBER.match(v) else None
        lines.append(LineIn(source=cells["source"], part=cells["part"], material=cells["material"], **nums))
    return lines, problems


@require_safe
@login_required
def facilities(request):
    """The entity's facilities of the year: plan versions and a new version, the twelve months, the annual report."""
    from django.utils import timezone

    year = _year(request, timezone.localdate().year - 1)
    market = _market(request, request.user, year)
    try:
        duties = selectors.facility_duties(user=request.user, year=year, market=market)
    except CetsError:
        raise Http404 from None
    lines = {s: [{"facility_id": f["facility_id"], "lines": [(DETAIL_LABELS.get(k, k), v) for k, v in (f.get("details") or {}).items()]}
                 for f in r.facilities] for s, r in duties["reports"].items()}
    return render(request, "mrv/facilities.html", {"viewer": viewer_of(request.user), "year": year, "d": duties, "market": market,
                                                   "report_lines": lines, "years": list(range(2023, timezone.localdate().year + 2))})


@login_required
def facility_month(request, facility_id: int, year: int, month: int):
    """The monthly filing form of one facility (GET shows the filed lines; POST files them: M04xx, M0104–M0109)."""
    import datetime as dt

    from django.utils import timezone

    from cets.core.errors import InputError
    from cets.parties.models import Facility

    from .accounting_industry import SOURCES
    from .facility_services import facility_month_file, industry_rules
    from .models import FacilityMonthlyFiling

    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    fac = Facility.objects.filter(pk=facility_id, entity__members__user=request.user).first() if request.user.is_authenticated else None
    if fac is None or not 1 <= month <= 12 or not 2005 <= year <= 2100:
        raise Http404
    market = _market(request, request.user, year)
    try:
        rules = industry_rules(market=market, sector=fac.sector, year=year)[0]
    except CetsError:
        raise Http404 from None
    problems = []
    filing = FacilityMonthlyFiling.objects.filter(facility=fac, year=year, month=month, market=market).prefetch_related("lines").first()
    rows = [{f: ("" if getattr(ln, f) is None else getattr(ln, f)) for f in FACILITY_LINE_FIELDS} for ln in filing.lines.all()] if filing else []
    if request.method == "POST":
        lines, problems = parse_facility_lines(request.POST)
        rows = [{f: request.POST.get(f"{f}-{i}", "") for f in FACILITY_LINE_FIELDS} for i in range(_rows_of(request.POST))]
        rows = [r for r in rows if any(v.strip() for v in r.values())]
        if not problems:
            try:
                facility_month_file(facility=fac, year=year, month=month, lines=lines, actor=request.user, on=timezone.localdate(), market=market)
            except InputError as e:
                problems = e.problems
            except CetsError as e:
                messages.error(request, _refusal(request, e))
            else:
                messages.success(request, _("Month filed."))
                return redirect(f"{reverse('mrv:facilities')}?year={year}&market={market}")
    rows += [dict.fromkeys(FACILITY_LINE_FIELDS, "") for _ in range(FACILITY_BLANK_LINES)]
    zh = _zh(request)
    shown = [{"row": p.row, "field": p.field, "value": p.value, "reason": p.zh if zh else p.en} for p in problems]
    return render(request, "mrv/facility_month.html", {
        "viewer": viewer_of(request.user), "facility": fac, "year": year, "month": month, "filing": filing, "rows": rows,
        "sources": SOURCES[rules.sector], "problems": shown, "processes": list(rules.processes), "first_day": dt.date(year, month, 1),
        "market": market})


@require_POST
@login_required
def facility_action(request, name: str):
    """The POSTs of the facility pages: ``plan`` (entity), ``report`` / ``sign`` (entity), ``verify`` (verification body),
    ``plan_review`` / ``month_review`` / ``handover`` (province). Refusals are shown with their code; unknown ids 404."""
    from django.utils import timezone

    from cets.parties.models import Facility

    from . import facility_services as fs
    from .models import AnnualReport, DataQualityPlan, FacilityMonthlyFiling, VerificationAssignment

    p = request.POST
    year = _year(request, timezone.localdate().year - 1)
    market = _market(request, request.user, year)
    today = timezone.localdate()
    back = {"plan": "mrv:facilities", "report": "mrv:facilities", "sign": "mrv:facilities", "verify": "mrv:facility_verify",
            "plan_review": "mrv:facility_review", "month_review": "mrv:facility_review", "handover": "mrv:facility_review"}
    if name not in back:
        raise Http404

    def pk(key):
        raw = p.get(key, "")
        if not is_digits(raw) or len(raw) > 12:
            raise Http404
        return int(raw)

    try:
        if name == "plan":
            fac = Facility.objects.filter(pk=pk("facility_id")).first() or _404()
            fs.facility_plan_submit(facility=fac, year=year, summary=p.get("summary", "")[:5000], actor=request.user, on=today, market=market)
        elif name == "report":
            from cets.parties.access import membership_of

            m = membership_of(request.user)
            if m is None:
                raise Http404
            fs.facility_annual_report_generate(entity=m.organisation, year=year, actor=request.user, sector=p.get("sector", "") or None, market=market)
        elif name == "sign":
            rep = AnnualReport.objects.filter(pk=pk("report_id")).first() or _404()
            services.annual_report_sign(report_id=rep.pk, actor=request.user, on=today)
        elif name == "verify":
            a = VerificationAssignment.objects.filter(pk=pk("assignment_id")).first() or _404()
            figures, bad = [], False
            for code in p.getlist("facility"):
                vals = [p.get(f"{k}-{code}", "").strip() for k in ("emissions", "intensity", "output")]
                if not all(is_digits(v) for v in vals):
                    bad = True
                    continue
                figures.append(fs.FacilityFigures(code, *(int(v) for v in vals)))
            if bad:
                from .checks import V0402

                raise CetsError(V0402, "")
            fs.facility_verification_record(assignment_id=a.pk, actor=request.user, figures=figures, conforming=p.get("conforming") == "1",
                                            completed_on=_day(p.get("completed_on", "")) or today)
        elif name == "plan_review":
            plan = DataQualityPlan.objects.filter(pk=pk("plan_id"), facility__isnull=False).first() or _404()
            services.dq_plan_review(plan_id=plan.pk, actor=request.user, approve=p.get("approve") == "1", comment=p.get("comment", "")[:2000], on=today)
        elif name == "month_review":
            f = FacilityMonthlyFiling.objects.filter(pk=pk("filing_id")).first() or _404()
            fs.facility_month_review(filing_id=f.pk, actor=request.user, accept=p.get("accept") == "1", comment=p.get("comment", ""), on=today)
        elif name == "handover":
            a = VerificationAssignment.objects.filter(pk=pk("assignment_id")).first() or _404()
            n = fs.facility_year_data_from_verification(assignment_id=a.pk, actor=request.user)
            messages.success(request, _("%(n)s facilities' verified figures handed to allocation.") % {"n": n})
    except CetsError as e:
        messages.error(request, _refusal(request, e))
    else:
        if name != "handover":
            messages.success(request, _("Saved."))
    return redirect(f"{reverse(back[name])}?year={year}&market={market}")


def _404():
    raise Http404


@require_safe
@login_required
def facility_verify(request):
    """The verification body's facility verifications: per facility, verified emissions, intensity emissions, output."""
    from django.utils import timezone

    try:
        rows = selectors.verifier_facility_assignments(user=request.user)
    except CetsError:
        raise Http404 from None
    return render(request, "mrv/facility_verify.html", {"viewer": viewer_of(request.user), "rows": rows, "today": timezone.localdate()})


@require_safe
@login_required
def facility_review(request):
    """The authority's page for facility duties of a market (``?market=``, default the first market with listed facility
    entities in the user's jurisdiction, :func:`selectors.facility_review_markets`): plans and months to review (a Beijing
    district bureau checks its units' months), verifications to hand over, overdue list."""
    from django.utils import timezone

    from cets.rules.markets import market_ids

    today = timezone.localdate()
    year = _year(request, today.year - 1)
    try:
        markets = selectors.facility_review_markets(user=request.user, year=year)
        raw = request.GET.get("market", "")
        market = raw if raw in market_ids() else (markets[0] if markets else PRIMARY_MARKET)
        r = selectors.facility_review(user=request.user, year=year, today=today, market=market)
    except CetsError:
        raise Http404 from None
    overdue = [{**o, "label": DUTY_LABELS[o["duty"]]} for o in r["overdue"]]
    page = Paginator(overdue, 200).get_page(request.GET.get("page", 1))
    return render(request, "mrv/facility_review.html", {"viewer": viewer_of(request.user), "year": year, "r": r, "page": page, "today": today,
                                                        "market": market, "markets": sorted(set(markets) | {market, PRIMARY_MARKET}),
                                                        "years": list(range(2023, today.year + 2)), "query": f"year={year}&market={market}&"})


# -- general reporting units (一般报告单位, 京环发〔2024〕8号 三(一)2) ---------------------------------------------

_TONNES = re.compile(r"^[0-9]{1,15}$")


@login_required
def general_report(request):
    """The general reporting unit's page: each year it is on a list as a general reporting unit, its report (status,
    due date, the district's comment) and the form to file it (whole tonnes CO2e and an evidence file)."""
    from .general_reports import general_duties_of, general_report_submit

    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method == "POST":
        from .checks import M0502, M0503

        market, raw_year, raw_t = request.POST.get("market", ""), request.POST.get("year", ""), request.POST.get("emissions_t", "").strip()
        duties = {(m, y) for m, y, _r in general_duties_of(user=request.user)}
        year = int(raw_year) if is_digits(raw_year) and len(raw_year) == 4 else 0
        upload = request.FILES.get("evidence")
        try:
            if not _TONNES.match(raw_t):
                raise CetsError(M0502, raw_t[:40])
            if upload is None or upload.size > 5 * 1024 * 1024:
                raise CetsError(M0503, "")
            if (market, year) not in duties:
                from .checks import M0501

                raise CetsError(M0501, f"{market} {year}")
            membership = request.user.membership
            general_report_submit(entity=membership.organisation, market=market, year=year, emissions_t=int(raw_t), evidence_name=upload.name or "",
                                  evidence=upload.read(), actor=request.user)
        except CetsError as e:
            messages.error(request, _refusal(request, e))
        else:
            messages.success(request, _("Report filed."))
        return redirect("mrv:general_report")
    return render(request, "mrv/general_report.html", {"viewer": viewer_of(request.user), "duties": general_duties_of(user=request.user)})


@login_required
def general_check(request):
    """The district bureau's list of its district's general reporting units' reports (only units whose GB/T 2260
    ``region_code`` is its district) with accept / return (comment) for those awaiting the check."""
    from .general_reports import general_report_check, general_reports_for

    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method == "POST":
        raw = request.POST.get("report_id", "")
        try:
            if not is_digits(raw) or len(raw) > 12:
                from .checks import M0505

                raise CetsError(M0505, raw[:20])
            general_report_check(report_id=int(raw), accept="accept" in request.POST, comment=request.POST.get("comment", "")[:500], actor=request.user)
        except CetsError as e:
            messages.error(request, _refusal(request, e))
        else:
            messages.success(request, _("Check recorded."))
        return redirect("mrv:general_check")
    from django.utils import timezone

    reports = list(general_reports_for(user=request.user))
    return render(request, "mrv/general_check.html", {"viewer": viewer_of(request.user), "reports": reports, "today": timezone.localdate()})


# -- Beijing carbon inclusion (碳普惠, PCER; 京环发〔2024〕8号 三(三)) -----------------------------------------------

_WHOLE = re.compile(r"^[0-9]{1,15}$")
_PCER_ACTIONS = ("register", "approve", "submit", "confirm", "issue")


def _pcer_post(request) -> str:
    """Parse one PCER form and call its service; returns the success message (CetsError on refusal)."""
    import datetime as dt

    from cets.rules.packs import load_pack

    from .checks import P0102, P0205
    from .pcer import fields
    from .pcer_services import PACK, pcer_issuance_propose, pcer_period_confirm, pcer_period_submit, pcer_project_approve, pcer_project_register

    action = next((a for a in _PCER_ACTIONS if a in request.POST), "")
    raw_id = request.POST.get("id", "")
    ident = int(raw_id) if is_digits(raw_id) and len(raw_id) <= 12 else 0
    visible = selectors.pcer_projects_visible(user=request.user)
    if action == "register":
        m = request.user.membership if hasattr(request.user, "membership") else None
        if m is None:
            from cets.parties.checks import DENIED

            raise CetsError(DENIED, "no membership")
        pcer_project_register(owner=m.organisation, name=request.POST.get("name", "")[:200], methodology=request.POST.get("methodology", "")[:40],
                              location=request.POST.get("location", "")[:200], actor=request.user)
        return _("Project registered; it waits for the bureau's approval.")
    if action in ("approve", "submit"):
        project = visible.filter(pk=ident).first()
        if project is None:
            raise Http404
        if action == "approve":
            pcer_project_approve(project_id=project.pk, actor=request.user)
            return _("Project approved.")
        try:
            start, end = dt.date.fromisoformat(request.POST.get("start", "")[:10]), dt.date.fromisoformat(request.POST.get("end", "")[:10])
        except ValueError:
            raise CetsError(P0205, "dates") from None
        activity = {}
        for f in fields(load_pack(PACK), project.methodology):
            raw = request.POST.get(f"a_{f}", "").strip()
            if not _WHOLE.match(raw):
                raise CetsError(P0102, f"{f}={raw[:20]}")
            activity[f] = int(raw)
        q = pcer_period_submit(project_id=project.pk, start=start, end=end, activity=activity, actor=request.user)
        return _("Monitoring period submitted: %(t)s t CO2e reduction.") % {"t": q.reduction_t}
    from .models import PcerPeriod

    period = PcerPeriod.objects.filter(project__in=visible, pk=ident).first()
    if period is None or action not in ("confirm", "issue"):
        raise Http404
    if action == "confirm":
        pcer_period_confirm(period_id=period.pk, actor=request.user)
        return _("Reduction confirmed; the registry issues it by four eyes.")
    p = pcer_issuance_propose(period_id=period.pk, actor=request.user)
    return _("Proposed for a second registry operator's approval: %(kind)s.") % {"kind": p.kind}


@login_required
def pcer(request):
    """Beijing carbon-inclusion projects and monitoring periods, by role: the owner registers a project and submits
    periods (the calculator's lines shown with the pack's formula and factors); the Beijing bureau approves projects
    and confirms periods; a registry operator proposes the four-eyes steps of the issuance (creation, then issuance to
    the owner), approved by a second operator on the registry page. Refusals are the services' checks."""
    from cets.rules.packs import load_pack

    from .pcer import compute, fields
    from .pcer_services import PACK, bureau_province

    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method == "POST":
        try:
            messages.success(request, _pcer_post(request))
        except CetsError as e:
            messages.error(request, _refusal(request, e))
        return redirect("mrv:pcer")
    pack = load_pack(PACK)
    zh = _zh(request)
    names = {k: (v["name_zh"] if zh else v["name_en"]) for k, v in pack.data["pcer"]["methodologies"].items()}
    projects = list(selectors.pcer_projects_visible(user=request.user))
    packs = {}
    for p in projects:
        p.methodology_name = names.get(p.methodology, p.methodology)
        p.fields = fields(pack, p.methodology) if p.methodology in names else ()
        p.period_list = sorted(p.periods.all(), key=lambda q: q.start)
        for q in p.period_list:
            if q.pack_id not in packs:
                packs[q.pack_id] = load_pack(q.pack_id)
            q.lines = compute(packs[q.pack_id], p.methodology, q.activity).lines
    v = viewer_of(request.user)
    ctx = {"viewer": v, "projects": projects, "methodologies": sorted(names.items()), "pack": pack,
           "owner": v.role in ("entity", "trader"), "bureau": v.role == "provincial_authority" and v.province == bureau_province(),
           "registry": v.role == "registry_operator"}
    return render(request, "mrv/pcer.html", ctx)
