"""Compliance endpoints (``/api/v1/compliance``): surrender applications and their approval,
carry-over applications and their processing. Same checks and codes as the services."""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema

from cets.parties.selectors import entity_get
from cets.registry.api import _otp

from . import carryover, services
from .models import SurrenderApplication

router = Router(tags=["compliance"])


class SurrenderIn(Schema):
    key: str
    entity_uscc: str
    year: int
    unit_type: str
    quantity: int


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
    """An entity applies to surrender units against its obligation (清缴申请); the units are held."""
    entity = entity_get(user=request.user, uscc=body.entity_uscc)
    return _out(services.surrender_submit(key=body.key, entity=entity, year=body.year, unit_type_code=body.unit_type, quantity=body.quantity,
                                          actor=request.user))


@router.post("/surrenders/{application_id}/approve", response=SurrenderOut)
def approve_surrender(request, application_id: int):
    """The entity's provincial authority confirms the surrender."""
    return _out(services.surrender_approve(application_id=application_id, approver=request.user))


@router.post("/surrenders/{application_id}/reject", response=SurrenderOut)
def reject_surrender(request, application_id: int):
    return _out(services.surrender_reject(application_id=application_id, approver=request.user))


class CarryOverIn(Schema):
    key: str
    entity_uscc: str
    unit_type: str
    quantity: int


@router.get("/carry-over/{uscc}", response=dict)
def carry_over_position(request, uscc: str):
    """Net sales, holdings at the cut-off, limit T and what is applied for (plan 附5)."""
    from cets.rules.packs import load_pack

    p = carryover.carry_over_position(entity=entity_get(user=request.user, uscc=uscc), pack=load_pack("national/power-2023-2024"))
    return {"net_sales_t": p.net_sales_t, "holdings_t": p.holdings_t, "limit_t": p.limit_t, "applied_t": p.applied_t,
            "remaining_t": p.remaining_t}


@router.post("/carry-over", response=dict)
def carry_over_apply(request, body: CarryOverIn):
    a = carryover.carry_over_apply(key=body.key, entity=entity_get(user=request.user, uscc=body.entity_uscc), unit_type_code=body.unit_type,
                                   quantity=body.quantity, actor=request.user)
    return {"key": a.key, "status": a.status, "quantity_t": a.quantity}


class ProcessIn(Schema):
    cutoff: dt.date


@router.post("/carry-over/process", response=dict)
def carry_over_process(request, body: ProcessIn):
    """Process the applications submitted up to ``cutoff`` (registry operators, TOTP)."""
    _otp(request)
    return carryover.carry_over_process(cutoff=body.cutoff, actor=request.user)
