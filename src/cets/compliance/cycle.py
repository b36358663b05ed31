"""The compliance cycle of a (market, year) as the platform's records show it: each step of the market's
cycle pack (:mod:`cets.rules.cycle`) with its status computed from events, and per-sector figures.

Read-only: every context below compliance is read through its models or selectors (parties lists,
registry proposals and accounts, MRV verification/plans/reports, allocation stages and table
publications, compliance obligations, notices and surrenders). Nothing is stored.

A sector's entities are those on its key-emitter list (``parties.EmitterListEntry`` of the market and year,
``included=True``, ``category=key_emitter``; general reporting units count only in their two steps); allocation and
issuance figures are the sector's own (``EntityAllocation`` per market, sector and year); an entity listed in two
sectors has one obligation, whose surrender and outcome count in both sectors' figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max, Sum
from django.utils import timezone

from cets.core.errors import CetsError
from cets.rules.cycle import ALL, Observation, Step, cycle_steps, step_status

from .status import COLLECTED, INCOMPLETE, LATE, ON_TIME, OPEN

OUTCOME_KEYS = (ON_TIME, LATE, INCOMPLETE, OPEN)
OFFSET_INSTRUMENTS = ("CCER", "PCER")


@dataclass(frozen=True)
class StepState:
    """A step with its status as of the day: ``observation`` holds done/total parts and the completion day."""

    step: Step
    status: str
    observation: Observation


@dataclass(frozen=True)
class SectorFigures:
    """One sector of a cycle. Tonnes CO2e (int): ``verified_t`` Σ verified emissions (mrv),
    ``allocated_t`` Σ final allocation (应发配额量) and ``issued_t`` Σ issued so far (allocation),
    ``surrendered_t`` Σ surrendered (approved, not reversed) of which ``offset_t`` CCER/PCER (compliance).
    ``outcomes`` entity counts by compliance status (on_time, late, incomplete, open)."""

    entities: int
    verified_t: int
    allocated_t: int
    issued_t: int
    surrendered_t: int
    offset_t: int
    outcomes: dict[str, int]


def listed_entities(*, market: str, year: int) -> dict[str, dict[int, str]]:
    """sector → {entity id → province} of the key-emitter list of ``market`` and ``year`` (included only)."""
    from cets.parties.models import EmitterListEntry

    out: dict[str, dict[int, str]] = {}
    rows = EmitterListEntry.objects.filter(market=market, year=year, included=True, category=EmitterListEntry.KEY_EMITTER)
    for sector, eid, prov in rows.values_list("sector", "entity_id", "province"):
        out.setdefault(sector, {})[eid] = prov
    return out


def _local(at: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(at) if at is not None else None


def _max(days) -> dt.date | None:
    days = [d for d in days if d is not None]
    return max(days) if days else None


def _parts(total: int, done_days: dict, today: dt.date) -> Observation:
    """Observation of ``total`` parts of which ``done_days`` maps part → completion day (or None if the day
    is unknown); parts done after ``today`` do not count."""
    done = {k: d for k, d in done_days.items() if d is None or d <= today}
    complete = total > 0 and len(done) >= total
    undated = any(d is None for d in done.values())
    return Observation(complete=complete, done_on=None if undated else _max(done.values()), done=len(done), total=total)


def _observe_facility_months(step: Step, *, market: str, year: int, listed: dict[str, dict[int, str]], today: dt.date) -> Observation:
    """Each facility of the step's listed entities is one part, done (on its last filing day) when every month of its
    sector due on the step's date has a filing that was not returned."""
    from cets.mrv.duty_rules import month_due
    from cets.mrv.models import FacilityMonthlyFiling
    from cets.parties.models import Facility

    days: dict = {}
    total = 0
    for sector, ents in listed.items():
        if not step.applies_to(sector):
            continue
        try:
            months = [m for m in range(1, 13) if month_due(market=market, sector=sector, year=year, month=m) == step.due]
        except CetsError:  # a sector without facility accounting has no facility months
            continue
        facs = list(Facility.objects.filter(entity_id__in=list(ents), sector=sector).values_list("pk", flat=True))
        total += len(facs)
        filed: dict[int, dict[int, dt.date]] = {}
        for f, m, d in (FacilityMonthlyFiling.objects.filter(facility_id__in=facs, year=year, month__in=months, market=market)
                        .exclude(status=FacilityMonthlyFiling.Status.RETURNED).values_list("facility_id", "month", "submitted_on")):
            filed.setdefault(f, {})[m] = d
        for f in facs:
            got = filed.get(f, {})
            if months and all(m in got for m in months):
                days[f] = max(got.values())
    return _parts(total, days, today)


def _has_verified_data(ids, year: int) -> bool:
    from cets.mrv.models import VerificationRecord
    from cets.mrv.selectors import entity_emissions_by_year

    return bool(entity_emissions_by_year(entity_ids=ids, years=[year])) or VerificationRecord.objects.filter(year=year, entity_id__in=ids).exists()


def _obligations(market: str, year: int, ids):
    from .models import Obligation

    return Obligation.objects.filter(year=year, entity_id__in=ids, pack_id__startswith=f"{market}/")


def observe(step: Step, *, market: str, year: int, listed: dict[str, dict[int, str]], today: dt.date) -> Observation:
    """What the platform's records show of ``step``'s event as of ``today`` (see the cycle pack's header for
    each event). ``listed`` is :func:`listed_entities`."""
    if step.event in ("general_reports", "general_reports_check"):
        return _observe_general_reports(step.event, market=market, year=year, today=today)
    scope: dict[int, str] = {}
    pairs: set[tuple[str, str]] = set()
    for sector, ents in listed.items():
        if step.applies_to(sector):
            scope.update(ents)
            pairs.update((sector, p) for p in ents.values())
    if not scope:
        return Observation(applicable=False)
    ids = list(scope)
    provinces = sorted(set(scope.values()))
    ev = step.event
    if ev == "none":
        return Observation(tracked=False, note="not recorded by the platform")
    if ev in ("tables_pre", "tables_final"):
        # the provinces' stamped tables as the registry received them (allocation.AllocationSubmission), one
        # part per (sector, province) of the step's sectors
        from cets.allocation.models import AllocationSubmission

        subs = {(s, p): d for s, p, d in AllocationSubmission.objects.filter(market=market, year=year, stage=ev.removeprefix("tables_"),
                                                                               province__in=provinces).values_list("sector", "province", "submitted_on")}
        return _parts(len(pairs), {k: subs[k] for k in pairs if k in subs}, today)
    if ev in ("issuance_pre", "issuance_final"):
        from cets.allocation.models import EntityAllocation
        from cets.allocation.services import issuance_key
        from cets.registry.models import Proposal

        stage = ev.removeprefix("issuance_")
        ok = ([EntityAllocation.Stage.PRE_ISSUED, EntityAllocation.Stage.FINAL_ISSUED] if stage == "pre" else [EntityAllocation.Stage.FINAL_ISSUED])
        sectors = {sec for sec, _ in pairs}
        days: dict = {}
        for sec in sectors:  # the day a sector's last executed issuance proposal of the stage took effect
            base = issuance_key(market=market, sector=sec, year=year, stage=stage)
            effective = [dt.datetime.fromisoformat(e) if e else d for e, d in Proposal.objects.filter(
                key__startswith=base, status=Proposal.Status.EXECUTED).values_list("payload__effective_at", "decided_at")]
            days[sec] = _local(max(effective)) if effective else None
        parts = [(sec, eid) for sec, ents in listed.items() if sec in sectors for eid in ents]
        done = set(EntityAllocation.objects.filter(market=market, year=year, sector__in=sectors, entity_id__in=ids, stage__in=ok)
                   .values_list("sector", "entity_id"))
        if stage == "pre":  # a pilot's pre-issue before determination (allocation.PreIssue, 京环发〔2024〕8号 三(三)2)
            from cets.allocation.models import PreIssue

            pre = list(PreIssue.objects.filter(market=market, year=year, sector__in=sectors, entity_id__in=ids).exclude(status=PreIssue.Status.REJECTED)
                       .values_list("sector", "entity_id", "proposal_key"))
            executed = {k: _local(dt.datetime.fromisoformat(e) if e else d) for k, e, d in Proposal.objects.filter(
                key__in={k for _s, _e, k in pre}, status=Proposal.Status.EXECUTED).values_list("key", "payload__effective_at", "decided_at")}
            for sec, eid, key in pre:
                if key in executed:
                    done.add((sec, eid))
                    days[sec] = max(days[sec], executed[key]) if days.get(sec) else executed[key]
        return _parts(len(parts), {k: days.get(k[0]) for k in parts if k in done}, today)
    if ev == "notices":
        from .models import ComplianceNotice

        obs = list(_obligations(market, year, ids).values_list("pk", flat=True))
        issued = {ob: _local(at) for ob, at in ComplianceNotice.objects.filter(obligation_id__in=obs).values_list("obligation_id", "issued_at")}
        return _parts(len(obs), issued, today)
    if ev in ("surrender", "rectification"):
        return _observe_surrender(ev, market=market, year=year, ids=ids, today=today)
    if ev == "verification":
        return _observe_verification(year=year, ids=ids, today=today)
    if ev == "facility_months":
        return _observe_facility_months(step, market=market, year=year, listed=listed, today=today)
    if ev in ("dq_plans", "annual_reports"):
        from cets.mrv.models import AnnualReport, DataQualityPlan

        if ev == "dq_plans":
            rows = DataQualityPlan.objects.filter(year=year, market=market, entity_id__in=ids)
            any_row = rows.exists()
            days = dict(rows.filter(status=DataQualityPlan.Status.APPROVED).values("entity_id").annotate(d=Max("reviewed_on")).values_list("entity_id", "d"))
        else:
            rows = AnnualReport.objects.filter(year=year, market=market, entity_id__in=ids)
            any_row = rows.exists()
            days = dict(rows.filter(signed_on__isnull=False).values_list("entity_id", "signed_on"))
        if not any_row and _has_verified_data(ids, year):
            return Observation(tracked=False, note="filed outside the platform: the year's verified data exists")
        return _parts(len(ids), days, today)
    if ev == "list_publication":
        from cets.parties.models import EmitterListPublication

        pubs = {(s, p): d for s, p, d in EmitterListPublication.objects.filter(market=market, year=year, province__in=provinces)
                .values_list("sector", "province", "published_on")}
        return _parts(len(pairs), {k: pubs[k] for k in pairs if k in pubs}, today)
    if ev == "accounts":
        from cets.registry.models import Account

        opened = dict(Account.objects.filter(holder_id__in=ids, market=market).values("holder_id").annotate(d=Max("opened_at")).values_list("holder_id", "d"))
        return _parts(len(ids), {e: _local(at) for e, at in opened.items()}, today)
    if ev == "verifier_evaluation":
        from cets.mrv.models import VerifierEvaluation

        pubs = dict(VerifierEvaluation.objects.filter(year=year).values("province").annotate(d=Max("published_at")).values_list("province", "d"))
        if "" in pubs:  # a nationwide evaluation covers every province
            return _parts(len(provinces), {p: _local(pubs[""]) for p in provinces}, today)
        return _parts(len(provinces), {p: _local(pubs[p]) for p in provinces if p in pubs}, today)
    if ev == "borrowing":
        from .models import Borrowing, ReliefApplication

        days = [_local(at) for at in Borrowing.objects.filter(year=year, entity_id__in=ids).values_list("submitted_at", flat=True)]
        reliefs = ReliefApplication.objects.filter(obligation__year=year, obligation__entity_id__in=ids)
        days += [_local(at) for at in reliefs.values_list("submitted_at", flat=True)]
        days = [d for d in days if d <= today]
        if not days:  # a province with no borrower or relief case submits nothing: absence is not evidence
            return Observation(tracked=False, note="no submission recorded")
        return Observation(complete=True, done_on=max(days), done=len(days), total=len(days))
    raise ValueError(f"unknown cycle event {ev!r}")


def _observe_general_reports(ev: str, *, market: str, year: int, today: dt.date) -> Observation:
    """The general reporting units (一般报告单位, list category ``general_reporting``) of the year, one part each:
    ``general_reports`` done on the day its report was filed (a returned report is not done until filed again);
    ``general_reports_check`` done on the day the district accepted or returned it. Not applicable without such units."""
    from cets.mrv.models import GeneralReport
    from cets.parties.selectors import general_reporting_entries

    ids = set(general_reporting_entries(market=market, year=year).values_list("entity_id", flat=True))
    if not ids:
        return Observation(applicable=False, note="no general reporting unit on the year's list")
    rows = GeneralReport.objects.filter(market=market, year=year, entity_id__in=ids)
    if ev == "general_reports":
        days = dict(rows.exclude(status=GeneralReport.Status.RETURNED).values_list("entity_id", "submitted_on"))
    else:
        days = dict(rows.filter(checked_on__isnull=False).values_list("entity_id", "checked_on"))
    return _parts(len(ids), days, today)


def _observe_surrender(ev: str, *, market: str, year: int, ids, today: dt.date) -> Observation:
    """``surrender``: every obligation surrendered in full (late when any was completed after its deadline);
    ``rectification``: the obligations short at their deadline made up (not applicable when none was short)."""
    from cets.parties.models import Organisation

    from .models import SurrenderApplication
    from .selectors import statuses

    obs = {o.entity_id: o for o in _obligations(market, year, ids)}
    if not obs:
        return Observation(total=0)
    st = statuses(year=year, entity_qs=Organisation.objects.filter(pk__in=ids), today=today, market=market)
    if ev == "surrender":
        complete = sum(1 for s in st.values() if s.status in (ON_TIME, LATE, COLLECTED))
        return Observation(complete=complete == len(obs), late=any(s.status in (LATE, COLLECTED) for s in st.values()), done=complete, total=len(obs))
    if any(today <= o.deadline for o in obs.values()):
        return Observation(total=len(obs))  # the surrender deadline has not passed: not known yet who must rectify
    short = [e for e, s in st.items() if s.surrendered_by_deadline_t < obs[e].obligation_t]
    if not short:
        return Observation(applicable=False, note="every obligation was surrendered in full by its deadline")
    made_up = [e for e in short if st[e].status in (LATE, COLLECTED)]
    last = (SurrenderApplication.objects.filter(obligation__in=[obs[e] for e in made_up], status=SurrenderApplication.Status.APPROVED)
            .aggregate(d=Max("decided_at"))["d"])
    return Observation(complete=len(made_up) == len(short), done_on=_local(last), done=len(made_up), total=len(short))


def _observe_verification(*, year: int, ids, today: dt.date) -> Observation:
    """Verified emissions of ``year`` for every entity: a completed regular assignment (dated by its
    notification, else its completion) or imported verified data (undated; the official disclosure's
    on-time flag says whether it was late)."""
    from cets.mrv.models import VerificationAssignment, VerificationRecord
    from cets.mrv.selectors import entity_emissions_by_year

    days: dict[int, dt.date | None] = {e: None for e in entity_emissions_by_year(entity_ids=ids, years=[year])}
    late_flag = False
    for e, on_time in VerificationRecord.objects.filter(year=year, entity_id__in=ids).values_list("entity_id", "on_time"):
        days.setdefault(e, None)
        late_flag = late_flag or not on_time
    for e, done, notified in VerificationAssignment.objects.filter(year=year, entity_id__in=ids, kind="regular",
                                                                   completed_on__isnull=False).values_list("entity_id", "completed_on", "notified_on"):
        days[e] = notified or done
    o = _parts(len(ids), days, today)
    return Observation(complete=o.complete, done_on=o.done_on, late=late_flag, done=o.done, total=o.total)


def sector_figures(*, market: str, year: int, ids, today: dt.date, sector: str) -> SectorFigures:
    """The figures of one ``sector``'s entities ``ids`` (see :class:`SectorFigures`): allocation and
    issuance of that sector; verified emissions from its allocations where computed, else from MRV's unit data;
    surrender and outcomes of the entities' (whole) obligations."""
    from cets.allocation.models import EntityAllocation
    from cets.mrv.selectors import entity_emissions_by_year
    from cets.parties.models import Organisation

    from .selectors import statuses, surrendered_by_instrument

    ids = list(ids)
    em = entity_emissions_by_year(entity_ids=ids, years=[year])
    alloc = EntityAllocation.objects.filter(market=market, sector=sector, year=year, entity_id__in=ids).aggregate(
        a=Sum("final_allocation_t"), i=Sum("issued_t"), v=Sum("verified_emissions_t"))
    qs = Organisation.objects.filter(pk__in=ids)
    st = statuses(year=year, entity_qs=qs, today=today, market=market)
    by_inst = surrendered_by_instrument(year=year, entity_qs=qs, market=market)
    outcomes = dict.fromkeys(OUTCOME_KEYS, 0)
    for s in st.values():
        outcomes[s.status] = outcomes.get(s.status, 0) + 1  # "collected" appears only where a market collects (Beijing)
    verified = alloc["v"] if alloc["v"] is not None else sum(v.get(year, 0) for v in em.values())
    return SectorFigures(entities=len(ids), verified_t=int(verified), allocated_t=int(alloc["a"] or 0),
                         issued_t=int(alloc["i"] or 0), surrendered_t=int(sum(s.surrendered_t for s in st.values())),
                         offset_t=int(sum(by_inst.get(i, 0) for i in OFFSET_INSTRUMENTS)), outcomes=outcomes)


def cycle_status(*, market: str, year: int, today: dt.date | None = None, owner: str | None = None,
                 figures: bool = True) -> tuple[list[StepState], dict[str, SectorFigures]]:
    """The cycle of ``market`` and ``year`` as of ``today`` (default: today in Asia/Shanghai): the steps of the
    market's cycle pack with their statuses (earliest due first), and figures per sector — every sector of the
    year's lists that the market allocates that year (``market.toml``: an allocation pack for the sector and year;
    an industry of the verification disclosures that is not in the market is left out) plus every sector a step
    names. ``owner`` (a role) observes only that role's steps and ``figures=False`` skips the sector figures: the
    inbox asks for no more than it shows. Raises PackError if the market has no cycle pack."""
    today = today or timezone.localdate()
    steps = [s for s in cycle_steps(market, year) if owner is None or s.owner == owner]
    listed = listed_entities(market=market, year=year)
    states = []
    for s in steps:
        o = observe(s, market=market, year=year, listed=listed, today=today)
        states.append(StepState(step=s, status=step_status(due=s.due, today=today, observation=o), observation=o))
    if not figures:
        return states, {}
    from cets.rules.markets import load_market

    registry = load_market(market)
    covered = {sec for sec in listed if registry.find_pack_id("allocation", sec, year) is not None}
    sectors = sorted(covered | {x for s in steps for x in s.sectors if x != ALL})
    figures = {sec: sector_figures(market=market, year=year, ids=listed.get(sec, {}), today=today, sector=sec) for sec in sectors}
    return states, figures


def cycle_json(*, market: str, year: int, today: dt.date | None = None) -> dict:
    """The cycle as JSON-ready data, exactly::

        {"market", "year",
         "sectors": {"<sector>": {"entities", "verified_t", "allocated_t", "issued_t", "surrendered_t", "offset_t",
                                  "outcomes": {"on_time", "late", "incomplete", "open"}}},
         "steps": [{"step", "owner", "due", "status"}]}

    tonnes as integers, dates ISO."""
    states, figures = cycle_status(market=market, year=year, today=today)
    return {
        "market": market,
        "year": year,
        "sectors": {sec: {"entities": f.entities, "verified_t": f.verified_t, "allocated_t": f.allocated_t, "issued_t": f.issued_t,
                          "surrendered_t": f.surrendered_t, "offset_t": f.offset_t, "outcomes": dict(f.outcomes)} for sec, f in figures.items()},
        "steps": [{"step": st.step.step, "owner": st.step.owner, "due": st.step.due.isoformat(), "status": st.status} for st in states],
    }
