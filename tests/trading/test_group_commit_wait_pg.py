"""Waiting for a queued command's result without polling (issue 19): ``wait_applied`` on PostgreSQL sleeps on the
notifications of channel ``cets_applied`` (a trigger on the market's applied position, migration trading 0007). A
client waiting for its command is not woken while the sequencer's batch is still open, and is woken once it commits,
when its order row already carries the result; a wait that reaches its timeout returns the position it knows."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from cets.trading import services as ts
from cets.trading.models import Order
from tests.conftest import when
from tests.trading.test_group_commit import three  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(connection.vendor != "postgresql", reason="LISTEN / NOTIFY is PostgreSQL's")]
AT = when("2024-11-04", 10)


@pytest.mark.django_db(transaction=True)
def test_a_waiting_client_is_woken_after_the_batch_commits_not_before(three):  # noqa: F811
    quote = ts.order_place_queued(key="w-quote", participant=three["sd1"], instrument="CEA23", method="listing", side="S", price_fen=9_500,
                                  quantity_t=40, actor=None, at=AT)
    woken = threading.Event()
    seen: list = []

    def client() -> None:
        try:
            seen.append(ts.wait_applied(market="national", seq=quote.seq, timeout_ms=10_000))
            seen.append(Order.objects.values_list("status", flat=True).get(seq=quote.seq))
            woken.set()
        finally:
            connections.close_all()

    t = threading.Thread(target=client)
    t.start()
    time.sleep(0.3)  # the client is listening
    assert not woken.is_set()
    with transaction.atomic():
        assert ts.sequencer_drain(market="national") == 1  # applied inside this transaction, not yet committed
        time.sleep(0.5)
        assert not woken.is_set()  # a notification is delivered at commit only
        started = time.monotonic()
    t.join(timeout=10)
    assert woken.is_set() and time.monotonic() - started < 5
    assert seen[0] >= quote.seq and seen[1] == Order.Status.RESTING  # the result is on the committed row


@pytest.mark.django_db(transaction=True)
def test_a_wait_times_out_with_the_position_it_knows(three):  # noqa: F811
    quote = ts.order_place_queued(key="t-quote", participant=three["sd1"], instrument="CEA23", method="listing", side="S", price_fen=9_500,
                                  quantity_t=40, actor=None, at=AT)
    before = ts.applied_seq("national")
    t0 = time.monotonic()
    assert ts.wait_applied(market="national", seq=quote.seq, timeout_ms=300) == before < quote.seq
    assert 0.25 <= time.monotonic() - t0 < 3
    ts.sequencer_drain(market="national")
    assert ts.wait_applied(market="national", seq=quote.seq, timeout_ms=300) >= quote.seq  # already applied: no wait


@pytest.mark.django_db(transaction=True)
def test_a_command_that_commits_after_a_later_one_is_not_skipped(three):  # noqa: F811
    """Queued appends do not wait for each other (the append lock is shared among them), so a command can commit
    after one with a higher ``seq``. The sequencer's batch must not apply the later one and move past the earlier:
    it reads the log only up to the horizon every in-flight append has reached (``_log_horizon``: it waits for them)."""
    sd1, sd2 = three["sd1"], three["sd2"]
    inside = threading.Event()
    release = threading.Event()
    first: list = []

    def slow_client() -> None:  # appends, then keeps its transaction open until told
        try:
            with transaction.atomic():
                first.append(ts.order_place_queued(key="slow", participant=sd1, instrument="CEA23", method="listing", side="S", price_fen=9_500,
                                                   quantity_t=10, actor=None, at=AT))
                inside.set()
                release.wait(10)
        finally:
            connections.close_all()

    t = threading.Thread(target=slow_client)
    t.start()
    assert inside.wait(10)
    later = ts.order_place_queued(key="fast", participant=sd2, instrument="CEA23", method="listing", side="B", price_fen=9_400, quantity_t=10,
                                  actor=None, at=AT)  # not held up by the open append: committed with a higher seq
    assert later.seq > first[0].seq and Order.objects.filter(key="fast").exists() and not Order.objects.filter(key="slow").exists()
    drained: list = []

    def sequencer() -> None:
        try:
            drained.append(ts.sequencer_drain(market="national"))
        finally:
            connections.close_all()

    s = threading.Thread(target=sequencer)
    s.start()
    time.sleep(0.5)
    assert not drained  # the batch waits at the horizon for the append still in flight
    release.set()
    t.join(10), s.join(10)
    assert drained == [2]
    assert set(Order.objects.filter(key__in=["slow", "fast"]).values_list("status", flat=True)) == {Order.Status.RESTING}
    assert ts.applied_seq("national") == later.seq
