"""Trading restrictions decided outside the exchange (a blacklist entry barring a participant from trading,
Measures Art. 49), enforced at order entry (T0701).

No penalty source is registered: no text read makes a fine left unpaid, or a surrender left unrectified past its
deadline, a restriction on trading. Measures (2021) Art. 34 and draft Measures (seed 002) Arts. 45 and 47 let the
registry and the exchange restrict a participant that broke their registration, settlement or trading rules — a
measure they decide themselves (the registry's account status), not an automatic effect of a penalty decision; the
Regulations' Art. 24 consequence of a refusal to surrender is a deduction from next year's allocation.

Trading is below supervision, so it never imports it: a higher context registers a *source* here (a
callable ``(organisation_id, day) -> str | None`` answering the decision that restricts the participant
on ``day``, with its reference), e.g. ``cets.supervision.apps`` registers the blacklist. Order entry
(:mod:`cets.trading.entry`) asks :func:`restriction_of` before anything is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Source = Callable[[int, dt.date], "str | None"]
_SOURCES: list[Source] = []


def register(source: Source) -> None:
    """Add ``source`` (idempotent: the same callable is registered once)."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def restriction_of(organisation_id: int, day: dt.date) -> str | None:
    """The first decision (its reference and reason, as text) restricting ``organisation_id`` from trading on ``day``, or None."""
    for source in _SOURCES:
        if (found := source(organisation_id, day)) is not None:
            return found
    return None
