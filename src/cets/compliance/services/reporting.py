"""Units that do not report (未按规定报送碳排放报告、核查报告): 京环发〔2024〕8号 (seed 004) 五(二) "对未按规定报送碳排放报告、
核查报告和逾期未清缴的碳排放单位，将依法处理", read with the Beijing rule of cn-ets-rules.md §7.2: the authority orders the
unit to correct within a deadline (责令限期改正) and, if it does not, fines it up to CNY 50,000 (pack
``reporting_penalty``). It applies to key emitting units (the emission report and the verification report) and to
general reporting units (their report), per the list's category; the due dates are the cycle pack's.

Reads: :func:`reporting_missing`. Writes (keyword-only, one transaction): :func:`reporting_order`,
:func:`reporting_fine_decide`. Refusals: R0502 outside the authority's jurisdiction, C1201–C1208."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cets.core.errors import CetsError
from cets.parties.access import district_of, organisation_scope, require_role
from cets.parties.models import Organisation
from cets.rules.packs import PackError, load_pack, pack_for

from ..checks import C1201, C1202, C1203, C1204, C1205, C1206, C1207, C1208
from ..models import ReportingEnforcement


@dataclass(frozen=True)
class MissingReport:
    """One report a listed unit owes: ``duty`` (cycle event), its due date, the day it was filed (None if not) and
    the enforcement record if any."""

    entity: Organisation
    category: str
    sector: str
    duty: str
    due_on: dt.date
    reported_on: dt.date | None
    enforcement: ReportingEnforcement | None

    @property
    def missed(self) -> bool:
        return self.reported_on is None or self.reported_on > self.due_on


def _pack(market: str, year: int, sector: str = ""):
    try:
        pack = pack_for(market, sector, year, kind="compliance")
    except PackError:
        return None
    return pack if "reporting_penalty" in pack.data else None


def reported_on(*, entity_id: int, market: str, year: int, duty: str) -> dt.date | None:
    """The day the unit filed the report of ``duty`` (a signed emission report, a completed regular verification, a
    general report not returned), or None."""
    from cets.mrv.models import AnnualReport, GeneralReport, VerificationAssignment

    if duty == "annual_reports":
        days = AnnualReport.objects.filter(entity_id=entity_id, market=market, year=year, signed_on__isnull=False).values_list("signed_on", flat=True)
    elif duty == "verification":
        days = VerificationAssignment.objects.filter(entity_id=entity_id, market=market, year=year, kind=VerificationAssignment.Kind.REGULAR,
                                                     completed_on__isnull=False).values_list("completed_on", flat=True)
    elif duty == "general_reports":
        days = GeneralReport.objects.filter(entity_id=entity_id, market=market, year=year).exclude(
            status=GeneralReport.Status.RETURNED).values_list("submitted_on", flat=True)
    else:
        return None
    days = [d for d in days if d is not None]
    return min(days) if days else None


def _duties(pack, entry) -> list[str]:
    """The enforced reports of the entry's list category (``reporting_penalty.key_emitter`` / ``.general_reporting``)."""
    return list(pack.data["reporting_penalty"].get(entry.category, ()))


def reporting_missing(*, user, market: str, year: int, today: dt.date | None = None) -> list[MissingReport]:
    """The reports of ``market`` ``year`` that were due by ``today`` and not filed by their due date, for the listed
    units in the user's jurisdiction (a district authority: its district), each with its enforcement record. Empty
    when the market's compliance pack has no ``reporting_penalty``."""
    from cets.mrv.duty_rules import cycle_due
    from cets.parties.models import EmitterListEntry

    if _pack(market, year) is None:
        return []
    today = today or timezone.localdate()
    entries = EmitterListEntry.objects.filter(market=market, year=year, included=True, entity__in=Organisation.objects.filter(
        organisation_scope(user))).select_related("entity").order_by("entity__name")
    records = {(r.entity_id, r.duty): r for r in ReportingEnforcement.objects.filter(market=market, year=year)}
    out, seen = [], set()
    for e in entries:
        pack = _pack(market, year, e.sector)
        for duty in _duties(pack, e) if pack else ():
            if (e.entity_id, duty) in seen:
                continue
            due = cycle_due(market=market, year=year, sector=e.sector, event=duty)
            if due is None or today <= due:
                continue
            seen.add((e.entity_id, duty))
            m = MissingReport(e.entity, e.category, e.sector, duty, due, reported_on(entity_id=e.entity_id, market=market, year=year, duty=duty),
                              records.get((e.entity_id, duty)))
            if m.missed or m.enforcement is not None:
                out.append(m)
    return out


def _one(*, entity_id: int, market: str, year: int, duty: str, actor, today: dt.date) -> tuple[MissingReport, object, object]:
    from cets.mrv.duty_rules import cycle_due
    from cets.parties.models import EmitterListEntry

    entity = Organisation.objects.filter(pk=entity_id).first()
    entry = EmitterListEntry.objects.filter(market=market, year=year, included=True, entity_id=entity_id).first() if entity else None
    pack = _pack(market, year, entry.sector) if entry else None
    if pack is None or entry is None or duty not in _duties(pack, entry):
        raise CetsError(C1201, f"{entity_id} {market} {year} {duty}"[:80])
    m = require_role(actor, *pack.raw("reporting_penalty.authorities"), province=entity.province, region_code=district_of(entity))
    due = cycle_due(market=market, year=year, sector=entry.sector, event=duty)
    if due is None:
        raise CetsError(C1201, duty)
    filed = reported_on(entity_id=entity_id, market=market, year=year, duty=duty)
    return MissingReport(entity, entry.category, entry.sector, duty, due, filed, None), pack, m


@transaction.atomic
def reporting_order(*, entity_id: int, market: str, year: int, duty: str, correct_by: dt.date, reference: str, actor,
                    on: dt.date | None = None) -> ReportingEnforcement:
    """责令限期改正: order a unit that did not file the report of ``duty`` by its due date to file it by
    ``correct_by``. R0502 outside the jurisdiction; C1201 no such duty (category, pack); C1202 filed on time or not yet
    due; C1203 already ordered; C1204 deadline not after ``on`` or empty reference."""
    on = on or timezone.localdate()
    miss, pack, _m = _one(entity_id=entity_id, market=market, year=year, duty=duty, actor=actor, today=on)
    if on <= miss.due_on or (miss.reported_on is not None and miss.reported_on <= miss.due_on):
        raise CetsError(C1202, f"{duty} due {miss.due_on}")
    if ReportingEnforcement.objects.filter(entity_id=entity_id, market=market, year=year, duty=duty).exists():
        raise CetsError(C1203, duty)
    if not isinstance(correct_by, dt.date) or correct_by <= on or not str(reference).strip():
        raise CetsError(C1204, f"{correct_by}")
    return ReportingEnforcement.objects.create(entity_id=entity_id, market=market, year=year, duty=duty, due_on=miss.due_on, pack_id=pack.id,
                                               order_reference=str(reference).strip()[:120], ordered_on=on, correct_by=correct_by, ordered_by=actor)


@transaction.atomic
def reporting_fine_decide(*, enforcement_id: int, fine_fen: int, reference: str, actor, on: dt.date | None = None) -> ReportingEnforcement:
    """The fine for a report still missing after the correction deadline, decided by the authority within the pack's
    range (1 … ``reporting_penalty.max_fine_fen`` fen; 京环发〔2024〕8号 五(二), cn-ets-rules.md §7.2 "≤ CNY 50,000").
    R0502 outside the jurisdiction; C1205 the correction period has not ended; C1206 the unit reported by the
    deadline; C1207 amount not whole fen in range; C1208 already fined; C1204 empty reference."""
    on = on or timezone.localdate()
    r = ReportingEnforcement.objects.select_for_update(of=("self",)).select_related("entity").get(pk=enforcement_id)
    pack = load_pack(r.pack_id)
    require_role(actor, *pack.raw("reporting_penalty.authorities"), province=r.entity.province, region_code=district_of(r.entity))
    if r.status == ReportingEnforcement.Status.FINED:
        raise CetsError(C1208, str(r.pk))
    if on <= r.correct_by:
        raise CetsError(C1205, f"{r.correct_by}")
    filed = reported_on(entity_id=r.entity_id, market=r.market, year=r.year, duty=r.duty)
    if filed is not None and filed <= r.correct_by:
        raise CetsError(C1206, f"{filed}")
    top = int(pack.decimal("reporting_penalty.max_fine_fen"))
    if type(fine_fen) is not int or not 1 <= fine_fen <= top:
        raise CetsError(C1207, f"{fine_fen!r} not in 1…{top}")
    if not str(reference).strip():
        raise CetsError(C1204, "reference")
    r.status, r.fine_fen, r.fine_reference, r.fined_on, r.fined_by = ReportingEnforcement.Status.FINED, fine_fen, str(reference).strip()[:120], on, actor
    r.save(update_fields=["status", "fine_fen", "fine_reference", "fined_on", "fined_by"])
    return r
