"""Trading reads for other contexts: market data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .models import DailyQuote, DailyStat


@dataclass(frozen=True)
class DayFigure:
    """One instrument and method on one trading day: ``volume_t`` tonnes (int), ``amount_fen`` fen (int)."""

    date: dt.date
    instrument: str
    method: str
    volume_t: int
    amount_fen: int


def day_figures(*, market: str, start: dt.date, end: dt.date, methods: tuple[str, ...] | None = None) -> list[DayFigure]:
    """The platform's own end-of-day figures for ``start`` ≤ date ≤ ``end`` (inclusive), every
    instrument, optionally only the given trade ``methods`` (``Method`` values). Sorted by date,
    instrument, method. Public market data: no role check."""
    qs = DailyStat.objects.filter(market=market, date__gte=start, date__lte=end)
    if methods is not None:
        qs = qs.filter(method__in=methods)
    return [DayFigure(r.date, r.instrument, r.method, r.volume_t, r.amount_fen)
            for r in qs.order_by("date", "instrument", "method")]


def last_close_fen(*, market: str, instrument: str, before: dt.date) -> int | None:
    """The close (fen per tonne) of ``instrument`` on the last trading day before ``before``, or None."""
    q = DailyQuote.objects.filter(market=market, instrument=instrument, date__lt=before).order_by("-date").first()
    return q.close_fen if q else None


@dataclass(frozen=True)
class LargeHolder:
    """A participant whose holding of a unit type is above the reporting threshold (大户报告)."""

    participant: str
    uscc: str
    unit_type: str
    holding_t: int
    threshold_t: int


def large_holders(*, market: str = "national", day: dt.date | None = None) -> list[LargeHolder]:
    """Holders above the large-holder reporting threshold of the market's trading pack: for a key
    emitting entity its allocation of the vintage + the threshold, for others the threshold itself.
    For exchange operators and authorities (the caller checks the role)."""
    from django.db.models import Sum
    from django.utils import timezone

    from cets.parties.models import Organisation
    from cets.registry.models import Holding

    from .services import _allocation_t, market_rules

    rules = market_rules(market, day or timezone.localdate())
    codes = set(rules.instruments.values())
    rows = (Holding.objects.filter(account__market=market, unit_type__code__in=codes, account__holder__isnull=False)
            .values("account__holder", "unit_type").annotate(t=Sum("quantity")).filter(t__gt=rules.large_holder_report_t))
    out = []
    from cets.registry.models import UnitType

    for r in rows:
        org = Organisation.objects.get(pk=r["account__holder"])
        ut = UnitType.objects.get(pk=r["unit_type"])
        threshold = rules.large_holder_report_t + (_allocation_t(org, ut) if org.kind == Organisation.Kind.ENTITY else 0)
        if r["t"] > threshold:
            out.append(LargeHolder(org.name, org.uscc, ut.code, r["t"], threshold))
    return sorted(out, key=lambda h: -h.holding_t)
