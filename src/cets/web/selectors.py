"""Reads composed for the web pages. Nothing here writes.

Every read is scoped by :func:`cets.parties.access.organisation_scope`: a provincial user sees
only its province, an entity user only itself (DESIGN.md, Who uses it). The apps' own selectors
are reused where they exist; this module only composes them into what one page shows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from cets.allocation.models import EntityAllocation, UnitAllocation
from cets.compliance.models import Obligation, SurrenderApplication
from cets.compliance.selectors import status_of, statuses
from cets.compliance.status import INCOMPLETE, LATE, ON_TIME, OPEN, Status
from cets.mrv.models import UnitYearData
from cets.mrv.selectors import verifications_of
from cets.parties.access import Viewer, organisation_scope, viewer_of  # noqa: F401 (Viewer re-exported for the shell's views)
from cets.parties.models import GeneratingUnit, Organisation, Role
from cets.parties.selectors import entities_visible, entity_get, units_of
from cets.registry import privacy
from cets.registry.models import Account, Proposal
from cets.registry.selectors import account_of, holdings_of, journal_of, unit_type_totals
from cets.rules.markets import PRIMARY_MARKET
from cets.rules.packs import PackError, Unconfirmed, load_pack

OUTCOMES = (ON_TIME, LATE, INCOMPLETE, OPEN)
PAGE_SIZE = 50
JOURNAL_LIMIT = 200


def reporting_year(*, requested: int | None = None) -> int:
    """The compliance year a page shows: ``requested`` if given, else the latest year with
    obligations or allocations, else last calendar year."""
    if requested:
        return requested
    y = Obligation.objects.aggregate(y=Max("year"))["y"] or EntityAllocation.objects.aggregate(y=Max("year"))["y"]
    return y or timezone.localdate().year - 1


def years_available() -> list[int]:
    ys = set(Obligation.objects.values_list("year", flat=True).distinct())
    ys |= set(EntityAllocation.objects.values_list("year", flat=True).distinct())
    return sorted(ys, reverse=True)


# ---------------------------------------------------------------- dashboards (authorities)

@dataclass
class ProvinceRow:
    province: str
    entities: int = 0
    verified_emissions_t: int = 0
    final_allocation_t: int = 0
    surrendered_t: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def outcome_list(self) -> list[tuple[str, int]]:
        return [(o, self.outcomes.get(o, 0)) for o in OUTCOMES]


def _verified_by_entity_qs(year: int):
    """Σ verified emissions of an entity's covered units in ``year`` (a subquery on Organisation)."""
    return Subquery(
        UnitYearData.objects.filter(unit__entity=OuterRef("pk"), year=year)
        .exclude(unit__category=GeneratingUnit.Category.NOT_COVERED)
        .values("unit__entity").annotate(t=Sum("verified_emissions_t")).values("t")[:1]
    )


def province_table(*, user, year: int) -> tuple[list[ProvinceRow], ProvinceRow]:
    """One row per province of the entities ``user`` may see, and a total row."""
    entity_qs = entities_visible(user=user)
    rows: dict[str, ProvinceRow] = {}

    def row(p: str) -> ProvinceRow:
        return rows.setdefault(p, ProvinceRow(province=p))

    for p, n in entity_qs.order_by().values_list("province").annotate(n=Count("pk")):
        row(p).entities = n
    for p, t in (UnitYearData.objects.filter(year=year, unit__entity__in=entity_qs)
                 .exclude(unit__category=GeneratingUnit.Category.NOT_COVERED)
                 .order_by().values_list("unit__entity__province").annotate(t=Sum("verified_emissions_t"))):
        row(p).verified_emissions_t = t or 0
    for p, t in (EntityAllocation.objects.filter(year=year, entity__in=entity_qs)
                 .order_by().values_list("entity__province").annotate(t=Sum("final_allocation_t"))):
        row(p).final_allocation_t = t or 0
    for p, t in (SurrenderApplication.objects.filter(obligation__year=year, obligation__entity__in=entity_qs,
                                                    status=SurrenderApplication.Status.APPROVED)
                 .order_by().values_list("obligation__entity__province").annotate(t=Sum("quantity"))):
        row(p).surrendered_t = t or 0
    province_of = dict(entity_qs.order_by().values_list("pk", "province"))
    counts: dict[str, Counter] = defaultdict(Counter)
    for entity_id, st in statuses(year=year, entity_qs=entity_qs).items():
        counts[province_of[entity_id]][st.status] += 1
    for p, c in counts.items():
        row(p).outcomes = dict(c)
    ordered = [rows[p] for p in sorted(rows)]
    total = ProvinceRow(province="")
    for r in ordered:
        total.entities += r.entities
        total.verified_emissions_t += r.verified_emissions_t
        total.final_allocation_t += r.final_allocation_t
        total.surrendered_t += r.surrendered_t
        for o, n in r.outcomes.items():
            total.outcomes[o] = total.outcomes.get(o, 0) + n
    return ordered, total


@dataclass(frozen=True)
class ProblemEntity:
    entity: Organisation
    obligation: Obligation
    status: Status


def entities_late_or_incomplete(*, user, year: int) -> list[ProblemEntity]:
    """Entities ``user`` may see whose ``year`` obligation is late or incomplete."""
    entity_qs = entities_visible(user=user)
    bad = {eid: st for eid, st in statuses(year=year, entity_qs=entity_qs).items() if st.status in (LATE, INCOMPLETE)}
    obs = {o.entity_id: o for o in Obligation.objects.filter(year=year, entity_id__in=bad).select_related("entity")}
    out = [ProblemEntity(entity=obs[eid].entity, obligation=obs[eid], status=st) for eid, st in bad.items()]
    return sorted(out, key=lambda p: (p.status.status != INCOMPLETE, p.entity.province, p.entity.uscc or ""))


# ---------------------------------------------------------------- dashboard (entity)

@dataclass
class EntitySummary:
    entity: Organisation
    year: int
    allocation: EntityAllocation | None
    obligation: Obligation | None
    status: Status | None
    account: Account | None
    holdings: list


def entity_summary(*, user, year: int) -> EntitySummary | None:
    """The entity user's own organisation: obligation, allocation, holdings, status."""
    v = viewer_of(user)
    if v.dashboard != "entity":
        return None
    org = v.organisation
    allocation = EntityAllocation.objects.filter(entity=org, year=year).first()
    obligation = Obligation.objects.filter(entity=org, year=year).first()
    account = account_of(holder_id=org.pk)
    return EntitySummary(
        entity=org, year=year, allocation=allocation, obligation=obligation,
        status=status_of(obligation=obligation) if obligation else None,
        account=account, holdings=list(holdings_of(account=account)) if account else [],
    )


# ---------------------------------------------------------------- dashboard (registry)

@dataclass(frozen=True)
class ProposalRow:
    proposal: Proposal
    lines: int
    issue_t: int
    clawback_t: int


def proposals_overview(*, limit: int = 100) -> list[ProposalRow]:
    """The latest four-eyes proposals with line counts and totals (issue and claw-back)."""
    out = []
    for p in Proposal.objects.select_related("proposed_by", "decided_by").order_by("-proposed_at", "-pk")[:limit]:
        lines = p.payload.get("lines", []) if isinstance(p.payload, dict) else []
        qs = [int(ln.get("quantity", 0)) for ln in lines]
        out.append(ProposalRow(proposal=p, lines=len(lines), issue_t=sum(q for q in qs if q > 0), clawback_t=-sum(q for q in qs if q < 0)))
    return out


def reconciliation() -> list[dict]:
    """Per unit type: created = national total + issued; issued = circulating + retired (incl. carried over)."""
    rows = unit_type_totals()
    for r in rows:
        r["created_ok"] = r["created_t"] == r["national_total_t"] + r["issued_t"]
        r["issued_ok"] = r["issued_t"] == r["circulating_t"] + r["surrendered_t"] + r["cancelled_t"] + r["deducted_t"] + r["carried_over_t"]
    return rows


# ---------------------------------------------------------------- entity list

@dataclass(frozen=True)
class EntityRow:
    entity: Organisation
    status: Status | None


def entity_page(*, user, search: str = "", province: str = "", page: int | str = 1, year: int) -> Page:
    """A page (50 rows) of the entities ``user`` may see, matching ``search`` (name or credit code),
    each annotated with its units, verified emissions and final allocation for ``year`` and its
    compliance status."""
    qs = entities_visible(user=user, search=search.strip(), province=province).annotate(
        unit_count=Count("units", distinct=True),
        verified_t=Coalesce(_verified_by_entity_qs(year), 0),
        final_allocation_t=Subquery(EntityAllocation.objects.filter(entity=OuterRef("pk"), year=year).values("final_allocation_t")[:1]),
    )
    p = Paginator(qs, PAGE_SIZE).get_page(page)
    st = statuses(year=year, entity_qs=Organisation.objects.filter(pk__in=[e.pk for e in p.object_list]))
    p.object_list = [EntityRow(entity=e, status=st.get(e.pk)) for e in p.object_list]
    return p


# ---------------------------------------------------------------- entity page

@dataclass
class EntityDetail:
    entity: Organisation
    year: int
    units: list
    unit_allocations: list
    allocation: EntityAllocation | None
    unconfirmed: list[Unconfirmed]
    pack_title: tuple[str, str]
    account: Account | None
    holdings: list
    journal: list
    obligation: Obligation | None
    status: Status | None
    surrenders: list
    verifications: list
    verified_emissions_t: int
    list_entries: list
    allocations: list = field(default_factory=list)  # SectorAllocation, one per market and sector


@dataclass(frozen=True)
class JournalLine:
    transfer: object
    direction: str  # "in", "out" or "move" (between positions of this account)
    # the accounts as the reader sees them: the exchange in place of a trade's counterparty (cets.registry.privacy)
    debit_shown: str | None = None
    credit_shown: str = ""

    @property
    def hash_prefix(self) -> str:
        return self.transfer.hash[:12]


@dataclass(frozen=True)
class SectorAllocation:
    """One of the entity's allocations of the year (one per market and sector list it is on), with its
    lines: generating units (benchmark mechanism) or facilities (industry mechanisms)."""

    allocation: EntityAllocation
    sector_name: str
    pack_title: tuple[str, str]
    unconfirmed: list
    unit_allocations: list
    facility_allocations: list


def _sector_allocations(org, year: int) -> list[SectorAllocation]:
    from cets.allocation.models import FacilityAllocation
    from cets.rules.markets import sector_name

    out = []
    for a in EntityAllocation.objects.filter(entity=org, year=year).order_by("market", "sector"):
        try:
            pack = load_pack(a.pack_id)
            unconfirmed, title = pack.unconfirmed, (pack.title_zh, pack.title_en)
        except PackError:
            unconfirmed, title = [], ("", "")
        try:
            names = (sector_name(a.market, a.sector, "zh"), sector_name(a.market, a.sector, "en"))
        except PackError:
            names = (a.sector, a.sector)
        units = list(UnitAllocation.objects.filter(unit__entity=org, year=year, pack_id=a.pack_id).select_related("unit").order_by("unit__code"))
        facilities = list(FacilityAllocation.objects.filter(facility__entity=org, facility__sector=a.sector, year=year)
                          .select_related("facility").order_by("facility__code"))
        out.append(SectorAllocation(allocation=a, sector_name=f"{names[0]} {names[1]}", pack_title=title, unconfirmed=unconfirmed,
                                    unit_allocations=units, facility_allocations=facilities))
    return out


def entity_detail(*, user, uscc: str, year: int) -> EntityDetail:
    """Everything the entity page shows. Raises Http404 for an entity outside ``user``'s scope
    (the answer does not reveal whether it exists)."""
    org = entity_get(user=user, uscc=uscc)
    allocation = EntityAllocation.objects.filter(entity=org, year=year).first()
    unconfirmed: list[Unconfirmed] = []
    title = ("", "")
    if allocation is not None:
        try:
            pack = load_pack(allocation.pack_id)
            unconfirmed, title = pack.unconfirmed, (pack.title_zh, pack.title_en)
        except PackError:
            unconfirmed = []
    account = account_of(holder_id=org.pk)
    journal = []
    if account is not None:
        full = privacy.sees_both_legs(user)
        for t in journal_of(account=account, limit=JOURNAL_LIMIT):
            if t.debit_account_id == account.pk and t.credit_account_id == account.pk:
                d = "move"
            elif t.credit_account_id == account.pk:
                d = "in"
            else:
                d = "out"
            debit, credit = privacy.shown_accounts(t, account=account, full=full)
            journal.append(JournalLine(transfer=t, direction=d, debit_shown=privacy.label(debit), credit_shown=privacy.label(credit)))
    obligation = Obligation.objects.filter(entity=org, year=year).first()
    surrenders = (list(SurrenderApplication.objects.filter(obligation__entity=org).select_related("unit_type", "obligation")
                       .order_by("-obligation__year", "submitted_at", "pk")))
    verified = (UnitYearData.objects.filter(unit__entity=org, year=year).exclude(unit__category=GeneratingUnit.Category.NOT_COVERED)
                .aggregate(t=Sum("verified_emissions_t"))["t"] or 0)
    return EntityDetail(
        entity=org, year=year,
        units=list(units_of(entity=org)),
        unit_allocations=list(UnitAllocation.objects.filter(unit__entity=org, year=year).select_related("unit").order_by("unit__code")),
        allocation=allocation, unconfirmed=unconfirmed, pack_title=title,
        account=account, holdings=list(holdings_of(account=account)) if account else [],
        journal=journal, obligation=obligation, status=status_of(obligation=obligation) if obligation else None,
        surrenders=surrenders, verifications=list(verifications_of(entity_id=org.pk)), verified_emissions_t=verified,
        list_entries=list(org.list_entries.filter(included=True).order_by("-year", "market", "sector")),
        allocations=_sector_allocations(org, year),
    )



# ---------------------------------------------------------------- the inbox: what needs me now

@dataclass(frozen=True)
class InboxItem:
    """One thing that waits on the reader: a label (zh, en), how many, the deadline if any (ISO date), whether
    it is late, and where to do it."""

    zh: str
    en: str
    count: int
    url: str
    due: str = ""
    late: bool = False

    @property
    def pair(self) -> tuple[str, str]:
        return (self.zh, self.en)


def inbox(*, user, year: int, today=None) -> list[InboxItem]:
    """What waits on ``user`` now, by role and jurisdiction: the cycle steps of ``year`` owned by the role that are
    due or overdue (``cets.compliance.cycle``), and the concrete items behind them — proposals to approve and
    tables to receive (registry), surrender applications to decide and blocked verification cases (province),
    the outstanding obligation (entity), the trading day (exchange). Reads only; every count respects scope."""
    from django.urls import reverse

    from cets.allocation.selectors import submissions_visible
    from cets.compliance.cycle import cycle_status
    from cets.compliance.models import SurrenderApplication
    from cets.mrv.models import VerificationRecord
    from cets.rules.packs import PackError

    v = viewer_of(user)
    if v.role is None:
        return []
    today = today or timezone.localdate()
    out: list[InboxItem] = []
    try:
        states, _ = cycle_status(market=PRIMARY_MARKET, year=year, today=today, owner=v.role, figures=False)
    except PackError:
        states = []
    for st in states:
        if st.step.owner == v.role and st.status in ("due", "overdue"):
            out.append(InboxItem(zh=st.step.title_zh, en=st.step.title_en, count=1, url="", due=st.step.due.isoformat(),
                                 late=st.status == "overdue"))
    if v.role == Role.REGISTRY_OPERATOR:
        waiting = Proposal.objects.filter(status=Proposal.Status.PROPOSED).exclude(proposed_by=user).count()
        if waiting:
            out.append(InboxItem(zh="待审批的提议（四眼原则）", en="proposals awaiting your approval (four eyes)", count=waiting,
                                 url=reverse("registry:registry")))
        unreceived = submissions_visible(user=user, year=None).filter(received_on__isnull=True).count()
        if unreceived:
            out.append(InboxItem(zh="待登记收到的配额数据表", en="allocation tables to record as received", count=unreceived,
                                 url=reverse("allocation:submissions")))
    elif v.role in (Role.PROVINCIAL_AUTHORITY, Role.NATIONAL_AUTHORITY):
        scope = Organisation.objects.filter(organisation_scope(user))
        if v.role == Role.PROVINCIAL_AUTHORITY:
            changes = Proposal.objects.filter(status=Proposal.Status.PROPOSED, kind="holder_change", payload__province=v.province).count()
            if changes:
                out.append(InboxItem(zh="待本省审批的主体变更", en="changes of holder awaiting your approval", count=changes,
                                     url=reverse("registry:registry")))
            free = Proposal.objects.filter(status=Proposal.Status.PROPOSED, kind="free_allocation", payload__province=v.province).exclude(
                proposed_by=user).count()
            if free:  # a pilot market's free allocation (pre-issue, final issue) another bureau user proposed
                out.append(InboxItem(zh="待审批的免费配额发放（预发、核发）", en="free allocation issuances awaiting your approval (pre-issue, final)",
                                     count=free, url=reverse("registry:registry")))
            apps = SurrenderApplication.objects.filter(status=SurrenderApplication.Status.SUBMITTED, obligation__entity__in=scope).count()
            if apps:
                out.append(InboxItem(zh="待确认的清缴申请", en="surrender applications to decide", count=apps, url=reverse("compliance:surrenders")))
        if v.role == Role.NATIONAL_AUTHORITY:  # market stabilisation (draft Measures Art. 23): alerts and reserve decisions wait on it
            from cets.registry.selectors import reserve_proposals
            from cets.supervision.selectors import stabilisation_alerts

            alerts = stabilisation_alerts(status="open").count()
            if alerts:
                out.append(InboxItem(zh="待决定的市场调节预警", en="market stabilisation alerts to decide", count=alerts, url=reverse("supervision:reserve")))
            waiting = reserve_proposals(status=Proposal.Status.PROPOSED).exclude(proposed_by=user).count()
            if waiting:
                out.append(InboxItem(zh="待审批的储备决定（四眼原则）", en="reserve decisions awaiting your approval (four eyes)", count=waiting,
                                     url=reverse("supervision:reserve")))
        blocked = VerificationRecord.objects.filter(conforming=False, resolved_at__isnull=True, entity__in=scope).count()
        if blocked:
            out.append(InboxItem(zh="未解除的核查不符合结论", en="unresolved non-conforming verifications", count=blocked, url=reverse("mrv:blocked")))
        from cets.mrv.models import DataQualityPlan, FacilityMonthlyFiling

        facility = (DataQualityPlan.objects.filter(status=DataQualityPlan.Status.SUBMITTED, facility__isnull=False, entity__in=scope).count()
                    + FacilityMonthlyFiling.objects.filter(status=FacilityMonthlyFiling.Status.SUBMITTED, entity__in=scope).count())
        if facility:
            out.append(InboxItem(zh="待技术审核的设施方案和月度存证", en="facility plans and monthly filings awaiting review", count=facility,
                                 url=f"{reverse('mrv:facility_review')}?year={year}"))
    elif v.role == Role.ENTITY:
        s = entity_summary(user=user, year=year)
        if s is not None and s.obligation is not None and s.status is not None and s.status.status in ("open", "late", "incomplete"):
            left = max(s.obligation.obligation_t - s.status.surrendered_t, 0)
            if left:
                out.append(InboxItem(zh=f"{year}年度尚待清缴（吨）", en=f"still to surrender for {year} (t)", count=left,
                                     url=reverse("registry:registry"), due=s.obligation.deadline.isoformat(), late=s.obligation.deadline < today))
    elif v.role == Role.VERIFIER:
        from cets.mrv.models import AnnualReport, VerificationAssignment

        open_ = VerificationAssignment.objects.filter(body_id=v.membership.organisation_id, completed_on__isnull=True,
                                                      kind=VerificationAssignment.Kind.REGULAR).values_list("entity_id", "year", "sector", "market")
        ready = sum(1 for e, y, s, m in open_ if s and AnnualReport.objects.filter(entity_id=e, year=y, sector=s, market=m, signed_on__isnull=False).exists())
        if ready:
            out.append(InboxItem(zh="待核查的设施年度报告", en="facility annual reports to verify", count=ready, url=reverse("mrv:facility_verify")))
    elif v.role == Role.EXCHANGE_OPERATOR:
        from cets.trading.selectors import day_state, instruments_listed

        closed = [i for i in instruments_listed() if day_state(instrument=i, today=today).open_day != today]
        if closed:
            out.append(InboxItem(zh="今日尚未开市的品种", en="instruments whose trading day is not open today", count=len(closed),
                                 url=reverse("trading:day")))
    from cets.compliance.selectors import documents_waiting

    docs = documents_waiting(user=user, year=year)  # compliance notices to forward, certificates to issue, a notice received
    if docs["to_forward"]:
        out.append(InboxItem(zh="待转送重点排放单位的履约通知书", en="compliance notices to forward to the entities", count=docs["to_forward"],
                             url=reverse("compliance:overview", args=[year])))
    if docs["to_certify"]:
        out.append(InboxItem(zh="待出具的履约完成证明", en="compliance certificates to issue", count=docs["to_certify"],
                             url=reverse("compliance:overview", args=[year])))
    if docs["received"] is not None:
        n = docs["received"]
        out.append(InboxItem(zh=f"已收到{year}年度履约通知书", en=f"compliance notice for {year} received", count=1,
                             url=reverse("compliance:notice", args=[n.pk]), due=n.deadline.isoformat(), late=False))
    from cets.mrv.selectors import pcer_waiting

    for k, n in pcer_waiting(user=user).items():  # Beijing carbon inclusion (京环发〔2024〕8号 三(三)): each role's next step
        if n:
            zh, en = {"projects": ("待备案的碳普惠项目", "carbon-inclusion projects to approve"),
                      "periods": ("待确认减排量的碳普惠监测期", "carbon-inclusion monitoring periods to confirm"),
                      "issuance": ("待发起签发步骤的碳普惠减排量", "confirmed carbon-inclusion reductions to issue"),
                      "periods_due": ("已备案、尚无监测期的碳普惠项目", "approved carbon-inclusion projects without a monitoring period")}[k]
            out.append(InboxItem(zh=zh, en=en, count=n, url=reverse("mrv:pcer")))
    if v.role in (Role.PROVINCIAL_AUTHORITY, Role.DISTRICT_AUTHORITY):  # units that did not report (京环发〔2024〕8号 五(二))
        from cets.compliance.services.reporting import reporting_missing
        from cets.rules.markets import market_ids

        for market in market_ids():
            rows = reporting_missing(user=user, market=market, year=year, today=today)
            to_order = sum(1 for m in rows if m.enforcement is None)
            to_fine = sum(1 for m in rows if m.enforcement is not None and m.enforcement.status == "ordered" and m.enforcement.correct_by < today
                          and (m.reported_on is None or m.reported_on > m.enforcement.correct_by))
            if to_order or to_fine:
                out.append(InboxItem(zh="未按规定报送的单位（责令改正或处罚）", en="units that did not report (order to correct, or fine)",
                                     count=to_order + to_fine, url=f"{reverse('compliance:reporting')}?market={market}&year={year}"))
    from cets.parties.notifications import unread_count

    unread = unread_count(user=user)
    if unread:
        out.append(InboxItem(zh="未读通知", en="unread notifications", count=unread, url=reverse("web:notifications")))
    return out
