"""On PostgreSQL, the group commit under concurrency (issue 19): 8 clients append commands to the log at once through
``order_place_queued`` / ``order_take_queued`` (quotes, takes of random quotes resting or still in the queue, some
beyond the participant's funds or units) and now and then cancel through the direct path, while one sequencer thread
drains the log in batches of 25 the whole time. Afterwards: every appended command was applied exactly once in log
order, each trade has one delivery and one payment, what resting orders hold equals what the registry's pending
position and the frozen funds hold, units and money are conserved, and both journals prove their balances."""

from __future__ import annotations

import datetime as dt
import random
import threading

import pytest
from django.db import connection, connections
from django.db.models import Count, Max

from cets.core.errors import CetsError
from cets.registry.models import Transfer
from cets.trading import services as ts
from cets.trading.models import FundEntry, MarketState, Order, Trade
from tests.conftest import when
from tests.trading.test_concurrency_pg import books_balance, traders

CLIENTS, PER_CLIENT, UNITS, CASH = 8, 50, 3_000, 20_000_000
DAY = dt.date(2024, 11, 4)

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is tested on PostgreSQL")]


@pytest.mark.django_db(transaction=True)
def test_eight_clients_append_while_the_sequencer_drains():
    orgs, ut = traders(CLIENTS, UNITS, CASH)
    errors: list[BaseException] = []
    appended: list[int] = []
    answered: dict[str, int] = {}  # key → the seq its caller was answered with
    done = threading.Event()
    batches = ts.APPENDER.batches

    def client(n: int) -> None:
        rng = random.Random(100 + n)
        me = orgs[n]
        try:
            for k in range(PER_CLIENT):
                at = when("2024-11-04", 10)
                r = rng.random()
                try:
                    if r < 0.5:
                        q = rng.randint(1, 300) if rng.random() < 0.9 else UNITS * 4  # some beyond the units or the funds held
                        o = ts.order_place_queued(key=f"q{n}-{k}", participant=me, instrument="CEA23", method="listing", side=rng.choice("BS"),
                                                  price_fen=rng.randint(9_300, 9_700), quantity_t=q, actor=None, at=at)
                        appended.append(o.seq)
                        answered[o.key] = o.seq
                    elif r < 0.93:
                        side = rng.choice("BS")
                        quotes = list(Order.objects.filter(kind=Order.Kind.PLACE, status__in=(Order.Status.RESTING, Order.Status.RECEIVED), side=side)
                                      .exclude(participant=me).order_by("price_fen" if side == "S" else "-price_fen").values_list("seq", "remaining_t")[:20])
                        if quotes:
                            seq, rem = rng.choice(quotes)
                            o = ts.order_take_queued(key=f"q{n}-{k}", participant=me, quote_seq=seq, quantity_t=rng.randint(1, max(rem, 1)), actor=None, at=at)
                            appended.append(o.seq)
                            answered[o.key] = o.seq
                    else:
                        mine = list(Order.objects.filter(status=Order.Status.RESTING, participant=me).values_list("seq", flat=True)[:5])
                        if mine:  # a cancel through the direct path, between the sequencer's batches
                            ts.order_cancel(key=f"q{n}-{k}", participant=me, order_seq=rng.choice(mine), actor=None, at=at)
                except CetsError:
                    pass
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            connections.close_all()

    def sequencer() -> None:
        try:
            while not done.is_set():
                if ts.sequencer_drain(market="national", batch=25) == 0:
                    done.wait(0.005)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            connections.close_all()

    seq_thread = threading.Thread(target=sequencer)
    seq_thread.start()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    seq_thread.join()
    assert not errors, errors[:3]
    during = Order.objects.filter(queued=True).exclude(status=Order.Status.RECEIVED).count()
    assert during > len(appended) // 2  # the sequencer applied while the clients appended, not only at the end
    ts.sequencer_drain(market="national")

    # every command applied once, in order; every appended one was kept (an acknowledged append is never lost)
    assert len(appended) > CLIENTS * PER_CLIENT // 2
    assert MarketState.objects.get(market="national").applied_seq == Order.objects.aggregate(m=Max("seq"))["m"]
    assert not Order.objects.filter(status=Order.Status.RECEIVED).exists()
    assert Order.objects.filter(seq__in=appended, queued=True).count() == len(set(appended))
    # the appends went through the process's group commit, and each caller was answered with its own command
    assert ts.APPENDER.batches > batches
    assert dict(Order.objects.filter(key__in=list(answered)).values_list("key", "seq")) == answered
    assert Trade.objects.count() > 20
    assert Order.objects.filter(queued=True, status=Order.Status.REJECTED).exists()  # the book and the checks in memory refused some
    # each trade settled once: one delivery (pending → buyer) and one payment
    trades = set(Trade.objects.values_list("seq", flat=True))
    deliveries = Transfer.objects.filter(key__startswith="trade-", key__endswith="-units").values_list("key", flat=True)
    assert sorted(deliveries) == sorted(f"trade-{s}-units" for s in trades)
    per_trade = FundEntry.objects.filter(trade__isnull=False).values("trade").annotate(n=Count("seq"))
    assert {r["trade"] for r in per_trade} == trades and len({r["n"] for r in per_trade}) == 1  # the payment and the fees, the same for every trade
    books_balance(orgs, ut, CLIENTS * UNITS, CLIENTS * CASH)


@pytest.mark.django_db(transaction=True)
def test_a_batch_the_database_refuses_is_written_command_by_command():
    """One command of a batch carries a value the database refuses (a key over the column's 120 characters): the
    batch's statement fails as a whole, so the appender writes each command alone — the good one is written and its
    caller answered with it, the bad one's caller gets the database's error, nothing else is written."""
    from django.db import DataError

    from cets.trading.services.appends import Appender, _Waiting

    orgs, _ = traders(2, UNITS, CASH)
    rules = ts.market_rules("national", DAY)
    at = when("2024-11-04", 10)

    def fields(key, who):
        return dict(key=key, kind=Order.Kind.PLACE, trading_day=DAY, instrument="CEA23", method="listing", side="S", price_fen=9_500,
                    quantity_t=10, remaining_t=10, participant=who, actor=None, entered_at=at)

    good, bad = _Waiting("national", rules, fields("good", orgs[0])), _Waiting("national", rules, fields("x" * 121, orgs[1]))
    appender = Appender()
    appender._write(connection, [good, bad])
    assert good.done and bad.done and appender.batches == 1
    assert isinstance(bad.error, DataError) and bad.order is None
    assert good.error is None and Order.objects.get(key="good").seq == good.order.seq
    assert list(Order.objects.filter(queued=True).values_list("key", flat=True)) == ["good"]
