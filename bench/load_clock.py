"""The load test's market clock: ``django.utils.timezone.now`` runs from 2024-11-04 10:00 Asia/Shanghai.

Order entry refuses outside a trading session of an opened trading day (T01xx), and the API takes no
``at=``, so a load test that runs at any hour of any day needs a clock that is inside a session. This is the
same replacement the exchange's API tests make (tests/trading/conftest.py), with the clock running: the
server's "now" is ``START + (time.time() - anchor)``, where ``anchor`` (``LOAD_CLOCK_ANCHOR``, epoch seconds)
is shared by the set-up process and every server worker. A 10-minute soak stays in the morning session
(09:30–11:30). Only ``timezone.now`` is replaced; every read and write goes to the real database.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from zoneinfo import ZoneInfo

START = dt.datetime(2024, 11, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday and a trading day
TRADING_DAY = START.date()


def install(anchor: float | None = None) -> float:
    """Replace ``django.utils.timezone.now`` (before Django is set up); returns the anchor used."""
    from django.utils import timezone

    if anchor is None:
        anchor = float(os.environ.get("LOAD_CLOCK_ANCHOR") or time.time())
    os.environ["LOAD_CLOCK_ANCHOR"] = repr(anchor)
    start = START.astimezone(dt.UTC)

    def now() -> dt.datetime:
        return start + dt.timedelta(seconds=time.time() - anchor)

    timezone.now = now
    return anchor
