"""Compliance reads: status per obligation, computed from approved surrenders (never stored)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from django.utils import timezone

from cets.parties.models import Organisation
from cets.registry.models import AccountKind, Position, Transfer
from cets.rules.markets import PRIMARY_MARKET

from .models import Obligation, SurrenderApplication
from .status import Status, compliance_status


def reversals_of(transfer_keys) -> dict[str, dt.date]:
    """transfer key → business date (Asia/Shanghai) of the registry reversal (冲正) of that transfer, for
    those of ``transfer_keys`` (surrender or forced-surrender entries) that were reversed. Reversals are
    rare: they are read once and matched here, so no long ``IN`` list reaches the database."""
    from cets.registry.models import Transfer, TransferKind

    keys = {k for k in transfer_keys if k}
    if not keys:
        return {}
    rows = Transfer.objects.filter(kind=TransferKind.REVERSAL, related__kind__in=(TransferKind.SURRENDER, TransferKind.FORCED_SURRENDER))
    return {k: timezone.localdate(at) for k, at in rows.values_list("related__key", "effective_at") if k in keys}


def active_surrenders(*, obligation: Obligation):
    """Applications that still count against ``obligation``: not rejected and whose surrender transfer
    was not reversed (a reversed surrender reopens the obligation and frees its quantity)."""
    qs = SurrenderApplication.objects.filter(obligation=obligation).exclude(status=SurrenderApplication.Status.REJECTED)
    gone = reversals_of(qs.filter(status=SurrenderApplication.Status.APPROVED).values_list("final_transfer_key", flat=True))
    return qs.exclude(final_transfer_key__in=list(gone)) if gone else qs


def _approved_by_obligation(obligation_ids, today: dt.date | None = None) -> dict[int, list[tuple[dt.date, int, bool]]]:
    """obligation id → [(approval date, tonnes, collected)] of approved surrenders, leaving out those reversed
    in the registry on or before ``today`` (status from events: a reversal reopens the obligation);
    ``collected`` marks the Beijing automatic collection (outcome ``collected``, :mod:`cets.compliance.status`)."""
    rows = list(SurrenderApplication.objects.filter(obligation_id__in=obligation_ids, status=SurrenderApplication.Status.APPROVED).values_list(
        "obligation_id", "decided_at", "quantity", "final_transfer_key", "collected"))
    gone = reversals_of([r[3] for r in rows])
    out: dict[int, list[tuple[dt.date, int, bool]]] = defaultdict(list)
    for ob, at, q, key, coll in rows:
        if key in gone and (today is None or gone[key] <= today):
            continue
        out[ob].append((timezone.localdate(at), q, coll))
    return out


def extended_deadlines(obligation_ids) -> dict[int, dt.date]:
    """obligation_id → the latest deadline granted by approved hardship relief (个性化纾困)."""
    from .models import ReliefApplication

    out: dict[int, dt.date] = {}
    for ob, d in ReliefApplication.objects.filter(obligation_id__in=obligation_ids, status=ReliefApplication.Status.APPROVED,
                                                  effect=ReliefApplication.Effect.DEADLINE_EXTENSION).values_list("obligation_id", "new_deadline"):
        out[ob] = max(d, out.get(ob, d))
    return out


def deadline_of(*, obligation: Obligation) -> dt.date:
    """The deadline in force: the obligation's, or a later one granted by approved hardship relief."""
    return max(obligation.deadline, extended_deadlines([obligation.pk]).get(obligation.pk, obligation.deadline))


def status_of(*, obligation: Obligation, today: dt.date | None = None) -> Status:
    """Status of one obligation at the end of ``today`` (Asia/Shanghai), from approved surrenders and the
    deadline in force (:func:`deadline_of`)."""
    today = today or timezone.localdate()
    return compliance_status(obligation.obligation_t, deadline_of(obligation=obligation), _approved_by_obligation([obligation.pk], today)[obligation.pk],
                             today)


DEFAULT_SPECIAL = {"provincial_account": ("compliance_risk",), "notice_via_province": ("compliance_risk",),
                   "no_borrowing": ("compliance_risk",), "no_obligation": ()}


def special_kinds(pack_id: str, key: str) -> frozenset[str]:
    """The special-treatment kinds (cets.allocation.models.SpecialTreatment) a pack's ``[special_treatment]``
    lists under ``key`` (``notice_via_province``, ``no_borrowing``, ``no_obligation``, ``provincial_account``),
    else :data:`DEFAULT_SPECIAL` (only entities at compliance risk are treated apart: 2023–2024 plan §五(四))."""
    from cets.rules.packs import PackError, load_pack

    try:
        kinds = load_pack(pack_id).data.get("special_treatment", {}).get(key)
    except PackError:
        kinds = None
    return frozenset(kinds if kinds is not None else DEFAULT_SPECIAL[key])


def treated_entity_ids(*, year: int, kinds, entity_ids=None) -> set[int]:
    """Entities with a special treatment of one of ``kinds`` in force for ``year`` (optionally among ``entity_ids``)."""
    from cets.allocation.models import SpecialTreatment

    if not kinds:
        return set()
    qs = SpecialTreatment.objects.filter(year=year, kind__in=list(kinds), voided_at__isnull=True)
    if entity_ids is not None:
        qs = qs.filter(entity_id__in=list(entity_ids))
    return set(qs.values_list("entity_id", flat=True))


def without_obligation(obs) -> list[Obligation]:
    """``obs`` less those of entities that take no part in compliance under their pack's
    ``special_treatment.no_obligation`` (2021–2022 notice §一: deregistered entities "不发放配额，不参与全国碳市场履约"):
    such an obligation, if one was recorded before the entity was flagged, is never counted, late or incomplete."""
    obs = list(obs)
    out_ids: set[int] = set()
    for (pack_id, year) in {(o.pack_id, o.year) for o in obs}:
        kinds = special_kinds(pack_id, "no_obligation")
        ids = [o.entity_id for o in obs if (o.pack_id, o.year) == (pack_id, year)]
        out_ids |= {(eid, pack_id, year) for eid in treated_entity_ids(year=year, kinds=kinds, entity_ids=ids)}
    return [o for o in obs if (o.entity_id, o.pack_id, o.year) not in out_ids]


def statuses(*, year: int, entity_qs=None, today: dt.date | None = None, market: str | None = PRIMARY_MARKET) -> dict[int, Status]:
    """entity_id → status for ``year`` in ``market`` (the obligation's pack: ``national/…``, ``beijing/…``;
    None: every market), optionally only entities in ``entity_qs``. Entities that take no part in compliance
    (:func:`without_obligation`, deregistered in 2021–2022) are left out, so never counted as incomplete."""
    today = today or timezone.localdate()
    obs = Obligation.objects.filter(year=year)
    if market is not None:
        obs = obs.filter(market=market)
    if entity_qs is not None:
        obs = obs.filter(entity__in=entity_qs)
    obs = without_obligation(obs)
    approved = _approved_by_obligation([o.pk for o in obs], today)
    ext = extended_deadlines([o.pk for o in obs])
    return {o.entity_id: compliance_status(o.obligation_t, max(o.deadline, ext.get(o.pk, o.deadline)), approved.get(o.pk, []), today) for o in obs}


def outcome_counts(*, year: int, entity_qs=None, today: dt.date | None = None, market: str = PRIMARY_MARKET) -> dict[str, int]:
    """Status → number of entities, for ``year`` in ``market``."""
    return dict(Counter(s.status for s in statuses(year=year, entity_qs=entity_qs, today=today, market=market).values()))


def surrendered_by_instrument(*, year: int, entity_qs=None, market: str = PRIMARY_MARKET) -> dict[str, int]:
    """Instrument → tonnes surrendered (approved, not reversed) for ``year`` in ``market``."""
    qs = SurrenderApplication.objects.filter(obligation__year=year, obligation__market=market,
                                             status=SurrenderApplication.Status.APPROVED)
    if entity_qs is not None:
        qs = qs.filter(obligation__entity__in=entity_qs)
    rows = list(qs.values_list("unit_type__instrument", "quantity", "final_transfer_key"))
    gone = reversals_of([r[2] for r in rows])
    out: Counter = Counter()
    for inst, q, key in rows:
        if key not in gone:
            out[inst] += q
    return dict(out)


def market_price(*, pack, deadline: dt.date, market: str = PRIMARY_MARKET):
    """P̄ for a surrender ``deadline`` under ``pack``'s ``[penalty]`` rules (Regulations 2024 Art. 24), from the
    platform's end-of-day figures (:func:`cets.trading.selectors.day_figures`): a
    :class:`~cets.compliance.penalty.MarketPrice` (price in fen per tonne, int) or None without counted trades."""
    from cets.trading.selectors import day_figures

    from .penalty import average_price, price_window

    start, end = price_window(deadline, pack.text("penalty.price_window"))
    methods = tuple(pack.raw("penalty.price_methods"))
    rows = [(f.date, f.instrument, f.method, f.volume_t, f.amount_fen)
            for f in day_figures(market=market, start=start, end=end, methods=methods)]
    return average_price(rows, start=start, end=end, instruments=pack.raw("penalty.price_instruments"), methods=methods,
                         average=pack.text("penalty.price_average"), rounding=pack.text("penalty.price_rounding"))


def unsurrendered_for_penalty(*, obligation: Obligation, pack, today: dt.date | None = None) -> int:
    """Tonnes CO2e (int) the fine is computed on: unsurrendered at the end of the deadline day
    (pack ``penalty.quantity_at = "deadline"``), or now (``"now"``). Units taken by the Beijing automatic
    collection (京环发〔2024〕8号 三(四)) came from the entity's own holdings: they are not counted as emissions
    beyond its allowances (the 3–5× fine's "超出配额许可范围的排放量"), so they are left out of the quantity."""
    s = status_of(obligation=obligation, today=today)
    if pack.text("penalty.quantity_at") == "deadline":
        return max(0, obligation.obligation_t - s.surrendered_by_deadline_t - s.collected_t)
    return s.outstanding_t


def penalties_published(*, year: int | None = None):
    """Published penalty decisions (public information, notice 国环规气候〔2024〕1号 §三(四)), newest first."""
    from .models import PenaltyDecision

    qs = PenaltyDecision.objects.filter(published_at__isnull=False).select_related("obligation__entity", "authority")
    if year is not None:
        qs = qs.filter(obligation__year=year)
    return qs.order_by("-published_at", "-id")


def _can_read(user, entity, *, entity_may: bool = True) -> bool:
    from cets.parties.access import membership_of
    from cets.parties.models import Role

    m = membership_of(user)
    if m is None:
        return False
    if m.role in (Role.NATIONAL_AUTHORITY, Role.REGISTRY_OPERATOR):
        return True
    if m.role in (Role.PROVINCIAL_AUTHORITY, Role.MUNICIPAL_AUTHORITY):
        return m.province == entity.province
    return entity_may and m.role == Role.ENTITY and m.organisation_id == entity.pk


def notice_for(*, user, notice_id: int):
    """The 履约通知书 ``notice_id`` if ``user`` may read it, else None: the national authority and the
    registry; the entity's provincial or municipal authority; the entity itself once the notice reached it
    (delivered to its account, or forwarded by the province)."""
    from .models import ComplianceNotice

    n = ComplianceNotice.objects.select_related("obligation__entity").filter(pk=notice_id).first()
    if n is None:
        return None
    reached = n.delivered_to == ComplianceNotice.DeliveredTo.ENTITY or n.forwarded_at is not None
    return n if _can_read(user, n.obligation.entity, entity_may=reached) else None


def certificate_for(*, user, certificate_id: int):
    """The 履约完成证明 if ``user`` may read it (as :func:`notice_for`, the entity always), else None."""
    from .models import ComplianceCertificate

    c = ComplianceCertificate.objects.select_related("obligation__entity").filter(pk=certificate_id).first()
    return c if c is not None and _can_read(user, c.obligation.entity) else None


def obligations_visible(*, user, year: int):
    """Obligations of ``year`` of the entities ``user`` may see (parties.access.organisation_scope), with
    notice and certificate, ordered by province and entity."""
    from cets.parties.access import organisation_scope
    from cets.parties.models import Organisation

    orgs = Organisation.objects.filter(organisation_scope(user))
    return (Obligation.objects.filter(year=year, entity__in=orgs).select_related("entity", "notice", "certificate")
            .order_by("entity__province", "entity__uscc"))


# ---------------------------------------------------------------- authorities' reads
# (the compliance risk index and the weekly net-purchase report moved to cets.supervision.selectors)

def authority_scope(user):
    """Organisations an authority or the registry may act on in compliance; None for anyone else (entities, traders)."""
    from cets.parties.access import membership_of, organisation_scope
    from cets.parties.models import Organisation, Role

    m = membership_of(user)
    if m is None or m.role not in (Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY, Role.MUNICIPAL_AUTHORITY, Role.REGISTRY_OPERATOR):
        return None
    return Organisation.objects.filter(organisation_scope(user))


def real_outcomes(*, year: int) -> dict[str, int] | None:
    """The real outcome counts of ``year`` (fulfillment_year_stats: records, onTime, overdue, incomplete)
    from ``data/cets-verification-entities/cets_public_info_coverage_stats.json`` (``CETS_DATA_DIR``
    overrides the folder), or None when the file or the year is missing."""
    import json
    import os
    from pathlib import Path

    base = Path(os.environ.get("CETS_DATA_DIR") or Path(__file__).resolve().parents[3] / "data")
    path = base / "cets-verification-entities" / "cets_public_info_coverage_stats.json"
    if not path.is_file():
        return None
    for r in json.loads(path.read_text(encoding="utf-8")).get("fulfillment_year_stats", []):
        if r.get("year") == str(year):
            return {"records": r["records"], "on_time": r["onTime"], "late": r["overdue"], "incomplete": r["incomplete"]}
    return None


def held_for(*, entity: Organisation) -> dict[int, int]:
    """unit_type_id → tonnes the entity's provincial authority account holds for it (registry position),
    from the journal's beneficiary entries."""
    from cets.registry.services import system_account

    prov = system_account(PRIMARY_MARKET, AccountKind.PROVINCIAL, entity.province)
    out: dict[int, int] = {}
    for ut, q in Transfer.objects.filter(credit_account=prov, credit_position=Position.REGISTRY, beneficiary=entity).values_list("unit_type_id", "quantity"):
        out[ut] = out.get(ut, 0) + q
    for ut, q in Transfer.objects.filter(debit_account=prov, debit_position=Position.REGISTRY, beneficiary=entity).values_list("unit_type_id", "quantity"):
        out[ut] = out.get(ut, 0) - q
    return {k: v for k, v in out.items() if v}


def obligation_for(*, entity, year: int, market: str | None = None, instrument: str | None = None):
    """``entity``'s obligation of ``year``: of ``market`` if given; else its only one that year; else the
    one of the market that ``instrument`` belongs to (:data:`cets.registry.kinds.INSTRUMENT_MARKET`).
    None if there is none."""
    from cets.registry.kinds import INSTRUMENT_MARKET

    obs = list(Obligation.objects.filter(entity=entity, year=year).order_by("market"))
    if market is not None:
        return next((o for o in obs if o.market == market), None)
    if len(obs) <= 1:
        return obs[0] if obs else None
    return next((o for o in obs if o.market == INSTRUMENT_MARKET.get(instrument)), None)


def surrenders_visible(*, user, year: int | None = None, status: str = ""):
    """Surrender applications of the entities in ``user``'s scope (authorities and the registry:
    :func:`authority_scope`), newest first, optionally of one obligation ``year`` and one ``status``;
    None for anyone else. The province decides them (``services.surrender_approve`` / ``surrender_reject``)."""
    scope = authority_scope(user)
    if scope is None:
        return None
    qs = SurrenderApplication.objects.filter(obligation__entity__in=scope)
    if year is not None:
        qs = qs.filter(obligation__year=year)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("obligation__entity", "unit_type").order_by("-submitted_at", "-id")


def rectification_deadline_of(*, obligation: Obligation) -> dt.date | None:
    """The rectification deadline the obligation's pack sets (``compliance.<year>.rectification_deadline``),
    or None when the pack has none (the authority then gives one)."""
    from cets.rules.packs import PackError, load_pack

    try:
        return load_pack(obligation.pack_id).date(f"compliance.{obligation.year}.rectification_deadline")
    except PackError:
        return None


def documents_waiting(*, user, year: int) -> dict:
    """The compliance documents of ``year`` that wait on ``user`` (for its inbox): ``to_forward`` — notices delivered to
    its province and not yet forwarded (provincial authority); ``to_certify`` — obligations surrendered in full without
    a certificate (registry operator); ``received`` — its own notice once it reached it (entity), else None."""
    from cets.parties.access import membership_of
    from cets.parties.models import Role

    from .models import ComplianceNotice

    m = membership_of(user)
    out = {"to_forward": 0, "to_certify": 0, "received": None}
    if m is None:
        return out
    if m.role == Role.PROVINCIAL_AUTHORITY:
        out["to_forward"] = ComplianceNotice.objects.filter(obligation__year=year, obligation__entity__province=m.province, forwarded_at__isnull=True,
                                                            delivered_to=ComplianceNotice.DeliveredTo.PROVINCE).count()
    elif m.role == Role.REGISTRY_OPERATOR:
        open_ids = list(Obligation.objects.filter(year=year, certificate__isnull=True).values_list("entity_id", flat=True))
        if open_ids:
            st = statuses(year=year, entity_qs=open_ids, market=None)
            out["to_certify"] = sum(1 for s in st.values() if s.outstanding_t == 0 and s.status != "open")
    elif m.role == Role.ENTITY:
        n = ComplianceNotice.objects.filter(obligation__year=year, obligation__entity_id=m.organisation_id).first()
        if n is not None and (n.delivered_to == ComplianceNotice.DeliveredTo.ENTITY or n.forwarded_at is not None):
            out["received"] = n
    return out
