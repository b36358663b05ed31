"""Compliance reads: status per obligation, computed from approved surrenders (never stored)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from django.utils import timezone

from .models import Obligation, SurrenderApplication
from .status import Status, compliance_status


def _approved_by_obligation(obligation_ids) -> dict[int, list[tuple[dt.date, int]]]:
    out: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    for ob, at, q in SurrenderApplication.objects.filter(obligation_id__in=obligation_ids, status=SurrenderApplication.Status.APPROVED).values_list(
            "obligation_id", "decided_at", "quantity"):
        out[ob].append((timezone.localdate(at), q))
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
    return compliance_status(obligation.obligation_t, deadline_of(obligation=obligation), _approved_by_obligation([obligation.pk])[obligation.pk],
                             today)


def statuses(*, year: int, entity_qs=None, today: dt.date | None = None) -> dict[int, Status]:
    """entity_id → status for ``year`` (optionally only entities in ``entity_qs``)."""
    today = today or timezone.localdate()
    obs = Obligation.objects.filter(year=year)
    if entity_qs is not None:
        obs = obs.filter(entity__in=entity_qs)
    obs = list(obs)
    approved = _approved_by_obligation([o.pk for o in obs])
    ext = extended_deadlines([o.pk for o in obs])
    return {o.entity_id: compliance_status(o.obligation_t, max(o.deadline, ext.get(o.pk, o.deadline)), approved.get(o.pk, []), today) for o in obs}


def outcome_counts(*, year: int, entity_qs=None, today: dt.date | None = None) -> dict[str, int]:
    return dict(Counter(s.status for s in statuses(year=year, entity_qs=entity_qs, today=today).values()))


def surrendered_by_instrument(*, year: int, entity_qs=None) -> dict[str, int]:
    qs = SurrenderApplication.objects.filter(obligation__year=year, status=SurrenderApplication.Status.APPROVED)
    if entity_qs is not None:
        qs = qs.filter(obligation__entity__in=entity_qs)
    out: Counter = Counter()
    for inst, q in qs.values_list("unit_type__instrument", "quantity"):
        out[inst] += q
    return dict(out)


def market_price(*, pack, deadline: dt.date, market: str = "national"):
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
    (pack ``penalty.quantity_at = "deadline"``), or now (``"now"``)."""
    s = status_of(obligation=obligation, today=today)
    if pack.text("penalty.quantity_at") == "deadline":
        return max(0, obligation.obligation_t - s.surrendered_by_deadline_t)
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
