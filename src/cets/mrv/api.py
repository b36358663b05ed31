"""MRV endpoints (``/api/v1/mrv``): blocked verification cases and their resolution. Same scope,
checks and codes as the selectors and services."""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema

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
def blocked_cases(request, year: int | None = None, sector: str | None = None, unresolved: bool = False):
    """不符合 verification conclusions in the caller's jurisdiction; ``blocked`` until resolved (final allocation waits)."""
    return [_case(r) for r in selectors.blocked_cases(user=request.user, year=year, sector=sector, unresolved_only=unresolved)]


@router.post("/blocked-cases/{record_id}/resolve", response=BlockedCaseOut)
def resolve(request, record_id: int, body: ResolveIn):
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
def verifier_evaluations(request, year: int, province: str | None = None):
    """Published verifier evaluations (timeliness, compliance, quality as shares 0–1, exact decimal strings)."""
    return [EvaluationOut(year=e.year, province=e.province, body_uscc=e.body.uscc, body_name=e.body.name, verifications=e.verifications,
                          timeliness=_share(e.timeliness), compliance=_share(e.compliance), quality=_share(e.quality), spot_checks=e.spot_checks, flagged=e.flagged,
                          published_at=e.published_at)
            for e in selectors.verifier_evaluations(year=year, province=province)]
