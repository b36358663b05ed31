"""MRV reads."""

from __future__ import annotations

import datetime as dt
from collections import namedtuple

from django.db.models import Q, Sum

from cets.core.quantities import is_digits
from cets.rules.markets import PRIMARY_MARKET

from .models import FacilityYearData, UnitYearData, VerificationRecord


def unit_year_rows(*, year: int, entity_ids=None) -> dict[tuple[int, int], UnitYearData]:
    """(unit_id, year) → data for ``year`` and the year before (the pre-allocation basis)."""
    qs = UnitYearData.objects.filter(year__in=(year, year - 1))
    if entity_ids is not None:
        qs = qs.filter(unit__entity_id__in=entity_ids)
    return {(r.unit_id, r.year): r for r in qs}


UNIT_YEAR_FIELDS = ("unit_id", "year", "generation_mwh", "heat_supplied_gj", "load_factor", "verified_emissions_t", "supplied_mwh", "heat_ratio")
UnitYearRow = namedtuple("UnitYearRow", UNIT_YEAR_FIELDS)


def unit_year_values(*, year: int, entity_ids=None) -> dict[tuple[int, int], UnitYearRow]:
    """(unit_id, year) → the verified data of ``year`` and the year before as plain rows (:data:`UnitYearRow`: the same
    values :func:`unit_year_rows` gives — MWh, GJ, fractions as ``Decimal``, tonnes as ``int`` — without model instances,
    for a whole year's allocation: 24,000 rows for the national power sector)."""
    qs = UnitYearData.objects.filter(year__in=(year, year - 1))
    if entity_ids is not None:
        qs = qs.filter(unit__entity_id__in=entity_ids)
    return {(r.unit_id, r.year): r for r in map(UnitYearRow._make, qs.order_by().values_list(*UNIT_YEAR_FIELDS))}


def facility_year_rows(*, sector: str, years) -> list[tuple[object, dict[int, FacilityYearData]]]:
    """Every facility of ``sector`` with verified data in any of ``years``, and its data by year, in
    entity and facility order: ``[(facility, {year: FacilityYearData})]``."""
    by_facility: dict[int, tuple[object, dict[int, FacilityYearData]]] = {}
    qs = (FacilityYearData.objects.filter(facility__sector=sector, year__in=list(years)).select_related("facility__entity")
          .order_by("facility__entity_id", "facility__code", "year"))
    for r in qs:
        by_facility.setdefault(r.facility_id, (r.facility, {}))[1][r.year] = r
    return list(by_facility.values())


def entity_verified_emissions(*, entity_id: int, year: int) -> int:
    """Σ verified emissions of the entity's units for ``year`` (tonnes CO2e)."""
    return UnitYearData.objects.filter(unit__entity_id=entity_id, year=year).aggregate(t=Sum("verified_emissions_t"))["t"] or 0


def verifications_of(*, entity_id: int):
    return VerificationRecord.objects.filter(entity_id=entity_id).select_related("verifier").order_by("-year", "list_id")


def non_conforming(*, year: int, sector: str | None = None):
    """Entities whose verification conclusion for ``year`` is 不符合."""
    q = Q(year=year, conforming=False)
    if sector:
        q &= Q(sector=sector)
    return VerificationRecord.objects.filter(q).select_related("entity", "verifier")


def verification_blocks(*, entity_id: int, year: int) -> list[VerificationRecord]:
    """The unresolved 不符合 verification conclusions of the entity's ``year`` report.

    Non-empty means the entity's final allocation of ``year`` may not be issued yet (a 不符合
    conclusion blocks final allocation until resolved; Measures Art. 27 objection / Regulations Art. 12
    verification results). Empty list = not blocked.
    """
    return list(VerificationRecord.objects.filter(entity_id=entity_id, year=year, conforming=False, resolved_at__isnull=True)
                .select_related("verifier").order_by("list_id"))


def entities_blocked(*, entity_ids, year: int) -> dict[int, int]:
    """entity id → number of unresolved 不符合 conclusions for ``year``, for the given entities (bulk
    form of :func:`verification_blocks`, used by allocation before issuing final allocation)."""
    ids = list(entity_ids)
    qs = VerificationRecord.objects.filter(year=year, conforming=False, resolved_at__isnull=True)
    if len(ids) <= LARGE_IN:
        qs = qs.filter(entity_id__in=ids)
    wanted = set(ids)  # many entities (a national year): the year's few unresolved conclusions, kept for these entities
    out: dict[int, int] = {}
    for e in qs.values_list("entity_id", flat=True):
        if e in wanted:
            out[e] = out.get(e, 0) + 1
    return out


# Above this many ids a read takes the year's (few) rows and keeps the wanted ones in Python instead of sending an IN
# list of thousands of parameters (bench/allocation_national.py: 5,500 entities).
LARGE_IN = 1000


def blocked_cases(*, user, year: int | None = None, sector: str | None = None, unresolved_only: bool = False):
    """The 不符合 verification conclusions the ``user`` may see (its jurisdiction: a province sees its
    entities, the national authority all, an entity its own), newest year first. Each is a blocked
    case until resolved. Returns a queryset of :class:`VerificationRecord` with entity and verifier."""
    from cets.parties.access import organisation_scope
    from cets.parties.models import Organisation

    q = Q(conforming=False, entity__in=Organisation.objects.filter(organisation_scope(user)))
    if year is not None:
        q &= Q(year=year)
    if sector:
        q &= Q(sector=sector)
    if unresolved_only:
        q &= Q(resolved_at__isnull=True)
    return (VerificationRecord.objects.filter(q).select_related("entity", "verifier")
            .order_by("-year", "entity__province", "entity__uscc", "list_id"))


def verifier_evaluation_facts(*, year: int, province: str):
    """Facts for the evaluation of the bodies that verified ``year`` reports of ``province``'s entities:
    one :class:`~cets.mrv.verification.VerificationFact` per verification record (on time per the
    disclosure), with notification timeliness from assignments and spot-check flags on the first
    verifier. Returns ``(facts, body key → body id)``; the body key is its credit code."""
    from .models import VerificationAssignment
    from .verification import VerificationFact

    recs = list(VerificationRecord.objects.filter(year=year, entity__province=province).select_related("verifier"))
    asg = {a.pk: a for a in VerificationAssignment.objects.filter(year=year, province=province)}
    spot = {}
    for a in asg.values():
        if a.kind == VerificationAssignment.Kind.SPOT_CHECK and a.flagged is not None:
            spot[a.entity_id] = a.flagged
    facts, body_ids = [], {}
    for r in recs:
        key = r.verifier.uscc or f"#{r.verifier_id}"
        body_ids[key] = r.verifier_id
        a = asg.get(int(r.list_id[4:])) if r.list_id.startswith("ASG-") and is_digits(r.list_id[4:]) else None
        in_time = None if a is None or a.notify_by is None else (a.notified_on is not None and a.notified_on <= a.notify_by)
        facts.append(VerificationFact(body=key, on_time=r.on_time, notified_in_time=in_time,
                                      spot_checked=a is not None and r.entity_id in spot, flagged=a is not None and spot.get(r.entity_id, False)))
    return facts, body_ids


def verifier_evaluations(*, year: int, province: str | None = None):
    """Published verifier evaluations (public: any logged-in user), best timeliness first."""
    from .models import VerifierEvaluation

    qs = VerifierEvaluation.objects.filter(year=year).select_related("body")
    if province is not None:
        qs = qs.filter(province=province)
    return qs.order_by("province", "-timeliness", "body__name")


def entity_emissions_by_year(*, entity_ids, years) -> dict[int, dict[int, int]]:
    """entity id → {year → verified emissions, tonnes CO2e (int)} for ``years``: the sum of the
    entity's unit-year data, or, where there is none, the emissions a completed regular verification
    recorded."""
    from .models import VerificationAssignment

    years = list(years)
    out: dict[int, dict[int, int]] = {}
    for r in (UnitYearData.objects.filter(unit__entity_id__in=entity_ids, year__in=years).values("unit__entity_id", "year")
              .annotate(t=Sum("verified_emissions_t")).order_by()):
        out.setdefault(r["unit__entity_id"], {})[r["year"]] = r["t"]
    for e, y, t in VerificationAssignment.objects.filter(entity_id__in=entity_ids, year__in=years, kind="regular",
                                                         completed_on__isnull=False).values_list("entity_id", "year", "verified_emissions_t"):
        out.setdefault(e, {}).setdefault(y, t)
    return out


def monthly_template(*, user, entity, year: int) -> bytes:
    """The XLSX filing template for ``entity``'s units and the months of ``year`` (only for a user who
    may see the entity; R0502 otherwise)."""
    from cets.core.errors import CetsError
    from cets.parties.access import DENIED, can_see
    from cets.parties.selectors import units_of

    from .monthly_files import template_xlsx

    if not can_see(user, entity):
        raise CetsError(DENIED, "entity outside scope")
    return template_xlsx(uscc=entity.uscc, units=[(u.code, u.rated_capacity_mw) for u in units_of(entity=entity)], year=year)


# The entity duties that the year's verified data makes moot when they were not filed on the platform.
VERIFIED_COVERS = ("dq_plan", "monthly_filing", "annual_report")


def deadline_items(*, user, year: int, today):
    """What is due, late or missing in the authority ``user``'s jurisdiction for reporting year ``year``:
    data-quality plans (due 12-31 of the year before), monthly filings per unit and month (month end
    + 40 / 20 calendar days) and their review where a window is set, annual reports (03-31), result
    notifications (7 working days) and objection decisions (10 working days), and the province's list
    publications (notice deadlines). Deadlines come from the packs; states from
    :func:`cets.mrv.deadlines.state` (``on_time``, ``late``, ``due``, ``missing``).

    Returns ``(counts, items)``: counts[kind][state] → n, and the items that are not on time (dicts with
    kind, entity, province, subject, due, done_on, state), earliest due first. Authorities only (R0502).
    Entities are those on the year's power key-emitter list in scope (the duties are the national power
    accounting pack's).

    An entity whose verified data of ``year`` exists (unit-year data, an official verification record or a
    completed regular verification) has reported and been verified, whether or not through this platform:
    its plan, monthly filings and annual report not filed here are counted as ``verified`` (covered by the
    year's verified data) and not listed, never as ``missing``; filings it did make keep their state.
    """
    from cets.parties.access import organisation_scope, require_role
    from cets.parties.lists import ListRules
    from cets.parties.models import EmitterListPublication, GeneratingUnit, Organisation, Role
    from cets.rules.packs import PackError, pack_for

    from .deadlines import monthly_filing_due, review_due, state
    from .models import AnnualReport, DataQualityPlan, MonthlyFiling, VerificationAssignment

    m = require_role(user, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY, Role.MUNICIPAL_AUTHORITY)
    try:
        rep = pack_for(PRIMARY_MARKET, "power", year, kind="accounting").raw("reporting")
    except PackError:
        rep = {}
    days = int(rep.get("monthly_filing_days", 40))
    rdays = int(rep["monthly_review_days"]) if "monthly_review_days" in rep else None
    plan_due = rep.get("dq_plan_due")
    report_due = rep.get("annual_report_due")
    plan_due = dt.date.fromisoformat(plan_due) if plan_due else None
    report_due = dt.date.fromisoformat(report_due) if report_due else None
    scope = Organisation.objects.filter(organisation_scope(user))
    ents = {e.pk: e for e in scope.filter(list_entries__market=PRIMARY_MARKET, list_entries__year=year, list_entries__sector="power",
                                           list_entries__included=True).distinct()}
    verified = set(entity_emissions_by_year(entity_ids=list(ents), years=[year]))
    verified |= set(VerificationRecord.objects.filter(year=year, entity_id__in=list(ents)).values_list("entity_id", flat=True))
    counts: dict[str, dict[str, int]] = {}
    items: list[dict] = []

    def add(kind, entity, province, subject, due, done_on):
        if done_on is not None and done_on > today:
            done_on = None  # as of ``today``: something done later is not done yet
        s = state(due=due, done_on=done_on, today=today)
        if done_on is None and entity is not None and entity.pk in verified and kind in VERIFIED_COVERS:
            s = "verified"  # reported and verified outside the platform: not missing
        counts.setdefault(kind, {}).setdefault(s, 0)
        counts[kind][s] += 1
        if s not in ("on_time", "verified"):
            items.append({"kind": kind, "entity": entity, "province": province, "subject": subject, "due": due, "done_on": done_on, "state": s})

    first_plan = {}
    for p in DataQualityPlan.objects.filter(year=year, market=PRIMARY_MARKET, entity_id__in=ents).order_by("version"):
        first_plan.setdefault(p.entity_id, p)
    for eid, e in ents.items():
        p = first_plan.get(eid)
        add("dq_plan", e, e.province, f"{year} 数据质量控制方案 data-quality plan", plan_due, p.submitted_on if p else None)
    filings = {(f.unit_id, f.month): f for f in MonthlyFiling.objects.filter(year=year, market=PRIMARY_MARKET, entity_id__in=ents)}
    last_month = 12 if today.year > year else (today.month - 1 if today.year == year else 0)
    units = GeneratingUnit.objects.filter(entity_id__in=ents).exclude(category=GeneratingUnit.Category.NOT_COVERED).order_by("entity_id", "code")
    for u in units:
        e = ents[u.entity_id]
        for mo in range(1, last_month + 1):
            f = filings.get((u.pk, mo))
            due = monthly_filing_due(year, mo, days)
            add("monthly_filing", e, e.province, f"{u.code} {year}-{mo:02d}", due, f.submitted_on if f else None)
            if f is not None and rdays is not None:
                add("monthly_review", e, e.province, f"{u.code} {year}-{mo:02d}", review_due(f.due_on, rdays), f.reviewed_on)
    reports = {r.entity_id: r for r in AnnualReport.objects.filter(year=year, market=PRIMARY_MARKET, entity_id__in=ents, sector="")}
    if today.year > year:
        for eid, e in ents.items():
            r = reports.get(eid)
            add("annual_report", e, e.province, f"{year} 年度排放报告 annual report", report_due, r.signed_on if r else None)
    for a in VerificationAssignment.objects.filter(year=year, entity__in=scope, completed_on__isnull=False).select_related("entity"):
        add("notification", a.entity, a.entity.province, f"{a.get_kind_display()} → {a.entity.uscc}", a.notify_by, a.notified_on)
        if a.objection_on is not None:
            add("objection_decision", a.entity, a.entity.province, f"异议 objection {a.objection_on}", a.decision_by, a.decided_on)
    provinces = [m.province] if m.role != Role.NATIONAL_AUTHORITY else sorted({e.province for e in ents.values()})
    try:
        lrules = ListRules.from_pack(pack_for(PRIMARY_MARKET, "emitter", year, kind="emitter_list"))
    except PackError:
        lrules = None
    if lrules is not None:
        pubs = {(p.sector, p.province): p for p in EmitterListPublication.objects.filter(market=PRIMARY_MARKET, year=year)}
        for (y, sector), due in sorted(lrules.publish_by.items()):
            if y != year:
                continue
            for prov in provinces:
                p = pubs.get((sector, prov))
                add("list_publication", None, prov, f"{year} {sector} 名录 list", due, p.published_on if p else None)
    items.sort(key=lambda i: (i["due"] or today, i["kind"], i["province"], i["subject"]))
    return counts, items


def authority_determinations(*, market: str, year: int, entity_ids=None) -> dict[int, int]:
    """entity id → the ``year`` emissions of ``market`` the authority determined (测算) outside the verification chain, tonnes
    CO2e (int): after a finding of false reporting the figure becomes the surrender basis (Measures 2021 Art. 39; draft
    Measures, seed 002, Art. 43 "该排放量除了作为配额清缴的依据"). Read from the sources registered in
    :mod:`cets.mrv.determinations` (supervision's findings); a later source wins for the same entity. Entities the
    authority determined nothing for are absent."""
    from .determinations import sources

    ids = None if entity_ids is None else list(entity_ids)
    out: dict[int, int] = {}
    for source in sources():
        out.update(source(market, year, ids))
    return out


def determined_emissions(*, market: str, year: int, entity_ids=None) -> dict[int, int]:
    """entity id → the ``year`` emissions the authority determines (核定) in ``market``, tonnes CO2e (int): the
    latest completed spot check's figure where there is one (the bureau's second verification, 京环发〔2024〕8号
    三(二)), otherwise the completed regular verification's — the notice says the bureau determines (核定) the
    emissions by 09-15 but not from which figure; preferring the spot check is the platform's reading. An emission
    figure the authority determined itself (:func:`authority_determinations`, e.g. after a false-reporting finding)
    replaces both. Entities with neither a completed verification nor such a figure are absent."""
    from .models import VerificationAssignment

    qs = VerificationAssignment.objects.filter(market=market, year=year, completed_on__isnull=False, verified_emissions_t__isnull=False)
    if entity_ids is not None:
        entity_ids = list(entity_ids)
        qs = qs.filter(entity_id__in=entity_ids)
    out: dict[int, int] = {}
    spot: dict[int, int] = {}
    for eid, kind, t in qs.order_by("completed_on", "pk").values_list("entity_id", "kind", "verified_emissions_t"):
        (spot if kind == VerificationAssignment.Kind.SPOT_CHECK else out)[eid] = t
    out.update({eid: t for eid, t in spot.items() if eid in out})
    out.update(authority_determinations(market=market, year=year, entity_ids=entity_ids))
    return out


# -- the year's duties of steel, cement and aluminium facilities (cets.mrv.facility_services) ----------------------

def facility_sectors(*, market: str = PRIMARY_MARKET, year: int) -> list[str]:
    """The sectors of ``market`` with a facility accounting pack for ``year`` (from the market's packs, no names here)."""
    from cets.core.errors import CetsError

    from .duty_rules import industry_rules

    out = []
    for s in {e.sector for e in _market_packs(market) if e.kind == "accounting" and year in e.years}:
        try:
            industry_rules(market=market, sector=s, year=year)
        except CetsError:
            continue
        out.append(s)
    return sorted(out)


def facility_markets(*, user, year: int) -> list[str]:
    """The markets whose ``year`` list names the user's entity (key emitter) in a sector with facility accounting that
    year, primary market first; [] for a user without an entity."""
    from cets.parties.access import membership_of
    from cets.parties.models import EmitterListEntry
    from cets.rules.markets import market_ids

    m = membership_of(user)
    if m is None or m.organisation_id is None:
        return []
    listed = set(EmitterListEntry.objects.filter(entity_id=m.organisation_id, year=year, included=True, category=EmitterListEntry.KEY_EMITTER)
                 .values_list("market", "sector"))
    out = [mk for mk in market_ids() if any((mk, s) in listed for s in facility_sectors(market=mk, year=year))]
    return sorted(out, key=lambda mk: mk != PRIMARY_MARKET)


def facility_review_markets(*, user, year: int) -> list[str]:
    """The markets whose ``year`` list names an entity of the user's jurisdiction in a sector with facility accounting,
    primary market first (the authority's facility review page offers them)."""
    from cets.parties.access import organisation_scope
    from cets.parties.models import EmitterListEntry, Organisation
    from cets.rules.markets import market_ids

    scope = Organisation.objects.filter(organisation_scope(user))
    out = [mk for mk in market_ids() if EmitterListEntry.objects.filter(market=mk, year=year, included=True, category=EmitterListEntry.KEY_EMITTER,
                                                                         sector__in=facility_sectors(market=mk, year=year), entity__in=scope).exists()]
    return sorted(out, key=lambda mk: mk != PRIMARY_MARKET)


def _market_packs(market: str):
    from cets.rules.markets import load_market
    from cets.rules.packs import PackError

    try:
        return load_market(market).packs
    except PackError:
        return []


def facility_duties(*, user, year: int, market: str = PRIMARY_MARKET) -> dict:
    """An entity user's facilities of the year's facility sectors with their duties: ``facilities`` = [{facility, plans
    (versions, newest first), months (1–12: filing or None, due)}], ``reports`` = {sector: AnnualReport}, ``assignments``
    (the entity's verifications of the year). R0502 for another role."""
    from cets.parties.access import require_role
    from cets.parties.models import Facility, Role

    from .duty_rules import month_due
    from .models import AnnualReport, DataQualityPlan, FacilityMonthlyFiling, VerificationAssignment

    m = require_role(user, Role.ENTITY)
    sectors = facility_sectors(market=market, year=year)
    facs = list(Facility.objects.filter(entity_id=m.organisation_id, sector__in=sectors).order_by("sector", "code"))
    plans: dict[int, list] = {}
    for p in DataQualityPlan.objects.filter(facility__in=facs, year=year, market=market).prefetch_related("comments").order_by("-version"):
        plans.setdefault(p.facility_id, []).append(p)
    filings = {(f.facility_id, f.month): f for f in FacilityMonthlyFiling.objects.filter(facility__in=facs, year=year, market=market)}
    dues = {(s, mo): month_due(market=market, sector=s, year=year, month=mo) for s in {f.sector for f in facs} for mo in range(1, 13)}
    rows = [{"facility": f, "plans": plans.get(f.pk, []),
             "months": [{"month": mo, "filing": filings.get((f.pk, mo)), "due": dues[(f.sector, mo)]} for mo in range(1, 13)]} for f in facs]
    reports = {r.sector: r for r in AnnualReport.objects.filter(entity_id=m.organisation_id, year=year, market=market, sector__in=sectors)}
    assignments = list(VerificationAssignment.objects.filter(entity_id=m.organisation_id, year=year, market=market, sector__in=sectors)
                       .select_related("body"))
    return {"facilities": rows, "reports": reports, "sectors": sorted({f.sector for f in facs}), "assignments": assignments}


def verifier_facility_assignments(*, user, market: str | None = None):
    """The regular verifications of facility sectors assigned to the user's body (of ``market``, or of every market),
    newest year first, each with the entity's signed report of the sector (``report``, None if not submitted) and the
    recorded facility figures."""
    from cets.parties.access import require_role
    from cets.parties.models import Role

    from .models import AnnualReport, VerificationAssignment

    m = require_role(user, Role.VERIFIER)
    out = []
    qs = (VerificationAssignment.objects.filter(body_id=m.organisation_id, kind=VerificationAssignment.Kind.REGULAR)
          .select_related("entity").prefetch_related("facility_figures__facility").order_by("-year", "entity__name"))
    if market is not None:
        qs = qs.filter(market=market)
    for a in qs:
        if a.sector not in facility_sectors(market=a.market, year=a.year):
            continue
        rep = AnnualReport.objects.filter(entity_id=a.entity_id, year=a.year, market=a.market, sector=a.sector, signed_on__isnull=False).first()
        out.append({"assignment": a, "report": rep, "figures": list(a.facility_figures.all())})
    return out


def facility_review(*, user, year: int, today: dt.date, market: str = PRIMARY_MARKET) -> dict:
    """What a provincial (or the national, or a district) authority has to do for ``market``'s facility duties of the year in its
    jurisdiction (a district: its units, as :func:`cets.parties.access.organisation_scope`):
    ``plans`` and ``filings`` awaiting review, ``handover`` completed verifications not yet handed to allocation (with
    ``ready`` False while a 不符合 is unresolved), and ``overdue`` = [{entity, facility, duty, subject, due}] for every
    listed entity's facility duty past its due date and not done (plan not submitted; month not filed; annual report not
    signed; verification not completed — due dates from the packs, :mod:`cets.mrv.facility_services`). R0502 otherwise."""
    from cets.parties.access import organisation_scope, require_role
    from cets.parties.models import EmitterListEntry, Facility, Organisation, Role

    from .duty_rules import cycle_due, month_due
    from .models import AnnualReport, DataQualityPlan, FacilityMonthlyFiling, FacilityVerification, VerificationAssignment

    require_role(user, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY, Role.MUNICIPAL_AUTHORITY, Role.DISTRICT_AUTHORITY)
    scope = Organisation.objects.filter(organisation_scope(user))
    sectors = facility_sectors(market=market, year=year)
    plans = (DataQualityPlan.objects.filter(year=year, market=market, facility__isnull=False, entity__in=scope, status=DataQualityPlan.Status.SUBMITTED)
             .select_related("entity", "facility").order_by("submitted_on", "pk"))
    filings = (FacilityMonthlyFiling.objects.filter(year=year, market=market, entity__in=scope, status=FacilityMonthlyFiling.Status.SUBMITTED)
               .select_related("entity", "facility").prefetch_related("lines").order_by("facility_id", "month"))
    done = set(FacilityVerification.objects.filter(assignment__year=year, facility__year_data__year=year).values_list("assignment_id", flat=True))
    blocked = set(VerificationRecord.objects.filter(year=year, conforming=False, resolved_at__isnull=True, list_id__startswith="ASG-")
                  .values_list("list_id", flat=True))
    handover = []
    for a in (VerificationAssignment.objects.filter(year=year, market=market, entity__in=scope, sector__in=sectors, completed_on__isnull=False,
                                                    kind=VerificationAssignment.Kind.REGULAR).select_related("entity", "body").order_by("entity__name")):
        if a.pk not in done:
            handover.append({"assignment": a, "ready": f"ASG-{a.pk}" not in blocked})
    listed = {(e.entity_id, e.sector) for e in EmitterListEntry.objects.filter(market=market, year=year, included=True, category=EmitterListEntry.KEY_EMITTER,
                                                                                  sector__in=sectors, entity__in=scope)}
    facs = [f for f in Facility.objects.filter(entity__in=scope, sector__in=sectors).select_related("entity").order_by("entity__name", "code")
            if (f.entity_id, f.sector) in listed]
    have_plan = set(DataQualityPlan.objects.filter(year=year, market=market, facility__in=facs).values_list("facility_id", flat=True))
    have_month = set(FacilityMonthlyFiling.objects.filter(year=year, market=market, facility__in=facs).exclude(
        status=FacilityMonthlyFiling.Status.RETURNED).values_list("facility_id", "month"))
    signed = set(AnnualReport.objects.filter(year=year, market=market, signed_on__isnull=False).values_list("entity_id", "sector"))
    verified = set(VerificationAssignment.objects.filter(year=year, market=market, completed_on__isnull=False,
                                                         kind=VerificationAssignment.Kind.REGULAR).values_list("entity_id", "sector"))
    overdue = []

    def late(due) -> bool:
        return due is not None and today > due

    for f in facs:
        due = cycle_due(market=market, year=year, sector=f.sector, event="dq_plans")
        if f.pk not in have_plan and late(due):
            overdue.append({"entity": f.entity, "facility": f, "duty": "dq_plan", "subject": f"{year}", "due": due})
        for mo in range(1, 13):
            due = month_due(market=market, sector=f.sector, year=year, month=mo)
            if (f.pk, mo) not in have_month and late(due):
                overdue.append({"entity": f.entity, "facility": f, "duty": "monthly_filing", "subject": f"{year}-{mo:02d}", "due": due})
    for eid, sector in sorted(listed):
        ent = next((f.entity for f in facs if f.entity_id == eid), None) or Organisation.objects.get(pk=eid)
        due = cycle_due(market=market, year=year, sector=sector, event="annual_reports")
        if (eid, sector) not in signed and late(due):
            overdue.append({"entity": ent, "facility": None, "duty": "annual_report", "subject": f"{year} {sector}", "due": due})
        due = cycle_due(market=market, year=year, sector=sector, event="verification")
        if (eid, sector) not in verified and late(due):
            overdue.append({"entity": ent, "facility": None, "duty": "verification", "subject": f"{year} {sector}", "due": due})
    overdue.sort(key=lambda r: (r["due"], r["entity"].name, r["subject"]))
    return {"plans": list(plans), "filings": list(filings), "handover": handover, "overdue": overdue, "sectors": sectors}


def pcer_projects_visible(*, user):
    """Beijing carbon-inclusion (碳普惠) projects the user may see, with their periods and the registry's proposals
    prefetched: a project owner's (entity, trader) own; the Beijing bureau (province 11), the national authority and
    registry operators all; nobody else any."""
    from cets.parties.access import viewer_of
    from cets.parties.models import Role

    from .models import PcerProject
    from .pcer_services import bureau_province

    v = viewer_of(user)
    qs = PcerProject.objects.select_related("owner").prefetch_related("periods__create_proposal", "periods__issue_proposal").order_by("-pk")
    if v.role in (Role.ENTITY, Role.TRADER):
        return qs.filter(owner_id=v.membership.organisation_id)
    if v.role in (Role.REGISTRY_OPERATOR, Role.NATIONAL_AUTHORITY) or (v.role == Role.PROVINCIAL_AUTHORITY and v.province == bureau_province()):
        return qs
    return qs.none()


def pcer_waiting(*, user) -> dict[str, int]:
    """What in the carbon-inclusion chain waits on ``user`` (for the inbox): ``projects`` to approve and ``periods`` to
    confirm (the Beijing bureau), ``issuance`` confirmed periods whose next registry step is the registry's to propose
    (registry operators), ``periods_due`` approved projects of the owner without any monitoring period."""
    from cets.parties.access import viewer_of
    from cets.parties.models import Role

    from .models import PcerPeriod, PcerProject
    from .pcer_services import bureau_province

    v = viewer_of(user)
    if v.role == Role.PROVINCIAL_AUTHORITY and v.province == bureau_province():
        return {"projects": PcerProject.objects.filter(status=PcerProject.Status.SUBMITTED).count(),
                "periods": PcerPeriod.objects.filter(status=PcerPeriod.Status.SUBMITTED).count()}
    if v.role == Role.REGISTRY_OPERATOR:
        confirmed = PcerPeriod.objects.filter(status=PcerPeriod.Status.CONFIRMED, reduction_t__gt=0).select_related("create_proposal", "issue_proposal")
        n = sum(1 for q in confirmed if (q.create_proposal is None or q.create_proposal.status != "proposed")
                and (q.issue_proposal is None or q.issue_proposal.status == "rejected"))
        return {"issuance": n}
    if v.role in (Role.ENTITY, Role.TRADER):
        return {"periods_due": PcerProject.objects.filter(owner_id=v.membership.organisation_id, status=PcerProject.Status.APPROVED,
                                                          periods__isnull=True).count()}
    return {}
