"""Beijing carbon-inclusion (碳普惠) projects: registration by the owner, approval by the Beijing bureau, monitoring
periods computed by the methodology's calculator (:mod:`cets.mrv.pcer`) and confirmed by the bureau (京环发〔2024〕8号
三(三) "经审定签发的项目减排量可按相关规定用于碳排放抵销"). Issuance of the confirmed reduction is the registry's
four-eyes path (``vintage_create_propose`` + ``issuance_propose``), never here. Keyword-only, one transaction each;
R0502 for the wrong role, P0101–P0107, P0201–P0205."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from cets.core.errors import CetsError
from cets.parties.access import require_role
from cets.parties.checks import DENIED
from cets.parties.models import Role
from cets.rules.packs import load_pack

from .checks import P0101, P0105, P0106, P0107, P0201, P0202, P0203, P0204, P0205
from .models import PcerPeriod, PcerProject
from .pcer import METHODOLOGIES, compute

PACK = "beijing/pcer-2023-2026"


def bureau_province() -> str:
    """The GB/T 2260 province whose provincial-level authority approves projects and confirms reductions (the PCER
    pack's ``pcer.bureau_province``: Beijing's municipal bureau, seed 004 三(三))."""
    return load_pack(PACK).text("pcer.bureau_province")
OWNER_ROLES = (Role.ENTITY, Role.TRADER)  # a project owner is a key emitter or another account holder (institution)


@transaction.atomic
def pcer_project_register(*, owner, name: str, methodology: str, location: str, actor) -> PcerProject:
    """The owner's user registers a project (P0101 unknown methodology, P0205 empty name or location)."""
    m = require_role(actor, *OWNER_ROLES)
    if m.organisation_id != owner.pk:
        raise CetsError(DENIED, "not the owner")
    if methodology not in METHODOLOGIES:
        raise CetsError(P0101, str(methodology)[:40])
    name, location = str(name).strip(), str(location).strip()
    if not name or not location:
        raise CetsError(P0205, "name/location")
    return PcerProject.objects.create(owner=owner, name=name[:200], methodology=methodology, location=location[:200])


@transaction.atomic
def pcer_project_approve(*, project_id: int, actor) -> PcerProject:
    """The Beijing bureau approves (备案) a registration (P0106 already approved)."""
    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=bureau_province())
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
    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=bureau_province())
    q = PcerPeriod.objects.select_for_update().get(pk=period_id)
    if q.status != PcerPeriod.Status.SUBMITTED:
        raise CetsError(P0106, str(q.pk))
    q.status, q.confirmed_by = PcerPeriod.Status.CONFIRMED, actor
    q.save(update_fields=["status", "confirmed_by"])
    return q


def _step_key(q: PcerPeriod, step: str, previous) -> str:
    return f"pcer-{step}-{q.pk}" if previous is None else f"pcer-{step}-{q.pk}-after-{previous.pk}"


@transaction.atomic
def pcer_issuance_propose(*, period_id: int, actor, effective_at: dt.datetime | None = None):
    """A registry operator proposes the next four-eyes step of a confirmed period's issuance and returns the
    :class:`~cets.registry.models.Proposal`: first creating the reduction as ``PCER-{vintage}`` units (vintage = the
    year the period ends) in the market's total account (``vintage_create``), then — once a second operator approved
    that — issuing them to the owner's account in PCER's market (``issue``). A rejected step may be proposed again;
    ``effective_at`` dates the step's ledger entries (a replayed year), else the approval's moment.
    R0502 unless a registry operator; P0201 period not confirmed; P0202 a step awaits approval or already issued;
    P0203 the owner has no account in that market; P0204 a zero reduction. Source: 京环发〔2024〕8号 三(三)
    "经审定签发的项目减排量可按相关规定用于碳排放抵销"."""
    from cets.registry.models import Account, Instrument, Proposal, UnitType
    from cets.registry.services import INSTRUMENT_MARKET
    from cets.registry.services.issuance import IssuanceLine, issuance_propose
    from cets.registry.services.operator import vintage_create_propose

    require_role(actor, Role.REGISTRY_OPERATOR)
    q = PcerPeriod.objects.select_for_update(of=("self",)).select_related("project", "create_proposal", "issue_proposal").get(pk=period_id)
    if q.status != PcerPeriod.Status.CONFIRMED:
        raise CetsError(P0201, str(q.pk))
    if q.reduction_t == 0:
        raise CetsError(P0204, str(q.pk))
    market = INSTRUMENT_MARKET[Instrument.PCER]
    account = Account.objects.filter(holder_id=q.project.owner_id, market=market).first()
    if account is None:
        raise CetsError(P0203, q.project.owner.name[:40])
    vintage = str(q.end.year)
    ref = f"PCER project {q.project.pk} period {q.start}–{q.end}"
    created, issued = q.create_proposal, q.issue_proposal
    if created is None or created.status == Proposal.Status.REJECTED:
        p = vintage_create_propose(key=_step_key(q, "create", created), instrument=Instrument.PCER, vintage=vintage, cap_t=q.reduction_t,
                                   actor=actor, reference=ref, effective_at=effective_at)
        q.create_proposal = p
        q.save(update_fields=["create_proposal"])
        return p
    if created.status != Proposal.Status.EXECUTED or (issued is not None and issued.status != Proposal.Status.REJECTED):
        raise CetsError(P0202, str(q.pk))
    ut = UnitType.objects.get(code=created.result["unit_type"])
    p = issuance_propose(key=_step_key(q, "issue", issued), unit_type=ut, lines=[IssuanceLine(account=account.number, quantity=q.reduction_t, reference=ref)],
                         actor=actor, effective_at=effective_at)
    q.issue_proposal = p
    q.save(update_fields=["issue_proposal"])
    return p
