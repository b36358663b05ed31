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


def status_of(*, obligation: Obligation, today: dt.date | None = None) -> Status:
    today = today or timezone.localdate()
    return compliance_status(obligation.obligation_t, obligation.deadline, _approved_by_obligation([obligation.pk])[obligation.pk], today)


def statuses(*, year: int, entity_qs=None, today: dt.date | None = None) -> dict[int, Status]:
    """entity_id → status for ``year`` (optionally only entities in ``entity_qs``)."""
    today = today or timezone.localdate()
    obs = Obligation.objects.filter(year=year)
    if entity_qs is not None:
        obs = obs.filter(entity__in=entity_qs)
    obs = list(obs)
    approved = _approved_by_obligation([o.pk for o in obs])
    return {o.entity_id: compliance_status(o.obligation_t, o.deadline, approved.get(o.pk, []), today) for o in obs}


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
