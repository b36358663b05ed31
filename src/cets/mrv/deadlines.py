"""MRV deadlines, pure (no Django): monthly filing and review due dates, and the state of a dated
obligation. Calendar-day periods (月度存证 "N个自然日") are counted here; working-day periods use
:mod:`cets.core.workdays` (via :mod:`cets.core.calendar` in services).
"""

from __future__ import annotations

import calendar
import datetime as dt


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def monthly_filing_due(year: int, month: int, days: int) -> dt.date:
    """Due date of a month's filing: ``days`` calendar days after the month's last day
    (national 40: 环办气候函〔2025〕140号 §二(五); Beijing 20: 京环发〔2024〕8号 §三(一)1).
    E.g. 2023-01 + 40 → 2023-03-12; 2023-02 + 20 → 2023-03-20."""
    return month_end(year, month) + dt.timedelta(days=days)


def review_due(filing_due: dt.date, days: int | None) -> dt.date | None:
    """The authority's review deadline: ``days`` calendar days from the filing deadline (Beijing 10,
    京环发〔2024〕8号 §三(一)1); None where the rules set no window."""
    return None if days is None else filing_due + dt.timedelta(days=days)


def state(*, due: dt.date | None, done_on: dt.date | None, today: dt.date) -> str:
    """``on_time`` / ``late`` once done; otherwise ``due`` (not yet past, or no deadline) or ``missing`` (past due)."""
    if done_on is not None:
        return "late" if due is not None and done_on > due else "on_time"
    return "missing" if due is not None and today > due else "due"
