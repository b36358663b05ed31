"""A one-way auction through the real path (offer → sealed bids with frozen funds → clearing → each
fill settled DVP), reproducing the kind of result of Beijing's paid auction of September 2024:
348,304 t of 2023 allowances sold to 63 of 68 bidders at one uniform price of CNY 104.89/t,
CNY 36,533,606.56 in total (reference §7.2)."""

import datetime as dt

import pytest

from cets.parties.models import Organisation
from cets.registry.audit import audit_verify
from cets.registry.models import AccountKind, Holding, Instrument, Position, TransferKind
from cets.registry.services import Leg, account_open, system_account, system_accounts_ensure, transfer_post, vintage_create
from cets.trading import services as ts
from cets.trading.funds import fund_account_of, funds_deposit, funds_verify
from cets.trading.models import DailyStat, Order, Trade
from tests.conftest import uscc_for, when

DAY = dt.date(2024, 9, 13)  # a Friday, trading day


def uscc(i: int) -> str:
    return uscc_for(i, "9111000")


@pytest.mark.django_db
def test_paid_allocation_auction_clears_at_one_uniform_price():
    system_accounts_ensure(market="beijing")
    ut = vintage_create(instrument=Instrument.BEA, vintage="2023", cap_t=1_000_000, key="cap-bea-2023")
    bureau = Organisation.objects.create(name="北京市生态环境局", kind=Organisation.Kind.AUTHORITY, province="11")
    auction_acc = system_account("beijing", AccountKind.AUCTION)
    transfer_post(key="to-auction", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(system_account("beijing", AccountKind.NATIONAL_TOTAL), Position.REGISTRY),
                  credit=Leg(auction_acc, Position.TRADING), quantity=348_304)
    bidders = []
    for i in range(68):
        org = Organisation.objects.create(uscc=uscc(i), name=f"北京竞买人{i}", kind=Organisation.Kind.ENTITY, province="11")
        account_open(holder=org, market="beijing")
        funds_deposit(key=f"dep{i}", holder=org, amount_fen=200_000_000, market="beijing", actor=None)
        bidders.append(org)
    ts.day_open(market="beijing", instrument="BEA23", day=DAY, prev_close_fen=10_000)
    at = when("2024-09-13", 10)
    offer = ts.auction_offer(key="offer", initiator=bureau, instrument="BEA23", quantity_t=348_304, floor_fen=9_000, account=auction_acc,
                             max_bid_t=20_000, actor=None, market="beijing", at=at)
    assert offer.status == Order.Status.RESTING
    # 62 bids above the clearing level take 5,600 t each (347,200 t); the 63rd, at 104.89, gets the last 1,104 t of its 5,600;
    # 5 bids at 104.88 or below get nothing.
    prices = [10_489 + 1 + (i % 40) for i in range(62)] + [10_489] + [10_488 - i for i in range(5)]
    for i, (org, p) in enumerate(zip(bidders, prices)):
        ts.auction_bid(key=f"bid{i}", participant=org, auction_seq=offer.seq, price_fen=p, quantity_t=5_600, actor=None, market="beijing", at=at)
    ts.auction_close(key="clear", auction_seq=offer.seq, actor=None, market="beijing", at=when("2024-09-13", 14))
    trades = list(Trade.objects.filter(market="beijing"))
    assert len(trades) == 63
    assert {t.price_fen for t in trades} == {10_489}
    assert sum(t.quantity_t for t in trades) == 348_304
    assert sum(t.amount_fen for t in trades) == 3_653_360_656  # 348,304 × 104.89 = 36,533,606.56 CNY
    marginal = Trade.objects.get(buy_order__key="bid62")
    assert marginal.quantity_t == 348_304 - 62 * 5_600 == 1_104
    losers = Order.objects.filter(key__in=[f"bid{i}" for i in range(63, 68)])
    assert all(o.status == Order.Status.EXPIRED and o.frozen_fen == 0 for o in losers)
    # winners paid the uniform price, not their bid: the difference was released
    top = bidders[39]  # bid 104.89 + 0.40
    acc = fund_account_of(holder=top, market="beijing")
    fee = (5_600 * 10_489 * 5 + 5_000) // 10_000  # 0.05% half-up
    assert (acc.available_fen, acc.frozen_fen) == (200_000_000 - 5_600 * 10_489 - fee, 0)
    assert Holding.objects.get(account__holder=top, unit_type=ut, position=Position.TRADING).quantity == 5_600
    q = ts.day_close(market="beijing", instrument="BEA23", day=DAY)
    assert q.close_fen == 10_000  # no listing trades: the close stays the previous close
    stat = DailyStat.objects.get(market="beijing", date=DAY, method="auction")
    assert (stat.volume_t, stat.amount_fen, stat.trades) == (348_304, 3_653_360_656, 63)
    assert funds_verify("beijing") == []
    assert audit_verify().ok
