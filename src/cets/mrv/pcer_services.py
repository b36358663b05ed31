"""Beijing carbon-inclusion (碳普惠) projects: registration by the owner, approval by the Beijing bureau, monitoring
periods computed by the methodology's calculator (:mod:`cets.mrv.pcer`) and confirmed by the bureau (京环发〔2024〕8号
三(三) "经审定签发的项目减排量可按相关规定用于碳排放抵销"). Issuance of the confirmed reduction is the registry's
four-eyes path (``vintage_create_propose`` + ``issuance_propose``), never here. Keyword-only, one transaction each;
R0502 for the wrong role, P0101–P0107."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from cets.core.errors import CetsError
from cets.parties.access import require_role
from cets.parties.checks import DENIED
from cets.parties.models import Role
from cets.rules.packs import load_pack

from .checks import P0101, P0105, P0106, P0107
from .models import PcerPeriod, PcerProject
from .pcer import METHODOLOGIES, compute

PACK = "beijing/pcer-2023-2026"
BEIJING = "11"
OWNER_ROLES = (Role.ENTITY, Role.TRADER)  # a project owner is a key emitter or another account holder (institution)


@transaction.atomic
def pcer_project_register(*, owner, name: str, methodology: str, location: str, actor) -> PcerProject:
    """The owner's user registers a project (P0101 unknown methodology)."""
    m = require_role(actor, *OWNER_ROLES)
    if m.organisation_id != owner.pk:
        raise CetsError(DENIED, "not the owner")
    if methodology not in METHODOLOGIES:
        raise CetsError(P0101, str(methodology)[:40])
    return PcerProject.objects.create(owner=owner, name=name[:200], methodology=methodology, location=location[:200])


@transaction.atomic
def pcer_project_approve(*, project_id: int, actor) -> PcerProject:
    """The Beijing bureau approves (备案) a registration (P0106 already approved)."""
    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=BEIJING)
    p = PcerProject.objects.select_for_update().get(pk=project_id)
    if p.status != PcerProject.Status.SUBMITTED:
        raise CetsError(P0106, str(p.pk))
    p.status, p.approved_by = PcerProject.Status.APPROVED, actor
    p.save(update_fields=["status", "approved_by"])
    return p


@transaction.atomic
def pcer_period_submit(*, project_id: int, start: dt.date, end: dt.date, activity: dict, actor) -> PcerPeriod:
    """The owner submits a monitoring period's activity data; the reduction is computed by the pack's calculator
    (P0101–P0104), P0105 project not approved, P0107 end before start."""
    p = PcerProject.objects.select_for_update().get(pk=project_id)
    m = require_role(actor, *OWNER_ROLES)
    if m.organisation_id != p.owner_id:
        raise CetsError(DENIED, "not the owner")
    if p.status != PcerProject.Status.APPROVED:
        raise CetsError(P0105, str(p.pk))
    if end < start:
        raise CetsError(P0107, f"{start}–{end}")
    if PcerPeriod.objects.filter(project=p, start=start).exists():
        raise CetsError(P0106, str(start))
    pack = load_pack(PACK)
    r = compute(pack, p.methodology, activity)
    return PcerPeriod.objects.create(project=p, start=start, end=end, activity=dict(activity), pack_id=pack.id, pack_sha256=pack.sha256,
                                     reduction_t=r.reduction_t)


@transaction.atomic
def pcer_period_confirm(*, period_id: int, actor) -> PcerPeriod:
    """The Beijing bureau confirms a period's reduction (P0106 already confirmed); issuance follows by four eyes."""
    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=BEIJING)
    q = PcerPeriod.objects.select_for_update().get(pk=period_id)
    if q.status != PcerPeriod.Status.SUBMITTED:
        raise CetsError(P0106, str(q.pk))
    q.status, q.confirmed_by = PcerPeriod.Status.CONFIRMED, actor
    q.save(update_fields=["status", "confirmed_by"])
    return q
