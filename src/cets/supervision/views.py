"""Pages: the public portal (``/public/``, no login) and the authorities' supervision pages (``/supervision/``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cets.core.errors import CetsError
from cets.core.exports import wants_xlsx, xlsx_or_refusal
from cets.core.labels import say
from cets.core.quantities import is_digits
from cets.core.regions import PROVINCES
from cets.core.tables import safe_cell
from cets.parties.models import Organisation
from cets.rules.packs import PackError

from . import public, selectors, services
from .chart import bar_chart
from .models import BlacklistEntry, CreditRecord, FalseReportingFinding, NoticeDispatch

PAGE_SIZE = 50
RECEIPT = re.compile(r"JB-\d{4}-[A-Z0-9]{1,16}")


def _error(request, e: CetsError) -> None:
    messages.error(request, say(request, e))


# ---- public portal

@require_safe
def home(request):
    return render(request, "supervision/public_home.html", {"lists": public.LISTS.values()})


def _list(slug: str) -> public.PublicList:
    pl = public.LISTS.get(slug)
    if pl is None:
        raise Http404
    return pl


def _params(request, pl) -> dict:
    keys = ["q"] + [f for f, _label in pl.filters]
    return {k: request.GET.get(k, "").strip() for k in keys}


def _shown(key: str, value):
    """Tonnes (columns ``*_t``) with thousands separators; everything else as it is."""
    return f"{value:,}" if key.endswith("_t") and isinstance(value, int) else value


@require_safe
def table(request, slug: str):
    """One public list: searchable (``q`` and the list's filters), paginated (every row reachable), CSV."""
    pl = _list(slug)
    params = _params(request, pl)
    page = Paginator(pl.query(params), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for item in page.object_list:
        r = pl.row(item)
        rows.append({"cells": [(_shown(k, r.get(k, "")), r.get(pl.links[k]) if k in pl.links else None) for k, _l in pl.columns],
                     "key": pl.key(item) if pl.key else None})
    query = "&".join(f"{k}={v}" for k, v in params.items() if v)
    ctx = {"pl": pl, "page": page, "rows": rows, "params": params, "query": query,
           "filters": [(f, label, params.get(f, "")) for f, label in pl.filters]}
    if slug == "allocation":
        everything = [pl.row(x) for x in pl.query(params)]
        ctx["chart"] = bar_chart([(r["group"], r["allocation_t"], r["verified_t"]) for r in everything])
    return render(request, "supervision/public_table.html", ctx)


@require_safe
def table_csv(request, slug: str):
    """The whole list (every page) as CSV, UTF-8 with BOM, formula-safe cells."""
    pl = _list(slug)
    params = _params(request, pl)
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf)
    w.writerow([str(label) for _k, label in pl.columns])
    for item in pl.query(params):
        r = pl.row(item)
        w.writerow([safe_cell(str(r.get(k, ""))) if isinstance(r.get(k, ""), str) else r.get(k, "") for k, _l in pl.columns])
    resp = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="{slug}.csv"'
    return resp


@require_safe
def item(request, slug: str, key: str):
    pl = _list(slug)
    obj = pl.get(key) if pl.get else None
    if obj is None:
        raise Http404
    r = pl.row(obj)
    fields = [(label, _shown(k, r.get(k, ""))) for k, label in pl.columns]
    return render(request, "supervision/public_item.html", {"pl": pl, "fields": fields, "extra": r.get("_extra", []), "org": r.get("_org")})


@require_safe
def organisation(request, uscc: str):
    """A key emitting entity's or a verification body's public page: lists, verifications, surrender
    status (years past the deadline), evaluations, credit records, blacklist entries."""
    org = Organisation.objects.filter(uscc=uscc, kind__in=[Organisation.Kind.ENTITY, Organisation.Kind.VERIFIER]).first()
    if org is None:
        raise Http404
    from cets.mrv.models import VerificationRecord

    sections = []

    def section(slug, items):
        pl = public.LISTS[slug]
        rows = [pl.row(x) for x in items]
        if rows:
            sections.append({"pl": pl, "columns": pl.columns,
                             "rows": [{"cells": [r.get(k, "") for k, _l in pl.columns], "key": pl.key(x) if pl.key else None} for r, x in zip(rows, items)]})

    section("emitter-lists", list(public.parties.public_list_entries().filter(entity=org)))
    section("verifications", list(selectors.public_verifications().filter(entity=org)) + list(VerificationRecord.objects.filter(verifier=org)
                                                                                               .select_related("entity", "verifier")))
    section("surrender", [dict(r, year=y) for y in selectors.surrender_years() for r in selectors.public_surrender(year=y, entity_ids=[org.pk])])
    section("verifier-evaluations", list(selectors.public_evaluations().filter(body=org)))
    section("credit-records", list(selectors.public_credit_records().filter(subject=org)))
    section("blacklist", list(selectors.public_blacklist().filter(subject=org)))
    return render(request, "supervision/public_org.html", {"org": org, "province": public.province(org.province), "sections": sections})


@require_http_methods(["GET", "POST"])
def report_new(request):
    """File a report (举报, Measures Art. 40): no login, no CAPTCHA, limited per browser session."""
    form = {k: request.POST.get(k, "") for k in ("subject_name", "province", "city", "content", "reporter_name", "reporter_contact")}
    if request.method == "POST":
        try:
            r = services.report_file(session=request.session, **form)
        except CetsError as e:
            _error(request, e)
        else:
            messages.success(request, _("Your report was received. Keep the receipt number: it is the only way to read the feedback."))
            return redirect("supervision:report_status", receipt=r.receipt)
    days = services.report_handling_days(timezone.localdate().year)
    return render(request, "supervision/report_new.html", {"form": form, "provinces": sorted(PROVINCES.items()), "days": days})


@require_safe
def report_lookup(request):
    receipt = request.GET.get("receipt", "").strip().upper()
    if receipt:
        if not RECEIPT.fullmatch(receipt):
            raise Http404
        return redirect("supervision:report_status", receipt=receipt)
    return render(request, "supervision/report_lookup.html", {})


@require_safe
def report_status(request, receipt: str):
    """Status, handling deadline and feedback of a report; never the reporter or the content."""
    r = selectors.public_report_status(receipt=receipt)
    if r is None:
        raise Http404
    return render(request, "supervision/report_status.html", {"r": r, "status": public.choice(r.get_status_display()), "province": public.province(r.province)})


# ---- authorities

def _date(v: str) -> dt.date | None:
    return dt.date.fromisoformat(v) if v else None


def _org_by_code(uscc: str) -> Organisation:
    org = Organisation.objects.filter(uscc=uscc.strip()).first()
    if org is None:
        raise Http404
    return org


@login_required
def dashboard(request):
    """Supervision in the user's jurisdiction: credit records, the blacklist, joint notices, reports; a form for each action.
    ``format=xlsx&list=credit`` exports every credit record the user sees."""
    if not selectors.is_authority(request.user):
        raise Http404
    g = request.GET
    if wants_xlsx(g) and g.get("list") == "credit":
        resp = xlsx_or_refusal(request, filename="credit-records", columns=[
            _("Date"), _("Organisation name"), _("Credit code"), _("Kind"), _("Reason"), _("Source reference")], rows=(
            [c.recorded_on.isoformat() if c.recorded_on else "", c.subject.name, c.subject.uscc or "", c.kind, c.reason, c.source_reference]
            for c in selectors.credit_records_visible(user=request.user).select_related("subject")))
        if resp is not None:
            return resp
    return render(request, "supervision/dashboard.html", {
        "credit": Paginator(selectors.credit_records_visible(user=request.user), PAGE_SIZE).get_page(g.get("cpage")),
        "blacklist": Paginator(selectors.public_blacklist(), PAGE_SIZE).get_page(g.get("bpage")),
        "notices": Paginator(selectors.notices_visible(user=request.user), PAGE_SIZE).get_page(g.get("npage")),
        "reports": Paginator(selectors.reports_visible(user=request.user), PAGE_SIZE).get_page(g.get("rpage")),
        "credit_kinds": [(v, public.choice(lbl)) for v, lbl in CreditRecord.Kind.choices],
        "effects": [(v, public.choice(lbl)) for v, lbl in BlacklistEntry.Effect.choices],
        "departments": [(v, public.choice(lbl)) for v, lbl in NoticeDispatch.Department.choices],
        "finding_rules": [(v, public.choice(lbl)) for v, lbl in FalseReportingFinding.Rules.choices],
        "can_whatif": _can_whatif(request.user),
    })


def _can_whatif(user) -> bool:
    """What-if runs are the national and provincial authorities' (not a city's)."""
    from cets.parties.access import role_of
    from cets.parties.models import Role

    return role_of(user) in (Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY)


@login_required
def report_detail(request, receipt: str):
    """A report with the reporter's identity: only for the handling authority (404 otherwise)."""
    r = selectors.report_for(user=request.user, receipt=receipt)
    if r is None:
        raise Http404
    return render(request, "supervision/report_detail.html", {"r": r, "province": public.province(r.province)})


@login_required
@require_POST
def action(request, name: str):
    """POST a supervision action; the service checks role and jurisdiction and refuses with its code."""
    p, user = request.POST, request.user
    back = reverse("supervision:dashboard")
    try:
        if name == "credit":
            services.credit_record_create(actor=user, subject_id=_org_by_code(p.get("uscc", "")).pk, kind=p.get("kind", ""), reason=p.get("reason", ""),
                                          source_reference=p.get("source_reference", ""), recorded_on=_date(p.get("recorded_on", "")),
                                          internal_note=p.get("internal_note", ""))
        elif name == "blacklist":
            services.blacklist_decide(actor=user, subject_id=_org_by_code(p.get("uscc", "")).pk, effect=p.get("effect", ""),
                                      decision_reference=p.get("decision_reference", ""), reason=p.get("reason", ""),
                                      starts_on=_date(p.get("starts_on", "")) or dt.date.today(), ends_on=_date(p.get("ends_on", "")),
                                      internal_note=p.get("internal_note", ""))
        elif name == "lift":
            services.blacklist_lift(actor=user, entry_id=int(p.get("entry_id", "0")), lifted_on=_date(p.get("lifted_on", "")))
        elif name == "notice":
            services.joint_notice_create(actor=user, entity_id=_org_by_code(p.get("uscc", "")).pk, penalty_reference=p.get("penalty_reference", ""),
                                         facts=p.get("facts", ""))
        elif name == "dispatch":
            services.joint_notice_dispatch(actor=user, notice_id=int(p.get("notice_id", "0")), department=p.get("department", ""),
                                           letter_reference=p.get("letter_reference", ""), sent_on=_date(p.get("sent_on", "")))
        elif name == "assign":
            from cets.parties.selectors import entity_get

            entities = [entity_get(user=user, uscc=u.strip()) for u in p.get("entity_usccs", "").split(",") if u.strip()]
            bodies = list(Organisation.objects.filter(kind=Organisation.Kind.VERIFIER, uscc__in=[u.strip() for u in p.get("body_usccs", "").split(",")]))
            done = services.verification_assign_screened(actor=user, year=int(p.get("year", "0")), province=p.get("province", ""), entities=entities,
                                                         bodies=bodies, seed=p.get("seed", ""), kind=p.get("kind", "regular"),
                                                         sector=p.get("sector", "").strip() or None)
            messages.info(request, "; ".join(f"{a.entity.name} → {a.body.name}" for a in done))
        elif name == "finding":
            from decimal import Decimal, InvalidOperation

            from . import enforcement

            share = p.get("cut_share", "").strip()
            try:
                cut = Decimal(share) if share else None
            except InvalidOperation:
                cut = Decimal("-1")  # refused G0705 by the service
            enforcement.false_reporting_find(actor=user, subject_id=_org_by_code(p.get("uscc", "")).pk, year=int(p.get("year", "0")),
                                             rules_applied=p.get("rules", ""), decision_reference=p.get("decision_reference", ""), facts=p.get("facts", ""),
                                             fine_fen=_fen(p.get("fine", "")), gains_fen=_fen(p.get("gains", "") or "0"),
                                             next_year_allocation_t=int(p.get("next_year_allocation_t", "") or "0"), cut_share=cut,
                                             determined_emissions_t=_tonnes_or_none(p.get("determined_emissions_t", "")))
        elif name == "credit_sync":
            from . import enforcement

            messages.info(request, f"{enforcement.credit_sync(actor=user)}")
        elif name == "surveillance_decide":
            from . import enforcement

            enforcement.surveillance_decide(actor=user, alert_key=p.get("alert_key", ""), outcome=p.get("outcome", ""), reason=p.get("reason", ""))
            back = reverse("supervision:surveillance") + f"?day={p.get('alert_key', '::').split(':')[1]}"
        elif name == "related":
            from . import enforcement

            enforcement.related_participant_set(actor=user, organisation_id=_org_by_code(p.get("uscc", "")).pk, group=p.get("group", ""),
                                                basis=p.get("basis", ""))
            back = reverse("supervision:surveillance")
        elif name == "close":
            services.report_close(actor=user, receipt=p.get("receipt", ""), feedback=p.get("feedback", ""))
            back = reverse("supervision:report_detail", kwargs={"receipt": p.get("receipt", "")})
        else:
            raise Http404
        messages.success(request, _("Recorded: see the lists below."))
    except CetsError as e:
        _error(request, e)
    except ValueError as e:  # also PackError (no supervision pack for the year asked)
        messages.error(request, str(e))
    return redirect(back)


def _tonnes_or_none(v: str) -> int | None:
    """``"123457"`` → 123,457 t; ``""`` → None; ValueError for anything else (signs, decimals, text)."""
    if not v.strip():
        return None
    if not re.fullmatch(r"\d{1,12}", v.strip()):
        raise ValueError(_("Tonnes are whole numbers, e.g. 123457"))
    return int(v.strip())


def _fen(v: str) -> int:
    """``"12345.67"`` CNY → 1,234,567 fen (int); ValueError for anything else (more than two decimals, signs, text)."""
    if not re.fullmatch(r"\d{1,13}(\.\d{1,2})?", v.strip()):
        raise ValueError(_("Amounts are in CNY with at most two decimals, e.g. 20000.00"))
    whole, _sep, frac = v.strip().partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


@login_required
@require_safe
def surveillance(request):
    """Market surveillance for the exchange and the national authority: the alerts of a day (or a range) with their
    orders, the rule's source and the decision taken (dismiss / refer); 404 for other roles."""
    from cets.parties.access import membership_of
    from cets.parties.models import Role
    from cets.trading.models import Order

    from .models import RelatedParticipant, SurveillanceDecision

    m = membership_of(request.user)
    if m is None or m.role not in (Role.NATIONAL_AUTHORITY, Role.EXCHANGE_OPERATOR):
        raise Http404
    def get_day(name: str) -> dt.date | None:
        try:
            return _date(request.GET.get(name, ""))
        except ValueError:  # a malformed date in the query: today's alerts
            return None

    day = get_day("day") or timezone.localdate()
    day_to = get_day("to") or day
    if day_to < day or (day_to - day).days > 31:
        day_to = day
    try:
        alerts = selectors.surveillance_alerts(day_from=day, day_to=day_to)
    except PackError as e:  # no supervision or trading pack for that year
        messages.error(request, f"S0101 {e}")
        alerts = []
    decided = {d.alert_key: d for d in SurveillanceDecision.objects.filter(alert_key__in=[a.key for a in alerts])}
    orders = {o.seq: o for o in Order.objects.select_related("participant").filter(seq__in={s for a in alerts for s in a.orders})}
    names = dict(Organisation.objects.filter(pk__in={p for a in alerts for p in a.participants}).values_list("pk", "name"))
    rows = [{"a": a, "decision": decided.get(a.key), "orders": [orders[s] for s in a.orders if s in orders],
             "participants": [names.get(p, p) for p in a.participants]} for a in alerts]
    return render(request, "supervision/surveillance.html", {"rows": rows, "day": day, "day_to": day_to,
                                                             "related": RelatedParticipant.objects.select_related("organisation").order_by("group")})


@login_required
@require_safe
def risk(request):
    """The compliance risk index (履约风险指数) of a year's obligations in the user's scope, the weekly net-purchase report of
    the last month before the deadline and the real outcome counts beside the platform's: authorities (their
    jurisdiction), the registry and the exchange (read-only; 2021–2022 notice §五(二) "推送各省级生态环境主管部门、交易机构").
    ``?year=`` (default: the newest obligation year), ``?market=``, ``?province=`` for the weekly report. Others: 404."""
    from cets.compliance.selectors import outcome_counts, real_outcomes
    from cets.parties.access import membership_of
    from cets.rules.markets import PRIMARY_MARKET, market_ids

    if selectors.risk_scope(request.user) is None:
        raise Http404
    market = request.GET.get("market", "") or PRIMARY_MARKET
    if market not in market_ids():
        raise Http404
    years = selectors.risk_years(user=request.user, market=market)
    raw = request.GET.get("year", "")
    year = int(raw) if is_digits(raw) and len(raw) == 4 else (years[0] if years else timezone.localdate().year)
    m = membership_of(request.user)
    province = m.province or request.GET.get("province", "")
    if province not in PROVINCES:
        province = ""
    try:
        rows = selectors.risk_rows(user=request.user, year=year, market=market) or []
        weekly = selectors.weekly_net_purchases(user=request.user, province=province, year=year, market=market) if province else None
    except PackError as e:  # no supervision or compliance pack for that market and year
        messages.error(request, f"S0101 {e}")
        rows, weekly = [], None
    counts = outcome_counts(year=year, entity_qs=[r["entity"].pk for r in rows], market=market)
    return render(request, "supervision/risk.html", {
        "year": year, "years": years, "market": market, "markets": market_ids(), "rows": rows, "weekly": weekly, "province": province,
        "provinces": sorted(PROVINCES.items()), "fixed_province": bool(m.province), "real": real_outcomes(year=year) if market == PRIMARY_MARKET else None,
        "platform": {k: counts.get(k, 0) for k in ("on_time", "late", "incomplete", "open")}, "platform_total": sum(counts.values())})


NOTICE_COLUMNS = ("notice", "entity", "uscc", "province", "penalty_reference", "facts", "created_on", "department", "sent_on", "letter_reference")


def notice_rows(user) -> list[list]:
    """One row per (notice, department sent to); a notice not yet sent has one row with empty sending."""
    out = []
    for n in selectors.notices_visible(user=user).order_by("created_on", "id"):
        base = [n.pk, n.entity.name, n.entity.uscc or "", n.province, n.penalty_reference, n.facts, n.created_on.isoformat()]
        sent = list(n.dispatches.all())
        for d in sent or [None]:
            out.append(base + ([d.get_department_display(), d.sent_on.isoformat(), d.letter_reference] if d else ["", "", ""]))
    return out


@login_required
@require_safe
def notices_export(request, fmt: str):
    """Joint-punishment notices and the register of what went to which department, CSV or XLSX."""
    if fmt not in ("csv", "xlsx") or not selectors.is_authority(request.user):
        raise Http404
    rows = [[safe_cell(c) for c in r] for r in notice_rows(request.user)]
    if fmt == "csv":
        buf = io.StringIO()
        buf.write("\ufeff")
        w = csv.writer(buf)
        w.writerow(NOTICE_COLUMNS)
        w.writerows(rows)
        resp = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "joint-notices"
        ws.append(list(NOTICE_COLUMNS))
        for r in rows:
            ws.append(r)
        out = io.BytesIO()
        wb.save(out)
        resp = HttpResponse(out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp["Content-Disposition"] = f'attachment; filename="joint-notices.{fmt}"'
    return resp



# ---- what-if runs (draft allocation packs against a stored year; nothing is written)

def _whatif_params(request):
    g = request.GET
    packs = [p for p in g.getlist("pack") if p]
    base = g.get("base", "")
    ry = g.get("rules_year", "")
    return packs, base, (int(ry) if is_digits(ry) and len(ry) == 4 else None)


@login_required
@require_safe
def whatif(request):
    """National and provincial authorities: pick draft packs and a base ``market/year``; the run compares the
    allocation, surplus or shortfall and its cost per sector, province and entity (provincial: its province)."""
    from cets.core.quantities import fen_to_yuan
    from cets.parties.access import membership_of
    from cets.parties.models import Role
    from cets.rules.packs import PackError, available_packs, load_pack

    from . import whatif as wi

    m = membership_of(request.user)
    if not _can_whatif(request.user):
        raise Http404
    packs, base, rules_year = _whatif_params(request)
    choices = []
    for pid in available_packs():
        try:
            p = load_pack(pid)
        except PackError:  # a broken pack file is not offered (``cets rules check`` reports it)
            continue
        if p.kind == "allocation":
            choices.append((pid, p.title_zh or pid, pid in packs))
    ctx = {"choices": choices, "base": base or "national/2024", "rules_year": rules_year or "", "result": None,
           "province": m.province if m.role == Role.PROVINCIAL_AUTHORITY else ""}
    if packs and base:
        try:
            r = wi.run_for(actor=request.user, packs=packs, base=base, rules_year=rules_year)
        except CetsError as e:
            _error(request, e)
        else:
            page = Paginator(sorted(r.rows, key=lambda x: (-abs(x.change_t), x.uscc)), PAGE_SIZE).get_page(request.GET.get("page"))
            ctx.update(result=r, by_sector=r.totals("sector"), by_province=[(public.province(t.key), t) for t in r.totals("province")],
                       total=r.grand_total(), page=page, chart_sector=wi.chart(r, "sector", public.sector),
                       chart_province=wi.chart(r, "province", public.province),
                       query=request.GET.urlencode(), price_yuan=fen_to_yuan(r.price_fen))
    return render(request, "supervision/whatif.html", ctx)


@login_required
@require_safe
def whatif_xlsx(request):
    """The what-if run of the page's query as XLSX (the reader's jurisdiction)."""
    from . import whatif as wi

    if not _can_whatif(request.user):
        raise Http404
    packs, base, rules_year = _whatif_params(request)
    try:
        r = wi.run_for(actor=request.user, packs=packs, base=base, rules_year=rules_year)
    except CetsError as e:
        _error(request, e)
        return redirect(reverse("supervision:whatif"))
    resp = HttpResponse(wi.xlsx(r), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp["Content-Disposition"] = f'attachment; filename="whatif-{r.market}-{r.year}.xlsx"'
    return resp
