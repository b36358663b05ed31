"""On PostgreSQL: 8 clients trade at once through order entry, the sequencer and settlement (quotes,
takes of random resting quotes, cancels, some orders beyond their funds or units). Afterwards: every
command in the log was applied exactly once in order, what resting orders hold equals what the
registry's pending position and the frozen funds hold, units and money are conserved, and both
journals prove their balances."""

from __future__ import annotations

import datetime as dt
import random
import threading

import pytest
from django.db import connection, connections
from django.db.models import Max, Sum

from cets.core.errors import CetsError
from cets.parties.models import Organisation
from cets.registry.audit import audit_verify
from cets.registry.models import AccountKind, Holding, Instrument, Position, TransferKind
from cets.registry.services import Leg, account_open, system_account, system_accounts_ensure, transfer_post, vintage_create
from cets.trading import services as ts
from cets.trading.funds import fund_account_of, funds_deposit, funds_verify
from cets.trading.models import FundAccount, MarketState, Order, Trade
from tests.conftest import uscc_for, when

CLIENTS, PER_CLIENT, UNITS, CASH = 8, 60, 5_000, 50_000_000
DAY = dt.date(2024, 11, 4)

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is tested on PostgreSQL")


def uscc(i: int) -> str:
    return uscc_for(i, "9137000")


@pytest.mark.django_db(transaction=True)
def test_eight_clients_trade_concurrently():
    orgs, ut = traders(CLIENTS, UNITS, CASH)
    errors: list[BaseException] = []
    refused = [0] * CLIENTS

    def client(n: int) -> None:
        rng = random.Random(n)
        me = orgs[n]
        try:
            for k in range(PER_CLIENT):
                at = when("2024-11-04", 10)
                r = rng.random()
                try:
                    if r < 0.45:
                        side = rng.choice("BS")
                        q = rng.randint(1, 400) if rng.random() < 0.95 else UNITS * 3  # some sells beyond the units held
                        ts.order_place(key=f"c{n}-{k}", participant=me, instrument="CEA23", method="listing", side=side,
                                       price_fen=rng.randint(9_300, 9_700), quantity_t=q, actor=None, at=at)
                    elif r < 0.9:
                        # among the 20 best resting quotes of one side (a take beyond the best five levels is rejected, T0106)
                        side = rng.choice("BS")
                        quotes = list(Order.objects.filter(status=Order.Status.RESTING, side=side).exclude(participant=me)
                                      .order_by("price_fen" if side == "S" else "-price_fen").values_list("seq", "remaining_t")[:20])
                        if quotes:
                            seq, rem = rng.choice(quotes)
                            ts.order_take(key=f"c{n}-{k}", participant=me, quote_seq=seq, quantity_t=rng.randint(1, max(rem, 1)), actor=None, at=at)
                    else:
                        mine = list(Order.objects.filter(status=Order.Status.RESTING, participant=me).values_list("seq", flat=True)[:5])
                        if mine:
                            ts.order_cancel(key=f"c{n}-{k}", participant=me, order_seq=rng.choice(mine), actor=None, at=at)
                except CetsError:
                    refused[n] += 1
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    ts.sequencer_drain(market="national")

    # every command applied, in order, none left behind
    assert MarketState.objects.get(market="national").applied_seq == Order.objects.aggregate(m=Max("seq"))["m"]
    assert not Order.objects.filter(status=Order.Status.RECEIVED).exists()
    assert Trade.objects.count() > 20
    assert sum(refused) > 0
    assert Order.objects.filter(status=Order.Status.REJECTED).exists()
    books_balance(orgs, ut, CLIENTS * UNITS, CLIENTS * CASH)


def traders(n: int, units: int, cash_fen: int):
    """``n`` key emitting entities of Shandong, each with ``units`` t of CEA-2023 in its trading position and ``cash_fen``
    fen of funds; CEA23 opened on :data:`DAY` at 95.00 CNY. Returns (organisations, unit type)."""
    system_accounts_ensure(market="national")
    ut = vintage_create(instrument=Instrument.CEA, vintage="2023", cap_t=n * units, key="cap-trade-stress")
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    orgs = []
    for i in range(n):
        org = Organisation.objects.create(uscc=uscc(i), name=f"交易压力{i}", kind=Organisation.Kind.ENTITY, province="37")
        acc = account_open(holder=org)
        transfer_post(key=f"seed-{i}", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(total, Position.REGISTRY),
                      credit=Leg(acc, Position.TRADING), quantity=units)
        funds_deposit(key=f"dep-{i}", holder=org, amount_fen=cash_fen, actor=None)
        orgs.append(org)
    ts.day_open(market="national", instrument="CEA23", day=DAY, prev_close_fen=9_500)
    return orgs, ut


def books_balance(orgs, ut, units_t: int, money_fen: int) -> None:
    """After trading: what resting orders hold is exactly what is frozen, per participant (pending units, frozen fen) and
    nothing else holds a freeze; units (``units_t`` among ``orgs``) and money (``money_fen``, participants + fees) are
    conserved; both journals prove their balances."""
    for org in orgs:
        resting = Order.objects.filter(participant=org, status=Order.Status.RESTING).aggregate(t=Sum("frozen_t"), f=Sum("frozen_fen"))
        pending = Holding.objects.filter(account__holder=org, unit_type=ut, position=Position.PENDING).aggregate(s=Sum("quantity"))["s"] or 0
        assert pending == (resting["t"] or 0)
        assert fund_account_of(holder=org).frozen_fen == (resting["f"] or 0)
        assert not Order.objects.filter(participant=org).exclude(status=Order.Status.RESTING).exclude(frozen_fen=0, frozen_t=0).exists()
    assert Holding.objects.filter(account__holder__in=orgs, unit_type=ut).aggregate(s=Sum("quantity"))["s"] == units_t
    money = FundAccount.objects.exclude(kind=FundAccount.Kind.BANK).aggregate(a=Sum("available_fen"), f=Sum("frozen_fen"))
    assert money["a"] + money["f"] == money_fen
    assert funds_verify() == []
    assert audit_verify().ok
