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
