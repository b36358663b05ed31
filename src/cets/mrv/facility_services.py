"""The year's duties of steel, cement and aluminium entities, per facility (the writes; services of :mod:`cets.mrv`).

Source: 环办气候函〔2025〕140号 (seed 003) §二(四) data-quality control plans, §二(五) monthly deposit (月度信息化存证),
§二(六) annual emission reports, §二(七) verification (核查) and notification; the accounting is the sector's guideline
(:mod:`cets.mrv.accounting_industry`, the packs ``national/<sector>-accounting-2024-2026``).

The chain, each step a service below:

1. :func:`facility_plan_submit` — a plan version per facility; the province reviews it with
   :func:`cets.mrv.services.dq_plan_review`.
2. :func:`facility_month_file` — the facility's month as activity lines (the rows of ``cets mrv compute``), checked
   line by line (M04xx) and against the guideline over the year's lines (M0104–M0109); :func:`facility_month_review`.
3. :func:`facility_annual_report_generate` — the sector's annual report computed from the filed months by
   :func:`cets.mrv.accounting_industry.facility_years`; the entity's user signs (submits) it with
   :func:`cets.mrv.services.annual_report_sign`.
4. The province draws the body (:func:`cets.mrv.services.verification_assign`); the body records its per-facility
   figures and conclusion with :func:`facility_verification_record` (V04xx); notification, objection and resolution
   as for every verification.
5. :func:`facility_year_data_from_verification` — the province hands the verified facility figures to allocation:
   one :class:`~cets.mrv.models.FacilityYearData` per facility, linked to the verification; the allocation
   mechanisms (:mod:`cets.allocation.mechanisms`) read nothing else.

Deadlines: the cycle pack's steps for the year and sector (``dq_plans``, ``annual_reports``, ``verification``,
step ``monthly_backfill``) and the accounting pack's ``reporting.monthly_filing_days`` / ``monthly_filing_from``.
Quantities: tonnes CO2e (int); activity lines in the material's unit (Decimal, exact).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from cets.core.errors import CetsError, InputError, InputProblem
from cets.core.quantities import round_half_up
from cets.core.schema import MAX_QUANTITY
from cets.parties.access import DENIED, LOCAL_AUTHORITY_ROLES, district_of, require_role
from cets.parties.models import Facility, Organisation, Role
from cets.rules.markets import PRIMARY_MARKET

from .checks import (
    M0206,
    M0302,
    M0303,
    M0304,
    M0305,
    M0306,
    M0307,
    M0401,
    M0402,
    M0403,
    M0404,
    M0405,
    M0406,
    M0407,
    V0401,
    V0402,
    V0403,
    V0404,
    V0405,
)
from .duty_rules import cycle_due, entity_sector, industry_rules, month_due  # noqa: F401 (re-exported: the services' rules)
from .models import (
    AnnualReport,
    DataQualityPlan,
    FacilityActivityLine,
    FacilityMonthlyFiling,
    FacilityVerification,
    FacilityYearData,
    VerificationAssignment,
    VerificationRecord,
)


@dataclass(frozen=True)
class LineIn:
    """One activity line as entered (form, API): ``source``, ``part``, ``material`` text; numbers Decimal or None (blank:
    the guideline's default applies; ``quantity`` None only on a parameter row)."""

    source: str
    part: str = ""
    material: str = ""
    quantity: Decimal | None = None
    ncv: Decimal | None = None
    carbon_content: Decimal | None = None
    oxidation_rate: Decimal | None = None
    measured_value: Decimal | None = None


def _own_facility(actor, facility: Facility) -> None:
    m = require_role(actor, Role.ENTITY)
    if m.organisation_id != facility.entity_id:
        raise CetsError(M0302, facility.code)


# -- 1. data-quality control plans per facility -------------------------------------------------------------

@transaction.atomic
def facility_plan_submit(*, facility: Facility, year: int, summary: str, actor, on: dt.date, market: str = PRIMARY_MARKET) -> DataQualityPlan:
    """A new version of ``facility``'s ``year`` data-quality control plan (数据质量控制方案, Regulations Art. 11; per
    facility, seed 003 §二(四)). ``due_on``: the cycle's ``dq_plans`` step of the year for the facility's sector (2025:
    2025-06-30, 2026: 2025-12-31; none for 2024). The province reviews it (:func:`cets.mrv.services.dq_plan_review`).
    Only the entity's own users (R0502, M0302); M0301 for a sector without facility accounting that year."""
    _own_facility(actor, facility)
    industry_rules(market=market, sector=facility.sector, year=year)
    last = (DataQualityPlan.objects.select_for_update().filter(facility=facility, year=year, market=market).order_by("-version").first())
    return DataQualityPlan.objects.create(market=market, entity_id=facility.entity_id, facility=facility, year=year,
                                          version=(last.version + 1) if last else 1, summary=summary,
                                          due_on=cycle_due(market=market, year=year, sector=facility.sector, event="dq_plans"),
                                          submitted_on=on, submitted_by=actor)


# -- 2. monthly filings ---------------------------------------------------------------------------------------

# (max digits, decimal places) each number of a line is stored with (FacilityActivityLine)
STORED_DIGITS = {"quantity": (20, 6), "ncv": (14, 6), "carbon_content": (12, 8), "oxidation_rate": (8, 6), "measured_value": (16, 8)}


def _fits(v: Decimal, digits: int, places: int) -> bool:
    if not v.is_finite():
        return False
    t = v.normalize().as_tuple()
    decimals = max(0, -t.exponent)
    whole = len(t.digits) + t.exponent  # digits before the point
    return decimals <= places and max(whole, 0) <= digits - places


def _line_problems(lines: Sequence[LineIn], rules, name: str) -> list[InputProblem]:
    """Line-by-line checks of a facility month (M04xx), as ``cets mrv compute`` checks a CSV row (README)."""
    from .accounting_industry import CONTENT_SOURCES, PART_SOURCES, SOURCES

    out: list[InputProblem] = []
    seen: dict[tuple[str, str, str], int] = {}
    one, zero = Decimal(1), Decimal(0)

    def bad(n: int, fld: str, value, check, extra_zh: str = "", extra_en: str = "") -> None:
        out.append(InputProblem(name, n, fld, "" if value is None else str(value), f"{check.code} {check.zh}{extra_zh}", f"{check.code} {check.en}{extra_en}"))

    for n, ln in enumerate(lines, start=1):
        for fld, (digits, places) in STORED_DIGITS.items():
            v = getattr(ln, fld)
            if v is not None and not _fits(v, digits, places):
                bad(n, fld, v, M0407, f"（至多{digits - places}位整数、{places}位小数）", f" (at most {digits - places} digits and {places} decimals)")
        if ln.source not in SOURCES[rules.sector]:
            bad(n, "source", ln.source, M0401, f"：{'、'.join(SOURCES[rules.sector])}", f": {', '.join(SOURCES[rules.sector])}")
            continue
        if rules.sector == "steel" and ln.source in PART_SOURCES:
            if (ln.source != "cofiring_fuel" and ln.part not in rules.processes) or (ln.source == "cofiring_fuel" and not ln.part):
                bad(n, "part", ln.part, M0402, f"：{'、'.join(rules.processes)}" if ln.source != "cofiring_fuel" else "",
                    f": {', '.join(rules.processes)}" if ln.source != "cofiring_fuel" else "")
        elif ln.part:
            bad(n, "part", ln.part, M0402)
        if len(ln.part) > 40:
            bad(n, "part", ln.part[:40], M0402)
        if not ln.material or len(ln.material) > 40:
            bad(n, "material", ln.material[:40], M0403)
        param_row = ln.source in CONTENT_SOURCES
        if (param_row and ln.quantity is not None) or (not param_row and (ln.quantity is None or ln.quantity < zero)):
            bad(n, "quantity", ln.quantity, M0404)
        if ln.ncv is not None and ln.ncv <= zero:
            bad(n, "ncv", ln.ncv, M0405)
        for fld, v in (("carbon_content", ln.carbon_content), ("oxidation_rate", ln.oxidation_rate)):
            if v is not None and not zero < v <= one:
                bad(n, fld, v, M0405)
        param = rules.parameters.get(ln.material) if param_row else (rules.parameters.get("生料非燃料碳") if ln.source == "raw_meal" else None)
        if param is not None and ln.measured_value is not None and not param.low <= ln.measured_value <= param.high:
            bad(n, "measured_value", ln.measured_value, M0405, f"（{param.low}–{param.high} {param.unit}）", f" ({param.low}–{param.high} {param.unit})")
        k = (ln.source, ln.part, ln.material)
        if k in seen:
            bad(n, "material", ln.material, M0406, f"（第{seen[k]}行）", f" (line {seen[k]})")
        seen.setdefault(k, n)
    return out


def _rows(filings, entity_uscc: str, skip_month: int | None = None):
    """ActivityRows of stored filings (row numbers 1000 × month + line, so a refusal names the month)."""
    from .accounting_industry import ActivityRow

    out = []
    for f in filings:
        if f.month == skip_month:
            continue
        for i, ln in enumerate(f.lines.all(), start=1):
            out.append(ActivityRow(row_no=1000 * f.month + i, entity_uscc=entity_uscc, facility_id=f.facility.code, year=f.year, month=f.month,
                                   source=ln.source, part=ln.part, material=ln.material, quantity=ln.quantity, ncv=ln.ncv,
                                   carbon_content=ln.carbon_content, oxidation_rate=ln.oxidation_rate, measured_value=ln.measured_value))
    return out


@transaction.atomic
def facility_month_file(*, facility: Facility, year: int, month: int, lines: Sequence[LineIn], actor, on: dt.date,
                        evidence: Sequence[tuple[str, str]] = (), market: str = PRIMARY_MARKET) -> FacilityMonthlyFiling:
    """File (or file again, until accepted) ``facility``'s month: the activity lines the guideline needs (production,
    fuels, electricity and heat as 附录E items, process inputs and outputs, measured parameters). Refusals, nothing
    written: R0502 / M0302 not the entity's own user; M0301 no facility accounting for the sector and year; M0303 month
    outside 1–12; M0304 the month was accepted; M0305 no line; :class:`InputError` listing every bad line (M0401–M0407)
    and every input the guideline does not allow over the year's filed lines with its clause (M0104–M0109; a line's row
    is ``1000 × month + line``). ``due_on`` from :func:`month_due`; a filing after it stays flagged late (补报).
    ``evidence``: (file name, sha256) of the supporting files."""
    from .accounting_industry import ActivityRow, guideline_refusals

    _own_facility(actor, facility)
    if not isinstance(month, int) or isinstance(month, bool) or not 1 <= month <= 12:
        raise CetsError(M0303, repr(month))
    rules, pack = industry_rules(market=market, sector=facility.sector, year=year)
    if not lines:
        raise CetsError(M0305, f"{facility.code} {year}-{month:02d}")
    old = FacilityMonthlyFiling.objects.select_for_update().filter(facility=facility, year=year, month=month, market=market).first()
    if old is not None and old.status == FacilityMonthlyFiling.Status.ACCEPTED:
        raise CetsError(M0304, f"{facility.code} {year}-{month:02d}")
    name = f"{facility.code} {year}-{month:02d}"
    problems = _line_problems(lines, rules, name)
    if problems:
        raise InputError(problems)
    uscc = facility.entity.uscc
    new = [ActivityRow(row_no=1000 * month + i, entity_uscc=uscc, facility_id=facility.code, year=year, month=month, source=ln.source,
                       part=ln.part, material=ln.material, quantity=ln.quantity, ncv=ln.ncv, carbon_content=ln.carbon_content,
                       oxidation_rate=ln.oxidation_rate, measured_value=ln.measured_value) for i, ln in enumerate(lines, start=1)]
    others = FacilityMonthlyFiling.objects.filter(facility=facility, year=year, market=market).exclude(status=FacilityMonthlyFiling.Status.RETURNED)
    year_rows = _rows(others.select_related("facility").prefetch_related("lines"), uscc, skip_month=month) + new
    refusals = [r for r in guideline_refusals(year_rows, rules) if r.row_no // 1000 == month]
    if refusals:
        raise InputError([InputProblem(name, r.row_no % 1000, r.column, r.value, f"{r.check.code} {r.check.zh}（{r.clause_zh}）",
                                       f"{r.check.code} {r.check.en} ({r.clause_en})") for r in refusals])
    if old is not None:
        old.delete()
    f = FacilityMonthlyFiling.objects.create(market=market, entity_id=facility.entity_id, facility=facility, year=year, month=month, pack_id=pack.id,
                                             evidence=[{"name": n, "sha256": h} for n, h in evidence],
                                             due_on=month_due(market=market, sector=facility.sector, year=year, month=month),
                                             submitted_on=on, submitted_by=actor)
    FacilityActivityLine.objects.bulk_create([FacilityActivityLine(filing=f, source=ln.source, part=ln.part, material=ln.material, quantity=ln.quantity,
                                                                   ncv=ln.ncv, carbon_content=ln.carbon_content, oxidation_rate=ln.oxidation_rate,
                                                                   measured_value=ln.measured_value) for ln in lines])
    return f


@transaction.atomic
def facility_month_review(*, filing_id: int, actor, accept: bool, comment: str, on: dt.date) -> FacilityMonthlyFiling:
    """The province's technical review of a facility month (seed 003 §二(五) "对存证数据进行技术审核"): accepted, or
    returned with ``comment`` for the entity to file again. The entity's provincial (or municipal) authority, or its
    district's (Beijing: the district bureau checks the monthly data, 京环发〔2024〕8号 三(一)1) — R0502 outside the
    jurisdiction; M0306 unless the filing awaits review."""
    f = FacilityMonthlyFiling.objects.select_for_update().select_related("entity").get(pk=filing_id)
    require_role(actor, *LOCAL_AUTHORITY_ROLES, province=f.entity.province, region_code=district_of(f.entity))
    if f.status != FacilityMonthlyFiling.Status.SUBMITTED:
        raise CetsError(M0306, f"{f.year}-{f.month:02d} {f.status}")
    f.status = FacilityMonthlyFiling.Status.ACCEPTED if accept else FacilityMonthlyFiling.Status.RETURNED
    f.reviewed_on, f.reviewed_by, f.review_comment = on, actor, comment[:1000]
    f.save(update_fields=["status", "reviewed_on", "reviewed_by", "review_comment"])
    return f


# -- 3. the annual report, computed from the months -----------------------------------------------------------

def intensity_emissions(fy) -> Decimal:
    """The part of a facility's emissions its sector's allocation intensity counts (2025–2026 draft §四(二)3): steel
    E_ironmaking + E_sintering, aluminium anode + PFC (the reported 2-decimal parts), cement the line's emissions."""
    return Decimal(fy.emissions_t) if fy.part_a_t is None else fy.part_a_t + fy.part_b_t


@transaction.atomic
def facility_annual_report_generate(*, entity: Organisation, year: int, actor, sector: str | None = None, market: str = PRIMARY_MARKET,
                                    at: dt.datetime | None = None) -> AnnualReport:
    """Generate (or regenerate, while unsigned) the entity's ``year`` annual emission report of ``sector`` (default: the
    entity's list entry, M0308) from its facilities' filed months (returned ones left out) by the sector's accounting
    (:func:`cets.mrv.accounting_industry.facility_years`): ``emissions_t`` Σ facilities (tonnes CO2e, int) and per
    facility ``facilities`` = [{facility_id, emissions_t, intensity_emissions_t (whole tonnes, half up), output_t (whole
    tonnes, half up), part_a_t, part_b_t, output_exact_t, details}]; ``missing`` the facility-months without a filing.
    Due: the cycle's ``annual_reports`` step (2024: 2025-06-30, seed 003 §二(六)). The entity's users or its provincial
    authority (R0502); M0301, M0307 without any filing, M0206 once signed."""
    from .accounting_industry import facility_years

    m = require_role(actor, Role.ENTITY, Role.PROVINCIAL_AUTHORITY, province=entity.province)
    if m.role == Role.ENTITY and m.organisation_id != entity.pk:
        raise CetsError(DENIED, "not the entity's own report")
    sector = entity_sector(market=market, year=year, entity=entity, sector=sector)
    rules, pack = industry_rules(market=market, sector=sector, year=year)
    existing = AnnualReport.objects.select_for_update().filter(entity=entity, year=year, market=market, sector=sector).first()
    if existing and existing.signed_on:
        raise CetsError(M0206, f"{existing.signed_on}")
    facilities = list(Facility.objects.filter(entity=entity, sector=sector).order_by("code"))
    filings = list(FacilityMonthlyFiling.objects.filter(facility__in=facilities, year=year, market=market)
                   .exclude(status=FacilityMonthlyFiling.Status.RETURNED).select_related("facility").prefetch_related("lines"))
    if not filings:
        raise CetsError(M0307, f"{entity.uscc} {sector} {year}")
    results = facility_years(_rows(filings, entity.uscc), rules)

    def text(d) -> str | None:
        return None if d is None else format(d, "f")

    rows = [{"facility_id": r.facility_id, "emissions_t": r.emissions_t,
             "intensity_emissions_t": int(round_half_up(intensity_emissions(r), 0)), "output_t": int(round_half_up(r.output_t, 0)),
             "part_a_t": text(r.part_a_t), "part_b_t": text(r.part_b_t), "output_exact_t": text(r.output_t),
             "details": {k: text(v) for k, v in r.details.items()}} for r in results]
    have = {(f.facility.code, f.month) for f in filings}
    missing = [f"{fa.code} {year}-{mo:02d}" for fa in facilities for mo in range(1, 13) if (fa.code, mo) not in have]
    due = cycle_due(market=market, year=year, sector=sector, event="annual_reports")
    values = dict(pack_id=pack.id, emissions_t=sum(r.emissions_t for r in results), units=[], facilities=rows, missing=missing,
                  generated_at=at or timezone.now(), due_on=due or _default_report_due(pack, year))
    if existing:
        for k, v in values.items():
            setattr(existing, k, v)
        existing.save()
        return existing
    return AnnualReport.objects.create(market=market, entity=entity, year=year, sector=sector, **values)


def _default_report_due(pack, year: int) -> dt.date:
    """The pack's ``reporting.annual_report_month_day`` of the year after (Measures Art. 25: 3月31日前), for a year whose
    cycle names no report deadline."""
    month, day = pack.text("reporting.annual_report_month_day").split("-")
    return dt.date(year + 1, int(month), int(day))


# -- 4. verification per facility ----------------------------------------------------------------------------

@dataclass(frozen=True)
class FacilityFigures:
    """The body's verified figures of one facility: tonnes (int)."""

    facility_id: str
    verified_emissions_t: int
    intensity_emissions_t: int
    output_t: int


def _whole(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v < MAX_QUANTITY


@transaction.atomic
def facility_verification_record(*, assignment_id: int, actor, figures: Sequence[FacilityFigures], conforming: bool,
                                 completed_on: dt.date) -> VerificationAssignment:
    """The assigned body records its conclusion and, per facility, verified emissions, the intensity emissions and the
    output (tonnes, int) of the entity's submitted annual report of the assignment's sector (seed 003 §二(七)). The
    entity's verified emissions are their sum; the rest is :func:`cets.mrv.services.verification_outcome_record`
    (notify_by, the record a 不符合 blocks). Only a member of the assigned body (R0502); V0403 without a signed report;
    V0401 unless the figures cover exactly the entity's facilities of the sector; V0402 for figures that are not whole
    tonnes (emissions ≥ 0, intensity emissions ≤ emissions, output > 0 — ≥ 0 where the sector's accounting has no output,
    :attr:`~cets.mrv.accounting_industry.IndustryRules.output_required`); V0304 if already recorded."""
    from .services import verification_outcome_record

    a = VerificationAssignment.objects.select_for_update().select_related("entity").get(pk=assignment_id)
    m = require_role(actor, Role.VERIFIER)
    if m.organisation_id != a.body_id:
        raise CetsError(DENIED, "not the assigned verification body")
    if not AnnualReport.objects.filter(entity_id=a.entity_id, year=a.year, market=a.market, sector=a.sector, signed_on__isnull=False).exists():
        raise CetsError(V0403, f"{a.entity.uscc} {a.sector} {a.year}")
    facilities = {f.code: f for f in Facility.objects.filter(entity_id=a.entity_id, sector=a.sector)}
    codes = [f.facility_id for f in figures]
    if sorted(codes) != sorted(facilities) or len(set(codes)) != len(codes):
        raise CetsError(V0401, f"{', '.join(sorted(codes))} / {', '.join(sorted(facilities))}")
    rules, _pack = industry_rules(market=a.market, sector=a.sector, year=a.year)
    for f in figures:
        if not (_whole(f.verified_emissions_t) and _whole(f.intensity_emissions_t) and _whole(f.output_t)) or f.verified_emissions_t < 0 \
                or not 0 <= f.intensity_emissions_t <= f.verified_emissions_t or f.output_t < 0 or (f.output_t == 0 and rules.output_required):
            raise CetsError(V0402, f.facility_id)
    a = verification_outcome_record(assignment_id=assignment_id, actor=actor, verified_emissions_t=sum(f.verified_emissions_t for f in figures),
                                    generation_mwh=None, heat_supplied_gj=None, conforming=conforming, completed_on=completed_on)
    if a.kind == VerificationAssignment.Kind.REGULAR:
        FacilityVerification.objects.bulk_create([
            FacilityVerification(assignment=a, facility=facilities[f.facility_id], verified_emissions_t=f.verified_emissions_t,
                                 intensity_emissions_t=f.intensity_emissions_t, output_t=f.output_t) for f in figures])
    return a


# -- 5. the province hands the verified facility figures to allocation ------------------------------------------

@transaction.atomic
def facility_year_data_from_verification(*, assignment_id: int, actor) -> int:
    """One :class:`FacilityYearData` per facility (``source`` "verified", linked to the assignment) from the body's
    per-facility figures, once the regular verification is completed and conforming (or its 不符合 resolved: objection
    upheld or determined by the authority). The allocation of the year reads these
    (:func:`cets.mrv.selectors.facility_year_rows`). The entity's provincial authority (R0502); V0404 without such a
    verification; V0405 if a facility already has data for the year (a change is a new verification result). Returns
    how many rows were created."""
    a = VerificationAssignment.objects.select_for_update().select_related("entity").get(pk=assignment_id)
    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=a.entity.province)
    blocked = VerificationRecord.objects.filter(list_id=f"ASG-{a.pk}", conforming=False, resolved_at__isnull=True).exists()
    figures = list(FacilityVerification.objects.filter(assignment=a).select_related("facility"))
    if a.kind != VerificationAssignment.Kind.REGULAR or a.completed_on is None or blocked or not figures:
        raise CetsError(V0404, f"{a.entity.uscc} {a.year}")
    taken = set(FacilityYearData.objects.filter(facility__in=[f.facility for f in figures], year=a.year).values_list("facility__code", flat=True))
    if taken:
        raise CetsError(V0405, ", ".join(sorted(taken)))
    FacilityYearData.objects.bulk_create([
        FacilityYearData(facility=f.facility, year=a.year, verified_emissions_t=f.verified_emissions_t, intensity_emissions_t=f.intensity_emissions_t,
                         output_t=f.output_t, source="verified", assignment=a) for f in figures])
    return len(figures)
