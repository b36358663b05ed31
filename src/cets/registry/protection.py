"""Holder protection's clock (pure: no Django, no database): when a trusted account list addition becomes active
and when a holder's delayed transfer is due — a delay from the moment of the instruction, moved on to the next
working-hours window when it ends outside one. The values (delays, window) come from the market's ``registry``
rule pack (``national/registry-protection-*.toml``, read by :mod:`cets.registry.services.protection`); working days
from the caller (``cets.core.calendar.is_working_day``: the Chinese calendar with the platform's overrides).

Source: Commission Delegated Regulation (EU) 2019/1122 (trusted account list, seven days; transfers executed 26
hours after initiation within 10:00–16:00 on working days) — by analogy, unconfirmed for China (see the pack).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Window:
    """The working-hours window of a working day: ``start`` inclusive, ``end`` exclusive (local times)."""

    start: dt.time
    end: dt.time


def parse_hhmm(text: str) -> dt.time:
    """``"10:00"`` → ``time(10, 0)``; ValueError otherwise."""
    hh, mm = text.split(":")
    return dt.time(int(hh), int(mm))


def into_window(t: dt.datetime, window: Window, is_working_day: Callable[[dt.date], bool], tz: dt.tzinfo = SHANGHAI,
                max_days: int = 60) -> dt.datetime:
    """``t`` if it falls inside the window of a working day, else the start of the next window (the same day's
    when ``t`` is before it on a working day). ValueError if no working day is found within ``max_days``."""
    local = t.astimezone(tz)
    day = local.date()
    for _ in range(max_days + 1):
        if is_working_day(day):
            open_ = dt.datetime.combine(day, window.start, tz)
            close = dt.datetime.combine(day, window.end, tz)
            if local < open_:
                return open_
            if local < close:
                return local
        day += dt.timedelta(days=1)
        local = dt.datetime.combine(day, dt.time(0), tz)
    raise ValueError(f"no working day within {max_days} days of {t.isoformat()}")


def due_at(start: dt.datetime, delay: dt.timedelta, window: Window, is_working_day: Callable[[dt.date], bool],
           tz: dt.tzinfo = SHANGHAI) -> dt.datetime:
    """When something started at ``start`` with ``delay`` takes effect: ``start + delay`` moved into the
    working-hours window (:func:`into_window`). Example (Mid-Autumn 2024, 14 Sep a working Saturday): a transfer
    instructed on Thu 12 Sep 15:00 with 26 hours ends Fri 13 Sep 17:00, after the 10:00–16:00 window, so it is
    due Sat 14 Sep 10:00."""
    return into_window(start + delay, window, is_working_day, tz)
