"""General reporting units (一般报告单位) of a pilot market: their annual emission report and the district bureau's
data-quality check (京环发〔2024〕8号 三(一)2: "一般报告单位须于2024年7月15日前，通过管理平台向区生态环境部门报送2023年度碳排放
报告。各区生态环境部门须在报送截止日起30个自然日内完成数据质量检查工作").

A general reporting unit is an entity on the market's list of the year with ``category = general_reporting``
(:class:`cets.parties.models.EmitterListEntry`): it reports, it is allocated nothing and owes nothing. Both dates
come from the market's cycle pack: the step whose event is ``general_reports`` (the filing date) and
``general_reports_check`` (the check's date). The notice names no content of the report beyond the year's emissions,
so the report is the year, the total in tonnes CO2e (int) and the evidence file (name and SHA-256; the file itself
is not stored).

Services (keyword-only, one transaction, authorisation inside): :func:`general_report_submit` (the unit's user),
:func:`general_report_check` (the district authority of the unit's GB/T 2260 ``region_code``). Reads:
:func:`general_reports_for`, :func:`general_report_of`.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.db import transaction
from django.utils import timezone

from cets.core.errors import CetsError
from cets.core.uploads import document_type
from cets.parties.access import DENIED, district_of, membership_of, require_role
from cets.parties.models import EmitterListEntry, Organisation, Role

from .checks import M0501, M0502, M0503, M0504, M0505, M0506, M0507
from .models import GeneralReport

SUBMIT_EVENT, CHECK_EVENT = "general_reports", "general_reports_check"


def general_report_dates(*, market: str, year: int) -> tuple[dt.date, dt.date]:
    """(filing date, check date) of ``market``'s ``year`` from its cycle pack (steps with the events
    ``general_reports`` and ``general_reports_check``); M0507 if the pack has neither or no cycle pack exists."""
    from cets.rules.cycle import cycle_steps
    from cets.rules.packs import PackError

    try:
        steps = {s.event: s.due for s in cycle_steps(market, year)}
    except PackError:
        steps = {}
    if SUBMIT_EVENT not in steps or CHECK_EVENT not in steps:
        raise CetsError(M0507, f"{market} {year}")
    return steps[SUBMIT_EVENT], steps[CHECK_EVENT]


def is_general_reporting(*, entity: Organisation, market: str, year: int) -> bool:
    """Whether ``entity`` is an included general reporting unit of ``market``'s ``year`` list."""
    return EmitterListEntry.objects.filter(market=market, year=year, entity=entity, included=True,
                                           category=EmitterListEntry.GENERAL_REPORTING).exists()


@transaction.atomic
def general_report_submit(*, entity: Organisation, market: str, year: int, emissions_t: int, evidence_name: str, evidence: bytes,
                          actor, on: dt.date | None = None) -> GeneralReport:
    """File (or, after a return, file again) the unit's ``year`` report: ``emissions_t`` tonnes CO2e (int ≥ 0),
    ``evidence`` the file's bytes (PDF, JPEG or PNG, ≤ 5 MiB; kept as ``evidence_name`` and its SHA-256). ``on`` the
    filing day (default today, Asia/Shanghai); filed after the pack's date it is flagged ``late``.

    Refusals: R0502 unless ``actor`` is the unit's own entity user; M0501 not a general reporting unit of the year's
    list; M0502 emissions not an int ≥ 0 (a bool is refused); M0503 evidence not a PDF/JPEG/PNG of ≤ 5 MiB or no name;
    M0504 already accepted; M0507 no dates in the cycle pack."""
    m = require_role(actor, Role.ENTITY)
    if m.organisation_id != entity.pk:
        raise CetsError(DENIED, f"{entity.uscc} is not the actor's organisation")
    if not is_general_reporting(entity=entity, market=market, year=year):
        raise CetsError(M0501, f"{entity.uscc} {market} {year}")
    if type(emissions_t) is not int or emissions_t < 0 or emissions_t > 10**15:
        raise CetsError(M0502, repr(emissions_t)[:40])
    name = (evidence_name or "").strip()[:200]
    if not name or not isinstance(evidence, bytes | bytearray) or document_type(bytes(evidence)) is None:
        raise CetsError(M0503, name[:60])
    due, check_due = general_report_dates(market=market, year=year)
    on = on or timezone.localdate()
    report = GeneralReport.objects.select_for_update().filter(market=market, year=year, entity=entity).first()
    if report is not None and report.status == GeneralReport.Status.ACCEPTED:
        raise CetsError(M0504, f"{entity.uscc} {year}")
    fields = {"emissions_t": emissions_t, "evidence_name": name, "evidence_sha256": hashlib.sha256(bytes(evidence)).hexdigest(), "due_on": due,
              "submitted_on": on, "submitted_by": actor, "late": on > due, "status": GeneralReport.Status.SUBMITTED, "check_due_on": check_due,
              "checked_on": None, "checked_by": None}
    if report is None:
        return GeneralReport.objects.create(market=market, year=year, entity=entity, **fields)
    for k, v in fields.items():
        setattr(report, k, v)
    report.save()
    return report


@transaction.atomic
def general_report_check(*, report_id: int, accept: bool, comment: str = "", actor, on: dt.date | None = None) -> GeneralReport:
    """The district bureau's data-quality check of a filed report: accept, or return with ``comment`` (the unit then
    files again). ``on`` the day (default today); the check is due ``check_due_on`` (the pack's date).

    Refusals: R0502 unless ``actor`` is the district authority whose district (GB/T 2260) is the unit's
    ``region_code``; M0505 no such report or none awaiting the check; M0506 a return without a comment."""
    report = GeneralReport.objects.select_for_update().select_related("entity").filter(pk=report_id).first()
    if report is None:
        raise CetsError(M0505, str(report_id))
    e = report.entity
    require_role(actor, Role.DISTRICT_AUTHORITY, province=e.province, region_code=district_of(e))
    if report.status != GeneralReport.Status.SUBMITTED:
        raise CetsError(M0505, f"{e.uscc} {report.year} {report.status}")
    if not isinstance(accept, bool):
        raise CetsError(M0505, "accept")
    comment = (comment or "").strip()
    if not accept and not comment:
        raise CetsError(M0506, f"{e.uscc} {report.year}")
    report.status = GeneralReport.Status.ACCEPTED if accept else GeneralReport.Status.RETURNED
    report.comment = comment[:500]
    report.checked_on = on or timezone.localdate()
    report.checked_by = actor
    report.save()
    return report


def general_duties_of(*, user) -> list[tuple[str, int, GeneralReport | None]]:
    """For an entity user: ``(market, year, report or None)`` of every year its organisation is a general reporting unit
    on a list, newest first; empty for anyone else."""
    m = membership_of(user)
    if m is None or m.role != Role.ENTITY:
        return []
    pairs = sorted(set(EmitterListEntry.objects.filter(entity_id=m.organisation_id, included=True, category=EmitterListEntry.GENERAL_REPORTING)
                       .values_list("market", "year")), key=lambda p: (-p[1], p[0]))
    reports = {(r.market, r.year): r for r in GeneralReport.objects.filter(entity_id=m.organisation_id)}
    return [(mk, y, reports.get((mk, y))) for mk, y in pairs]


def general_report_of(*, user, market: str, year: int) -> tuple[bool, GeneralReport | None]:
    """For an entity user: (whether its organisation is a general reporting unit of the year's list, its report or None)."""
    m = membership_of(user)
    if m is None or m.role != Role.ENTITY:
        return False, None
    org = m.organisation
    return (is_general_reporting(entity=org, market=market, year=year),
            GeneralReport.objects.filter(market=market, year=year, entity=org).first())


def general_reports_for(*, user, market: str | None = None, year: int | None = None):
    """The general reporting units' reports a district authority checks: those of units whose ``region_code`` is its
    district (province- and national-level readers see their jurisdiction through ``organisation_scope``); others none.
    Awaiting the check first, then by credit code."""
    from cets.parties.access import organisation_scope

    m = membership_of(user)
    if m is None or m.role not in (Role.DISTRICT_AUTHORITY, Role.PROVINCIAL_AUTHORITY, Role.NATIONAL_AUTHORITY):
        return GeneralReport.objects.none()
    qs = GeneralReport.objects.filter(entity__in=Organisation.objects.filter(organisation_scope(user))).select_related("entity")
    if market:
        qs = qs.filter(market=market)
    if year is not None:
        qs = qs.filter(year=year)
    return qs.order_by("-status", "entity__uscc")  # "submitted" sorts before "returned" and "accepted" reversed
