"""Supervision endpoints: ``/api/v1/supervision`` (authorities; session login, CSRF) and ``/api/v1/public``
(no login: the published lists and reports from the public). Same services, codes and jurisdiction as the pages."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import Http404
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from cets.core.schema import DecimalText, Fen, Limit, Offset, PathId, PathYear, Tonnes, Year
from cets.mrv.api import AssignIn, AssignmentOut, _asg  # the draw's input and output are mrv's own endpoint's
from cets.parties.models import Organisation
from cets.rules.markets import PRIMARY_MARKET

from . import selectors, services
from .models import BlacklistEntry, CreditRecord, JointNotice, NoticeDispatch, PublicReport

router = Router(tags=["supervision"])
public_router = Router(tags=["public"], auth=None)


def _org(uscc: str) -> Organisation:
    org = Organisation.objects.filter(uscc=uscc).first()
    if org is None:
        raise Http404
    return org


class CreditIn(Schema):
    uscc: str
    kind: str
    reason: str
    source_reference: str
    recorded_on: dt.date | None = None
    internal_note: str = ""


class CreditOut(Schema):
    id: int
    uscc: str
    name: str
    kind: str
    reason: str
    source_reference: str
    recorded_on: dt.date
    authority: str


def _credit(c: CreditRecord) -> CreditOut:
    return CreditOut(id=c.pk, uscc=c.subject.uscc or "", name=c.subject.name, kind=c.kind, reason=c.reason, source_reference=c.source_reference,
                     recorded_on=c.recorded_on, authority=c.authority.name)


class BlacklistIn(Schema):
    uscc: str
    effect: str
    decision_reference: str
    reason: str
    starts_on: dt.date
    ends_on: dt.date | None = None
    internal_note: str = ""


class BlacklistOut(Schema):
    id: int
    uscc: str
    name: str
    effect: str
    decision_reference: str
    reason: str
    starts_on: dt.date
    ends_on: dt.date | None
    lifted_on: dt.date | None


def _black(b: BlacklistEntry) -> BlacklistOut:
    return BlacklistOut(id=b.pk, uscc=b.subject.uscc or "", name=b.subject.name, effect=b.effect, decision_reference=b.decision_reference,
                        reason=b.reason, starts_on=b.starts_on, ends_on=b.ends_on, lifted_on=b.lifted_on)


class LiftIn(Schema):
    lifted_on: dt.date | None = None


class NoticeIn(Schema):
    uscc: str
    penalty_reference: str
    facts: str


class DispatchIn(Schema):
    department: str
    letter_reference: str = ""
    sent_on: dt.date | None = None


class DispatchOut(Schema):
    department: str
    sent_on: dt.date
    letter_reference: str


class NoticeOut(Schema):
    id: int
    uscc: str
    name: str
    province: str
    penalty_reference: str
    facts: str
    created_on: dt.date
    dispatches: list[DispatchOut]


def _notice(n: JointNotice) -> NoticeOut:
    return NoticeOut(id=n.pk, uscc=n.entity.uscc or "", name=n.entity.name, province=n.province, penalty_reference=n.penalty_reference, facts=n.facts,
                     created_on=n.created_on, dispatches=[DispatchOut(department=d.department, sent_on=d.sent_on, letter_reference=d.letter_reference)
                                                          for d in NoticeDispatch.objects.filter(notice=n).order_by("sent_on", "id")])


class ReportIn(Schema):
    subject_name: str
    province: str
    content: str
    city: str = ""
    reporter_name: str = ""
    reporter_contact: str = ""


class ReportStatusOut(Schema):
    receipt: str
    filed_on: dt.date
    province: str
    status: str
    due_on: dt.date
    feedback: str


class ReportOut(ReportStatusOut):
    """For the handling authority only: with the content and the reporter's identity."""

    subject_name: str
    city: str
    content: str
    reporter_name: str
    reporter_contact: str


def _status(r: PublicReport) -> ReportStatusOut:
    return ReportStatusOut(receipt=r.receipt, filed_on=r.filed_at.date(), province=r.province, status=r.status, due_on=r.due_on, feedback=r.feedback)


def _report(r: PublicReport) -> ReportOut:
    return ReportOut(**_status(r).dict(), subject_name=r.subject_name, city=r.city, content=r.content, reporter_name=r.reporter_name,
                     reporter_contact=r.reporter_contact)


class CloseIn(Schema):
    feedback: str


class FindingIn(Schema):
    uscc: str
    year: Year
    rules: str
    decision_reference: str
    facts: str
    fine_fen: Fen
    gains_fen: Annotated[int, Field(strict=True, ge=0, lt=10**15)] = 0
    next_year_allocation_t: Annotated[int, Field(strict=True, ge=0, lt=10**12)] = 0
    cut_share: DecimalText | None = None
    determined_emissions_t: Annotated[int, Field(strict=True, ge=0, lt=10**12)] | None = None


class FindingOut(Schema):
    id: int
    uscc: str
    name: str
    year: int
    rules: str
    decision_reference: str
    facts: str
    gains_fen: int
    fine_min_fen: int
    fine_max_fen: int
    fine_fen: int
    pack_id: str
    allocation_cut_t: int
    allocation_adjustment_source: str
    determined_emissions_t: int | None
    decided_on: dt.date


def _finding(f) -> FindingOut:
    return FindingOut(id=f.pk, uscc=f.subject.uscc or "", name=f.subject.name, year=f.year, rules=f.rules, decision_reference=f.decision_reference,
                      facts=f.facts, gains_fen=f.gains_fen, fine_min_fen=f.fine_min_fen, fine_max_fen=f.fine_max_fen, fine_fen=f.fine_fen, pack_id=f.pack_id,
                      allocation_cut_t=f.allocation_cut_t, allocation_adjustment_source=f.allocation_adjustment_source,
                      determined_emissions_t=f.determined_emissions_t, decided_on=f.decided_on)


class AlertOut(Schema):
    key: str
    rule: str
    day: dt.date
    instrument: str
    participants: list[int]
    orders: list[int]
    detail: str
    source: str
    decision: str


class SurveillanceDecideIn(Schema):
    alert_key: str
    outcome: str
    reason: str


class RelatedIn(Schema):
    uscc: str
    group: str
    basis: str


# ---- authorities

@router.post("/false-reporting", response=FindingOut)
def finding_create(request, body: FindingIn):
    """Record a false-reporting finding (Measures Art. 43; Regulations Art. 22, 23): fine in fen inside the lawful range
    (G0702), optional cut of next year's allocation (Regulations Art. 22, G0705) recorded as an allocation adjustment."""
    from decimal import Decimal

    from . import enforcement

    f = enforcement.false_reporting_find(actor=request.user, subject_id=_org(body.uscc).pk, year=body.year, rules_applied=body.rules,
                                         decision_reference=body.decision_reference, facts=body.facts, fine_fen=body.fine_fen, gains_fen=body.gains_fen,
                                         next_year_allocation_t=body.next_year_allocation_t, determined_emissions_t=body.determined_emissions_t,
                                         cut_share=Decimal(body.cut_share) if body.cut_share is not None else None)
    return _finding(f)


@router.post("/credit-sync")
def credit_sync(request):
    """Create the credit records the rules attach to recorded events (national authority); answers how many were created."""
    from . import enforcement

    return {"created": enforcement.credit_sync(actor=request.user)}


@router.get("/surveillance/alerts", response=list[AlertOut])
def surveillance_alerts(request, day: dt.date, to: dt.date | None = None):
    """Market surveillance alerts of ``day``…``to`` (at most 31 days) for the exchange and the national authority."""
    from cets.parties.access import require_role
    from cets.parties.models import Role

    from .models import SurveillanceDecision

    require_role(request.user, Role.NATIONAL_AUTHORITY, Role.EXCHANGE_OPERATOR)
    to = to if to is not None and day <= to <= day + dt.timedelta(days=31) else day
    alerts = selectors.surveillance_alerts(day_from=day, day_to=to)
    decided = dict(SurveillanceDecision.objects.filter(alert_key__in=[a.key for a in alerts]).values_list("alert_key", "outcome"))
    return [AlertOut(key=a.key, rule=a.rule, day=a.day, instrument=a.instrument, participants=list(a.participants), orders=list(a.orders), detail=a.detail,
                     source=a.source, decision=decided.get(a.key, "")) for a in alerts]


@router.post("/surveillance/decisions")
def surveillance_decide(request, body: SurveillanceDecideIn):
    """Dismiss or refer an alert (G0801–G0803)."""
    from . import enforcement

    d = enforcement.surveillance_decide(actor=request.user, alert_key=body.alert_key, outcome=body.outcome, reason=body.reason)
    return {"alert_key": d.alert_key, "outcome": d.outcome}


@router.post("/surveillance/related")
def related_set(request, body: RelatedIn):
    """Record a participant's holder group for the wash-trade rule (G0804)."""
    from . import enforcement

    r = enforcement.related_participant_set(actor=request.user, organisation_id=_org(body.uscc).pk, group=body.group, basis=body.basis)
    return {"uscc": body.uscc, "group": r.group}

class RiskOut(Schema):
    uscc: str
    name: str
    province: str
    score: int
    level: str
    outstanding_t: int
    usable_holdings_t: int
    shortfall_t: int
    net_purchases_t: int
    days_to_deadline: int
    flagged: bool
    credit_records: int
    status: str


@router.get("/risk", response=list[RiskOut])
def risk(request, year: PathYear, market: str = PRIMARY_MARKET):
    """The compliance risk index (履约风险指数) of ``year``'s obligations of ``market`` in the caller's scope, highest score
    first (authorities, the registry and the exchange; read-only). Tonnes CO2e (int). R0502 other roles; S0101 no
    supervision pack for the market and year; 404 unknown market."""
    from cets.parties.access import require_role
    from cets.rules.markets import market_ids

    require_role(request.user, *selectors.RISK_ROLES)
    if market not in market_ids():
        raise Http404
    return [RiskOut(uscc=r["entity"].uscc or "", name=r["entity"].name, province=r["entity"].province, score=r["index"].score, level=r["index"].level,
                    outstanding_t=r["outstanding_t"], usable_holdings_t=r["holdings_t"], shortfall_t=r["index"].shortfall_t,
                    net_purchases_t=r["net_purchases_t"], days_to_deadline=r["days_to_deadline"], flagged=r["index"].flagged,
                    credit_records=r["credit_records"], status=r["status"])
            for r in selectors.risk_rows(user=request.user, year=year, market=market) or []]


class WeeklyRowOut(Schema):
    uscc: str
    name: str
    weeks_t: list[int]
    total_t: int


class WeeklyOut(Schema):
    weeks: list[tuple[dt.date, dt.date]]
    rows: list[WeeklyRowOut]


@router.get("/risk/weekly", response=WeeklyOut)
def risk_weekly(request, year: PathYear, province: str, market: str = PRIMARY_MARKET):
    """The weekly net purchases (配额净购入量, t, signed) of ``province``'s entities in the last month before the ``year``
    deadline (2021–2022 notice §五(二)). Same roles as ``/risk``; a local authority sees only its own province (R0502)."""
    from cets.parties.access import require_role
    from cets.rules.markets import market_ids

    require_role(request.user, *selectors.RISK_ROLES, province=province)
    if market not in market_ids():
        raise Http404
    w = selectors.weekly_net_purchases(user=request.user, province=province, year=year, market=market) or {"weeks": [], "rows": []}
    return WeeklyOut(weeks=w["weeks"], rows=[WeeklyRowOut(uscc=e.uscc or "", name=e.name, weeks_t=per, total_t=tot) for e, per, tot in w["rows"]])


@router.post("/credit-records", response=CreditOut)
def credit_create(request, body: CreditIn):
    """Record a credit entry (Measures Art. 38) in the caller's jurisdiction."""
    return _credit(services.credit_record_create(actor=request.user, subject_id=_org(body.uscc).pk, kind=body.kind, reason=body.reason,
                                                 source_reference=body.source_reference, recorded_on=body.recorded_on, internal_note=body.internal_note))


@router.get("/credit-records", response=list[CreditOut])
@paginate(LimitOffsetPagination)
def credit_list(request):
    return [_credit(c) for c in selectors.credit_records_visible(user=request.user)]


@router.post("/blacklist", response=BlacklistOut)
def blacklist_create(request, body: BlacklistIn):
    """The national authority blacklists an organisation (Measures Art. 49)."""
    return _black(services.blacklist_decide(actor=request.user, subject_id=_org(body.uscc).pk, effect=body.effect, decision_reference=body.decision_reference,
                                            reason=body.reason, starts_on=body.starts_on, ends_on=body.ends_on, internal_note=body.internal_note))


@router.post("/blacklist/{entry_id}/lift", response=BlacklistOut)
def blacklist_lift(request, entry_id: int, body: LiftIn):
    return _black(services.blacklist_lift(actor=request.user, entry_id=entry_id, lifted_on=body.lifted_on))


@router.post("/joint-notices", response=NoticeOut)
def notice_create(request, body: NoticeIn):
    """A joint-punishment notice about a penalised entity (Measures Art. 46)."""
    return _notice(services.joint_notice_create(actor=request.user, entity_id=_org(body.uscc).pk, penalty_reference=body.penalty_reference, facts=body.facts))


@router.post("/joint-notices/{notice_id}/dispatches", response=NoticeOut)
def notice_dispatch(request, notice_id: int, body: DispatchIn):
    """Register that the notice was sent to a department."""
    d = services.joint_notice_dispatch(actor=request.user, notice_id=notice_id, department=body.department, letter_reference=body.letter_reference,
                                       sent_on=body.sent_on)
    return _notice(d.notice)


@router.get("/joint-notices", response=list[NoticeOut])
def notice_list(request):
    return [_notice(n) for n in selectors.notices_visible(user=request.user)]


@router.get("/reports", response=list[ReportOut])
@paginate(LimitOffsetPagination)
def report_list(request, status: str = ""):
    """Reports the caller's authority handles, with the reporter's identity (nobody else sees it)."""
    return [_report(r) for r in selectors.reports_visible(user=request.user, status=status)]


@router.post("/reports/{receipt}/close", response=ReportOut)
def report_close(request, receipt: str, body: CloseIn):
    if selectors.report_for(user=request.user, receipt=receipt) is None and not PublicReport.objects.filter(receipt=receipt).exists():
        raise Http404
    return _report(services.report_close(actor=request.user, receipt=receipt, feedback=body.feedback))


@router.post("/assignments", response=list[AssignmentOut])
def assign_screened(request, body: AssignIn):
    """The random draw of verification bodies without those blacklisted from verification work (Art. 49)."""
    from cets.parties.selectors import entity_get

    entities = [entity_get(user=request.user, uscc=u) for u in body.entity_usccs]
    bodies = list(Organisation.objects.filter(kind=Organisation.Kind.VERIFIER, uscc__in=body.body_usccs))
    out = services.verification_assign_screened(actor=request.user, year=body.year, province=body.province, entities=entities, bodies=bodies,
                                                seed=body.seed, kind=body.kind, market=body.market, sector=body.sector or None)
    return [_asg(a) for a in out]


# ---- public (no login)

@public_router.post("/reports", response=ReportStatusOut)
def public_report_file(request, body: ReportIn):
    """File a report from the public (Measures Art. 40); keep the receipt number. Limited per session."""
    return _status(services.report_file(session=request.session, **body.dict()))


@public_router.get("/reports/{receipt}", response=ReportStatusOut)
def public_report_status(request, receipt: str):
    r = selectors.public_report_status(receipt=receipt)
    if r is None:
        raise Http404
    return _status(r)


@public_router.get("/blacklist", response=list[BlacklistOut])
@paginate(LimitOffsetPagination)
def public_blacklist(request, search: str = "", current: bool = False):
    return [_black(b) for b in selectors.public_blacklist(search=search, current_only=current)]


@public_router.get("/credit-records", response=list[CreditOut])
@paginate(LimitOffsetPagination)
def public_credit(request, search: str = ""):
    return [_credit(c) for c in selectors.public_credit_records(search=search)]


@public_router.get("/lists/{slug}", response=list[dict])
@paginate(LimitOffsetPagination)
def public_list(request, slug: str, q: str = ""):
    """Any public-portal list (``emitter-lists``, ``verifications``, ``surrender``, ``packs``, ...) as rows of the
    page's columns; the query string takes the page's filters."""
    from .public import LISTS

    pl = LISTS.get(slug)
    if pl is None:
        raise Http404
    params = {k: request.GET.get(k, "") for k in ["q"] + [f for f, _l in pl.filters]}
    cols = [k for k, _l in pl.columns]
    return [{k: (v if isinstance(v := pl.row(x).get(k, ""), (int, str)) else str(v)) for k in cols} for x in pl.query(params)]


# ---- market stabilisation and the national reserve (national authority; draft Measures Art. 9, 23)
# Approval of a reserve proposal (four eyes): ``POST /api/v1/registry/proposals/{id}/approve`` by a second person.

class AlertOut(Schema):
    id: int
    market: str
    day: dt.date
    trigger: str
    value: int
    threshold: int
    pack_id: str
    status: str
    decision: str
    decision_reference: str
    proposal_key: str


def _alert(a) -> AlertOut:
    return AlertOut(id=a.pk, market=a.market, day=a.day, trigger=a.trigger, value=a.value, threshold=a.threshold, pack_id=a.pack_id, status=a.status,
                    decision=a.decision, decision_reference=a.decision_reference, proposal_key=a.proposal_key)


class TriggersIn(Schema):
    market: str
    day: dt.date


class DecideIn(Schema):
    decision: str
    decision_reference: str
    proposal_key: str = ""


class ReserveLineIn(Schema):
    account: str
    quantity_t: Tonnes
    price_fen: Fen


class FundIn(Schema):
    key: str
    unit_type: str
    year: Year
    decision_ref: str


class AuctionIn(Schema):
    key: str
    unit_type: str
    year: Year
    quantity_t: Tonnes
    floor_fen: Fen
    decision_ref: str
    bids: list[ReserveLineIn]


class WithdrawIn(Schema):
    key: str
    unit_type: str
    decision_ref: str
    lines: list[ReserveLineIn]


class ReserveProposalOut(Schema):
    id: int
    key: str
    kind: str
    status: str
    payload: dict
    result: dict


class TreasuryEntryOut(Schema):
    key: str
    kind: str
    debit_account: str
    credit_account: str
    amount_fen: int
    reference: str
    recorded_at: dt.datetime


class TreasuryOut(Schema):
    """The market's treasury fund account (收支两条线): reserve auction and paid allocation proceeds, buy-back payments (fen)."""

    number: str
    available_fen: int
    frozen_fen: int
    entries: list[TreasuryEntryOut]


class ReserveOut(Schema):
    market: str
    holdings: list[dict]
    proposals: list[ReserveProposalOut]
    proposals_count: int  # all of them; ``proposals`` is the page ``offset`` … ``offset + limit``
    treasury: TreasuryOut


def _treasury(market: str) -> TreasuryOut:
    from cets.trading.selectors import treasury

    t = treasury(market=market)
    return TreasuryOut(number=t.number, available_fen=t.available_fen, frozen_fen=t.frozen_fen, entries=[
        TreasuryEntryOut(key=e.key, kind=e.kind, debit_account=e.debit_account.number, credit_account=e.credit_account.number, amount_fen=e.amount_fen,
                         reference=e.reference, recorded_at=e.recorded_at) for e in t.entries])


def _national(request) -> None:
    from cets.parties.access import require_role
    from cets.parties.models import Role

    require_role(request.user, Role.NATIONAL_AUTHORITY)


def _ut(code: str):
    from cets.core.errors import CetsError
    from cets.registry.checks import R0201
    from cets.registry.models import UnitType

    ut = UnitType.objects.filter(code=code).first()
    if ut is None:
        raise CetsError(R0201, code[:40])
    return ut


def _rp(p) -> ReserveProposalOut:
    return ReserveProposalOut(id=p.pk, key=p.key, kind=p.kind, status=p.status, payload=p.payload, result=p.result)


@router.get("/stabilisation/alerts", response=list[AlertOut])
@paginate(LimitOffsetPagination)
def alerts(request, status: str = ""):
    """Trigger alerts (open or decided), ``limit``/``offset`` pages of ``{"items", "count"}``. National authority (R0502 otherwise)."""
    _national(request)
    return [_alert(a) for a in selectors.stabilisation_alerts(status=status)]


@router.post("/stabilisation/triggers", response=list[AlertOut])
def triggers_check(request, body: TriggersIn):
    """Check a trading day's figures against the pack's triggers; returns the alerts raised (G0601 no figures, R1104 no pack)."""
    from .stabilisation import stabilisation_triggers_check

    return [_alert(a) for a in stabilisation_triggers_check(market=body.market, day=body.day, actor=request.user)]


@router.post("/stabilisation/alerts/{alert_id}/decide", response=AlertOut)
def alert_decide(request, alert_id: PathId, body: DecideIn):
    """Record the decision on an alert (G0602, G0603); published on /public/stabilisation/."""
    from .stabilisation import stabilisation_alert_decide

    return _alert(stabilisation_alert_decide(alert_id=alert_id, actor=request.user, decision=body.decision, decision_reference=body.decision_reference,
                                             proposal_key=body.proposal_key))


@router.get("/reserve", response=ReserveOut)
def reserve(request, market: str = PRIMARY_MARKET, limit: Limit = 200, offset: Offset = 0):
    """The national reserve: its holdings (t), the reserve proposals (proposed, executed, rejected; newest first, ``limit`` from
    ``offset``, ``proposals_count`` in all) and the market's treasury fund account (available and frozen fen, latest entries) that
    auctions pay into and buy-backs pay from."""
    from cets.registry import selectors as reg

    _national(request)
    qs = reg.reserve_proposals()
    return ReserveOut(market=market, holdings=[{"unit_type": h.unit_type.code, "position": h.position, "quantity_t": h.quantity}
                                               for h in reg.reserve_holdings(market=market)],
                      proposals=[_rp(p) for p in qs[offset:offset + limit]], proposals_count=qs.count(), treasury=_treasury(market))


@router.post("/reserve/fund", response=ReserveProposalOut)
def reserve_fund(request, body: FundIn):
    """Propose funding the reserve from a vintage's cap by the pack's share (R1104, R0502)."""
    from cets.registry.services import reserve_fund_propose

    return _rp(reserve_fund_propose(key=body.key, unit_type=_ut(body.unit_type), year=body.year, decision_ref=body.decision_ref, actor=request.user))


@router.post("/reserve/auctions", response=ReserveProposalOut)
def reserve_auction(request, body: AuctionIn):
    """Clear an auction from the reserve (trading.auction, the pack's pricing) and propose the release of its fills."""
    from cets.trading.auction import Bid

    from .stabilisation import reserve_auction_propose

    bids = [Bid(bid_id=i, participant=b.account, price_fen=b.price_fen, quantity_t=b.quantity_t) for i, b in enumerate(body.bids, start=1)]
    return _rp(reserve_auction_propose(key=body.key, unit_type=_ut(body.unit_type), quantity_t=body.quantity_t, floor_fen=body.floor_fen, bids=bids,
                                       decision_ref=body.decision_ref, actor=request.user, year=body.year))


@router.post("/reserve/withdrawals", response=ReserveProposalOut)
def reserve_withdraw(request, body: WithdrawIn):
    """Propose a buy-back into the reserve: the sellers' units are held at once, moved on a second person's approval."""
    from cets.registry.services import reserve_withdraw_propose

    lines = [{"account": ln.account, "quantity": ln.quantity_t, "price_fen": ln.price_fen} for ln in body.lines]
    return _rp(reserve_withdraw_propose(key=body.key, unit_type=_ut(body.unit_type), lines=lines, decision_ref=body.decision_ref, actor=request.user))


# ---- what-if runs (issue 17): a draft allocation pack against a stored year; nothing is written

class WhatIfIn(Schema):
    packs: list[str]
    base: str  # market/year, e.g. "national/2024"
    rules_year: Year | None = None


class WhatIfSectorOut(Schema):
    sector: str
    base_pack: str
    draft_pack: str
    rules_year: int


class WhatIfFiguresOut(Schema):
    """Tonnes CO2e (int) and fen (int), as :class:`cets.allocation.whatif.Figures`."""

    verified_t: int
    base_t: int
    draft_t: int
    base_balance_t: int
    draft_balance_t: int
    base_cost_fen: int
    draft_cost_fen: int


class WhatIfTotalOut(WhatIfFiguresOut):
    key: str
    entities: int


class WhatIfRowOut(WhatIfFiguresOut):
    uscc: str
    name: str
    province: str
    sector: str


class WhatIfOut(Schema):
    market: str
    year: int
    price_fen: int
    price_source: str
    sectors: list[WhatIfSectorOut]
    by_sector: list[WhatIfTotalOut]
    by_province: list[WhatIfTotalOut]
    total: WhatIfTotalOut
    entities: list[WhatIfRowOut]


def _total(t) -> WhatIfTotalOut:
    return WhatIfTotalOut(**{f: getattr(t, f) for f in WhatIfTotalOut.model_fields})


@router.post("/whatif", response=WhatIfOut)
def whatif_run(request, body: WhatIfIn):
    """A what-if run (cets.supervision.whatif): the national authority sees every entity, a provincial authority its
    province; tonnes CO2e and fen as int; balance = allocation − verified emissions; cost = shortfall × the year's
    average price. Refusals A0201–A0205, A0117, R0502. Writes nothing."""
    from . import whatif as wi

    r = wi.run_for(actor=request.user, packs=body.packs, base=body.base, rules_year=body.rules_year)
    return WhatIfOut(market=r.market, year=r.year, price_fen=r.price_fen, price_source=r.price_source,
                     sectors=[WhatIfSectorOut(sector=s.sector, base_pack=s.base_pack_id, draft_pack=s.draft_pack_id, rules_year=s.rules_year)
                              for s in r.sectors],
                     by_sector=[_total(t) for t in r.totals("sector")], by_province=[_total(t) for t in r.totals("province")],
                     total=_total(r.grand_total()),
                     entities=[WhatIfRowOut(**{f: getattr(x, f) for f in WhatIfRowOut.model_fields}) for x in r.rows])


# ---- paid allocation by auction (有偿分配) of a pilot market: its provincial authority; approval (four eyes) at
# ``POST /api/v1/registry/proposals/{id}/approve`` by a second person of the same authority.

class PaidAuctionIn(Schema):
    key: str
    unit_type: str
    quantity_t: Tonnes
    floor_fen: Fen
    decision_ref: str
    bids: list[ReserveLineIn]


class PaidAllocationOut(Schema):
    market: str
    proposals: list[ReserveProposalOut]
    proposals_count: int  # all of them; ``proposals`` is the page ``offset`` … ``offset + limit``
    treasury: TreasuryOut


@router.get("/paid-allocation", response=PaidAllocationOut)
def paid_allocation(request, market: str, limit: Limit = 200, offset: Offset = 0):
    """A pilot market's paid allocation proposals (newest first, ``limit`` from ``offset``, ``proposals_count`` in all) and its
    treasury fund account (fen). Provincial authority (R0502)."""
    from cets.parties.access import require_role
    from cets.parties.models import Role
    from cets.registry.models import Proposal

    require_role(request.user, Role.PROVINCIAL_AUTHORITY)
    qs = Proposal.objects.filter(kind="paid_allocation", payload__market=market[:16]).order_by("-proposed_at", "-pk")
    return PaidAllocationOut(market=market[:16], proposals=[_rp(p) for p in qs[offset:offset + limit]], proposals_count=qs.count(),
                             treasury=_treasury(market[:16]))


@router.post("/paid-allocation/auctions", response=ReserveProposalOut)
def paid_allocation_auction(request, body: PaidAuctionIn):
    """Clear a paid allocation auction (uniform price, bids below the floor refused) and propose issuing the awards against
    payment into the treasury fund account: the winners' amounts are frozen now. Refusals: see
    :func:`cets.allocation.paid.paid_allocation_auction_propose`."""
    from cets.allocation.paid import paid_allocation_auction_propose

    bids = [{"account": b.account, "price_fen": b.price_fen, "quantity_t": b.quantity_t} for b in body.bids]
    return _rp(paid_allocation_auction_propose(key=body.key, unit_type=_ut(body.unit_type), quantity_t=body.quantity_t, floor_fen=body.floor_fen,
                                               bids=bids, decision_ref=body.decision_ref, actor=request.user))
