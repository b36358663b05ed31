"""Working days in Asia/Shanghai: ``chinese_calendar`` plus an editable override table.

"N working days" in the Measures and the Regulations (e.g. verification results returned within
7 working days, Regulations Art. 12; objections decided within 10, Measures Art. 27) counts from the
day after the start date. The library covers the years it knows; an administrator adds overrides
(``WorkingDayOverride`` rows) for the years it lacks or for ad-hoc closures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import chinese_calendar


def is_working_day(day: dt.date, overrides: Mapping[dt.date, bool] | None = None) -> bool:
    """True if ``day`` is a working day. ``overrides`` (date → is working) win over the library.

    Raises ``NotImplementedError`` (from chinese_calendar) for a year the library does not cover
    and the overrides do not mention.
    """
    if overrides and day in overrides:
        return overrides[day]
    return chinese_calendar.is_workday(day)


def add_working_days(start: dt.date, n: int, overrides: Mapping[dt.date, bool] | None = None) -> dt.date:
    """The date that is ``n`` working days after ``start`` (``n`` ≥ 0; 0 → ``start`` itself)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    day = start
    left = n
    while left:
        day += dt.timedelta(days=1)
        if is_working_day(day, overrides):
            left -= 1
    return day
