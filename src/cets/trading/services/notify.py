"""Waiting for the group commit's result without polling (issue 19).

A client that appended a command (:func:`.orders.order_place_queued`, :func:`.orders.order_take_queued`) learns its
result from the order row once the sequencer's batch that applied it has committed. :func:`wait_applied` blocks
until a market's applied position reaches a command: on PostgreSQL it LISTENs on channel ``cets_applied``, which a
trigger (migration trading 0007) notifies with ``"<market> <applied_seq>"`` at each commit that moves the position —
delivered only after that commit, so after the batch is durable; elsewhere it reads the position every 10 ms. Times
are integers: milliseconds at the boundary, the monotonic clock's nanoseconds inside.
"""

from __future__ import annotations

import time
import weakref

from django.db import transaction

from ..models import MarketState

CHANNEL = "cets_applied"
POLL_MS = 10  # the portable wait's read interval, milliseconds
MAX_WAIT_MS = 3_600_000  # the longest wait a caller may ask for: an hour
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


def wait_applied(*, market: str, seq: int, timeout_ms: int) -> int:
    """Wait until ``market``'s log is applied up to command ``seq`` (int), at most ``timeout_ms`` milliseconds (int,
    0 … :data:`MAX_WAIT_MS`; ValueError for anything else, a bool or a fraction of a second included). Returns the applied position last
    known: ≥ ``seq`` unless the wait timed out (the caller reads its order row either way). Outside a transaction on
    PostgreSQL it sleeps on the notifications of ``cets_applied``; inside one, or on SQLite, it reads the position
    every :data:`POLL_MS` milliseconds."""
    if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or not 0 <= timeout_ms <= MAX_WAIT_MS:
        raise ValueError(f"timeout_ms: an int of 0 … {MAX_WAIT_MS} milliseconds, not {timeout_ms!r}")
    deadline = time.monotonic_ns() + timeout_ms * 1_000_000
    conn = transaction.get_connection()
    if conn.vendor != "postgresql" or conn.in_atomic_block:
        while (now := applied_seq(market)) < seq and time.monotonic_ns() < deadline:
            time.sleep(POLL_MS / 1000)
        return now
    conn.ensure_connection()
    raw = _listen(conn)
    known = applied_seq(market)  # read after LISTEN: a commit before it is seen here, one after it is notified
    prefix = market + " "
    while known < seq:
        remaining_ns = deadline - time.monotonic_ns()
        if remaining_ns <= 0:
            break
        for n in raw.notifies(timeout=remaining_ns / 1_000_000_000, stop_after=1):  # psycopg takes seconds
            if n.channel == CHANNEL and n.payload.startswith(prefix):
                known = max(known, int(n.payload[len(prefix):]))
    return known
