"""Trading days and sessions (pure). Asia/Shanghai wall-clock times.

A trading day is a Monday–Friday that is a working day on the national calendar (``core.workdays``:
``chinese_calendar`` plus overrides); weekend make-up working days (调休) are not trading days.
Sessions per method come from the trading pack (national: 09:30–11:30 and 13:00–15:00; block
agreements in the afternoon only — reference §3.1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence

from cets.core import workdays


def is_trading_day(day: dt.date, overrides: Mapping[dt.date, bool] | None = None, closed: Collection[dt.date] = ()) -> bool:
    """True if the market opens on ``day``: a weekday, a working day, and not one of the market's own
    ``closed`` days (exchange notices close some working days, e.g. 2024-02-09, the eve of the Spring
    Festival; the trading pack lists them). Raises NotImplementedError for a year the calendar does not
    cover and the overrides do not mention."""
    if day.weekday() >= 5 or day in closed:
        return False
    return workdays.is_working_day(day, overrides)


def parse_sessions(spec: Sequence[Sequence[str]]) -> tuple[tuple[dt.time, dt.time], ...]:
    """``[["09:30", "11:30"], …]`` → ((time, time), …); ValueError for a malformed entry."""
    out = []
    for start, end in spec:
        a, b = dt.time.fromisoformat(start), dt.time.fromisoformat(end)
        if not a < b:
            raise ValueError(f"session {start}–{end} is empty")
        out.append((a, b))
    return tuple(out)


def in_session(at: dt.time, sessions: Sequence[tuple[dt.time, dt.time]]) -> bool:
    """True if the wall-clock time ``at`` falls in one of the sessions (start inclusive, end exclusive)."""
    return any(a <= at < b for a, b in sessions)
