"""MRV endpoints (``/api/v1/mrv``): blocked verification cases and their resolution. Same scope,
checks and codes as the selectors and services."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field

from cets.core.schema import MAX_QUANTITY, DecimalText, Limit, PathId, PathYear, Tonnes, Year
from cets.rules.markets import PRIMARY_MARKET

from . import selectors, services
from .models import VerificationRecord

router = Router(tags=["mrv"])


class BlockedCaseOut(Schema):
    id: int
    year: int
    sector: str
    entity_uscc: str
    entity_name: str
    province: str
    verifier_uscc: str | None
    verifier_name: str
    list_id: str
    on_time: bool
    blocked: bool
    resolution: str
    resolved_at: dt.datetime | None


class ResolveIn(Schema):
    resolution: str
    note: str = ""


def _case(r: VerificationRecord) -> BlockedCaseOut:
    return BlockedCaseOut(id=r.pk, year=r.year, sector=r.sector, entity_uscc=r.entity.uscc or "", entity_name=r.entity.name,
                          province=r.entity.province, verifier_uscc=r.verifier.uscc, verifier_name=r.verifier.name, list_id=r.list_id,
                          on_time=r.on_time, blocked=r.resolved_at is None, resolution=r.resolution, resolved_at=r.resolved_at)


@router.get("/blocked-cases", response=list[BlockedCaseOut])
def blocked_cases(request, year: PathYear | None = None, sector: str | None = None, unresolved: bool = False):
    """不符合 verification conclusions in the caller's jurisdiction; ``blocked`` until resolved (final allocation waits)."""
    return [_case(r) for r in selectors.blocked_cases(user=request.user, year=year, sector=sector, unresolved_only=unresolved)]


@router.post("/blocked-cases/{record_id}/resolve", response=BlockedCaseOut)
def resolve(request, record_id: PathId, body: ResolveIn):
    """The entity's provincial authority resolves a 不符合 conclusion (``reverified`` or ``determined``)."""
    from django.shortcuts import get_object_or_404

    from cets.parties.access import organisation_scope
    from cets.parties.models import Organisation

    get_object_or_404(VerificationRecord, pk=record_id, entity__in=Organisation.objects.filter(organisation_scope(request.user)))
    rec = services.verification_resolve(record_id=record_id, actor=request.user, resolution=body.resolution, note=body.note)
    return _case(VerificationRecord.objects.select_related("entity", "verifier").get(pk=rec.pk))


class EvaluationOut(Schema):
    year: int
    province: str
    body_uscc: str | None
    body_name: str
    verifications: int
    timeliness: str
    compliance: str | None
    quality: str | None
    spot_checks: int
    flagged: int
    published_at: dt.datetime


def _share(d) -> str | None:
    return None if d is None else f"{d:.4f}"


@router.get("/verifier-evaluations", response=list[EvaluationOut])
def verifier_evaluations(request, year: PathYear, province: str | None = None):
    """Published verifier evaluations (timeliness, compliance, quality as shares 0–1, exact decimal strings)."""
    return [
        EvaluationOut(
            year=e.year,
            province=e.province,
            body_uscc=e.body.uscc,
            body_name=e.body.name,
            verifications=e.verifications,
            timeliness=_share(e.timeliness),
            compliance=_share(e.compliance),
            quality=_share(e.quality),
            spot_checks=e.spot_checks,
            flagged=e.flagged,
            published_at=e.published_at,
        )
        for e in selectors.verifier_evaluations(year=year, province=province)
    ]


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/lists/{market}/{year}.xlsx")
def emitter_list_export(request, market: str, year: PathYear, sector: str | None = None, province: str | None = None):
    """The key-emitter list in the published format (XLSX), limited to the caller's jurisdiction."""
    from django.http import HttpResponse
    from django.utils.http import content_disposition_header

    from cets.parties.list_files import write_list_xlsx
    from cets.parties.selectors import emitter_list_rows, list_rules, sector_names_for_list

    names = sector_names_for_list(market, list_rules(market, year))
    rows = emitter_list_rows(user=request.user, market=market, year=year, sector=sector, province=province)
    r = HttpResponse(write_list_xlsx(rows, sector_names=names), content_type=XLSX)
    r["Content-Disposition"] = content_disposition_header(True, f"emitter-list-{market}-{year}.xlsx")
    r["Cache-Control"] = "private, no-store"
    return r


@router.post("/lists/{market}/{year}/import")
def emitter_list_import(request, market: str, year: PathYear, province: str, file: UploadedFile = File(...)):
    """Import a province's list (XLSX, published format). 422 with every bad row, nothing written."""
    from cets.core.errors import InputError

    try:
        from cets.parties.services import emitter_list_import as list_import

        return list_import(market=market, year=year, province=province, file_name=file.name or "list.xlsx", data=file.read(), actor=request.user)
    except InputError as e:
        from django.http import JsonResponse

        return JsonResponse(
            {
                "code": "INPUT",
                "message_zh": "文件有误，未导入",
                "message_en": "the file has problems; nothing imported",
                "problems": [p.__dict__ for p in e.problems],
            },
            status=422,
        )


class DeadlineItemOut(Schema):
    kind: str
    entity_uscc: str | None
    entity_name: str | None
    province: str
    subject: str
    due: dt.date | None
    done_on: dt.date | None
    state: str


class DeadlinesOut(Schema):
    year: int
    today: dt.date
    counts: dict[str, dict[str, int]]
    items: list[DeadlineItemOut]


@router.get("/deadlines", response=DeadlinesOut)
def deadlines(request, year: PathYear, limit: Limit = 500):
    """An authority's deadlines: counts by obligation and state, and the items not on time (first ``limit``)."""
    from django.utils import timezone

    today = timezone.localdate()
    counts, items = selectors.deadline_items(user=request.user, year=year, today=today)
    return DeadlinesOut(
        year=year,
        today=today,
        counts=counts,
        items=[
            DeadlineItemOut(
                kind=i["kind"],
                entity_uscc=i["entity"].uscc if i["entity"] else None,
                entity_name=i["entity"].name if i["entity"] else None,
                province=i["province"],
                subject=i["subject"],
                due=i["due"],
                done_on=i["done_on"],
                state=i["state"],
            )
            for i in items[: max(0, min(limit, 5000))]
        ],
    )


@router.get("/monthly/{uscc}/{year}/template.xlsx")
def monthly_template(request, uscc: str, year: PathYear):
    """The XLSX monthly filing template of an entity in the caller's scope (one row per unit and month)."""
    from django.http import HttpResponse
    from django.utils.http import content_disposition_header

    from cets.parties.selectors import entity_get

    entity = entity_get(user=request.user, uscc=uscc)
    r = HttpResponse(selectors.monthly_template(user=request.user, entity=entity, year=year), content_type=XLSX)
    r["Content-Disposition"] = content_disposition_header(True, f"monthly-{uscc}-{year}.xlsx")
    r["Cache-Control"] = "private, no-store"
    return r


@router.post("/monthly/{uscc}/{year}/upload")
def monthly_upload(request, uscc: str, year: PathYear, file: UploadedFile = File(...)):
    """The entity uploads its filled template: 422 with every bad row and nothing written, or the counts."""
    import hashlib

    from django.http import JsonResponse
    from django.utils import timezone

    from cets.core.errors import InputError
    from cets.parties.selectors import entity_get

    entity = entity_get(user=request.user, uscc=uscc)
    data = file.read()
    try:
        return services.monthly_filings_upload(
            entity=entity,
            year=year,
            file_name=file.name or "monthly.xlsx",
            data=data,
            actor=request.user,
            on=timezone.localdate(),
            evidence=[(file.name or "monthly.xlsx", hashlib.sha256(data).hexdigest())],
        )
    except InputError as e:
        return JsonResponse(
            {
                "code": "INPUT",
                "message_zh": "文件有误，未导入",
                "message_en": "the file has problems; nothing imported",
                "problems": [p.__dict__ for p in e.problems],
            },
            status=422,
        )


class ReportOut(Schema):
    id: int
    year: int
    pack_id: str
    emissions_t: int
    units: list[dict]
    missing: list[str]
    due_on: dt.date
    signed_on: dt.date | None


def _report(r) -> ReportOut:
    return ReportOut(
        id=r.pk, year=r.year, pack_id=r.pack_id, emissions_t=r.emissions_t, units=r.units, missing=r.missing, due_on=r.due_on, signed_on=r.signed_on
    )


@router.post("/reports/{uscc}/{year}/generate", response=ReportOut)
def report_generate(request, uscc: str, year: PathYear):
    """Generate the annual emission report from the monthly filings (entity or its provincial authority)."""
    from cets.parties.selectors import entity_get

    return _report(services.annual_report_generate(entity=entity_get(user=request.user, uscc=uscc), year=year, actor=request.user))


@router.post("/reports/{report_id}/sign", response=ReportOut)
def report_sign(request, report_id: PathId):
    """The entity signs off its annual report (today's date; after the due date it stays late)."""
    from django.utils import timezone

    return _report(services.annual_report_sign(report_id=report_id, actor=request.user, on=timezone.localdate()))


class AssignIn(Schema):
    year: Year
    province: str
    entity_usccs: list[str]
    body_usccs: list[str]
    seed: str
    kind: str = "regular"
    market: str = PRIMARY_MARKET
    sector: str | None = None  # blank: each entity's list entry of the market and year (M0308)


class AssignmentOut(Schema):
    id: int
    year: int
    kind: str
    market: str
    entity_uscc: str
    body_uscc: str
    seed: str
    verified_emissions_t: int | None
    conforming: bool | None
    completed_on: dt.date | None
    notify_by: dt.date | None
    notified_on: dt.date | None
    objection_by: dt.date | None
    objection_on: dt.date | None
    decision_by: dt.date | None
    decided_on: dt.date | None
    flagged: bool | None


class OutcomeIn(Schema):
    verified_emissions_t: Tonnes
    generation_mwh: DecimalText | None = None
    heat_supplied_gj: DecimalText | None = None
    conforming: bool
    completed_on: dt.date


class DateIn(Schema):
    on: dt.date
    text: str = ""
    upheld: bool = False


def _asg(a) -> AssignmentOut:
    return AssignmentOut(
        id=a.pk,
        year=a.year,
        kind=a.kind,
        market=a.market,
        entity_uscc=a.entity.uscc,
        body_uscc=a.body.uscc or "",
        seed=a.seed,
        verified_emissions_t=a.verified_emissions_t,
        conforming=a.conforming,
        completed_on=a.completed_on,
        notify_by=a.notify_by,
        notified_on=a.notified_on,
        objection_by=a.objection_by,
        objection_on=a.objection_on,
        decision_by=a.decision_by,
        decided_on=a.decided_on,
        flagged=a.flagged,
    )


@router.post("/assignments", response=list[AssignmentOut])
def assign(request, body: AssignIn):
    """The province draws verification bodies at random (双随机, reproducible from ``seed``) under the conflict rule."""
    from cets.parties.models import Organisation
    from cets.parties.selectors import entity_get

    entities = [entity_get(user=request.user, uscc=u) for u in body.entity_usccs]
    bodies = list(Organisation.objects.filter(kind=Organisation.Kind.VERIFIER, uscc__in=body.body_usccs))
    return [
        _asg(a)
        for a in services.verification_assign(
            year=body.year, province=body.province, entities=entities, bodies=bodies, seed=body.seed, actor=request.user, kind=body.kind, market=body.market,
            sector=body.sector or None,
        )
    ]


def _dec(v: str | None):
    from decimal import Decimal

    return None if v is None else Decimal(v)


@router.post("/assignments/{assignment_id}/outcome", response=AssignmentOut)
def outcome(request, assignment_id: PathId, body: OutcomeIn):
    """The assigned body records verified emissions (t), production data and the conclusion."""
    return _asg(
        services.verification_outcome_record(
            assignment_id=assignment_id,
            actor=request.user,
            verified_emissions_t=body.verified_emissions_t,
            generation_mwh=_dec(body.generation_mwh),
            heat_supplied_gj=_dec(body.heat_supplied_gj),
            conforming=body.conforming,
            completed_on=body.completed_on,
        )
    )


@router.post("/assignments/{assignment_id}/notify", response=AssignmentOut)
def notify(request, assignment_id: PathId, body: DateIn):
    """The province returns the result to the entity (due within 7 working days of completion)."""
    return _asg(services.verification_notify(assignment_id=assignment_id, actor=request.user, on=body.on))


@router.post("/assignments/{assignment_id}/objection", response=AssignmentOut)
def objection(request, assignment_id: PathId, body: DateIn):
    """The entity objects within 7 working days of notification."""
    return _asg(services.verification_objection_file(assignment_id=assignment_id, actor=request.user, on=body.on, text=body.text))


@router.post("/assignments/{assignment_id}/decision", response=AssignmentOut)
def decision(request, assignment_id: PathId, body: DateIn):
    """The province decides the objection (due within 10 working days)."""
    return _asg(services.verification_objection_decide(assignment_id=assignment_id, actor=request.user, on=body.on, upheld=body.upheld))


class PlanIn(Schema):
    summary: str


class PlanReviewIn(Schema):
    approve: bool
    comment: str = ""


class PlanOut(Schema):
    id: int
    year: int
    version: int
    status: str
    due_on: dt.date | None
    submitted_on: dt.date
    reviewed_on: dt.date | None
    comments: list[str]


def _plan(p) -> PlanOut:
    return PlanOut(
        id=p.pk,
        year=p.year,
        version=p.version,
        status=p.status,
        due_on=p.due_on,
        submitted_on=p.submitted_on,
        reviewed_on=p.reviewed_on,
        comments=[c.text for c in p.comments.order_by("created_at")],
    )


@router.post("/plans/{uscc}/{year}", response=PlanOut)
def plan_submit(request, uscc: str, year: PathYear, body: PlanIn):
    """The entity submits a new version of its data-quality control plan (today's date; due 12-31 of the year before)."""
    from django.utils import timezone

    from cets.parties.selectors import entity_get

    return _plan(
        services.dq_plan_submit(entity=entity_get(user=request.user, uscc=uscc), year=year, summary=body.summary, actor=request.user, on=timezone.localdate())
    )


@router.post("/plan-reviews/{plan_id}", response=PlanOut)
def plan_review(request, plan_id: PathId, body: PlanReviewIn):
    """The provincial authority approves a plan version or returns it with a comment."""
    from django.utils import timezone

    return _plan(services.dq_plan_review(plan_id=plan_id, actor=request.user, approve=body.approve, comment=body.comment, on=timezone.localdate()))


# -- the year's duties of steel, cement and aluminium facilities (cets.mrv.facility_services) ---------------------

class FacilityLineIn(Schema):
    """One activity line (README "MRV input formats"): numbers as plain decimal text, blank = the guideline's default."""

    source: str
    part: str = ""
    material: str
    quantity: DecimalText | None = None
    ncv: DecimalText | None = None
    carbon_content: DecimalText | None = None
    oxidation_rate: DecimalText | None = None
    measured_value: DecimalText | None = None


class FacilityMonthIn(Schema):
    lines: list[FacilityLineIn]
    market: str = PRIMARY_MARKET  # the market whose accounting pack applies (e.g. "beijing": beijing/<sector>-2023)


class FacilityFilingOut(Schema):
    id: int
    facility_id: str
    year: int
    month: int
    status: str
    due_on: dt.date | None
    submitted_on: dt.date
    late: bool
    lines: int


class FilingReviewIn(Schema):
    accept: bool
    comment: str = ""


class FacilityReportIn(Schema):
    sector: str | None = None  # blank: the entity's list entry of the year
    market: str = PRIMARY_MARKET


class FacilityReportOut(Schema):
    id: int
    year: int
    sector: str
    pack_id: str
    emissions_t: int
    facilities: list[dict]
    missing: list[str]
    due_on: dt.date
    signed_on: dt.date | None


class FacilityFiguresIn(Schema):
    facility_id: str
    verified_emissions_t: Annotated[int, Field(strict=True, ge=0)]
    intensity_emissions_t: Annotated[int, Field(strict=True, ge=0)]
    # > 0 where the sector's accounting has an output (V0402, IndustryRules.output_required); 0 for e.g. Beijing services
    output_t: Annotated[int, Field(strict=True, ge=0, lt=MAX_QUANTITY)]


class FacilityOutcomeIn(Schema):
    figures: list[FacilityFiguresIn]
    conforming: bool
    completed_on: dt.date


class OverdueOut(Schema):
    entity_uscc: str
    entity_name: str
    facility_id: str | None
    duty: str
    subject: str
    due: dt.date


def _facility(request, facility_id: int):
    from django.shortcuts import get_object_or_404

    from cets.parties.access import organisation_scope
    from cets.parties.models import Facility, Organisation

    return get_object_or_404(Facility.objects.select_related("entity"), pk=facility_id,
                             entity__in=Organisation.objects.filter(organisation_scope(request.user)))


def _filing(f) -> FacilityFilingOut:
    return FacilityFilingOut(id=f.pk, facility_id=f.facility.code, year=f.year, month=f.month, status=f.status, due_on=f.due_on,
                             submitted_on=f.submitted_on, late=f.due_on is not None and f.submitted_on > f.due_on, lines=f.lines.count())


def _facility_report(r) -> FacilityReportOut:
    return FacilityReportOut(id=r.pk, year=r.year, sector=r.sector, pack_id=r.pack_id, emissions_t=r.emissions_t, facilities=r.facilities,
                             missing=r.missing, due_on=r.due_on, signed_on=r.signed_on)


def _problems(e):
    from django.http import JsonResponse

    return JsonResponse({"code": "INPUT", "message_zh": "月度存证有误，未保存", "message_en": "the monthly filing has problems; nothing saved",
                         "problems": [p.__dict__ for p in e.problems]}, status=422)


@router.post("/facilities/{facility_id}/plans/{year}", response=PlanOut)
def facility_plan(request, facility_id: PathId, year: PathYear, body: PlanIn):
    """The entity submits a new version of a facility's data-quality control plan (due from the cycle pack)."""
    from django.utils import timezone

    from .facility_services import facility_plan_submit

    return _plan(facility_plan_submit(facility=_facility(request, facility_id), year=year, summary=body.summary, actor=request.user,
                                      on=timezone.localdate()))


@router.post("/facilities/{facility_id}/months/{year}/{month}", response=FacilityFilingOut)
def facility_month(request, facility_id: PathId, year: PathYear, month: int, body: FacilityMonthIn):
    """The entity files a facility's month: 422 with every bad line (M04xx, M0104–M0109) and nothing saved, or the filing."""
    from decimal import Decimal

    from django.utils import timezone

    from cets.core.errors import InputError

    from .facility_services import LineIn, facility_month_file

    def d(v):
        return None if v is None else Decimal(v)

    lines = [LineIn(source=ln.source, part=ln.part, material=ln.material, quantity=d(ln.quantity), ncv=d(ln.ncv), carbon_content=d(ln.carbon_content),
                    oxidation_rate=d(ln.oxidation_rate), measured_value=d(ln.measured_value)) for ln in body.lines]
    try:
        f = facility_month_file(facility=_facility(request, facility_id), year=year, month=month, lines=lines, actor=request.user,
                                on=timezone.localdate(), market=body.market)
    except InputError as e:
        return _problems(e)
    return _filing(f)


@router.post("/facility-filings/{filing_id}/review", response=FacilityFilingOut)
def facility_filing_review(request, filing_id: PathId, body: FilingReviewIn):
    """The province accepts a facility month or returns it with a comment."""
    from django.utils import timezone

    from .facility_services import facility_month_review

    return _filing(facility_month_review(filing_id=filing_id, actor=request.user, accept=body.accept, comment=body.comment, on=timezone.localdate()))


@router.post("/facility-reports/{uscc}/{year}", response=FacilityReportOut)
def facility_report(request, uscc: str, year: PathYear, body: FacilityReportIn):
    """Compute the sector's annual report from the facilities' months (sign it with ``/reports/{id}/sign``)."""
    from cets.parties.selectors import entity_get

    from .facility_services import facility_annual_report_generate

    return _facility_report(facility_annual_report_generate(entity=entity_get(user=request.user, uscc=uscc), year=year, actor=request.user,
                                                            sector=body.sector or None, market=body.market))


@router.post("/assignments/{assignment_id}/facility-outcome", response=AssignmentOut)
def facility_outcome(request, assignment_id: PathId, body: FacilityOutcomeIn):
    """The assigned body records per-facility verified figures (whole tonnes) and the conclusion."""
    from .facility_services import FacilityFigures, facility_verification_record

    figures = [FacilityFigures(f.facility_id, f.verified_emissions_t, f.intensity_emissions_t, f.output_t) for f in body.figures]
    return _asg(facility_verification_record(assignment_id=assignment_id, actor=request.user, figures=figures, conforming=body.conforming,
                                             completed_on=body.completed_on))


@router.post("/assignments/{assignment_id}/facility-year-data")
def facility_handover(request, assignment_id: PathId):
    """The province hands the verified facility figures to allocation (``FacilityYearData``): ``{"created": n}``."""
    from .facility_services import facility_year_data_from_verification

    return {"created": facility_year_data_from_verification(assignment_id=assignment_id, actor=request.user)}


@router.get("/facility-overdue/{year}", response=list[OverdueOut])
def facility_overdue(request, year: PathYear):
    """The facility duties past due in the caller's jurisdiction (authorities)."""
    from django.utils import timezone

    r = selectors.facility_review(user=request.user, year=year, today=timezone.localdate())
    return [OverdueOut(entity_uscc=o["entity"].uscc or "", entity_name=o["entity"].name, facility_id=o["facility"].code if o["facility"] else None,
                       duty=o["duty"], subject=o["subject"], due=o["due"]) for o in r["overdue"]]


# -- general reporting units (一般报告单位, 京环发〔2024〕8号 三(一)2) ---------------------------------------------

class GeneralReportOut(Schema):
    id: int
    market: str
    year: int
    entity_uscc: str
    entity_name: str
    region_code: str
    emissions_t: int
    evidence_name: str
    evidence_sha256: str
    due_on: dt.date
    submitted_on: dt.date
    late: bool
    status: str
    check_due_on: dt.date
    checked_on: dt.date | None
    comment: str


class GeneralCheckIn(Schema):
    accept: Annotated[bool, Field(strict=True)]
    comment: Annotated[str, Field(max_length=500)] = ""


def _general(r) -> GeneralReportOut:
    return GeneralReportOut(id=r.pk, market=r.market, year=r.year, entity_uscc=r.entity.uscc or "", entity_name=r.entity.name,
                            region_code=r.entity.region_code or "", emissions_t=r.emissions_t, evidence_name=r.evidence_name,
                            evidence_sha256=r.evidence_sha256, due_on=r.due_on, submitted_on=r.submitted_on, late=r.late, status=r.status,
                            check_due_on=r.check_due_on, checked_on=r.checked_on, comment=r.comment)


@router.post("/general-reports/{market}/{year}", response=GeneralReportOut)
def general_report_submit(request, market: str, year: PathYear, emissions_t: str = Form(...), file: UploadedFile = File(...)):
    """The general reporting unit's user files its year's report (multipart: ``emissions_t`` whole tonnes as digits,
    ``file`` the evidence, PDF/JPEG/PNG ≤ 5 MiB): R0502, M0501–M0504, M0507."""
    import re

    from cets.core.errors import CetsError
    from cets.parties.access import membership_of

    from .checks import M0502
    from .general_reports import general_report_submit as submit

    if not re.fullmatch(r"[0-9]{1,15}", emissions_t or ""):
        raise CetsError(M0502, (emissions_t or "")[:40])
    m = membership_of(request.user)
    from cets.parties.access import DENIED

    if m is None:
        raise CetsError(DENIED, "no membership")
    data = file.read(5 * 1024 * 1024 + 1)
    return _general(submit(entity=m.organisation, market=market, year=year, emissions_t=int(emissions_t), evidence_name=file.name or "",
                           evidence=data, actor=request.user))


@router.get("/general-reports/{market}/{year}", response=list[GeneralReportOut])
def general_reports_list(request, market: str, year: PathYear):
    """The reports the caller checks (a district authority: its district's units only) or, for a unit's user, its own."""
    from .general_reports import general_report_of, general_reports_for

    _, own = general_report_of(user=request.user, market=market, year=year)
    if own is not None:
        return [_general(own)]
    return [_general(r) for r in general_reports_for(user=request.user, market=market, year=year)]


@router.post("/general-report-checks/{report_id}", response=GeneralReportOut)
def general_report_check(request, report_id: PathId, body: GeneralCheckIn):
    """The district's data-quality check: accept, or return with a comment (R0502 outside its district, M0505, M0506)."""
    from .general_reports import general_report_check as check

    return _general(check(report_id=report_id, accept=body.accept, comment=body.comment, actor=request.user))


class PcerComputeIn(Schema):
    """One Beijing 碳普惠 project's monitoring-period activity data: methodology (low_carbon_travel, ev_conversion,
    hydrogen_fcv) and its fields as whole numbers (京环发〔2024〕8号 三(三); cets.mrv.pcer)."""

    methodology: str = Field(max_length=40)
    activity: dict[Annotated[str, Field(max_length=40)], Annotated[int, Field(strict=True, ge=0, lt=10**15)]] = Field(max_length=20)
    pack: str = Field(default="beijing/pcer-2023-2026", max_length=80)


class PcerComputeOut(Schema):
    methodology: str
    pack: str
    baseline_t: str
    project_t: str
    reduction_t: int


@router.post("/pcer/compute", response=PcerComputeOut)
def pcer_compute(request, payload: PcerComputeIn):
    """Pure: a PCER period's reductions in whole t CO2e (P0101–P0104; nothing is stored)."""
    from cets.rules.packs import load_pack

    from .pcer import compute

    pack = load_pack(payload.pack)
    r = compute(pack, payload.methodology, payload.activity)
    return PcerComputeOut(methodology=r.methodology, pack=pack.id, baseline_t=str(r.baseline_t), project_t=str(r.project_t), reduction_t=r.reduction_t)


class PcerProjectIn(Schema):
    """A carbon-inclusion project registered by the caller's organisation (the owner)."""

    name: str = Field(min_length=1, max_length=200)
    methodology: str = Field(max_length=40)
    location: str = Field(min_length=1, max_length=200)


class PcerPeriodIn(Schema):
    """One monitoring period's dates and activity data (whole numbers; the fields of the project's methodology)."""

    start: dt.date
    end: dt.date
    activity: dict[Annotated[str, Field(max_length=40)], Annotated[int, Field(strict=True, ge=0, lt=10**15)]] = Field(max_length=20)


class PcerPeriodOut(Schema):
    id: int
    start: dt.date
    end: dt.date
    activity: dict[str, int]
    reduction_t: int
    pack: str
    pack_sha256: str
    status: str
    lines: list[tuple[str, str]]
    create_proposal: str | None
    issue_proposal: str | None
    issued: bool


class PcerProjectOut(Schema):
    id: int
    name: str
    methodology: str
    location: str
    owner: str
    status: str
    periods: list[PcerPeriodOut]


class ProposalRefOut(Schema):
    id: int
    key: str
    kind: str
    status: str


def _pcer_period(q) -> PcerPeriodOut:
    from cets.rules.packs import load_pack

    from .pcer import compute

    return PcerPeriodOut(id=q.pk, start=q.start, end=q.end, activity=q.activity, reduction_t=q.reduction_t, pack=q.pack_id, pack_sha256=q.pack_sha256,
                         status=q.status, lines=list(compute(load_pack(q.pack_id), q.project.methodology, q.activity).lines),
                         create_proposal=q.create_proposal.key if q.create_proposal else None,
                         issue_proposal=q.issue_proposal.key if q.issue_proposal else None, issued=q.issued)


def _pcer_project(p) -> PcerProjectOut:
    return PcerProjectOut(id=p.pk, name=p.name, methodology=p.methodology, location=p.location, owner=p.owner.name, status=p.status,
                          periods=[_pcer_period(q) for q in sorted(p.periods.all(), key=lambda q: q.start)])


@router.get("/pcer/projects", response=list[PcerProjectOut])
def pcer_projects(request):
    """Carbon-inclusion projects the caller may see (the owner its own; the Beijing bureau and the registry all), each
    period with its calculation lines and the registry's proposals."""
    return [_pcer_project(p) for p in selectors.pcer_projects_visible(user=request.user)]


@router.post("/pcer/projects", response=PcerProjectOut)
def pcer_project_register(request, body: PcerProjectIn):
    """The owner's user registers a project (R0502, P0101, P0205)."""
    from cets.core.errors import CetsError
    from cets.parties.access import viewer_of
    from cets.parties.checks import DENIED

    from .pcer_services import pcer_project_register as register

    org = viewer_of(request.user).organisation
    if org is None:
        raise CetsError(DENIED, "no membership")
    return _pcer_project(register(owner=org, name=body.name, methodology=body.methodology, location=body.location, actor=request.user))


@router.post("/pcer/projects/{project_id}/approve", response=PcerProjectOut)
def pcer_project_approve(request, project_id: PathId):
    """The Beijing bureau approves a project (R0502, P0106)."""
    from .pcer_services import pcer_project_approve as approve

    return _pcer_project(approve(project_id=project_id, actor=request.user))


@router.post("/pcer/projects/{project_id}/periods", response=PcerPeriodOut)
def pcer_period_submit(request, project_id: PathId, body: PcerPeriodIn):
    """The owner submits a monitoring period; the reduction is computed and stored (R0502, P0102–P0107)."""
    from .pcer_services import pcer_period_submit as submit

    return _pcer_period(submit(project_id=project_id, start=body.start, end=body.end, activity=dict(body.activity), actor=request.user))


@router.post("/pcer/periods/{period_id}/confirm", response=PcerPeriodOut)
def pcer_period_confirm(request, period_id: PathId):
    """The Beijing bureau confirms a period's reduction (R0502, P0106)."""
    from .pcer_services import pcer_period_confirm as confirm

    return _pcer_period(confirm(period_id=period_id, actor=request.user))


@router.post("/pcer/periods/{period_id}/issuance", response=ProposalRefOut)
def pcer_issuance(request, period_id: PathId):
    """A registry operator proposes the next four-eyes step of the issuance (creation, then issuance to the owner);
    a second operator approves it on the registry's proposals (R0502, P0201–P0204)."""
    from .pcer_services import pcer_issuance_propose

    p = pcer_issuance_propose(period_id=period_id, actor=request.user)
    return ProposalRefOut(id=p.pk, key=p.key, kind=p.kind, status=p.status)
