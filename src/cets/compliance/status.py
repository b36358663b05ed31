"""Compliance status computed from events. Pure: no Django.

An obligation's status on a given day follows from the approved surrenders and their dates:

- ``on_time``   履约（按时足额）: Σ surrendered by the end of the deadline day ≥ obligation;
- ``late``      逾期足额: fully surrendered, but only after the deadline;
- ``incomplete`` 未足额: the deadline has passed and Σ surrendered < obligation;
- ``open``      进行中: before the deadline, not yet complete.
(2023–2024 plan §五(三); Regulations Art. 14, 24.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

ON_TIME, LATE, INCOMPLETE, OPEN = "on_time", "late", "incomplete", "open"
LABELS = {
    ON_TIME: ("按时足额履约", "on time in full"),
    LATE: ("逾期足额履约", "late in full"),
    INCOMPLETE: ("未足额履约", "incomplete"),
    OPEN: ("履约中", "open"),
}


@dataclass(frozen=True)
class Status:
    status: str
    surrendered_t: int
    surrendered_by_deadline_t: int
    outstanding_t: int


def compliance_status(obligation_t: int, deadline: dt.date, surrenders: Iterable[tuple[dt.date, int]], today: dt.date) -> Status:
    """``surrenders`` are (business date of approval in Asia/Shanghai, tonnes) of approved surrenders."""
    total = by_deadline = 0
    for day, q in surrenders:
        if day > today:
            continue
        total += q
        if day <= deadline:
            by_deadline += q
    outstanding = max(0, obligation_t - total)
    if by_deadline >= obligation_t:
        st = ON_TIME
    elif total >= obligation_t:
        st = LATE
    elif today > deadline:
        st = INCOMPLETE
    else:
        st = OPEN
    return Status(st, total, by_deadline, outstanding)
