"""The pure order book (cets.trading.book): golden cases by hand and property tests. No database.

Rules (reference §3.1; MEE 公告2021年第21号 and the SEEE announcement of 2021-06-22):
挂牌协议 quotes < 100,000 t within ±10% of the previous close, a taker picks a quote among the opposite
side's best five price levels at the quote's price for up to its quantity; 大宗协议 ≥ 100,000 t within
±30%, public or directed, confirmed whole; continuous price-time matching for the pilots.
Prices fen per tonne (int), quantities tonnes (int).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from cets.trading.book import (
    BUY,
    SELL,
    Accepted,
    Book,
    Cancel,
    CloseDay,
    Done,
    OpenDay,
    Place,
    Rejected,
    Take,
    Traded,
    price_band,
)

# --- helpers ---------------------------------------------------------------------------------------


class Desk:
    """A Book with a command counter: ``desk.place(...)`` returns the events and remembers the id."""

    def __init__(self, prev_close_fen: int = 5123, instrument: str = "CEA") -> None:
        self.book = Book()
        self.n = 0
        self.instrument = instrument
        self.open(instrument, prev_close_fen)

    def _next(self) -> int:
        self.n += 1
        return self.n

    def open(self, instrument: str, prev_close_fen: int) -> list:
        return self.book.apply(OpenDay(self._next(), instrument, prev_close_fen))

    def place(self, who, method, side, price, qty, counterparty="", instrument=None) -> list:
        return self.book.apply(Place(self._next(), who, instrument or self.instrument, method, side, price, qty, counterparty))

    def take(self, who, quote_id, qty) -> list:
        return self.book.apply(Take(self._next(), who, quote_id, qty))

    def cancel(self, who, order_id) -> list:
        return self.book.apply(Cancel(self._next(), who, order_id))

    def close(self, instrument=None) -> list:
        return self.book.apply(CloseDay(self._next(), instrument or self.instrument))

    def quote(self, who, method, side, price, qty, counterparty="") -> int:
        """Place an order that must be accepted; return its id."""
        ev = self.place(who, method, side, price, qty, counterparty)
        assert ev[0] == Accepted(self.n), ev
        return self.n


def rejected(events: list, code: str) -> bool:
    return len(events) == 1 and type(events[0]) is Rejected and events[0].check.code == code


def trades(events: list) -> list[Traded]:
    return [e for e in events if type(e) is Traded]


def snapshot(book: Book) -> tuple:
    """Everything a command could change (except the last command id): orders and the level structure."""
    orders = tuple(sorted((o.id, o.participant, o.instrument, o.method, o.side, o.price_fen, o.quantity_t, o.remaining_t,
                           o.counterparty) for o in book.orders.values()))
    levels = tuple(sorted(
        (name, key, tuple(s.prices), tuple((p, tuple(o.id for o in s.levels[p])) for p in sorted(s.levels)))
        for name, ins in book.instruments.items() for key, s in ins.sides.items() if s.prices or s.levels))
    closes = tuple(sorted((name, ins.prev_close_fen) for name, ins in book.instruments.items()))
    return orders, levels, closes


# --- price bands -----------------------------------------------------------------------------------


def test_listing_band_golden_first_close():
    # First national close 2021-07-16: 51.23 CNY = 5123 fen. ±10%:
    # 5123 × 0.90 = 4610.7 → 4611 fen (46.11 CNY); 5123 × 1.10 = 5635.3 → 5635 fen (56.35 CNY).
    assert price_band(5123, Decimal("0.10")) == (4611, 5635)


def test_block_band_golden_first_close():
    # ±30%: 5123 × 0.70 = 3586.1 → 3586 fen; 5123 × 1.30 = 6659.9 → 6660 fen (nearest tick, half up).
    assert price_band(5123, Decimal("0.30")) == (3586, 6660)


def test_band_rounds_to_nearest_tick_like_the_published_limits():
    # The exchange rounds a limit price to the nearest 0.01 CNY (half up), as the published daily highs and
    # lows show (data/cea-national-official/cea_daily_quotes.csv):
    # 2021-08-09 CEA, previous close 52.96: 5296 × 1.10 = 5825.6 → 5826; the published high is 58.26.
    assert price_band(5296, Decimal("0.10"))[1] == 5826
    # 2025-12-01 CEA21, previous close 67.06: 6706 × 0.90 = 6035.4 → 6035; the published low is 60.35.
    assert price_band(6706, Decimal("0.10"))[0] == 6035
    # 2024-04-23 CEA, previous close 90.25: 9025 × 1.10 = 9927.5 → 9928 (half up); the published high is 99.28.
    assert price_band(9025, Decimal("0.10"))[1] == 9928
    # 2025-10-17 CEA24, previous close 43.46: 4346 × 0.90 = 3911.4 → 3911; the published low is 39.11.
    assert price_band(4346, Decimal("0.10"))[0] == 3911


def test_published_limit_trades_are_accepted_by_the_book():
    d = Desk(prev_close_fen=5296)  # 2021-08-09: the day's high 58.26 CNY was a trade at the upper limit
    assert d.place("A", "listing", SELL, 5826, 100)[0] == Accepted(d.n)
    assert rejected(d.place("A", "listing", SELL, 5827, 100), "T0105")


@pytest.mark.parametrize(
    "method, price, ok",
    [
        ("listing", 4611, True), ("listing", 4610, False), ("listing", 5635, True), ("listing", 5636, False),
        ("continuous", 4611, True), ("continuous", 4610, False), ("continuous", 5635, True), ("continuous", 5636, False),
        ("block", 3586, True), ("block", 3585, False), ("block", 6660, True), ("block", 6661, False),
    ],
)
def test_place_price_band_limits(method, price, ok):
    d = Desk(prev_close_fen=5123)
    qty = 100_000 if method == "block" else 100
    ev = d.place("A", method, BUY, price, qty)
    if ok:
        assert ev == [Accepted(d.n)]
        assert d.book.orders[d.n].price_fen == price
    else:
        assert rejected(ev, "T0105")


@given(p=st.integers(1, 10_000_000), band=st.sampled_from([Decimal("0.10"), Decimal("0.30"), Decimal("0.05")]))
def test_band_is_the_nearest_tick_to_the_exact_limit(p, band):
    # half up: r = ⌊x + 0.5⌋, i.e. x − 0.5 < r ≤ x + 0.5, for both limits (the lower one never below 1 fen)
    low, high = price_band(p, band)
    exact_low, exact_high = p * (1 - band), p * (1 + band)
    assert low <= p <= high
    assert -Decimal("0.5") < high - exact_high <= Decimal("0.5")
    assert low == 1 or -Decimal("0.5") < low - exact_low <= Decimal("0.5")


# --- size boundaries -------------------------------------------------------------------------------


def test_listing_must_be_below_100000_t():
    d = Desk()
    assert d.place("A", "listing", SELL, 5123, 99_999) == [Accepted(d.n)]
    assert rejected(d.place("A", "listing", SELL, 5123, 100_000), "T0103")


def test_block_must_reach_100000_t():
    d = Desk()
    assert d.place("A", "block", SELL, 5123, 100_000) == [Accepted(d.n)]
    assert rejected(d.place("A", "block", SELL, 5123, 99_999), "T0104")


@pytest.mark.parametrize(
    "cmd, code",
    [
        (dict(price=0), "T0101"), (dict(price=-1), "T0101"), (dict(price=51.23), "T0101"), (dict(price=True), "T0101"),
        (dict(qty=0), "T0102"), (dict(qty=-5), "T0102"), (dict(qty=1.5), "T0102"),
        (dict(instrument="CEA99"), "T0111"), (dict(method="auction"), "T0113"), (dict(side="X"), "T0114"),
    ],
)
def test_place_refusals(cmd, code):
    d = Desk()
    args = dict(who="A", method="listing", side=BUY, price=5123, qty=100) | cmd
    assert rejected(d.place(**args), code)


# --- listing: take from the best five -------------------------------------------------------------


def test_take_only_within_the_best_five_price_levels_of_asks():
    d = Desk()
    ids = [d.quote("S", "listing", SELL, 5000 + i, 100) for i in range(6)]  # asks 50.00 … 50.05
    # best five asks: 5000, 5001, 5002, 5003, 5004; 5005 is the sixth level
    assert rejected(d.take("T", ids[5], 100), "T0106")
    ev = d.take("T", ids[4], 100)
    assert ev[0] == Accepted(d.n)
    t = trades(ev)[0]
    assert (t.price_fen, t.quantity_t, t.buyer, t.seller, t.sell_order, t.buy_order) == (5004, 100, "T", "S", ids[4], d.n)
    # 5004 is gone, so 5005 is now the fifth level and may be taken
    assert d.take("T", ids[5], 100)[0] == Accepted(d.n)


def test_take_only_within_the_best_five_price_levels_of_bids():
    d = Desk()
    ids = [d.quote("B", "listing", BUY, 5000 + i, 100) for i in range(6)]  # bids 50.00 … 50.05, best 50.05
    assert rejected(d.take("T", ids[0], 100), "T0106")  # 5000 is the sixth best bid
    t = trades(d.take("T", ids[1], 40))[0]  # the seller hits the bid at 5001 at the bid's price
    assert (t.price_fen, t.quantity_t, t.buyer, t.seller) == (5001, 40, "B", "T")


def test_levels_are_prices_not_orders_and_any_quote_at_a_level_may_be_taken():
    d = Desk()
    first = [d.quote(f"S{i}", "listing", SELL, 5000, 100) for i in range(3)]  # three quotes at one price
    later = [d.quote("S9", "listing", SELL, p, 100) for p in (5001, 5002, 5003, 5004)]
    # 5004 is the fifth price level although it is the seventh quote
    assert d.take("T", later[-1], 100)[0] == Accepted(d.n)
    # the taker chooses the counterparty at a price: the third quote at 5000, not the first in time
    t = trades(d.take("T", first[2], 100))[0]
    assert (t.seller, t.price_fen) == ("S2", 5000)
    assert [o.id for o in d.book.resting("CEA", "listing", SELL)] == [first[0], first[1], later[0], later[1], later[2]]


def test_take_at_the_quote_price_up_to_its_quantity():
    d = Desk()
    q = d.quote("S", "listing", SELL, 5200, 300)
    before = snapshot(d.book)
    assert rejected(d.take("T", q, 301), "T0107")
    assert snapshot(d.book) == before
    ev = d.take("T", q, 120)  # partial take: 300 − 120 = 180 t left on the quote
    assert ev == [Accepted(d.n), Traded("CEA", "listing", 5200, 120, d.n, q, "T", "S", q)]
    assert ev[1].amount_fen == 624_000  # 5200 fen × 120 t
    assert d.book.depth("CEA", "listing", SELL) == [(5200, 180, 1)]
    ev = d.take("U", q, 180)
    assert ev[-1] == Done(q, "filled", 0)
    assert q not in d.book.orders
    assert d.book.depth("CEA", "listing", SELL) == []
    assert rejected(d.take("U", q, 1), "T0106")  # a filled quote no longer exists


def test_listing_quotes_never_match_by_themselves():
    d = Desk()
    d.quote("S", "listing", SELL, 5000, 100)
    ev = d.place("B", "listing", BUY, 5100, 100)  # crosses the ask but a listing quote only rests
    assert ev == [Accepted(d.n)]
    assert len(d.book.orders) == 2


def test_take_refusals():
    d = Desk()
    q = d.quote("S", "listing", SELL, 5000, 100)
    c = d.quote("S", "continuous", SELL, 5300, 100)
    before = snapshot(d.book)
    assert rejected(d.take("S", q, 10), "T0108")  # self-trade
    assert rejected(d.take("T", 999, 10), "T0106")  # no such quote
    assert rejected(d.take("T", q, 0), "T0102")
    assert rejected(d.take("T", c, 10), "T0113")  # a continuous order is not taken, it is matched
    assert snapshot(d.book) == before


# --- block -----------------------------------------------------------------------------------------


def test_directed_block_only_by_the_named_counterparty_for_the_whole_quantity():
    d = Desk()
    q = d.quote("S", "block", SELL, 6000, 150_000, counterparty="B")
    before = snapshot(d.book)
    assert rejected(d.take("C", q, 150_000), "T0109")  # confirmed by someone else
    assert rejected(d.take("B", q, 100_000), "T0112")  # partial confirm
    assert rejected(d.take("S", q, 150_000), "T0108")  # the owner cannot confirm its own order
    assert snapshot(d.book) == before
    ev = d.take("B", q, 150_000)
    # 6000 fen × 150,000 t = 900,000,000 fen (9,000,000.00 CNY)
    assert ev == [Accepted(d.n), Traded("CEA", "block", 6000, 150_000, d.n, q, "B", "S", q), Done(q, "filled", 0)]
    assert ev[1].amount_fen == 900_000_000
    assert d.book.orders == {}


def test_public_block_any_counterparty_and_no_best_five_rule():
    d = Desk()
    ids = [d.quote("S", "block", SELL, 5000 + i, 100_000) for i in range(7)]
    t = trades(d.take("Z", ids[6], 100_000))[0]  # the seventh price level: block has no best-five rule
    assert (t.method, t.price_fen, t.buyer, t.seller) == ("block", 5006, "Z", "S")
    bid = d.quote("B", "block", BUY, 4000, 200_000)
    t = trades(d.take("Y", bid, 200_000))[0]
    assert (t.buyer, t.seller, t.buy_order, t.sell_order, t.price_fen) == ("B", "Y", bid, d.n, 4000)


# --- cancel and close ------------------------------------------------------------------------------


def test_cancel_only_own_live_orders():
    d = Desk()
    q = d.quote("S", "listing", SELL, 5000, 300)
    d.take("T", q, 100)
    before = snapshot(d.book)
    assert rejected(d.cancel("T", q), "T0110")  # someone else's order
    assert snapshot(d.book) == before
    assert d.cancel("S", q) == [Accepted(d.n), Done(q, "cancelled", 200)]  # the unfilled 200 t is released
    assert d.book.orders == {}
    assert d.book.depth("CEA", "listing", SELL) == []
    assert rejected(d.cancel("S", q), "T0110")  # already gone
    assert rejected(d.cancel("S", 12345), "T0110")


def test_close_day_expires_every_order_of_the_instrument_only():
    d = Desk()
    d.open("CEA24", 7000)
    a = d.quote("A", "listing", SELL, 5000, 300)
    b = d.quote("B", "block", BUY, 5000, 100_000)
    c = d.quote("C", "continuous", BUY, 5000, 40)
    e = d.quote("C", "continuous", SELL, 5100, 60)
    d.take("T", a, 100)
    other = d.book.apply(Place(d._next(), "A", "CEA24", "listing", SELL, 7000, 5))[0].command_id
    ev = d.close()
    assert ev[0] == Accepted(d.n)
    assert sorted(ev[1:], key=lambda x: x.order_id) == [Done(a, "expired", 200), Done(b, "expired", 100_000),
                                                        Done(c, "expired", 40), Done(e, "expired", 60)]
    assert set(d.book.orders) == {other}
    for m in ("listing", "block", "continuous"):
        for s in (BUY, SELL):
            assert d.book.depth("CEA", m, s) == []
    assert rejected(d.take("T", a, 10), "T0106")  # an expired quote cannot be taken
    assert d.close() == [Accepted(d.n)]  # nothing left to expire


@pytest.mark.parametrize(
    "bad",
    [
        lambda d, q: d.place("A", "listing", SELL, 9999, 10),  # outside band
        lambda d, q: d.place("A", "listing", SELL, 5000, 100_000),
        lambda d, q: d.place("A", "block", SELL, 5000, 99_999),
        lambda d, q: d.place("A", "listing", SELL, 5000, 10, instrument="CEA99"),
        lambda d, q: d.take("S", q["listing"], 1),
        lambda d, q: d.take("T", q["listing"], 301),
        lambda d, q: d.take("T", q["sixth"], 1),
        lambda d, q: d.take("C", q["block"], 150_000),
        lambda d, q: d.take("B", q["block"], 149_999),
        lambda d, q: d.cancel("T", q["listing"]),
        lambda d, q: d.take("T", q["cont"], 1),
    ],
)
def test_a_rejected_command_leaves_the_book_unchanged(bad):
    d = Desk()
    q = {"listing": d.quote("S", "listing", SELL, 5000, 300)}
    for p in range(5001, 5005):
        d.quote("S", "listing", SELL, p, 10)
    q["sixth"] = d.quote("S", "listing", SELL, 5005, 10)
    q["block"] = d.quote("S", "block", SELL, 5000, 150_000, counterparty="B")
    q["cont"] = d.quote("S", "continuous", SELL, 5050, 10)
    d.quote("B", "continuous", BUY, 5000, 10)
    before = snapshot(d.book)
    ev = bad(d, q)
    assert len(ev) == 1
    assert type(ev[0]) is Rejected
    assert snapshot(d.book) == before


# --- continuous matching ---------------------------------------------------------------------------


def test_price_time_priority_at_the_resting_price_with_partial_fills():
    d = Desk()
    s1 = d.quote("S1", "continuous", SELL, 5010, 100)
    s2 = d.quote("S2", "continuous", SELL, 5005, 100)
    s3 = d.quote("S3", "continuous", SELL, 5005, 50)
    ev = d.place("B", "continuous", BUY, 5010, 220)
    buy = d.n
    # best price first (5005), at 5005 time first (S2 then S3), then 5010: 100 + 50 + 70 = 220 t
    assert ev == [
        Accepted(buy),
        Traded("CEA", "continuous", 5005, 100, buy, s2, "B", "S2", s2), Done(s2, "filled", 0),
        Traded("CEA", "continuous", 5005, 50, buy, s3, "B", "S3", s3), Done(s3, "filled", 0),
        Traded("CEA", "continuous", 5010, 70, buy, s1, "B", "S1", s1),
        Done(buy, "filled", 0),
    ]
    # turnover 5005 × 150 + 5010 × 70 = 750,750 + 350,700 = 1,101,450 fen
    assert sum(t.amount_fen for t in trades(ev)) == 1_101_450
    assert d.book.depth("CEA", "continuous", SELL) == [(5010, 30, 1)]
    assert buy not in d.book.orders


def test_incoming_remainder_rests_at_its_limit():
    d = Desk()
    s1 = d.quote("S1", "continuous", SELL, 5005, 80)
    d.quote("S2", "continuous", SELL, 5020, 80)
    ev = d.place("B", "continuous", BUY, 5010, 200)
    assert trades(ev) == [Traded("CEA", "continuous", 5005, 80, d.n, s1, "B", "S1", s1)]
    assert d.book.depth("CEA", "continuous", BUY) == [(5010, 120, 1)]  # 200 − 80
    assert d.book.depth("CEA", "continuous", SELL) == [(5020, 80, 1)]


def test_incoming_sell_trades_at_the_resting_bid_price():
    d = Desk()
    b1 = d.quote("B1", "continuous", BUY, 5050, 10)
    b2 = d.quote("B2", "continuous", BUY, 5060, 10)
    ev = d.place("S", "continuous", SELL, 5000, 15)
    assert trades(ev) == [Traded("CEA", "continuous", 5060, 10, b2, d.n, "B2", "S", b2),
                          Traded("CEA", "continuous", 5050, 5, b1, d.n, "B1", "S", b1)]
    assert d.book.depth("CEA", "continuous", BUY) == [(5050, 5, 1)]


def test_no_trade_when_prices_do_not_cross():
    d = Desk()
    d.quote("S", "continuous", SELL, 5001, 10)
    assert d.place("B", "continuous", BUY, 5000, 10) == [Accepted(d.n)]
    assert d.book.depth("CEA", "continuous", BUY) == [(5000, 10, 1)]


def test_self_trade_prevention_cancels_the_incoming_remainder():
    d = Desk()
    other = d.quote("X", "continuous", SELL, 4999, 5)
    own = d.quote("A", "continuous", SELL, 5000, 10)
    d.quote("Y", "continuous", SELL, 5000, 10)
    ev = d.place("A", "continuous", BUY, 5000, 15)
    buy = d.n
    # 5 t from X at 49.99; then A's own ask is next in time at 50.00: the rest of the buy (10 t) is cancelled,
    # the resting ask stays, and the book is not left crossed (bid 50.00 against ask 50.00).
    assert ev == [Accepted(buy), Traded("CEA", "continuous", 4999, 5, buy, other, "A", "X", other), Done(other, "filled", 0),
                  Done(buy, "cancelled", 10)]
    assert d.book.depth("CEA", "continuous", BUY) == []
    assert [o.id for o in d.book.resting("CEA", "continuous", SELL)][0] == own


def test_self_trade_prevention_first_in_queue():
    d = Desk()
    d.quote("A", "continuous", BUY, 5100, 10)
    ev = d.place("A", "continuous", SELL, 5000, 10)
    assert ev == [Accepted(d.n), Done(d.n, "cancelled", 10)]
    assert d.book.depth("CEA", "continuous", SELL) == []
    assert d.book.depth("CEA", "continuous", BUY) == [(5100, 10, 1)]


# --- property tests over random command streams ----------------------------------------------------

PARTICIPANTS = ("P1", "P2", "P3")
INSTRUMENTS = ("CEA", "CEA24")
METHODS = ("listing", "block", "continuous")


class BookMachine(RuleBasedStateMachine):
    """Random command streams against the Book; invariants checked after every command."""

    def __init__(self) -> None:
        super().__init__()
        self.book = Book()
        self.n = 0
        self.commands: list = []
        self.events: list = []
        self.close = {}  # instrument → previous close (fen) in force
        self.trade_bands: list[tuple[Traded, int]] = []  # (trade, previous close in force)
        self.placed: dict[int, int] = {}  # order id → quantity

    def _apply(self, cmd) -> list:
        before = snapshot(self.book)
        ev = self.book.apply(cmd)
        self.commands.append(cmd)
        self.events.append(ev)
        if len(ev) == 1 and type(ev[0]) is Rejected:
            assert snapshot(self.book) == before, "a rejected command changed the book"
        if type(cmd) is Place and ev[0] == Accepted(cmd.command_id):
            self.placed[cmd.command_id] = cmd.quantity_t
        for e in ev:
            if type(e) is Traded:
                self.trade_bands.append((e, self.close[e.instrument]))
        return ev

    def _id(self) -> int:
        self.n += 1
        return self.n

    @initialize(closes=st.tuples(st.integers(1_000, 20_000), st.integers(1, 20_000)))
    def open_days(self, closes):
        for ins, c in zip(INSTRUMENTS, closes):
            self.close[ins] = c
            assert self._apply(OpenDay(self._id(), ins, c)) == [Accepted(self.n)]

    @rule(who=st.sampled_from(PARTICIPANTS), ins=st.sampled_from(INSTRUMENTS), method=st.sampled_from(METHODS),
          side=st.sampled_from((BUY, SELL)), offset=st.integers(-350, 350), small=st.integers(1, 300),
          big=st.sampled_from((99_999, 100_000, 100_001, 250_000)), use_big=st.booleans(),
          counterparty=st.sampled_from(("",) + PARTICIPANTS))
    def place(self, who, ins, method, side, offset, small, big, use_big, counterparty):
        # offset in thousandths of the close: −35 % … +35 %, so some orders fall outside each band
        price = max(1, self.close[ins] * (1000 + offset) // 1000)
        qty = big if (use_big or method == "block") else small
        self._apply(Place(self._id(), who, ins, method, side, price, qty, counterparty if method == "block" else ""))

    @rule(data=st.data(), who=st.sampled_from(PARTICIPANTS), mode=st.sampled_from(("all", "part", "more")))
    def take(self, data, who, mode):
        if not self.book.orders:
            return
        o = data.draw(st.sampled_from(sorted(self.book.orders)))
        rem = self.book.orders[o].remaining_t
        qty = {"all": rem, "part": max(1, rem // 2), "more": rem + 1}[mode]
        self._apply(Take(self._id(), who, o, qty))

    @rule(data=st.data(), who=st.sampled_from(PARTICIPANTS))
    def cancel(self, data, who):
        ids = sorted(self.book.orders) + [10**9]
        self._apply(Cancel(self._id(), who, data.draw(st.sampled_from(ids))))

    @rule(ins=st.sampled_from(INSTRUMENTS), move=st.integers(-100, 100))
    def next_day(self, ins, move):
        self._apply(CloseDay(self._id(), ins))
        assert not any(o.instrument == ins for o in self.book.orders.values())
        self.close[ins] = max(1, self.close[ins] * (1000 + move) // 1000)
        self._apply(OpenDay(self._id(), ins, self.close[ins]))

    @invariant()
    def continuous_book_never_crossed(self):
        for ins in self.close:
            bid, ask = self.book.depth(ins, "continuous", BUY, 1), self.book.depth(ins, "continuous", SELL, 1)
            if bid and ask:
                assert bid[0][0] < ask[0][0]

    @invariant()
    def levels_are_consistent(self):
        seen = set()
        for ins_name, ins in self.book.instruments.items():
            for (method, side), s in ins.sides.items():
                assert s.prices == sorted(s.prices)
                assert set(s.prices) == set(s.levels)
                for p, q in s.levels.items():
                    assert q, "an empty price level is listed"
                    # cancel is lazy (O(1)): a removed order keeps its place with remaining 0 and is skipped;
                    # ``live`` counts the others, and a listed level always has at least one
                    alive = [o for o in q if o.remaining_t > 0]
                    assert len(alive) == s.live[p] > 0
                    for o in q:
                        assert (o.instrument, o.method, o.side, o.price_fen) == (ins_name, method, side, p)
                        assert 0 <= o.remaining_t <= o.quantity_t
                        if o.remaining_t:  # a dead order (cancelled or filled) has left the order index
                            assert self.book.orders[o.id] is o
                            seen.add(o.id)
                        else:
                            assert o.id not in self.book.orders
        assert seen == set(self.book.orders)

    @invariant()
    def trade_prices_within_their_band(self):
        lim = self.book.limits
        bands = {"listing": lim.listing_band, "block": lim.block_band, "continuous": lim.continuous_band}
        for t, close in self.trade_bands:
            low, high = price_band(close, bands[t.method])
            assert low <= t.price_fen <= high
            assert t.buyer != t.seller

    def teardown(self):
        # (a) conservation: quantity = remaining + Σ traded + cancelled/expired remainder, for every order
        traded: dict[int, int] = {}
        done: dict[int, Done] = {}
        for ev in self.events:
            for e in ev:
                if type(e) is Traded:
                    for oid in {e.buy_order, e.sell_order}:
                        traded[oid] = traded.get(oid, 0) + e.quantity_t
                elif type(e) is Done:
                    assert e.order_id not in done, "an order left the book twice"
                    done[e.order_id] = e
        for oid, qty in self.placed.items():
            live = self.book.orders.get(oid)
            assert (live is None) == (oid in done)
            rest = live.remaining_t if live else done[oid].remaining_t
            if oid in done and done[oid].reason == "filled":
                assert done[oid].remaining_t == 0
            assert qty == rest + traded.get(oid, 0), (oid, qty, rest, traded.get(oid, 0))
        # (c) determinism: a fresh Book fed the same commands gives the same events and the same depth
        fresh = Book()
        assert [fresh.apply(c) for c in self.commands] == self.events
        assert snapshot(fresh) == snapshot(self.book)
        for ins in self.close:
            for m in METHODS:
                for s in (BUY, SELL):
                    assert fresh.depth(ins, m, s, 1000) == self.book.depth(ins, m, s, 1000)


def test_book_state_machine():
    run_state_machine_as_test(BookMachine, settings=settings(max_examples=50, stateful_step_count=50, deadline=None,
                                                             suppress_health_check=[HealthCheck.too_slow]))


step_st = st.tuples(st.integers(0, 4), st.sampled_from(PARTICIPANTS), st.sampled_from((BUY, SELL)), st.integers(-30, 30),
                    st.integers(1, 50), st.integers(0, 10**6))


@st.composite
def continuous_streams(draw):
    """Long streams of continuous limit orders and cancels around one price (many crossings)."""
    cmds = [OpenDay(1, "CEA", 5000)]
    for i, (kind, who, side, off, qty, pick) in enumerate(draw(st.lists(step_st, min_size=20, max_size=150)), start=2):
        if kind == 0:
            cmds.append(Cancel(i, who, 1 + pick % i))
        else:
            cmds.append(Place(i, who, "CEA", "continuous", side, 5000 + off + (-10 if side == BUY else 10), qty))
    return cmds


@settings(max_examples=40, deadline=None)
@given(cmds=continuous_streams())
def test_continuous_streams_conserve_never_cross_and_replay(cmds):
    book, log = Book(), []
    qty = {c.command_id: c.quantity_t for c in cmds if type(c) is Place}
    price = {c.command_id: c.price_fen for c in cmds if type(c) is Place}
    filled: dict[int, int] = {}
    gone: dict[int, int] = {}
    for c in cmds:
        ev = book.apply(c)
        log.append(ev)
        bid, ask = book.depth("CEA", "continuous", BUY, 1), book.depth("CEA", "continuous", SELL, 1)
        assert not (bid and ask) or bid[0][0] < ask[0][0]
        for e in ev:
            if type(e) is Traded:
                assert e.price_fen == price[e.resting]  # the resting order's price
                filled[e.buy_order] = filled.get(e.buy_order, 0) + e.quantity_t
                filled[e.sell_order] = filled.get(e.sell_order, 0) + e.quantity_t
            elif type(e) is Done:
                gone[e.order_id] = e.remaining_t
    for oid, q in qty.items():
        rest = book.orders[oid].remaining_t if oid in book.orders else gone[oid]
        assert q == rest + filled.get(oid, 0)
    again = Book()
    assert [again.apply(c) for c in cmds] == log
    assert again.depth("CEA", "continuous", BUY, 500) == book.depth("CEA", "continuous", BUY, 500)
    assert again.depth("CEA", "continuous", SELL, 500) == book.depth("CEA", "continuous", SELL, 500)



# --- regressions of the fixes in book.py -----------------------------------------------------------


def test_orders_compare_by_identity():
    # Two orders with the same fields are still two orders: removal from a price-level queue must take out
    # the very object (and must not compare every field of every order ahead of it, the cost of a cancel).
    from collections import deque

    from cets.trading.book import Order

    a = Order(1, "A", "CEA", "continuous", BUY, 5000, 10, 10)
    b = Order(1, "A", "CEA", "continuous", BUY, 5000, 10, 10)
    assert a != b
    assert a == a
    q = deque([a, b])
    q.remove(b)
    assert list(q) == [a]
    assert q[0] is a


def test_band_follows_the_new_previous_close():
    d = Desk(prev_close_fen=5123)
    assert d.place("A", "listing", SELL, 5635, 10)[0] == Accepted(d.n)  # 5123 × 1.1 = 5635.3 → 5635
    d.close()
    d.open("CEA", 5000)  # next day: 5000 × 1.1 = 5500
    assert rejected(d.place("A", "listing", SELL, 5635, 10), "T0105")
    assert d.place("A", "listing", SELL, 5500, 10)[0] == Accepted(d.n)
    assert rejected(d.place("A", "block", SELL, 6501, 100_000), "T0105")  # 5000 × 1.3 = 6500
