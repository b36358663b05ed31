"""Compliance endpoints (``/api/v1/compliance``): surrender applications and their approval,
carry-over applications and their processing. Same checks and codes as the services."""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema
from pydantic import Field

from cets.core.errors import CetsError
from cets.core.schema import DecimalText, Fen, ObjectId, PathId, PathYear, SignedTonnes, Tonnes, Year
from cets.parties.access import require_second_factor
from cets.parties.selectors import entity_get
from cets.registry.api import ProposalOut, _otp, _proposal_out
from cets.registry.checks import R0101

from . import services
from .models import SurrenderApplication

router = Router(tags=["compliance"])


class SurrenderIn(Schema):
    key: str
    entity_uscc: str
    year: Year
    unit_type: str
    quantity: Tonnes


class SurrenderOut(Schema):
    id: int
    key: str
    unit_type: str
    quantity_t: int
    status: str
    submitted_at: dt.datetime
    decided_at: dt.datetime | None


def _out(a: SurrenderApplication) -> SurrenderOut:
    return SurrenderOut(id=a.pk, key=a.key, unit_type=a.unit_type.code, quantity_t=a.quantity, status=a.status, submitted_at=a.submitted_at,
                        decided_at=a.decided_at)


@router.post("/surrenders", response=SurrenderOut)
def surrender(request, body: SurrenderIn):
    """An entity applies to surrender units against its obligation (清缴申请); the units are held. L0201 without a
    verified second factor."""
    require_second_factor(request.user)
    entity = entity_get(user=request.user, uscc=body.entity_uscc)
    return _out(services.surrender_submit(key=body.key, entity=entity, year=body.year, unit_type_code=body.unit_type, quantity=body.quantity,
                                          actor=request.user))


@router.post("/surrenders/{application_id}/approve", response=SurrenderOut)
def approve_surrender(request, application_id: PathId):
    """The entity's provincial authority confirms the surrender (L0201 without a verified second factor)."""
    require_second_factor(request.user)
    return _out(services.surrender_approve(application_id=application_id, approver=request.user))


@router.post("/surrenders/{application_id}/reject", response=SurrenderOut)
def reject_surrender(request, application_id: PathId):
    require_second_factor(request.user)
    return _out(services.surrender_reject(application_id=application_id, approver=request.user))


class NoticeOut(Schema):
    id: int
    number: str
    obligation_id: int
    delivered_to: str
    forwarded_at: dt.datetime | None


class CertificateOut(Schema):
    id: int
    number: str
    obligation_id: int
    outcome: str
    surrendered_t: int
    issued_at: dt.datetime


@router.post("/notices/{notice_id}/forward", response=NoticeOut)
def notice_forward(request, notice_id: PathId):
    """The entity's provincial authority forwards a compliance notice delivered to the province (notice of 2023-07-17
    §一): L0201 without a verified second factor, R0502 another province or role, R0606 no such notice, C0902 delivered to
    the entity directly. Idempotent (the first forwarding time stays)."""
    require_second_factor(request.user)
    n = services.compliance_notice_forward(notice_id=notice_id, actor=request.user)
    return NoticeOut(id=n.pk, number=n.number, obligation_id=n.obligation_id, delivered_to=n.delivered_to, forwarded_at=n.forwarded_at)


@router.post("/obligations/{obligation_id}/certificate", response=CertificateOut)
def certificate_issue(request, obligation_id: PathId):
    """The registry issues the compliance certificate (履约完成证明, notice 国环规气候〔2024〕1号 §四(四)) of an obligation
    surrendered in full: L0201 without a verified second factor, R0502 not a registry operator, R0606 no such
    obligation, C0901 still outstanding. Idempotent (returns the certificate already issued)."""
    require_second_factor(request.user)
    c = services.compliance_certificate_issue(obligation_id=obligation_id, actor=request.user)
    return CertificateOut(id=c.pk, number=c.number, obligation_id=c.obligation_id, outcome=c.outcome, surrendered_t=c.surrendered_t, issued_at=c.issued_at)


class CarryOverIn(Schema):
    key: str
    entity_uscc: str
    unit_type: str
    quantity: Tonnes


@router.get("/carry-over/{uscc}", response=dict)
def carry_over_position(request, uscc: str):
    """Net sales, holdings at the cut-off, limit T and what is applied for (plan 附5)."""
    from cets.rules.packs import load_pack

    p = services.carry_over_position(entity=entity_get(user=request.user, uscc=uscc), pack=load_pack("national/power-2023-2024"))
    return {"net_sales_t": p.net_sales_t, "holdings_t": p.holdings_t, "limit_t": p.limit_t, "applied_t": p.applied_t,
            "remaining_t": p.remaining_t}


@router.post("/carry-over", response=dict)
def carry_over_apply(request, body: CarryOverIn):
    a = services.carry_over_apply(key=body.key, entity=entity_get(user=request.user, uscc=body.entity_uscc), unit_type_code=body.unit_type,
                                   quantity=body.quantity, actor=request.user)
    return {"key": a.key, "status": a.status, "quantity_t": a.quantity}


class ProcessIn(Schema):
    cutoff: dt.date


@router.post("/carry-over/process", response=dict)
def carry_over_process(request, body: ProcessIn):
    """Process the applications submitted up to ``cutoff`` (registry operators, TOTP)."""
    _otp(request)
    return services.carry_over_process(cutoff=body.cutoff, actor=request.user)


# ---------------------------------------------------------------- non-compliance

class RectificationIn(Schema):
    obligation_id: ObjectId
    reference: str
    deadline: dt.date | None = None


@router.post("/rectifications", response=dict)
def rectification(request, body: RectificationIn):
    """责令限期改正 by the municipal or provincial authority (Regulations Art. 24); deadline from the pack."""
    o = services.rectification_order_issue(obligation_id=body.obligation_id, reference=body.reference, deadline=body.deadline, actor=request.user)
    return {"id": o.pk, "deadline": o.deadline.isoformat(), "unsurrendered_t": o.unsurrendered_t}


class PenaltyIn(Schema):
    obligation_id: ObjectId
    reference: str
    reason: str
    multiple: DecimalText | None = None
    amount_fen: Fen | None = None


def _penalty_out(d) -> dict:
    return {"id": d.pk, "basis": d.basis, "unsurrendered_t": d.unsurrendered_t, "price_fen": d.price_fen,
            "price_from": d.price_from.isoformat() if d.price_from else None, "price_to": d.price_to.isoformat() if d.price_to else None,
            "multiple": str(d.multiple) if d.multiple is not None else None, "min_fen": d.min_fen, "max_fen": d.max_fen, "fine_fen": d.fine_fen,
            "published_at": d.published_at.isoformat() if d.published_at else None}


@router.get("/penalties/range/{obligation_id}", response=dict)
def penalty_range(request, obligation_id: PathId):
    """The lawful fine range (fen) and the price it rests on, for the authority deciding (no write)."""
    from cets.parties.access import district_of, require_role
    from cets.rules.packs import load_pack

    from .models import Obligation

    ob = Obligation.objects.select_related("entity").filter(pk=obligation_id).first()
    if ob is None:
        from django.http import Http404
        raise Http404
    pack = load_pack(ob.pack_id)
    require_role(request.user, *pack.raw("penalty.authorities"), province=ob.entity.province, region_code=district_of(ob.entity))
    q, price, rng = services.penalty_range(obligation=ob, pack=pack)
    return {"basis": rng.basis, "unsurrendered_t": q, "price_fen": price.price_fen if price else None, "min_fen": rng.min_fen, "max_fen": rng.max_fen}


@router.post("/penalties", response=dict)
def penalty(request, body: PenaltyIn):
    """Decide the fine (Art. 24: multiple 5–10 and its reason; Measures Art. 40: amount in fen)."""
    return _penalty_out(services.penalty_decide(obligation_id=body.obligation_id, reference=body.reference, reason=body.reason,
                                                multiple=body.multiple, amount_fen=body.amount_fen, actor=request.user))


@router.post("/penalties/{decision_id}/publish", response=dict)
def penalty_publish(request, decision_id: PathId):
    return _penalty_out(services.penalty_publish(decision_id=decision_id, actor=request.user))


class DeductionIn(Schema):
    obligation_id: ObjectId


@router.post("/deductions", response=dict)
def deduction(request, body: DeductionIn):
    """核减 of the unsurrendered quantity from next year's allocation (provincial authority)."""
    a = services.arrears_deduction_decide(obligation_id=body.obligation_id, actor=request.user)
    return {"id": a.pk, "year": a.year, "quantity_t": a.quantity_t, "kind": a.kind}


# ---------------------------------------------------------------- borrowing and relief

class BorrowingIn(Schema):
    entity_uscc: str
    year: Year
    quantity_t: Tonnes
    documents: list[str]


@router.post("/borrowings", response=dict)
def borrowing(request, body: BorrowingIn):
    """预支 submitted by the entity's provincial authority with its documents (2021–2022 rules)."""
    b = services.borrowing_submit(entity=entity_get(user=request.user, uscc=body.entity_uscc), year=body.year, quantity_t=body.quantity_t,
                                  documents=body.documents, actor=request.user)
    return {"id": b.pk, "gap_t": b.gap_t, "limit_t": b.limit_t, "quantity_t": b.quantity_t, "from_vintage": b.from_vintage}


class ReliefIn(Schema):
    obligation_id: ObjectId
    grounds: str
    documents: list[str]
    effect: str
    new_deadline: dt.date | None = None
    quantity_t: Tonnes | None = None
    deferred_source: str = ""


@router.post("/reliefs", response=dict)
def relief(request, body: ReliefIn):
    """个性化纾困 application by the provincial authority."""
    a = services.relief_apply(actor=request.user, **body.dict())
    return {"id": a.pk, "status": a.status, "effect": a.effect}


class ReliefDecisionIn(Schema):
    approve: bool
    decision: str


@router.post("/reliefs/{application_id}/decide", response=dict)
def relief_decision(request, application_id: PathId, body: ReliefDecisionIn):
    """The national authority decides a relief application."""
    a = services.relief_decide(application_id=application_id, approve=body.approve, decision=body.decision, actor=request.user)
    return {"id": a.pk, "status": a.status, "effect": a.effect}


# ---------------------------------------------------------------- Beijing pilot (北京试点)

class BeijingObligationIn(Schema):
    entity_uscc: str
    verified_emissions_t: SignedTonnes
    allocation_t: SignedTonnes | None = None


class BeijingObligationsIn(Schema):
    year: Year
    pack_id: str = "beijing/compliance-2023-2024"
    rows: list[BeijingObligationIn]


@router.post("/beijing/obligations", response=dict)
def beijing_obligations(request, body: BeijingObligationsIn):
    """The Beijing bureau records the year's obligations with their offset caps from the pack (tonnes CO2e);
    every bad row is listed and nothing is written."""
    from django.http import JsonResponse

    from cets.core.errors import InputError

    from .checks import C1007

    rows = [services.BeijingObligationRow(r.entity_uscc, r.verified_emissions_t, r.allocation_t) for r in body.rows]
    try:
        n = services.beijing_obligations_create(year=body.year, pack_id=body.pack_id, rows=rows, actor=request.user)
    except InputError as e:
        return JsonResponse({"code": C1007.code, "message_zh": C1007.zh, "message_en": C1007.en, "problems": [p.__dict__ for p in e.problems]},
                            status=422)
    return {"created": n}


class CollectionIn(Schema):
    key: str
    year: Year
    pack_id: str = "beijing/compliance-2023-2024"


@router.post("/beijing/collection", response=dict)
def beijing_collection(request, body: CollectionIn):
    """A registry operator (TOTP-verified session) proposes the automatic collection (on or after the deadline), now; a second
    operator approves it at ``/api/v1/registry/proposals/{id}/approve`` (four eyes)."""
    _otp(request)
    p = services.collection_propose(key=body.key, pack_id=body.pack_id, year=body.year, actor=request.user)
    return {"id": p.pk, "key": p.key, "kind": p.kind, "status": p.status, "payload": p.payload}


class ForcedSurrenderIn(Schema):
    key: str
    entity_uscc: str
    year: Year
    instruction_ref: str


@router.post("/forced-surrender", response=ProposalOut)
def propose_forced_surrender(request, body: ForcedSurrenderIn):
    """Forced surrender (强制履约) from the provincial account on the province's instruction: a registry
    operator proposes, a second one approves (four eyes). R0101 unknown entity, R0505 without TOTP."""
    from cets.parties.models import Organisation

    _otp(request)
    entity = Organisation.objects.filter(uscc=body.entity_uscc, kind=Organisation.Kind.ENTITY).first()
    if entity is None:
        raise CetsError(R0101, body.entity_uscc)
    return _proposal_out(services.forced_surrender_propose(key=body.key, entity=entity, year=body.year, instruction_ref=body.instruction_ref,
                                                           actor=request.user))


class MissingReportOut(Schema):
    """A report not filed by its due date (京环发〔2024〕8号 五(二)) and its enforcement, if any (fine in fen)."""

    entity_uscc: str
    entity_name: str
    category: str
    duty: str
    due_on: dt.date
    reported_on: dt.date | None
    enforcement_id: int | None
    status: str
    correct_by: dt.date | None
    fine_fen: int | None


class ReportingOrderIn(Schema):
    entity_uscc: str = Field(max_length=18)
    duty: str = Field(max_length=40)
    correct_by: dt.date
    reference: str = Field(min_length=1, max_length=120)


class ReportingFineIn(Schema):
    fine_fen: Fen
    reference: str = Field(min_length=1, max_length=120)


class ReportingEnforcementOut(Schema):
    id: int
    entity_uscc: str
    duty: str
    due_on: dt.date
    ordered_on: dt.date
    correct_by: dt.date
    order_reference: str
    status: str
    fine_fen: int | None
    fine_reference: str


def _enforcement(r) -> ReportingEnforcementOut:
    return ReportingEnforcementOut(id=r.pk, entity_uscc=r.entity.uscc or "", duty=r.duty, due_on=r.due_on, ordered_on=r.ordered_on, correct_by=r.correct_by,
                                   order_reference=r.order_reference, status=r.status, fine_fen=r.fine_fen, fine_reference=r.fine_reference)


@router.get("/reporting/{market}/{year}", response=list[MissingReportOut])
def reporting_missing(request, market: str, year: PathYear):
    """Reports of the year not filed by their due date, for the listed units in the caller's jurisdiction."""
    from .services.reporting import reporting_missing as missing

    return [MissingReportOut(entity_uscc=m.entity.uscc or "", entity_name=m.entity.name, category=m.category, duty=m.duty, due_on=m.due_on,
                             reported_on=m.reported_on, enforcement_id=m.enforcement.pk if m.enforcement else None,
                             status=m.enforcement.status if m.enforcement else "missing", correct_by=m.enforcement.correct_by if m.enforcement else None,
                             fine_fen=m.enforcement.fine_fen if m.enforcement else None)
            for m in missing(user=request.user, market=market[:16], year=year)]


@router.post("/reporting/{market}/{year}/orders", response=ReportingEnforcementOut)
def reporting_order(request, market: str, year: PathYear, body: ReportingOrderIn):
    """责令限期改正 (R0502, C1201–C1204); the unit is found by credit code within the caller's jurisdiction (404)."""
    from .services.reporting import reporting_order as order

    require_second_factor(request.user)
    org = entity_get(user=request.user, uscc=body.entity_uscc)
    return _enforcement(order(entity_id=org.pk, market=market[:16], year=year, duty=body.duty, correct_by=body.correct_by, reference=body.reference,
                              actor=request.user))


@router.post("/reporting-enforcements/{enforcement_id}/fine", response=ReportingEnforcementOut)
def reporting_fine(request, enforcement_id: PathId, body: ReportingFineIn):
    """The fine for a report still missing after the correction deadline, in fen within the pack's range (R0502, C1204–C1208)."""
    from .services.reporting import reporting_fine_decide

    require_second_factor(request.user)
    return _enforcement(reporting_fine_decide(enforcement_id=enforcement_id, fine_fen=body.fine_fen, reference=body.reference, actor=request.user))
