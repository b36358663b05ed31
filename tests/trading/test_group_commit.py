"""The exchange's group commit (issue 19): commands appended to the log by clients (``order_place_queued``,
``order_take_queued``) and applied by the sequencer in batches — pre-trade checks against positions held in memory,
the book, settlement of the batch's trades set-based (``transfer_batch_post``, ``funds.post_batch``) — leave exactly
what the one-by-one path (``order_place`` / ``order_take``: entry and sequencing in one transaction per command)
leaves for the same commands: the same orders, trades, book, registry journal rows with their hashes, fund entries,
holdings and fund balances (property test). A queued command the pre-trade check refuses is rejected with that
check and freezes nothing; a settlement refusal the checks in memory could not foresee sends the batch back to
settlement trade by trade (the fallback), which voids that command only."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cets.core.errors import CetsError
from cets.parties.models import Notification
from cets.registry.audit import audit_verify
from cets.registry.models import Account, AccountStatus, Holding, Transfer
from cets.trading import services as ts
from cets.trading.funds import funds_deposit, funds_verify
from cets.trading.models import FundAccount, FundEntry, Order, Trade
from tests.conftest import ZJ_1

WHO = ["sd1", "sd2", "zj1"]


@pytest.fixture
def three(market, clock):
    """The market plus ZJ_1 with 300 t in trading and 20,000.00 CNY (small enough that its orders are refused)."""
    from cets.registry.models import AccountKind, Position, TransferKind
    from cets.registry.services import Leg, system_account, transfer_post

    w = market
    transfer_post(key="iss-zj1", kind=TransferKind.ISSUE, unit_type=w.cea, debit=Leg(system_account("national", AccountKind.NATIONAL_TOTAL),
                  Position.REGISTRY), credit=Leg(w.accounts[ZJ_1], Position.TRADING), quantity=300)
    funds_deposit(key="dep-zj1", holder=w.accounts[ZJ_1].holder, amount_fen=2_000_000, actor=None)
    return {"sd1": w.sd1, "sd2": w.sd2, "zj1": w.accounts[ZJ_1].holder}


def snapshot() -> dict:
    with ts.book_read("national") as book:
        resting = sorted((m, s, o.id, o.remaining_t, o.price_fen) for m in ("listing", "continuous") for s in "BS"
                         for o in book.resting("CEA23", m, s))
    return {
        "orders": list(Order.objects.order_by("seq").values_list("seq", "key", "kind", "status", "filled_t", "filled_amount_fen", "remaining_t",
                                                                 "frozen_fen", "frozen_t", "reject_code", "reject_detail", "voided")),
        "trades": list(Trade.objects.order_by("seq").values_list("seq", "buy_order_id", "sell_order_id", "price_fen", "quantity_t", "amount_fen",
                                                                 "buyer_fee_fen", "seller_fee_fen", "executed_at")),
        "journal": list(Transfer.objects.order_by("seq").values_list("seq", "key", "kind", "debit_account_id", "debit_position", "credit_account_id",
                                                                     "credit_position", "quantity", "reference", "effective_at", "recorded_at",
                                                                     "debit_prev_hash", "credit_prev_hash", "hash")),
        "funds": list(FundEntry.objects.order_by("seq").values_list("seq", "key", "kind", "debit_account_id", "debit_bucket", "credit_account_id",
                                                                    "credit_bucket", "amount_fen", "reference", "trade_id", "order_id", "recorded_at")),
        "notices": list(Notification.objects.order_by("pk").values_list("organisation_id", "user_id", "kind", "title_zh", "title_en", "body_zh",
                                                                        "body_en", "link", "created_at")),
        "holdings": sorted(Holding.objects.values_list("account_id", "unit_type_id", "position", "quantity")),
        "balances": sorted(FundAccount.objects.values_list("pk", "available_fen", "frozen_fen")),
        "heads": sorted(Account.objects.values_list("pk", "head_hash", "head_seq")),
        "book": resting,
    }


def op_strategy():
    qty = st.one_of(st.integers(1, 60), st.integers(1, 60), st.integers(100, 400))
    place = st.tuples(st.just("place"), st.sampled_from(WHO), st.just("listing"), st.sampled_from("BS"),
                      st.integers(9_450, 9_550), qty)
    take = st.tuples(st.just("take"), st.sampled_from(WHO), st.integers(0, 40), st.integers(1, 20))
    return st.one_of(place, take)


def one_by_one(ops, orgs) -> tuple[list, dict, list]:
    """The ops through order_place / order_take; which were accepted at entry (returned an order), their snapshot."""
    placed: list[int] = []  # seqs of the orders of earlier place ops
    accepted, answers = [], []
    for i, op in enumerate(ops):
        try:
            if op[0] == "place":
                _, who, method, side, price, q = op
                o = ts.order_place(key=f"k{i}", participant=orgs[who], instrument="CEA23", method=method, side=side, price_fen=price, quantity_t=q,
                                   actor=None)
                placed.append(o.seq)
            else:
                _, who, j, q = op
                if not placed:
                    continue
                o = ts.order_take(key=f"k{i}", participant=orgs[who], quote_seq=placed[j % len(placed)], quantity_t=q, actor=None)
            accepted.append((i, op, None if op[0] == "place" else placed[op[2] % len(placed)]))
            answers.append(("ok", i))
        except CetsError as e:
            answers.append(("refused", i, e.code))
    return accepted, snapshot(), answers


def batched(accepted, orgs, cuts: set[int]) -> dict:
    """The same accepted commands appended to the log, the sequencer draining after each index in ``cuts``."""
    for n, (i, op, target) in enumerate(accepted):
        if op[0] == "place":
            _, who, method, side, price, q = op
            ts.order_place_queued(key=f"k{i}", participant=orgs[who], instrument="CEA23", method=method, side=side, price_fen=price, quantity_t=q,
                                  actor=None)
        else:
            ts.order_take_queued(key=f"k{i}", participant=orgs[who] if (who := op[1]) else None, quote_seq=target, quantity_t=op[3], actor=None)
        if n in cuts:
            ts.sequencer_drain(market="national")
    ts.sequencer_drain(market="national")
    return snapshot()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(op_strategy(), min_size=3, max_size=24), cuts=st.sets(st.integers(0, 24), max_size=4))
def test_batches_leave_what_one_by_one_leaves(three, ops, cuts):
    """Property: any commands the one-by-one path accepts at entry, appended and applied in batches (cut anywhere),
    leave the same orders, trades, book, journal rows and hashes, fund entries, holdings and balances. SQLite only:
    there a rolled-back run gives its sequence numbers back, so both runs number their rows alike (PostgreSQL's
    sequences do not roll back; the crash test covers the batched path there)."""
    if connection.vendor != "sqlite":
        pytest.skip("the two runs number their rows alike only where a rollback gives sequence numbers back (SQLite)")
    with transaction.atomic():
        ts._BOOKS.clear()
        with transaction.atomic():
            accepted, expected, answers = one_by_one(ops, three)
            assert audit_verify().ok and not funds_verify()
            transaction.set_rollback(True)
        ts._BOOKS.clear()
        fallbacks = dict(ts.FALLBACKS)
        with transaction.atomic():
            got = batched(accepted, three, cuts)
            assert audit_verify().ok and not funds_verify()
            transaction.set_rollback(True)
        ts._BOOKS.clear()
        assert Order.objects.filter(queued=True).count() == 0
        assert ts.FALLBACKS == fallbacks, "every batch settled set-based (no fallback)"
        for k in expected:
            assert got[k] == expected[k], k
        event(f"{len(expected['trades'])} trades" if len(expected["trades"]) < 3 else "3+ trades")
        for a in answers:
            if a[0] == "refused":
                event(f"entry refused {a[2]}")
        transaction.set_rollback(True)


def test_queued_refusals_freeze_nothing(three, django_assert_max_num_queries):
    """In one batch: ZJ_1's buy beyond its funds (T0201) and its sell beyond its units (T0207) are rejected with those
    checks, void and frozen nothing; SD_1's quote and SD_2's take between them trade and settle; a take of a quote still
    in the queue is allowed at entry."""
    zj, sd1, sd2 = three["zj1"], three["sd1"], three["sd2"]
    buy = ts.order_place_queued(key="q-buy", participant=zj, instrument="CEA23", method="listing", side="B", price_fen=9_500, quantity_t=300,
                                actor=None)
    quote = ts.order_place_queued(key="q-quote", participant=sd1, instrument="CEA23", method="listing", side="S", price_fen=9_500, quantity_t=40,
                                  actor=None)
    sell = ts.order_place_queued(key="q-sell", participant=zj, instrument="CEA23", method="listing", side="S", price_fen=9_500, quantity_t=301,
                                 actor=None)
    take = ts.order_take_queued(key="q-take", participant=sd2, quote_seq=quote.seq, quantity_t=15, actor=None)
    assert {o.status for o in (buy, quote, sell, take)} == {Order.Status.RECEIVED}
    with django_assert_max_num_queries(40):
        assert ts.sequencer_drain(market="national") == 4
    buy.refresh_from_db(), sell.refresh_from_db(), take.refresh_from_db(), quote.refresh_from_db()
    assert (buy.status, buy.reject_code, buy.voided, buy.frozen_fen) == (Order.Status.REJECTED, "T0201", True, 0)
    assert (sell.status, sell.reject_code, sell.voided, sell.frozen_t) == (Order.Status.REJECTED, "T0207", True, 0)
    assert not FundEntry.objects.filter(order__in=[buy, sell]).exists()
    assert not Transfer.objects.filter(key__startswith=f"order-{sell.seq}-").exists()
    assert (take.status, take.filled_t) == (Order.Status.FILLED, 15)
    assert (quote.status, quote.remaining_t, quote.frozen_t) == (Order.Status.RESTING, 25, 25)
    tr = Trade.objects.get()
    assert Transfer.objects.filter(key=f"trade-{tr.seq}-units", quantity=15).exists()
    assert FundEntry.objects.filter(key=f"trade-{tr.seq}-funds", amount_fen=15 * 9_500).exists()
    assert audit_verify().ok and not funds_verify()


def test_a_queued_take_names_only_a_quote_still_takeable(three):
    """T0211 at the queued entry for whatever a take may not name — a filled quote, a voided (rejected) order, a take,
    a take still in the queue, the day's opening command, a quote of another market, a sequence number that is no
    command or no integer — while a resting quote and one still in the queue are taken (the quote is read by its key
    alone, the rest checked in Python: dropping the market, kind or status condition fails this test; a voided order
    is always rejected, so its condition only guards the statement's old meaning)."""
    zj, sd1, sd2 = three["zj1"], three["sd1"], three["sd2"]
    filled = ts.order_place_queued(key="t-q1", participant=sd1, instrument="CEA23", method="listing", side="S", price_fen=9_500, quantity_t=10,
                                   actor=None)
    take = ts.order_take_queued(key="t-t1", participant=sd2, quote_seq=filled.seq, quantity_t=10, actor=None)
    rejected = ts.order_place_queued(key="t-q2", participant=zj, instrument="CEA23", method="listing", side="B", price_fen=9_500, quantity_t=300,
                                     actor=None)
    resting = ts.order_place_queued(key="t-q3", participant=sd1, instrument="CEA23", method="listing", side="S", price_fen=9_500, quantity_t=10,
                                    actor=None)
    ts.sequencer_drain(market="national")
    filled.refresh_from_db(), rejected.refresh_from_db()
    assert (filled.status, rejected.status, rejected.voided) == (Order.Status.FILLED, Order.Status.REJECTED, True)
    opening = Order.objects.filter(kind=Order.Kind.OPEN_DAY).values_list("seq", flat=True).first()
    queued = ts.order_place_queued(key="t-q4", participant=sd1, instrument="CEA23", method="listing", side="S", price_fen=9_500, quantity_t=10,
                                   actor=None)
    in_queue = ts.order_take_queued(key="t-t2", participant=sd2, quote_seq=resting.seq, quantity_t=1, actor=None)
    for n, (seq, market) in enumerate([(filled.seq, "national"), (rejected.seq, "national"), (take.seq, "national"), (in_queue.seq, "national"),
                                       (opening, "national"),
                                       (resting.seq, "ccer"), (10**12, "national"), (True, "national"), (str(resting.seq), "national")]):
        with pytest.raises(CetsError) as e:
            ts.order_take_queued(key=f"t-x{n}", participant=sd2, quote_seq=seq, quantity_t=1, actor=None, market=market)
        assert e.value.code == "T0211", (n, e.value.code)
    assert not Order.objects.filter(key__startswith="t-x").exists()
    for n, quote in enumerate([resting, queued]):
        o = ts.order_take_queued(key=f"t-ok{n}", participant=sd2, quote_seq=quote.seq, quantity_t=1, actor=None)
        assert (o.status, o.target_id, o.price_fen, o.side) == (Order.Status.RECEIVED, quote.seq, 9_500, "B")


def test_settlement_refusal_falls_back_to_trade_by_trade(three):
    """The buyer's registry account is frozen after its take was appended (the checks in memory read it as it was
    when the batch started … but the account is frozen before the batch): the hold of the quote settles, the take's
    delivery is refused by the registry (R0103) — the batch falls back to settlement trade by trade, which voids the
    take only and releases its freeze; the journals prove."""
    sd1, sd2 = three["sd1"], three["sd2"]
    quote = ts.order_place_queued(key="f-quote", participant=sd1, instrument="CEA23", method="listing", side="S", price_fen=9_500, quantity_t=40,
                                  actor=None)
    take = ts.order_take_queued(key="f-take", participant=sd2, quote_seq=quote.seq, quantity_t=10, actor=None)
    after = ts.order_place_queued(key="f-after", participant=sd1, instrument="CEA23", method="listing", side="S", price_fen=9_450, quantity_t=5,
                                  actor=None)
    Account.objects.filter(holder=sd2, market="national").update(status=AccountStatus.FROZEN)
    fallbacks = ts.FALLBACKS.get("national", 0)
    assert ts.sequencer_drain(market="national") == 3
    assert ts.FALLBACKS["national"] == fallbacks + 1
    take.refresh_from_db(), quote.refresh_from_db(), after.refresh_from_db()
    assert take.status == Order.Status.REJECTED and take.reject_code in ("R0103", "T0208")
    assert take.frozen_fen == 0 and not Trade.objects.exists()
    assert (quote.status, quote.remaining_t, after.status) == (Order.Status.RESTING, 40, Order.Status.RESTING)
    assert audit_verify().ok and not funds_verify()


def test_an_entry_after_queued_commands_applies_them_first(three):
    """The one-by-one path (a page, the API) finds queued commands in the log before its own: it checks, freezes and
    applies them first, in log order, then its own."""
    sd1, sd2 = three["sd1"], three["sd2"]
    quote = ts.order_place_queued(key="m-quote", participant=sd1, instrument="CEA23", method="listing", side="S", price_fen=9_500, quantity_t=40,
                                  actor=None)
    mine = ts.order_place(key="m-own", participant=sd2, instrument="CEA23", method="listing", side="B", price_fen=9_400, quantity_t=5, actor=None)
    quote.refresh_from_db()
    assert (quote.status, quote.frozen_t, mine.status) == (Order.Status.RESTING, 40, Order.Status.RESTING)
    assert Transfer.objects.filter(key=f"order-{quote.seq}-hold", quantity=40).exists()
    assert Holding.objects.get(account__holder=sd1, position="pending").quantity == 40
    assert audit_verify().ok and not funds_verify()


def test_the_sequencer_command_drains_queued_commands_in_batches(three, capsys):
    """``cets trading sequencer --once --batch 2``: the market's sequencer applies the queued commands, two per
    transaction, and prints how many it applied."""
    from cets.cli import main

    sd1, sd2 = three["sd1"], three["sd2"]
    quote = ts.order_place_queued(key="c-quote", participant=sd1, instrument="CEA23", method="listing", side="S", price_fen=9_500, quantity_t=40,
                                  actor=None)
    ts.order_take_queued(key="c-take", participant=sd2, quote_seq=quote.seq, quantity_t=40, actor=None)
    ts.order_place_queued(key="c-bid", participant=sd2, instrument="CEA23", method="listing", side="B", price_fen=9_400, quantity_t=5, actor=None)
    assert main(["trading", "sequencer", "--once", "--batch", "2"]) == 0
    assert "applied 3 command(s)" in capsys.readouterr().out
    assert dict(Order.objects.filter(key__startswith="c-").values_list("key", "status")) == {"c-quote": "filled", "c-take": "filled", "c-bid": "resting"}
    assert Trade.objects.filter(quantity_t=40).count() == 1 and audit_verify().ok and not funds_verify()


def test_a_batch_names_its_trades_by_the_seq_they_are_written_with(three):
    """Golden case, SQLite and PostgreSQL: two quotes and their takes in one batch. The batch writes its trades at its
    end (their ``seq`` given then, ascending in the order they traded) and every row that names a trade names that seq:
    the delivery's journal key and reference, the holders' notices, the payment and both fees (40 t at 95.00 CNY =
    380,000 fen; the national pack's 0.05 % per side = 190 fen each)."""
    from cets.parties.models import Notification

    sd1, sd2 = three["sd1"], three["sd2"]
    q1 = ts.order_place_queued(key="n-q1", participant=sd1, instrument="CEA23", method="listing", side="S", price_fen=9_500, quantity_t=40, actor=None)
    t1 = ts.order_take_queued(key="n-t1", participant=sd2, quote_seq=q1.seq, quantity_t=40, actor=None)
    q2 = ts.order_place_queued(key="n-q2", participant=sd2, instrument="CEA23", method="listing", side="S", price_fen=9_500, quantity_t=40, actor=None)
    t2 = ts.order_take_queued(key="n-t2", participant=sd1, quote_seq=q2.seq, quantity_t=40, actor=None)
    before = Trade.objects.count()
    assert ts.sequencer_drain(market="national") == 4
    trades = list(Trade.objects.order_by("seq"))[before:]
    assert [(t.buy_order_id, t.sell_order_id, t.buyer_id, t.seller_id, t.quantity_t, t.amount_fen, t.buyer_fee_fen, t.seller_fee_fen)
            for t in trades] == [(t1.seq, q1.seq, sd2.pk, sd1.pk, 40, 380_000, 190, 190), (t2.seq, q2.seq, sd1.pk, sd2.pk, 40, 380_000, 190, 190)]
    assert trades[0].seq < trades[1].seq
    for t in trades:
        units = Transfer.objects.get(key=f"trade-{t.seq}-units")
        assert (units.reference, units.quantity) == (f"成交 trade #{t.seq} CEA23", 40)
        assert Notification.objects.filter(body_en__endswith=f"entry trade-{t.seq}-units; reference: 成交 trade #{t.seq} CEA23").count() == 2
        assert list(FundEntry.objects.filter(trade_id=t.seq).order_by("seq").values_list("key", "kind", "amount_fen", "reference")) == [
            (f"trade-{t.seq}-funds", "settle", 380_000, f"成交 trade #{t.seq}"), (f"trade-{t.seq}-fee-buyer", "fee", 190, ""),
            (f"trade-{t.seq}-fee-seller", "fee", 190, "")]
    assert audit_verify().ok and not funds_verify()


def test_the_wait_takes_whole_milliseconds_only(three):
    """``wait_applied``'s timeout is an int of milliseconds within an hour: a fraction, a bool, a string, a negative or
    an over-long wait is refused before anything is read; a zero wait answers the position at once."""
    for bad in (0.5, True, "100", -1, 3_600_001):
        with pytest.raises(ValueError):
            ts.wait_applied(market="national", seq=1, timeout_ms=bad)
    assert ts.wait_applied(market="national", seq=10**12, timeout_ms=0) == ts.applied_seq("national")
