"""One-way auction clearing (cets.trading.auction): golden cases by hand and properties. No database.

Measures 2021 Art. 22 and Regulations 2024 Art. 15 name the method; the mechanics are the initiator's
announcement (reference §3.1, §7.2). The Beijing paid auction of September 2024 (2023 allowances):
68 bidders, 63 successful, 348,304 t at a uniform CNY 104.89/t, CNY 36.5336 million (reference §7.2, [S]).
Prices fen per tonne (int), quantities tonnes (int).
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cets.trading.auction import AuctionSpec, Bid, auction_clear

# --- the Beijing September 2024 kind of result -----------------------------------------------------
# 62 bids of 5,500 t at 105.51 … 104.90 (10490 + i fen, i = 0 … 61): 62 × 5,500 = 341,000 t;
# the marginal bid at 104.89 for 10,000 t gets the rest: 348,304 − 341,000 = 7,304 t;
# 5 bids below 104.89 get nothing. 62 + 1 = 63 winners of 68 bidders.
OFFER_T = 348_304
CLEARING_FEN = 10_489
LOSING_PRICES = (10_488, 10_450, 10_400, 10_300, 10_000)


def beijing_bids() -> list[Bid]:
    wanted = [(10_490 + i, 5_500) for i in range(62)] + [(CLEARING_FEN, 10_000)] + [(p, 8_000) for p in LOSING_PRICES]
    random.Random(2024).shuffle(wanted)  # arrival order is not price order
    return [Bid(i + 1, f"BJ{i + 1:02d}", p, q) for i, (p, q) in enumerate(wanted)]


def test_beijing_2024_uniform_price():
    r = auction_clear(AuctionSpec(quantity_t=OFFER_T, floor_fen=10_000, pricing="uniform"), beijing_bids())
    assert (r.bidders, r.winners, r.cleared_t, r.unsold_t, r.refused) == (68, 63, 348_304, 0, ())
    assert r.clearing_price_fen == 10_489
    assert {f.price_fen for f in r.fills} == {10_489}
    # 348,304 t × 104.89 CNY = 348,304 × 10,489 fen = 3,483,040,000 + 348,304 × 489 (= 170,320,656)
    #                        = 3,653,360,656 fen = CNY 36,533,606.56 (published: CNY 36.5336 million)
    assert r.amount_fen == 3_653_360_656
    assert sum(f.quantity_t for f in r.fills) == 348_304
    marginal = r.fills[-1]
    assert (marginal.quantity_t, marginal.price_fen) == (7_304, 10_489)
    # ranked by price, high first; no bid below the clearing level won
    assert [f.quantity_t for f in r.fills[:-1]] == [5_500] * 62
    by_id = {b.bid_id: b for b in beijing_bids()}
    assert [by_id[f.bid_id].price_fen for f in r.fills] == sorted((by_id[f.bid_id].price_fen for f in r.fills), reverse=True)
    assert not {by_id[f.bid_id].price_fen for f in r.fills} & set(LOSING_PRICES)


def test_beijing_bids_pay_as_bid():
    r = auction_clear(AuctionSpec(quantity_t=OFFER_T, floor_fen=10_000, pricing="pay_as_bid"), beijing_bids())
    assert (r.winners, r.cleared_t, r.clearing_price_fen) == (63, 348_304, 10_489)
    # Σ own prices of the 62 full bids = 62 × 10,490 + (0 + 1 + … + 61) = 650,380 + 1,891 = 652,271 fen
    # 652,271 × 5,500 = 3,587,490,500 fen; marginal 7,304 × 10,489 = 76,611,656 fen
    # total 3,664,102,156 fen (CNY 36,641,021.56), above the uniform 3,653,360,656 fen
    assert r.amount_fen == 3_664_102_156
    assert r.fills[0].price_fen == 10_551
    assert r.fills[-1].price_fen == 10_489


# --- refusals --------------------------------------------------------------------------------------


def test_floor_price():
    spec = AuctionSpec(quantity_t=1_000, floor_fen=10_000)
    r = auction_clear(spec, [Bid(1, "A", 9_999, 100), Bid(2, "B", 10_000, 100)])
    assert [(i, c.code) for i, c, _ in r.refused] == [(1, "T0301")]
    assert [(f.participant, f.price_fen, f.quantity_t) for f in r.fills] == [("B", 10_000, 100)]


def test_min_and_max_bid_quantity():
    spec = AuctionSpec(quantity_t=1_000_000, floor_fen=5_000, min_bid_t=1_000, max_bid_t=50_000)
    bids = [Bid(1, "A", 6_000, 999), Bid(2, "B", 6_000, 1_000), Bid(3, "C", 6_000, 50_000), Bid(4, "D", 6_000, 50_001)]
    r = auction_clear(spec, bids)
    assert sorted((i, c.code) for i, c, _ in r.refused) == [(1, "T0302"), (4, "T0302")]
    assert [f.participant for f in r.fills] == ["B", "C"]
    assert r.cleared_t == 51_000


def test_one_bid_per_bidder():
    r = auction_clear(AuctionSpec(quantity_t=1_000, floor_fen=100), [Bid(2, "A", 200, 10), Bid(1, "A", 300, 10), Bid(3, "B", 150, 10)])
    # the first by arrival (bid 1) counts; bid 2 is refused whatever its price
    assert [(i, c.code) for i, c, _ in r.refused] == [(2, "T0304")]
    assert [(f.bid_id, f.price_fen) for f in r.fills] == [(1, 150), (3, 150)]
    assert r.bidders == 2


def test_a_refused_bid_does_not_use_up_the_bidder():
    r = auction_clear(AuctionSpec(quantity_t=1_000, floor_fen=100), [Bid(1, "A", 50, 10), Bid(2, "A", 120, 10)])
    assert [c.code for _, c, _ in r.refused] == ["T0301"]
    assert [f.bid_id for f in r.fills] == [2]


@pytest.mark.parametrize("spec", [AuctionSpec(quantity_t=100, floor_fen=100, pricing="dutch"),
                                  AuctionSpec(quantity_t=0, floor_fen=100), AuctionSpec(quantity_t=100, floor_fen=0)])
def test_malformed_announcement_raises(spec):
    with pytest.raises(ValueError):
        auction_clear(spec, [Bid(1, "A", 200, 10)])


# --- clearing ---------------------------------------------------------------------------------------


def test_undersubscribed_offer_keeps_the_rest():
    spec = AuctionSpec(quantity_t=100_000, floor_fen=8_000)
    r = auction_clear(spec, [Bid(1, "A", 8_500, 40_000), Bid(2, "B", 9_000, 20_000)])
    # demand 60,000 t < 100,000 t offered: all filled at the lowest winning price 85.00, 40,000 t unsold
    assert (r.cleared_t, r.unsold_t, r.clearing_price_fen, r.winners) == (60_000, 40_000, 8_500, 2)
    assert r.amount_fen == 60_000 * 8_500 == 510_000_000


def test_no_valid_bid():
    r = auction_clear(AuctionSpec(quantity_t=500, floor_fen=8_000), [Bid(1, "A", 7_000, 10)])
    assert (r.fills, r.clearing_price_fen, r.cleared_t, r.unsold_t, r.amount_fen, r.winners, r.bidders) == ((), None, 0, 500, 0, 0, 0)


def test_time_priority_at_the_marginal_price():
    spec = AuctionSpec(quantity_t=150, floor_fen=100)
    r = auction_clear(spec, [Bid(3, "C", 200, 100), Bid(1, "A", 150, 100), Bid(2, "B", 150, 100)])
    # 200 first (100 t); at 150 the earlier bid 1 gets the remaining 50 t, bid 2 nothing
    assert [(f.bid_id, f.quantity_t, f.price_fen) for f in r.fills] == [(3, 100, 150), (1, 50, 150)]
    assert r.amount_fen == 150 * 150


bids_st = st.lists(st.tuples(st.integers(1, 400), st.integers(1, 500)), min_size=0, max_size=40)


@settings(max_examples=150, deadline=None)
@given(bids=bids_st, offer=st.integers(1, 5_000), floor=st.integers(1, 300), pricing=st.sampled_from(["uniform", "pay_as_bid"]))
def test_clearing_properties(bids, offer, floor, pricing):
    bl = [Bid(i + 1, f"P{i}", p, q) for i, (p, q) in enumerate(bids)]
    r = auction_clear(AuctionSpec(quantity_t=offer, floor_fen=floor, pricing=pricing), bl)
    valid = [b for b in bl if b.price_fen >= floor]
    assert r.bidders == len(valid)
    assert len(r.refused) == len(bl) - len(valid)
    assert r.cleared_t == min(offer, sum(b.quantity_t for b in valid))
    assert r.cleared_t + r.unsold_t == offer
    assert r.amount_fen == sum(f.price_fen * f.quantity_t for f in r.fills)
    won = {f.bid_id: f.quantity_t for f in r.fills}
    by_id = {b.bid_id: b for b in bl}
    # only the last fill may be partial; every winner bid at least as much as every valid loser
    assert all(won[f.bid_id] == by_id[f.bid_id].quantity_t for f in r.fills[:-1])
    losers = [b for b in valid if b.bid_id not in won]
    if r.fills and losers:
        assert min(by_id[i].price_fen for i in won) >= max(b.price_fen for b in losers)
    if r.fills:
        assert r.clearing_price_fen == min(by_id[i].price_fen for i in won) >= floor
        uniform = r.clearing_price_fen * r.cleared_t
        assert r.amount_fen == uniform if pricing == "uniform" else r.amount_fen >= uniform
