"""Supervision reads: what the public portal shows (published information only) and what an authority
sees of supervision records in its jurisdiction (national all, a province its province, a municipal
authority its city)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Max, Q, Sum
from django.utils import timezone

from cets.parties.access import membership_of
from cets.parties.models import Organisation, Role
from cets.rules.markets import PRIMARY_MARKET

from .models import BlacklistEntry, CreditRecord, JointNotice, PublicReport


def in_force(on: dt.date | None = None) -> Q:
    """Blacklist entries in force on ``on`` (today)."""
    on = on or timezone.localdate()
    return Q(starts_on__lte=on) & (Q(ends_on__isnull=True) | Q(ends_on__gte=on)) & (Q(lifted_on__isnull=True) | Q(lifted_on__gt=on))


def barred_ids(*, effect: str, on: dt.date | None = None) -> set[int]:
    """Ids of organisations blacklisted with ``effect`` on ``on``."""
    return set(BlacklistEntry.objects.filter(in_force(on), effect=effect).values_list("subject_id", flat=True))


def trading_restriction(organisation_id: int, day: dt.date) -> str | None:
    """The blacklist decision barring ``organisation_id`` from trading on ``day`` (Measures Art. 49), as
    "<decision reference>: <reason>", or None. Registered with :mod:`cets.trading.restrictions` (T0701)."""
    e = BlacklistEntry.objects.filter(in_force(day), effect=BlacklistEntry.Effect.TRADING, subject_id=organisation_id).first()
    return None if e is None else f"{e.decision_reference}: {e.reason}"


def verification_pool(*, bodies=None, on: dt.date | None = None):
    """Verification bodies that may be drawn on ``on``: ``bodies`` (default every verification body)
    without those blacklisted from verification work (Measures Art. 49)."""
    qs = bodies if bodies is not None else Organisation.objects.filter(kind=Organisation.Kind.VERIFIER)
    return qs.exclude(pk__in=barred_ids(effect=BlacklistEntry.Effect.VERIFICATION, on=on))


# ---- public (no login)

def public_credit_records(*, search: str = "", kind: str = "", province: str = ""):
    qs = CreditRecord.objects.select_related("subject", "authority")
    if search:
        qs = qs.filter(Q(subject__name__icontains=search) | Q(subject__uscc__icontains=search) | Q(source_reference__icontains=search))
    if kind:
        qs = qs.filter(kind=kind)
    if province:
        qs = qs.filter(province=province)
    return qs


def public_blacklist(*, search: str = "", effect: str = "", current_only: bool = False):
    qs = BlacklistEntry.objects.select_related("subject")
    if search:
        qs = qs.filter(Q(subject__name__icontains=search) | Q(subject__uscc__icontains=search) | Q(decision_reference__icontains=search))
    if effect:
        qs = qs.filter(effect=effect)
    if current_only:
        qs = qs.filter(in_force())
    return qs


def public_report_status(*, receipt: str) -> PublicReport | None:
    """The report with ``receipt`` (the caller shows only status, deadline and feedback)."""
    return PublicReport.objects.filter(receipt=receipt.strip()).first()


def public_verifications(*, year: int | None = None, sector: str = "", province: str = "", conclusion: str = "", search: str = ""):
    """Verification results (核查结果向社会公开, Regulations Art. 12; the 一公开 of verifier disclosure)."""
    from cets.mrv.models import VerificationRecord

    qs = VerificationRecord.objects.select_related("entity", "verifier")
    if year:
        qs = qs.filter(year=year)
    if sector:
        qs = qs.filter(sector=sector)
    if province:
        qs = qs.filter(entity__province=province)
    if conclusion in ("conforming", "nonconforming"):
        qs = qs.filter(conforming=conclusion == "conforming")
    if search:
        qs = qs.filter(Q(entity__name__icontains=search) | Q(entity__uscc__icontains=search) | Q(verifier__name__icontains=search))
    return qs.order_by("-year", "entity__province", "entity__uscc", "list_id")


def public_evaluations(*, year: int | None = None, search: str = ""):
    """Published verifier evaluations (环办气候函〔2025〕140号 §二(九))."""
    from cets.mrv.models import VerifierEvaluation

    qs = VerifierEvaluation.objects.select_related("body")
    if year:
        qs = qs.filter(year=year)
    if search:
        qs = qs.filter(Q(body__name__icontains=search) | Q(body__uscc__icontains=search))
    return qs.order_by("-year", "province", "body__name")


def surrender_years(*, today: dt.date | None = None, market: str = PRIMARY_MARKET) -> list[int]:
    """Compliance years of ``market`` whose (latest) surrender deadline has passed, newest first."""
    from cets.compliance.models import Obligation

    today = today or timezone.localdate()
    rows = Obligation.objects.filter(market=market).values("year").annotate(last=Max("deadline"))
    return sorted((r["year"] for r in rows if r["last"] < today), reverse=True)


def public_surrender(*, year: int, search: str = "", province: str = "", market: str = PRIMARY_MARKET, entity_ids=None) -> list[dict]:
    """Surrender status per entity of ``year`` (Measures Art. 35(八)), only once the deadline has passed;
    ``[]`` before. Rows: entity, province, status (no quantities held)."""
    from cets.compliance.selectors import statuses

    if year not in surrender_years(market=market):
        return []
    st = statuses(year=year, market=market, entity_qs=entity_ids)
    qs = Organisation.objects.filter(pk__in=st.keys())
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(uscc__icontains=search))
    if province:
        qs = qs.filter(province=province)
    return [{"entity": o, "status": st[o.pk].status} for o in qs.order_by("province", "uscc")]


def allocation_aggregates(*, year: int, by: str = "province", market: str = PRIMARY_MARKET) -> list[dict]:
    """Σ final allocation and Σ verified emissions (t, int) of ``year`` per province or per sector."""
    from cets.allocation.models import EntityAllocation

    key = "entity__province" if by == "province" else "sector"
    rows = (EntityAllocation.objects.filter(year=year, market=market).values(key)
            .annotate(allocation_t=Sum("final_allocation_t"), verified_t=Sum("verified_emissions_t")).order_by(key))
    return [{"key": r[key], "allocation_t": int(r["allocation_t"] or 0), "verified_t": int(r["verified_t"] or 0)} for r in rows]


def allocation_years(market: str = PRIMARY_MARKET) -> list[int]:
    from cets.allocation.models import EntityAllocation

    return sorted(set(EntityAllocation.objects.filter(market=market).values_list("year", flat=True)), reverse=True)


# ---- authorities

def _scope(user, province_field: str = "province", city_field: str | None = None) -> Q | None:
    """The filter of what an authority user may see, or None for anyone else."""
    m = membership_of(user)
    if m is None or m.role not in (Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY, Role.MUNICIPAL_AUTHORITY):
        return None
    if m.role == Role.NATIONAL_AUTHORITY:
        return Q()
    q = Q(**{province_field: m.province})
    if m.role == Role.MUNICIPAL_AUTHORITY:
        q &= Q(**{city_field: m.city}) if (city_field and m.city) else Q(pk__in=[])
    return q


def reports_visible(*, user, status: str = ""):
    """Reports the user's authority handles (with the reporter's identity); none for anyone else."""
    q = _scope(user, "province", "city")
    if q is None:
        return PublicReport.objects.none()
    qs = PublicReport.objects.filter(q)
    return qs.filter(status=status) if status else qs


def report_for(*, user, receipt: str) -> PublicReport | None:
    return reports_visible(user=user).filter(receipt=receipt).first()


def credit_records_visible(*, user):
    q = _scope(user, "province", "subject__region_code__startswith")
    return CreditRecord.objects.none() if q is None else CreditRecord.objects.filter(q).select_related("subject", "authority")


def notices_visible(*, user):
    q = _scope(user, "province", "entity__region_code__startswith")
    return JointNotice.objects.none() if q is None else JointNotice.objects.filter(q).select_related("entity").prefetch_related("dispatches")


def is_authority(user) -> bool:
    return _scope(user) is not None


def stabilisation_alerts(*, status: str = "", market: str = ""):
    """Market-adjustment alerts (draft Measures Art. 23), newest day first; ``status`` ``open`` or ``decided``."""
    from .models import StabilisationAlert

    qs = StabilisationAlert.objects.select_related("decided_by")
    if status:
        qs = qs.filter(status=status)
    if market:
        qs = qs.filter(market=market)
    return qs.order_by("-day", "trigger")


# ---- market surveillance (reads the exchange's order and trade logs; rules in cets.supervision.rules)


def surveillance_alerts(*, day_from: dt.date, day_to: dt.date, market: str = PRIMARY_MARKET) -> list:
    """Alerts (:class:`cets.supervision.rules.Alert`) of ``day_from``…``day_to`` from the trade and order logs by the rules of
    :mod:`cets.supervision.rules` with the thresholds of the supervision pack of ``day_to``'s year; related accounts are
    participants in the same :class:`~cets.supervision.models.RelatedParticipant` group (or the same participant).
    Holders above the trading pack's large-holder threshold on ``day_to`` are alerts too (rule ``large_holder``). Sorted by day, rule."""
    from cets.rules.packs import pack_for
    from cets.trading.models import Order, Trade

    from . import rules

    pack = pack_for(market, "*", day_to.year, kind="supervision")
    trading = pack_for(market, "*", day_to.year, kind="trading")
    trades = [rules.TradeRow(t.seq, t.trading_day, t.instrument, t.price_fen, t.quantity_t, t.buyer_id, t.seller_id, t.buy_order_id, t.sell_order_id)
              for t in Trade.objects.filter(market=market, trading_day__gte=day_from, trading_day__lte=day_to)]
    ids = {t.buyer for t in trades} | {t.seller for t in trades}
    from .models import RelatedParticipant

    groups = dict(RelatedParticipant.objects.filter(organisation_id__in=ids).values_list("organisation_id", "group"))
    holder_of = {pid: f"g:{g}" for pid, g in groups.items()}
    opens = Order.objects.filter(market=market, kind=Order.Kind.OPEN_DAY, trading_day__gte=day_from, trading_day__lte=day_to)
    prev = {(o.trading_day, o.instrument): o.price_fen for o in opens}
    cancelled = Order.objects.filter(market=market, kind=Order.Kind.PLACE, status=Order.Status.CANCELLED, trading_day__gte=day_from, trading_day__lte=day_to)
    cancels = [rules.CancelRow(o.seq, o.trading_day, o.participant_id, o.quantity_t) for o in cancelled]
    s = "surveillance."
    out = (rules.wash_trades(trades, holder_of=holder_of)
           + rules.concentration(trades, share=pack.decimal(s + "day_volume_share"), min_volume_t=int(pack.decimal(s + "day_volume_min_t")))
           + rules.band_proximity(trades, prev_close_fen=prev, band=trading.decimal("order.listing_band"), proximity=pack.decimal(s + "band_proximity"))
           + rules.large_cancels(cancels, min_t=int(pack.decimal(s + "cancel_min_t"))))
    # holders above the large-holder reporting threshold on day_to (the exchange's own report, trading.selectors.large_holders)
    from cets.trading.selectors import large_holders

    large = large_holders(market=market, day=day_to)
    by_code = dict(Organisation.objects.filter(uscc__in=[h.uscc for h in large]).values_list("uscc", "pk"))
    out += [rules.Alert("large_holder", day_to, h.unit_type, (by_code[h.uscc],), (), f"{h.holding_t} t > {h.threshold_t} t", rules.SRC_LARGE_HOLDER)
            for h in large if h.uscc in by_code]
    return sorted(out, key=lambda a: (a.day, a.rule, a.key))


def surveillance_alert(key: str, *, market: str = PRIMARY_MARKET):
    """The current alert with ``key`` (its day is the key's second field), or None."""
    try:
        day = dt.date.fromisoformat(key.split(":")[1])
    except (IndexError, ValueError):
        return None
    return next((a for a in surveillance_alerts(day_from=day, day_to=day, market=market) if a.key == key), None)


def finding_determinations(market: str, year: int, entity_ids=None) -> dict[int, int]:
    """entity id → the emissions (t CO2e, int) determined on its latest false-reporting finding of ``year`` in ``market`` (the
    finding's supervision pack id starts with the market's folder); the source registered in :mod:`cets.mrv.determinations`."""
    from .models import FalseReportingFinding

    qs = FalseReportingFinding.objects.filter(year=year, pack_id__startswith=f"{market}/", determined_emissions_t__isnull=False)
    if entity_ids is not None:
        qs = qs.filter(subject_id__in=list(entity_ids))
    return dict(qs.order_by("decided_on", "pk").values_list("subject_id", "determined_emissions_t"))


def false_reporting_findings_public():
    """Findings of false reporting, newest first (public: Measures Art. 38, 曝光)."""
    from .models import FalseReportingFinding

    return FalseReportingFinding.objects.select_related("subject").order_by("-decided_on", "-id")


# ---- the compliance risk index (履约风险指数) and the weekly net-purchase report (2021–2022 notice, seed 001, §五(二))
# Moved here from compliance: it reads compliance's obligations and statuses and supervision's own credit records, and it is
# pushed to the provinces and to the exchange ("将风险提示信息及时推送各省级生态环境主管部门、交易机构").

#: who sees the index: the authorities (their jurisdiction), the registry (it builds the index) and the exchange (read-only, nationwide)
RISK_ROLES = (Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY, Role.MUNICIPAL_AUTHORITY, Role.REGISTRY_OPERATOR, Role.EXCHANGE_OPERATOR)


def risk_scope(user):
    """Organisations ``user`` may see in the risk index (parties.access.organisation_scope), or None for a role outside
    :data:`RISK_ROLES` (entities, traders, verifiers, district authorities)."""
    from cets.parties.access import organisation_scope

    m = membership_of(user)
    if m is None or m.role not in RISK_ROLES:
        return None
    return Organisation.objects.filter(organisation_scope(user))


def risk_pack(*, market: str, year: int):
    """The supervision pack whose ``[risk_index]`` weights the index of ``market``'s ``year`` (PackError if none)."""
    from cets.rules.packs import pack_for

    return pack_for(market, "*", year, kind="supervision")


def risk_params(pack):
    """:class:`cets.supervision.risk.RiskParams` from a supervision pack's ``[risk_index]``."""
    from .risk import RiskParams

    k = "risk_index."
    return RiskParams(pack.decimal(k + "weight_shortfall"), pack.decimal(k + "weight_urgency"), pack.decimal(k + "weight_buying"),
                      pack.decimal(k + "weight_flag"), int(pack.decimal(k + "horizon_days")), int(pack.decimal(k + "level_high")),
                      int(pack.decimal(k + "level_medium")), weight_credit=pack.decimal(k + "weight_credit"),
                      credit_saturation=int(pack.decimal(k + "credit_saturation")), credit_lookback_days=int(pack.decimal(k + "credit_lookback_days")))


def _net_trades(account_ids, start: dt.datetime, end: dt.datetime, unit_type_ids=None) -> dict[int, list[tuple[dt.date, int]]]:
    """account id → [(business date, +bought / −sold)] of transfers between holder accounts (trades and
    over-the-counter transfers; not issuance, releases from the provincial account or surrender)."""
    from collections import defaultdict

    from cets.registry.models import AccountKind, Transfer, TransferKind

    holders = (AccountKind.ENTITY, AccountKind.INSTITUTION, AccountKind.INDIVIDUAL)
    qs = Transfer.objects.filter(kind=TransferKind.TRANSFER, effective_at__gte=start, effective_at__lte=end, debit_account__kind__in=holders,
                                 credit_account__kind__in=holders)
    if unit_type_ids is not None:
        qs = qs.filter(unit_type_id__in=unit_type_ids)
    ids = set(account_ids)
    out: dict[int, list] = defaultdict(list)
    for d, c, at, q in qs.filter(Q(debit_account_id__in=ids) | Q(credit_account_id__in=ids)).values_list(
            "debit_account_id", "credit_account_id", "effective_at", "quantity"):
        day = timezone.localdate(at)
        if c in ids:
            out[c].append((day, q))
        if d in ids:
            out[d].append((day, -q))
    return out


def _day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return (timezone.make_aware(dt.datetime.combine(start, dt.time.min)), timezone.make_aware(dt.datetime.combine(end, dt.time.max)))


def credit_counts(*, entity_ids, today: dt.date, lookback_days: int) -> dict[int, int]:
    """entity id → how many credit records (Measures Art. 38) it has recorded in (today − lookback_days, today]."""
    from django.db.models import Count

    rows = (CreditRecord.objects.filter(subject_id__in=list(entity_ids), recorded_on__gt=today - dt.timedelta(days=lookback_days), recorded_on__lte=today)
            .values("subject_id").annotate(n=Count("id")))
    return {r["subject_id"]: r["n"] for r in rows}


def risk_rows(*, user, year: int, today: dt.date | None = None, market: str = PRIMARY_MARKET) -> list[dict] | None:
    """The compliance risk index (履约风险指数, :mod:`cets.supervision.risk`) of every entity with a ``year`` obligation of
    ``market`` in ``user``'s scope, highest score first. Per row: ``entity``, ``outstanding_t``, ``holdings_t`` (CEA of the
    year's usable vintages in the registry, trading and pending positions, plus what the provincial account holds for a
    flagged entity), ``net_purchases_t`` over the pack's window, ``days_to_deadline`` (the deadline in force),
    ``credit_records`` (in the lookback window), ``index`` (:class:`~cets.supervision.risk.RiskIndex`), ``status``.
    Weights from the supervision pack of ``market`` and ``year`` (``[risk_index]``; PackError if it has none); the usable
    vintages from the obligations' compliance pack. None if ``user`` may not see the index (:data:`RISK_ROLES`)."""
    from collections import defaultdict

    from cets.allocation.models import SpecialTreatment
    from cets.compliance.models import Obligation
    from cets.compliance.selectors import extended_deadlines, held_for, statuses, without_obligation
    from cets.registry.models import Account, Holding, Instrument, Position, UnitType
    from cets.rules.packs import load_pack

    from .risk import risk_index

    scope = risk_scope(user)
    if scope is None:
        return None
    today = today or timezone.localdate()
    obs = without_obligation(Obligation.objects.filter(year=year, entity__in=scope, market=market).select_related("entity"))
    if not obs:
        return []
    sup = risk_pack(market=market, year=year)
    params = risk_params(sup)
    compliance = load_pack(obs[0].pack_id)
    usable = UnitType.objects.filter(instrument=Instrument.CEA, vintage__in=compliance.raw(f"compliance.{year}.usable_vintages"))
    usable_ids = set(usable.values_list("pk", flat=True))
    entity_ids = [o.entity_id for o in obs]
    accounts = {a.holder_id: a.pk for a in Account.objects.filter(holder_id__in=entity_ids, kind="entity")}
    held: dict[int, int] = defaultdict(int)
    for acc, q in Holding.objects.filter(account_id__in=accounts.values(), unit_type_id__in=usable_ids,
                                         position__in=(Position.REGISTRY, Position.TRADING, Position.PENDING)).values_list("account_id", "quantity"):
        held[acc] += q
    window = int(sup.decimal("risk_index.net_purchase_window_days"))
    trades = _net_trades(accounts.values(), *_day_bounds(today - dt.timedelta(days=window - 1), today), unit_type_ids=usable_ids)
    flagged = set(SpecialTreatment.objects.filter(year=year, kind=SpecialTreatment.Kind.COMPLIANCE_RISK, voided_at__isnull=True,
                                                  entity_id__in=entity_ids).values_list("entity_id", flat=True))
    credit = credit_counts(entity_ids=entity_ids, today=today, lookback_days=params.credit_lookback_days)
    st = statuses(year=year, entity_qs=entity_ids, today=today, market=market)
    ext = extended_deadlines([o.pk for o in obs])
    rows = []
    for o in obs:
        acc = accounts.get(o.entity_id)
        holdings = held.get(acc, 0) + (sum(q for ut, q in held_for(entity=o.entity).items() if ut in usable_ids) if o.entity_id in flagged else 0)
        net = sum(q for _, q in trades.get(acc, []))
        deadline = max(o.deadline, ext.get(o.pk, o.deadline))
        r = risk_index(outstanding_t=st[o.entity_id].outstanding_t, usable_holdings_t=holdings, net_purchases_t=net,
                       days_to_deadline=(deadline - today).days, flagged=o.entity_id in flagged, p=params, credit_records=credit.get(o.entity_id, 0))
        rows.append({"entity": o.entity, "outstanding_t": st[o.entity_id].outstanding_t, "holdings_t": holdings, "net_purchases_t": net,
                     "days_to_deadline": (deadline - today).days, "credit_records": credit.get(o.entity_id, 0), "index": r,
                     "status": st[o.entity_id].status})
    rows.sort(key=lambda x: (-x["index"].score, x["entity"].uscc))
    return rows


def weekly_net_purchases(*, user, province: str, year: int, as_of: dt.date | None = None, market: str = PRIMARY_MARKET) -> dict | None:
    """The weekly report of net purchases (配额净购入量) of ``province``'s entities with a ``year`` obligation during the last
    month before the deadline (2021–2022 notice, seed 001, §五(二): the exchange reports it to the provinces every week):
    ``weeks`` [(from, to)] up to ``as_of`` and ``rows`` [(entity, [net t per week], total)]. All CEA vintages count. The
    window is the compliance pack's ``compliance.monitoring.weekly_report_window``. None if ``user`` may not see the index."""
    from cets.compliance.models import Obligation
    from cets.compliance.penalty import price_window
    from cets.registry.models import Account
    from cets.rules.packs import load_pack

    from .risk import report_weeks, weekly_net

    scope = risk_scope(user)
    if scope is None:
        return None
    scope = scope.filter(province=province)
    obs = list(Obligation.objects.filter(year=year, entity__in=scope, market=market).select_related("entity").order_by("entity__uscc"))
    if not obs:
        return {"weeks": [], "rows": []}
    pack = load_pack(obs[0].pack_id)
    start, end = price_window(obs[0].deadline, pack.text("compliance.monitoring.weekly_report_window"))
    as_of = as_of or timezone.localdate()
    weeks = report_weeks(start, min(end, as_of))
    accounts = {a.holder_id: a.pk for a in Account.objects.filter(holder_id__in=[o.entity_id for o in obs], kind="entity")}
    trades = _net_trades(accounts.values(), *_day_bounds(start, min(end, as_of))) if weeks else {}
    rows = []
    for o in obs:
        per = weekly_net(trades.get(accounts.get(o.entity_id), []), weeks)
        rows.append((o.entity, per, sum(per)))
    return {"weeks": weeks, "rows": rows}


def risk_years(*, user, market: str = PRIMARY_MARKET) -> list[int]:
    """Obligation years of ``market`` in ``user``'s risk scope, newest first ([] outside :data:`RISK_ROLES`)."""
    from cets.compliance.models import Obligation

    scope = risk_scope(user)
    if scope is None:
        return []
    return sorted(set(Obligation.objects.filter(market=market, entity__in=scope).values_list("year", flat=True)), reverse=True)
