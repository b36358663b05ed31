"""Waiting for the group commit's result without polling (issue 19).

A client that appended a command (:func:`.orders.order_place_queued`, :func:`.orders.order_take_queued`) learns its
result from the order row once the sequencer's batch that applied it has committed. :func:`wait_applied` blocks
until a market's applied position reaches a command: on PostgreSQL it LISTENs on channel ``cets_applied``, which a
trigger (migration trading 0007) notifies with ``"<market> <applied_seq>"`` at each commit that moves the position —
delivered only after that commit, so after the batch is durable; elsewhere it reads the position every 10 ms.
"""

from __future__ import annotations

import time
import weakref

from django.db import transaction

from ..models import MarketState

CHANNEL = "cets_applied"
POLL_S = 0.01  # the portable wait's read interval
_LISTENING: weakref.WeakSet = weakref.WeakSet()  # the psycopg connections of this process that LISTEN on CHANNEL


def applied_seq(market: str) -> int:
    """The last command of ``market``'s log the sequencer has applied and committed (0 before any)."""
    return MarketState.objects.filter(market=market).values_list("applied_seq", flat=True).first() or 0


def _listen(conn) -> object:
    raw = conn.connection
    if raw not in _LISTENING:
        with conn.cursor() as cur:
            cur.execute(f"LISTEN {CHANNEL}")
        _LISTENING.add(raw)
    return raw


def wait_applied(*, market: str, seq: int, timeout: float) -> int:
    """Wait until ``market``'s log is applied up to command ``seq`` (int), at most ``timeout`` seconds (a duration for
    the clock, int or float; no quantity of units or money passes here). Returns the
    applied position last known: ≥ ``seq`` unless the wait timed out (the caller reads its order row either way).
    Outside a transaction on PostgreSQL it sleeps on the notifications of ``cets_applied``; inside one, or on SQLite,
    it reads the position every :data:`POLL_S` seconds."""
    deadline = time.monotonic() + timeout
    conn = transaction.get_connection()
    if conn.vendor != "postgresql" or conn.in_atomic_block:
        while (now := applied_seq(market)) < seq and time.monotonic() < deadline:
            time.sleep(POLL_S)
        return now
    conn.ensure_connection()
    raw = _listen(conn)
    known = applied_seq(market)  # read after LISTEN: a commit before it is seen here, one after it is notified
    prefix = market + " "
    while known < seq:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        for n in raw.notifies(timeout=remaining, stop_after=1):
            if n.channel == CHANNEL and n.payload.startswith(prefix):
                known = max(known, int(n.payload[len(prefix):]))
    return known
