"""Allocation endpoints (mounted at ``/api/v1/allocation``): the data tables as XLSX, their import, and
objections (an entity objects; its province decides; refusals carry the check code, R0502 → 403).

Download: anyone signed in gets the tables of what they may see (organisation_scope: a provincial
authority its province, an entity itself, nationwide roles everything); ``entity`` narrows to one
entity, 404 if it is outside the caller's scope (existence not revealed). Import: national or provincial
authorities (R0502 → 403); a refused file answers 422 with every problem (file, row, field, value, zh, en)
and changes nothing.
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpResponse, JsonResponse
from django.utils.http import content_disposition_header
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile

from cets.core.errors import CetsError, InputError
from cets.core.schema import PathId, PathYear
from cets.parties.access import membership_of, organisation_scope
from cets.parties.models import Organisation
from cets.rules.markets import PRIMARY_MARKET
from cets.rules.packs import PackError

from . import selectors, services
from .workbook import tables_xlsx

router = Router(tags=["allocation"])

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


@router.get("/{year}/tables.xlsx", url_name="allocation_tables_xlsx")
def tables_download(request, year: PathYear, entity: str | None = None):
    """The four data tables (per-unit and per-entity pre-allocation and final allocation) of ``year``."""
    org = None
    if entity:
        org = Organisation.objects.filter(organisation_scope(request.user), uscc=entity).first()
        if org is None:
            raise Http404
    units, ents = selectors.allocation_table_rows(user=request.user, year=year, entity=org)
    m = membership_of(request.user)
    scope = org.name if org else (f"province {m.province}" if m and m.province else "national")
    body = tables_xlsx(year=year, scope=scope, unit_rows=units, entity_rows=ents)
    name = f"allocation-{year}-{org.uscc if org else (m.province if m and m.province else 'all')}.xlsx"
    resp = HttpResponse(body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp["Content-Disposition"] = content_disposition_header(True, name)
    return resp


class ImportOut(Schema):
    entities: int


@router.post("/{year}/tables", response=ImportOut, url_name="allocation_tables_import")
def tables_import(request, year: PathYear, pack_id: Form[str], file: File[UploadedFile]):
    """Import the pre-allocation and final entity tables of ``year`` (XLSX)."""
    if file.size and file.size > MAX_UPLOAD_BYTES:
        return JsonResponse({"code": "A0111", "message_zh": "文件过大", "message_en": "file too large"}, status=422)
    try:
        n = services.allocation_tables_import(year=year, pack_id=pack_id, data=file.read(), filename=file.name or "tables.xlsx",
                                              actor=request.user)
    except InputError as e:
        return JsonResponse({"code": "A0112", "message_zh": "数据表有误，未导入任何数据", "message_en": "the tables have errors; nothing was imported",
                             "problems": [p.__dict__ for p in e.problems]}, status=422)
    except PackError as e:
        return JsonResponse({"code": "A0113", "message_zh": "配额方案不存在", "message_en": str(e)}, status=422)
    return {"entities": n}


# ---- the bureau's approval basis (Beijing: 《北京市重点碳排放单位配额核定方法》 inputs per entity)

class BasisOut(Schema):
    entity_uscc: str
    method: str
    base: str
    activity: str
    factor: str
    prev_allocation_t: int
    prev_compliant: bool
    free_allocation_t: int | None
    pre_allocation_t: int | None
    pre_issued_t: int | None = None  # 免费配额预发 in force (proposed or executed), null if none
    pre_issue_status: str | None = None
    true_up_t: int | None = None  # final − adjustments − pre-issued (negative: returned), once computed
    issued_t: int | None = None


@router.get("/basis", response=list[BasisOut], url_name="allocation_basis")
def basis_list(request, pack_id: str, year: PathYear):
    """The approval bases of the pack's market and ``year`` in the caller's scope, with the free and pre-allocation
    once computed (tonnes CO2e, int; null before). Unknown pack: 422 A0113."""
    try:
        rows = selectors.bases_visible(user=request.user, pack_id=pack_id, year=year)
    except PackError as e:
        return JsonResponse({"code": "A0113", "message_zh": "配额方案不存在", "message_en": str(e)}, status=422)
    return [BasisOut(entity_uscc=r.entity.uscc, method=r.method, base=str(r.base), activity=str(r.activity), factor=str(r.factor),
                     prev_allocation_t=r.prev_allocation_t, prev_compliant=r.prev_compliant,
                     free_allocation_t=r.allocation.final_allocation_t if r.allocation else None,
                     pre_allocation_t=r.allocation.pre_allocation_t if r.allocation else None,
                     pre_issued_t=r.preissue.pre_issue_t if r.preissue and r.preissue.status != "rejected" else None,
                     pre_issue_status=r.preissue.status if r.preissue else None,
                     true_up_t=r.allocation.final_issue_t if r.allocation else None, issued_t=r.allocation.issued_t if r.allocation else None)
            for r in rows]


@router.post("/basis", response=ImportOut, url_name="allocation_basis_import")
def basis_import(request, pack_id: Form[str], year: Form[PathYear], file: File[UploadedFile]):
    """Record the bureau's approval basis of ``year`` from a CSV (``services.allocation_basis_import``; provincial
    authority of the entities' province, R0502 → 403). A refused file answers 422 with every problem."""
    from cets.core.tables import UploadedTable

    from .forms import MAX_BASIS_BYTES

    if file.size and file.size > MAX_BASIS_BYTES:
        return JsonResponse({"code": "A0111", "message_zh": "文件过大", "message_en": "file too large"}, status=422)
    try:
        n = services.allocation_basis_import(pack_id=pack_id, year=year, path=UploadedTable(name=(file.name or "basis.csv")[:200], data=file.read()),
                                             actor=request.user)
    except InputError as e:
        return JsonResponse({"code": "A0112", "message_zh": "数据表有误，未导入任何数据", "message_en": "the tables have errors; nothing was imported",
                             "problems": [p.__dict__ for p in e.problems[:1000]], "problem_count": len(e.problems)}, status=422)
    except PackError as e:
        return JsonResponse({"code": "A0113", "message_zh": "配额方案不存在", "message_en": str(e)}, status=422)
    return {"entities": n}


# ---- pre-issue and final issue of a pilot market's free allocation (京环发〔2024〕8号 三(三)2)

class PreIssueLineOut(Schema):
    entity_uscc: str
    prev_allocation_t: int
    prev_source: str
    prev_compliant: bool
    share: str
    rounding: str
    pre_allocation_t: int
    pre_adjustment_t: int
    pre_issue_t: int


class PreIssueIn(Schema):
    pack_id: str
    unit_type: str
    client_key: str
    effective_at: dt.datetime | None = None


class FinalIssueIn(Schema):
    market: str
    unit_type: str
    effective_at: dt.datetime | None = None


class IssuanceProposalOut(Schema):
    id: int
    key: str
    kind: str
    status: str
    lines: list[dict]
    total_t: int


class ConfirmIn(Schema):
    market: str


def _ip(p) -> IssuanceProposalOut:
    lines = p.payload.get("lines", [])
    return IssuanceProposalOut(id=p.pk, key=p.key, kind=p.kind, status=p.status, lines=lines, total_t=sum(int(ln["quantity"]) for ln in lines))


def _unit_type_or_404(code: str):
    from cets.registry.models import UnitType

    ut = UnitType.objects.filter(code=code[:80]).first()
    if ut is None:
        raise Http404
    return ut


@router.get("/{year}/preissue", response=list[PreIssueLineOut], url_name="allocation_preissue_preview")
def preissue_preview(request, year: PathYear, pack_id: str):
    """What the caller's province would pre-issue of ``year`` (provincial authority; others 403), entity by entity from
    the stored basis: the previous year's allocation and where it comes from, the pack's share and rounding, the
    pre-allocation, the adjustment deducted and the pre-issue (tonnes CO2e, int). A0303 (422) without a pre-issue basis."""
    from cets.parties.access import require_role
    from cets.parties.models import Role

    m = require_role(request.user, Role.PROVINCIAL_AUTHORITY)
    return [PreIssueLineOut(entity_uscc=ln["entity"].uscc, prev_allocation_t=ln["prev_allocation_t"], prev_source=ln["prev_source"],
                            prev_compliant=ln["prev_compliant"], share=str(ln["share"]), rounding=ln["rounding"], pre_allocation_t=ln["pre_allocation_t"],
                            pre_adjustment_t=ln["pre_adjustment_t"], pre_issue_t=ln["pre_issue_t"])
            for ln in services.preissue_preview(pack_id=pack_id, year=year, province=m.province)]


@router.post("/{year}/preissue", response=IssuanceProposalOut, url_name="allocation_preissue_propose")
def preissue_propose(request, year: PathYear, body: PreIssueIn):
    """The bureau proposes the pre-issue of ``year`` (``services.preissue_propose``; idempotent on ``client_key``): a
    second bureau user approves it with ``POST /api/v1/registry/proposals/{id}/approve`` and its TOTP code. A0301–A0307,
    R1401, R0502 (403); unknown unit type 404."""
    return _ip(services.preissue_propose(pack_id=body.pack_id, year=year, unit_type=_unit_type_or_404(body.unit_type), actor=request.user,
                                         client_key=body.client_key, effective_at=body.effective_at))


@router.post("/{year}/final-issue", response=IssuanceProposalOut, url_name="allocation_final_issue_propose")
def final_issue_propose(request, year: PathYear, body: FinalIssueIn):
    """Propose the final issue of ``year`` (``services.allocation_issue_propose`` stage final): final − adjustments −
    pre-issued per entity, negative lines returned to the market's total account. The bureau of a pilot market
    (kind ``free_allocation``) or a registry operator (kind ``issue``). A0103, A0130, A0106, R1402 (a claw-back beyond
    what the entity holds), R0502 (403)."""
    return _ip(services.allocation_issue_propose(year=year, stage="final", unit_type=_unit_type_or_404(body.unit_type), actor=request.user,
                                                 market=body.market[:16], effective_at=body.effective_at))


@router.post("/{year}/issuance/confirm", response=dict[str, int], url_name="allocation_issuance_confirm")
def issuance_confirm(request, year: PathYear, body: ConfirmIn):
    """Record the signed outcome of ``year``'s pre-issue and final issue proposals of ``market`` (provincial authority or
    registry operator; R0502 → 403). Returns ``{"preissue_<status>": n, "final_moved": n}``."""
    from cets.parties.access import require_role
    from cets.parties.models import Role

    from .checks import A0104

    require_role(request.user, Role.PROVINCIAL_AUTHORITY, Role.REGISTRY_OPERATOR)
    out = {f"preissue_{k}": v for k, v in services.preissue_confirm(market=body.market[:16], year=year).items()}
    moved = 0
    for sector in selectors.allocation_sectors(market=body.market[:16], year=year):
        try:
            moved += services.allocation_issue_confirm(year=year, stage="final", market=body.market[:16], sector=sector)
        except CetsError as e:  # A0104: nothing of that sector executed yet
            if e.check != A0104:
                raise
    out["final_moved"] = moved
    return out


# ---- objections (Measures (trial) Art. 16 ¶2)

class ObjectionIn(Schema):
    stage: str
    grounds: str


class DecisionIn(Schema):
    upheld: bool
    reason: str


class ObjectionOut(Schema):
    id: int
    entity_uscc: str
    year: int
    stage: str
    grounds: str
    filed_on: dt.date
    file_by: dt.date
    decide_by: dt.date
    decision: str
    decision_reason: str
    decided_on: dt.date | None
    decided_late: bool


def _objection_out(o) -> ObjectionOut:
    return ObjectionOut(id=o.pk, entity_uscc=o.entity.uscc, year=o.year, stage=o.stage, grounds=o.grounds, filed_on=o.filed_on,
                        file_by=o.file_by, decide_by=o.decide_by, decision=o.decision, decision_reason=o.decision_reason,
                        decided_on=o.decided_on, decided_late=o.decided_late)


@router.get("/{year}/objections", response=list[ObjectionOut], url_name="allocation_objections")
def objections_list(request, year: PathYear):
    """Objections of ``year`` that the caller may see (its scope)."""
    return [_objection_out(o) for o in selectors.objections_visible(user=request.user, year=year)]


@router.post("/{year}/objections", response=ObjectionOut, url_name="allocation_objection_file")
def objection_file(request, year: PathYear, body: ObjectionIn):
    """The caller's entity objects to its allocation (7 working days from the tables' publication)."""
    m = membership_of(request.user)
    if m is None or m.organisation is None:
        raise Http404
    return _objection_out(services.objection_file(entity=m.organisation, year=year, stage=body.stage, grounds=body.grounds, actor=request.user))


@router.post("/objections/{objection_id}/decision", response=ObjectionOut, url_name="allocation_objection_decide")
def objection_decide(request, objection_id: PathId, body: DecisionIn):
    """The province decides (复核决定); 404 if the objection is outside the caller's scope."""
    from .models import AllocationObjection

    o = AllocationObjection.objects.filter(pk=objection_id, entity__in=Organisation.objects.filter(organisation_scope(request.user))).first()
    if o is None:
        raise Http404
    return _objection_out(services.objection_decide(objection_id=o.pk, upheld=body.upheld, reason=body.reason, actor=request.user))


class SubmissionIn(Schema):
    market: str = PRIMARY_MARKET
    sector: str
    stage: str
    province: str
    submitted_on: dt.date | None = None


class SubmissionOut(Schema):
    id: int
    market: str
    sector: str
    year: int
    stage: str
    province: str
    due: dt.date | None
    submitted_on: dt.date
    late: bool
    entities: int
    total_t: int
    received_on: dt.date | None
    issue_by: dt.date | None


def _submission_out(s) -> SubmissionOut:
    return SubmissionOut(id=s.pk, market=s.market, sector=s.sector, year=s.year, stage=s.stage, province=s.province, due=s.due,
                         submitted_on=s.submitted_on, late=s.late, entities=s.entities, total_t=s.total_t, received_on=s.received_on,
                         issue_by=s.issue_by)


@router.get("/{year}/submissions", response=list[SubmissionOut], url_name="allocation_submissions")
def submissions(request, year: PathYear):
    """The table submissions of ``year`` the caller may see (a provincial authority its own; the registry and
    national authority all; others none)."""
    return [_submission_out(s) for s in selectors.submissions_visible(user=request.user, year=year)]


@router.post("/{year}/submissions", response=SubmissionOut, url_name="allocation_submission_record")
def submission_record(request, year: PathYear, body: SubmissionIn):
    """A province sends the registry its stamped data tables of a stage (A0124 nothing to submit; R0502 → 403)."""
    if body.stage not in ("pre", "final"):
        raise Http404
    return _submission_out(services.allocation_submission_record(market=body.market, sector=body.sector, year=year, stage=body.stage,
                                                                 province=body.province, actor=request.user, on=body.submitted_on))


class ReceiptIn(Schema):
    received_on: dt.date | None = None


@router.post("/submissions/{submission_id}/receipt", response=SubmissionOut, url_name="allocation_submission_receive")
def submission_receive(request, submission_id: PathId, body: ReceiptIn):
    """The registry records receipt; issuance is then due within the pack's working days (A0125, A0126)."""
    return _submission_out(services.allocation_submission_receive(submission_id=submission_id, actor=request.user, on=body.received_on))
