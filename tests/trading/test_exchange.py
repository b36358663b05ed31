"""The exchange on the real database: order entry with freezes, the sequencer, DVP settlement, the
same-day resale rule, end-of-day market data, and a restart that rebuilds the same book."""

import datetime as dt

import pytest

from cets.core.errors import CetsError
from cets.registry.audit import audit_verify
from cets.registry.models import AccountKind, Holding, Position, TransferKind
from cets.registry.services import Leg, system_account, transfer_post
from cets.trading import book as bk
from cets.trading import services as ts
from cets.trading.funds import fund_account_of, funds_deposit, funds_verify
from cets.trading.models import DailyStat, Order, Trade
from tests.conftest import SD_1, SD_2, when

DAY = dt.date(2024, 11, 4)  # a Monday and a trading day


def ts_depth(instrument, method, side):
    with ts.book_read("national") as book:
        return book.depth(instrument, method, side)


def held(w, code, position):
    h = Holding.objects.filter(account=w.accounts[code], unit_type=w.cea, position=position).first()
    return h.quantity if h else 0


def test_listing_quote_taken_settles_units_funds_and_fees(market):
    w = market
    quote = ts.order_place(key="q1", participant=w.sd1, instrument="CEA23", method="listing", side="S", price_fen=9_600, quantity_t=1_000,
                           actor=w.entity_sd1_user, at=when("2024-11-04", 10))
    assert quote.status == Order.Status.RESTING
    assert quote.frozen_t == 1_000
    assert held(w, SD_1, Position.PENDING) == 1_000
    assert held(w, SD_1, Position.TRADING) == 49_000
    take = ts.order_take(key="t1", participant=w.sd2, quote_seq=quote.seq, quantity_t=400, actor=None, at=when("2024-11-04", 10))
    assert take.status == Order.Status.FILLED
    tr = Trade.objects.get()
    # 400 t × 96.00 CNY = 38,400.00 CNY = 3,840,000 fen; fee 0.05% per side = 1,920 fen.
    assert (tr.price_fen, tr.quantity_t, tr.amount_fen, tr.buyer_fee_fen, tr.seller_fee_fen) == (9_600, 400, 3_840_000, 1_920, 1_920)
    assert held(w, SD_2, Position.TRADING) == 50_400
    assert held(w, SD_1, Position.PENDING) == 600
    buyer, seller = fund_account_of(holder=w.sd2), fund_account_of(holder=w.sd1)
    assert (buyer.available_fen, buyer.frozen_fen) == (100_000_000 - 3_840_000 - 1_920, 0)
    assert (seller.available_fen, seller.frozen_fen) == (100_000_000 + 3_840_000 - 1_920, 0)
    quote.refresh_from_db()
    assert (quote.status, quote.remaining_t, quote.filled_t, quote.frozen_t) == (Order.Status.RESTING, 600, 400, 600)
    assert funds_verify() == []
    assert audit_verify().ok


def test_units_bought_today_cannot_be_sold_today(market):
    w = market
    q = ts.order_place(key="q1", participant=w.sd1, instrument="CEA23", method="listing", side="S", price_fen=9_500, quantity_t=10_000,
                       actor=None, at=when("2024-11-04", 10))
    ts.order_take(key="t1", participant=w.sd2, quote_seq=q.seq, quantity_t=10_000, actor=None, at=when("2024-11-04", 10))
    # sd2 now holds 60,000 t in trading, of which 10,000 t bought today: 50,000 t sellable.
    assert ts.sellable_t(participant=w.sd2, instrument="CEA23", day=DAY) == 50_000
    with pytest.raises(CetsError) as e:
        ts.order_place(key="s2", participant=w.sd2, instrument="CEA23", method="listing", side="S", price_fen=9_500, quantity_t=50_001,
                       actor=None, at=when("2024-11-04", 11))
    assert e.value.code == "T0207"
    assert not Order.objects.filter(key="s2").exists()


def test_buy_beyond_available_funds_is_refused_and_changes_nothing(market):
    w = market
    before = Order.objects.count()
    with pytest.raises(CetsError) as e:
        # 99,999 t × 100.00 CNY = 9,999,900.00 CNY > 1,000,000.00 CNY available
        ts.order_place(key="b1", participant=w.sd2, instrument="CEA23", method="listing", side="B", price_fen=10_000, quantity_t=99_999,
                       actor=None, at=when("2024-11-04", 10))
    assert e.value.code == "T0201"
    assert Order.objects.count() == before
    assert fund_account_of(holder=w.sd2).frozen_fen == 0


def test_book_refusal_releases_the_freeze(market):
    w = market
    # band ±10% of 95.00 → 85.50 … 104.50; 104.51 is outside
    o = ts.order_place(key="b1", participant=w.sd2, instrument="CEA23", method="listing", side="B", price_fen=10_451, quantity_t=100,
                       actor=None, at=when("2024-11-04", 10))
    assert (o.status, o.reject_code, o.frozen_fen) == (Order.Status.REJECTED, "T0105", 0)
    acc = fund_account_of(holder=w.sd2)
    assert (acc.available_fen, acc.frozen_fen) == (100_000_000, 0)


def test_session_and_trading_day_checks(market):
    w = market
    for at in (when("2024-11-04", 12), when("2024-11-02", 10), when("2024-10-01", 10)):  # lunch, Saturday, National Day
        with pytest.raises(CetsError) as e:
            ts.order_place(key=f"x{at}", participant=w.sd1, instrument="CEA23", method="listing", side="S", price_fen=9_500, quantity_t=1,
                           actor=None, at=at)
        assert e.value.code == "T0205"
    with pytest.raises(CetsError) as e:  # block agreements trade in the afternoon only
        ts.order_place(key="blk", participant=w.sd1, instrument="CEA23", method="block", side="S", price_fen=9_500, quantity_t=100_000,
                       actor=None, at=when("2024-11-04", 10))
    assert e.value.code == "T0205"


def test_cancel_and_close_release_everything_and_publish_the_day(market):
    w = market
    a = ts.order_place(key="a", participant=w.sd1, instrument="CEA23", method="listing", side="S", price_fen=9_600, quantity_t=1_000,
                       actor=None, at=when("2024-11-04", 10))
    b = ts.order_place(key="b", participant=w.sd1, instrument="CEA23", method="listing", side="S", price_fen=9_700, quantity_t=500,
                       actor=None, at=when("2024-11-04", 10))
    c = ts.order_place(key="c", participant=w.sd2, instrument="CEA23", method="listing", side="B", price_fen=9_400, quantity_t=300,
                       actor=None, at=when("2024-11-04", 10))
    ts.order_take(key="t1", participant=w.sd2, quote_seq=a.seq, quantity_t=300, actor=None, at=when("2024-11-04", 10))
    ts.order_take(key="t2", participant=w.sd2, quote_seq=b.seq, quantity_t=200, actor=None, at=when("2024-11-04", 14))
    ts.order_take(key="t3", participant=w.sd1, quote_seq=c.seq, quantity_t=100, actor=None, at=when("2024-11-04", 14))
    cancel = ts.order_cancel(key="x", participant=w.sd1, order_seq=b.seq, actor=None, at=when("2024-11-04", 14))
    assert cancel.status == Order.Status.FILLED or cancel.status == Order.Status.DONE
    b.refresh_from_db()
    assert (b.status, b.frozen_t) == (Order.Status.CANCELLED, 0)
    q = ts.day_close(market="national", instrument="CEA23", day=DAY)
    a.refresh_from_db()
    c.refresh_from_db()
    assert a.status == c.status == Order.Status.EXPIRED
    assert a.frozen_t == 0
    assert c.frozen_fen == 0
    # listing trades: 300 @ 96.00, 200 @ 97.00, 100 @ 94.00 → volume 600 t, amount 2,880,000 + 1,940,000 + 940,000 = 5,760,000 fen
    # close = 5,760,000 / 600 = 9,600 fen exactly; open 96.00 (first trade), high 97.00, low 94.00
    assert (q.open_fen, q.high_fen, q.low_fen, q.close_fen, q.prev_close_fen, q.volume_t, q.amount_fen) == (9_600, 9_700, 9_400, 9_600, 9_500, 600, 5_760_000)
    stat = DailyStat.objects.get(date=DAY, instrument="CEA23", method="listing")
    assert (stat.volume_t, stat.amount_fen, stat.trades, stat.ytd_volume_t, stat.cum_amount_fen) == (600, 5_760_000, 3, 600, 5_760_000)
    assert held(w, SD_1, Position.PENDING) == 0
    assert funds_verify() == []
    assert audit_verify().ok
    # the next day opens on this close
    o = ts.day_open(market="national", instrument="CEA23", day=dt.date(2024, 11, 5))
    assert o.price_fen == 9_600


def test_a_restarted_sequencer_rebuilds_the_same_book(market):
    w = market
    for i, (p, q) in enumerate([(9_600, 100), (9_650, 200), (9_600, 300), (9_700, 50)]):
        ts.order_place(key=f"s{i}", participant=w.sd1, instrument="CEA23", method="listing", side="S", price_fen=p, quantity_t=q, actor=None,
                       at=when("2024-11-04", 10))
    first = Order.objects.get(key="s0")
    ts.order_take(key="t", participant=w.sd2, quote_seq=first.seq, quantity_t=60, actor=None, at=when("2024-11-04", 10))
    before = ts_depth("CEA23", "listing", "S")
    assert before == [(9_600, 340, 2), (9_650, 200, 1), (9_700, 50, 1)]
    ts._BOOKS.clear()  # a new process: nothing in memory
    assert ts_depth("CEA23", "listing", "S") == before


def test_vwap_rounds_half_up_to_the_fen():
    assert bk.vwap_fen(1_000_005, 200) == 5_000  # 5000.025 → 5000
    assert bk.vwap_fen(1_000_100, 200) == 5_001  # 5000.5 → 5001
    assert bk.vwap_fen(210_230_053_25, 4_103_953) == 5_123  # 2021-07-16: 210,230,053.25 CNY / 4,103,953 t = 51.2263… → 51.23


def test_maximum_holding_and_large_holder_report(db):
    """Beijing's trading pack carries the 2014 rules: a non-entity participant holds at most
    1,000,000 t and is reported above 500,000 t. The national pack sets no maximum (no public figure)."""
    from cets.parties.models import Organisation
    from cets.registry.models import Instrument
    from cets.registry.services import account_open, system_accounts_ensure, vintage_create
    from cets.trading.selectors import large_holders

    system_accounts_ensure(market="beijing")
    bea = vintage_create(instrument=Instrument.BEA, vintage="2023", cap_t=2_000_000, key="cap-bea")
    fund = Organisation.objects.create(uscc="91310000MA1FL0000N", name="某投资机构", kind=Organisation.Kind.INSTITUTION, province="31")
    acc = account_open(holder=fund, kind=AccountKind.INSTITUTION, market="beijing")
    transfer_post(key="iss-fund", kind=TransferKind.ISSUE, unit_type=bea, debit=Leg(system_account("beijing", AccountKind.NATIONAL_TOTAL), Position.REGISTRY),
                  credit=Leg(acc, Position.TRADING), quantity=999_900)
    funds_deposit(key="dep-fund", holder=fund, amount_fen=100_000_000, market="beijing", actor=None)
    ts.day_open(market="beijing", instrument="BEA23", day=DAY, prev_close_fen=9_500)
    # 999,900 + 101 > 1,000,000 t is refused; + 100 is fine
    with pytest.raises(CetsError) as e:
        ts.order_place(key="f1", participant=fund, instrument="BEA23", method="listing", side="B", price_fen=9_500, quantity_t=101, actor=None,
                       market="beijing", at=when("2024-11-04", 10))
    assert e.value.code == "T0212"
    ok = ts.order_place(key="f2", participant=fund, instrument="BEA23", method="listing", side="B", price_fen=9_500, quantity_t=100, actor=None,
                        market="beijing", at=when("2024-11-04", 10))
    assert ok.status == Order.Status.RESTING
    assert [(h.uscc, h.holding_t, h.threshold_t) for h in large_holders(market="beijing", day=DAY)] == [(fund.uscc, 999_900, 500_000)]
    assert ts.holding_limit_t(participant=fund, unit_type=bea, rules=ts.market_rules("national", DAY)) is None


def test_an_acknowledged_order_survives_a_crash_before_sequencing(market):
    """The order is in the log (with its freeze) when entry commits; if the process dies before the
    sequencer runs, the next sequencer — in another process, with an empty book — applies it."""
    from django.db import transaction

    w = market
    quote = ts.order_place(key="q", participant=w.sd1, instrument="CEA23", method="listing", side="S", price_fen=9_600, quantity_t=500,
                           actor=None, at=when("2024-11-04", 10))
    rules = ts.market_rules("national", DAY)
    with transaction.atomic():  # order entry's own transaction, then "crash": no drain
        o = ts._log("national", key="b", kind=Order.Kind.TAKE, trading_day=DAY, instrument="CEA23", method="listing", side="B",
                    price_fen=9_600, quantity_t=200, remaining_t=200, participant=w.sd2, target=quote, entered_at=when("2024-11-04", 10))
        ts._freeze(o, side="B", rules=rules, participant=w.sd2, instrument="CEA23", price_fen=9_600, quantity_t=200, at=when("2024-11-04", 10))
    o.refresh_from_db()
    assert o.status == Order.Status.RECEIVED
    assert o.frozen_fen == 200 * 9_600 + 960
    ts._BOOKS.clear()
    assert ts.sequencer_drain(market="national") == 1
    o.refresh_from_db()
    assert (o.status, o.frozen_fen) == (Order.Status.FILLED, 0)
    assert held(w, SD_2, Position.TRADING) == 50_200


def test_a_settlement_refusal_voids_the_command_and_the_market_goes_on(market):
    """The seller's account is frozen by the registry after a take was entered: settlement refuses
    (R0103), the take is void and rejected with that code, its funds are released, the quote stays in
    the book, and the next orders trade normally."""
    from django.db import transaction

    from cets.registry.services import account_status_set

    w = market
    quote = ts.order_place(key="q", participant=w.sd1, instrument="CEA23", method="listing", side="S", price_fen=9_600, quantity_t=500,
                           actor=None, at=when("2024-11-04", 10))
    with transaction.atomic():  # a take entered, not yet sequenced …
        o = ts._log("national", key="b", kind=Order.Kind.TAKE, trading_day=DAY, instrument="CEA23", method="listing", side="B",
                    price_fen=9_600, quantity_t=200, remaining_t=200, participant=w.sd2, target=quote, entered_at=when("2024-11-04", 10))
        ts._freeze(o, side="B", rules=ts.market_rules("national", DAY), participant=w.sd2, instrument="CEA23", price_fen=9_600,
                   quantity_t=200, at=when("2024-11-04", 10))
    account_status_set(account=w.accounts[SD_1], status="frozen", reason="court order", actor=w.registry_a)  # … then a freeze
    ts.sequencer_drain(market="national")
    o.refresh_from_db()
    assert (o.status, o.reject_code, o.voided, o.frozen_fen) == (Order.Status.REJECTED, "R0103", True, 0)
    assert fund_account_of(holder=w.sd2).available_fen == 100_000_000
    assert not Trade.objects.exists()
    assert ts_depth("CEA23", "listing", "S") == [(9_600, 500, 1)]
    ts._BOOKS.clear()  # a restart replays the log without the void command
    assert ts_depth("CEA23", "listing", "S") == [(9_600, 500, 1)]
    from cets.registry.services import account_reopen_propose, proposal_approve

    p = account_reopen_propose(key="reopen-sd1", account=w.accounts[SD_1], reason="released", actor=w.registry_a)
    proposal_approve(proposal_id=p.pk, approver=w.registry_b)  # reopening an account takes a second operator
    t = ts.order_take(key="t2", participant=w.sd2, quote_seq=quote.seq, quantity_t=200, actor=None, at=when("2024-11-04", 10))
    assert t.status == Order.Status.FILLED
    assert Trade.objects.count() == 1
    assert funds_verify() == []
    assert audit_verify().ok


def test_cli_audit_verify_runs_every_apps_validators(market, capsys):
    """``cets audit verify`` runs the registry's validators and trading's fund-ledger validator, reports
    each, and exits 1 when any fails (here: a fund balance changed behind the fund ledger's back)."""
    from django.db import connection

    from cets.cli import audit_validators, main
    from cets.registry.audit import VALIDATORS
    from cets.trading.audit import funds_balanced

    assert audit_validators() == [*VALIDATORS, funds_balanced]
    assert main(["audit", "verify"]) == 0
    acc = fund_account_of(holder=market.sd1)
    with connection.cursor() as c:
        c.execute("update trading_fundaccount set available_fen = available_fen + 1 where id = %s", [acc.pk])
    capsys.readouterr()
    assert main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "✗ fund ledger balanced" in out
    assert "✓ hash chains" in out
    assert "≠ journal" in out
