"""Compliance status computed from events. Pure: no Django.

An obligation's status on a given day follows from the approved surrenders and their dates:

- ``on_time``   履约（按时足额）: Σ surrendered by the end of the deadline day ≥ obligation;
- ``late``      逾期足额: fully surrendered, but only after the deadline;
- ``incomplete`` 未足额: the deadline has passed and Σ surrendered < obligation;
- ``collected`` 逾期自动收缴: complete only with units taken by the automatic collection after the deadline
  (Beijing, 京环发〔2024〕8号 三(四) "逾期未完成的，管理平台将自动收缴其账户内的配额及抵销产品，用于清缴"): not on time,
  and whatever the collection took never counts as surrendered by the deadline;
- ``open``      进行中: before the deadline, not yet complete.
(2023–2024 plan §五(三); Regulations Art. 14, 24.) A collection that leaves the obligation short is ``incomplete``.
The national market has no collection, so its outcomes are only the first four.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

ON_TIME, LATE, INCOMPLETE, OPEN, COLLECTED = "on_time", "late", "incomplete", "open", "collected"
LABELS = {
    ON_TIME: ("按时足额履约", "on time in full"),
    LATE: ("逾期足额履约", "late in full"),
    INCOMPLETE: ("未足额履约", "incomplete"),
    OPEN: ("履约中", "open"),
    COLLECTED: ("逾期自动收缴完成", "completed by automatic collection"),
}


@dataclass(frozen=True)
class Status:
    status: str
    surrendered_t: int
    surrendered_by_deadline_t: int
    outstanding_t: int
    collected_t: int = 0  # of surrendered_t, taken by the automatic collection (Beijing)


def compliance_status(obligation_t: int, deadline: dt.date, surrenders: Iterable[tuple], today: dt.date) -> Status:
    """``surrenders`` are (business date of approval in Asia/Shanghai, tonnes[, collected]) of approved
    surrenders; ``collected`` (default False) marks units taken by the automatic collection."""
    total = by_deadline = 0
    collected = 0
    for day, q, *rest in surrenders:
        if day > today:
            continue
        total += q
        if rest and rest[0]:
            collected += q
        elif day <= deadline:
            by_deadline += q
    outstanding = max(0, obligation_t - total)
    if by_deadline >= obligation_t:
        st = ON_TIME
    elif total >= obligation_t:
        st = COLLECTED if collected else LATE
    elif today > deadline:
        st = INCOMPLETE
    else:
        st = OPEN
    return Status(st, total, by_deadline, outstanding, collected)
