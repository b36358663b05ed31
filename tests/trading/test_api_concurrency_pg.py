"""On PostgreSQL: eight clients of the same user send the same order with the same idempotency key at
the same moment (a client retrying over a flaky network). Exactly one order is logged, its funds are
frozen once, and every client gets that same order back."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from cets.trading.funds import fund_account_of, funds_verify
from cets.trading.models import FundEntry, Order
from tests.conftest import client_for

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is tested on PostgreSQL")

CLIENTS = 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_one_key_enter_one_order(exchange):
    x = exchange
    body = {"instrument": "CEA23", "method": "listing", "side": "B", "price": "95.00", "quantity_t": 1_000}
    barrier = threading.Barrier(CLIENTS)
    answers: list = [None] * CLIENTS

    def client(n: int) -> None:
        try:
            c = client_for(x.sd2_user, verified=True)
            barrier.wait()
            answers[n] = c.post("/api/v1/trading/orders", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="retry-1")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [200] * CLIENTS, [a.content for a in answers if a.status_code != 200]
    seqs = {a.json()["seq"] for a in answers}
    assert len(seqs) == 1
    assert Order.objects.filter(kind="place").count() == 1
    # 1,000 t × 95.00 CNY = 9,500,000 fen + fee 0.05 % = 4,750 fen, frozen once
    assert FundEntry.objects.filter(kind="freeze").count() == 1
    assert fund_account_of(holder=x.w.sd2).frozen_fen == 9_504_750
    assert funds_verify() == []
