"""The working-day calendar with the override table applied (database-backed wrapper of ``workdays``)."""

from __future__ import annotations

import datetime as dt

from . import workdays
from .models import WorkingDayOverride


def overrides() -> dict[dt.date, bool]:
    return dict(WorkingDayOverride.objects.values_list("date", "is_working_day"))


def is_working_day(day: dt.date) -> bool:
    return workdays.is_working_day(day, overrides())


def add_working_days(start: dt.date, n: int) -> dt.date:
    return workdays.add_working_days(start, n, overrides())
