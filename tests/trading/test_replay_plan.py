"""The replay planner: golden days computed by hand from the published figures and the national trading
rules (reference §3.1: listing < 100,000 t within ±10% of the previous close, block ≥ 100,000 t within
±30%, tick 0.01 CNY, close = VWAP of listing trades), the cases where no exact plan exists, and property
tests over random consistent days."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cets.trading.official import NATIONAL_RULES, MethodFigures, Quote, SubjectDay, vwap_fen
from cets.trading.replay_plan import plan_auction, plan_block, plan_day, plan_listing, summarise

R = NATIONAL_RULES


def day(date: str, *, listing=(0, 0), block=(0, 0), auction=None, quote=None, subject="CEA") -> SubjectDay:
    """A subject-day from (volume t, amount fen) per method and a quote (open, high, low, close, prev) in fen."""
    methods = {"listing": MethodFigures(*listing, 0, 0, 0, 0), "block": MethodFigures(*block, 0, 0, 0, 0)}
    if auction is not None:
        methods["auction"] = MethodFigures(*auction, 0, 0, 0, 0)
    q = Quote(*quote, listing[0], listing[1]) if quote else None
    return SubjectDay(dt.date.fromisoformat(date), subject, "", methods, q)


def legs(trades):
    return [(t.price_fen, t.quantity_t) for t in trades]


def test_first_day_2021_07_16():
    # Published: listing 4,103,953 t for 210,230,053.25 CNY; open 48.00, high 52.80, low 48.00, close 51.23, no
    # previous close: the band reference is the opening reference price 48.00 (4800 × 1.1 = 5280 = the high).
    # By hand: 1 t at 4800 (open = low), 1 t at 5280 (high); rest R = 4,103,951 t worth
    # S = 21,023,005,325 − 4,800 − 5,280 = 21,022,995,245 fen; 4,103,951 × 5,122 = 21,020,437,022,
    # r = 2,558,223 → 2,558,223 t at 5123 and 1,545,728 t at 5122, split below 100,000 t:
    # ⌈2,558,223 / 99,999⌉ = 26 trades (5 × 98,394 + 21 × 98,393), ⌈1,545,728 / 99,999⌉ = 16 × 96,608.
    # Close: 21,023,005,325 / 4,103,953 = 5,122.62 → 5123 = 51.23 ✓.
    d = day("2021-07-16", listing=(4_103_953, 21_023_005_325), quote=(4800, 5280, 4800, 5123, None))
    plan = plan_day(d)
    assert plan.reference_fen == 4800
    assert plan.exact
    assert plan.findings == ()
    got = legs(plan.listing)
    assert got[:2] == [(4800, 1), (5280, 1)]
    assert got[2:] == [(5123, 98_394)] * 5 + [(5123, 98_393)] * 21 + [(5122, 96_608)] * 16
    f = plan.figures()
    assert (f.open_fen, f.high_fen, f.low_fen, f.close_fen) == (4800, 5280, 4800, 5123)
    assert f.volume_t["listing"] == 4_103_953
    assert f.amount_fen["listing"] == 21_023_005_325


def test_small_day_with_listing_and_block_2024_01_03():
    # CEA 2024-01-03: listing 5 t for 410.00 CNY at 82.00 (open = high = low = close = 82.00); block 150,000 t for
    # 8,850,000.00 CNY. By hand: one listing trade 5 t × 8200 = 41,000 fen; block 885,000,000 / 150,000 = 5900 fen
    # exactly, within 8200 × 0.7 = 5740 … 8200 × 1.3 = 10660 → one block trade of 150,000 t at 59.00.
    d = day("2024-01-03", listing=(5, 41_000), block=(150_000, 885_000_000), quote=(8200, 8200, 8200, 8200, 8200))
    plan = plan_day(d)
    assert legs(plan.listing) == [(8200, 5)]
    assert legs(plan.block) == [(5900, 150_000)]
    assert plan.exact


def test_day_without_listing_trades_2023_09_12():
    # CEA 2023-09-12: no listing trade (open = close = previous close 72.22, high = low = 0); block 178,201 t for
    # 12,652,271.00 CNY = 178,201 × 71.00 exactly (178,201 × 7,100 = 1,265,227,100 fen) → one block trade.
    d = day("2023-09-12", block=(178_201, 1_265_227_100), quote=(7222, 0, 0, 7222, 7222))
    plan = plan_day(d)
    assert plan.listing == ()
    assert legs(plan.block) == [(7100, 178_201)]
    assert plan.exact
    f = plan.figures()
    assert (f.open_fen, f.high_fen, f.low_fen, f.close_fen) == (7222, 0, 0, 7222)


def test_day_whose_quote_amount_was_cut_to_the_yuan_2021_08_30():
    # CEA 2021-08-30: 35 t; by-method amount 1,580.75 CNY (the quote file: 1,580.00); open 45.09 = low, high 45.22,
    # close 45.16. The plan uses the exact 158,075 fen: 1 t at 4509, 1 t at 4522, R = 33 t worth
    # 158,075 − 9,031 = 149,044 fen; 33 × 4516 = 149,028, r = 16 → 16 t at 4517 and 17 t at 4516.
    # Close 158,075 / 35 = 4,516.43 → 45.16 ✓ (the rounded 158,000 / 35 = 45.14 would not be).
    d = day("2021-08-30", listing=(35, 158_075), quote=(4509, 4522, 4509, 4516, 4509))
    plan = plan_day(d)
    assert legs(plan.listing) == [(4509, 1), (4522, 1), (4517, 16), (4516, 17)]
    assert plan.exact


def test_auction_uniform_and_pay_as_bid_2025_07_16():
    # CEA24: 30,000 t for 2,319,300.00 CNY = 231,930,000 fen = 30,000 × 7,731 → one clearing at 77.31.
    trades, uniform, issues = plan_auction(volume_t=30_000, amount_fen=231_930_000)
    assert legs(trades) == [(7731, 30_000)]
    assert uniform is True
    assert issues == []
    # CEA23: 100,000 t for 7,452,200.00 CNY → 74.522 is not on the tick: no uniform price. Pay-as-bid:
    # 745,220,000 = 100,000 × 7,452 + 20,000 → 20,000 t at 74.53 and 80,000 t at 74.52.
    trades, uniform, issues = plan_auction(volume_t=100_000, amount_fen=745_220_000)
    assert legs(trades) == [(7453, 20_000), (7452, 80_000)]
    assert uniform is False
    assert [(i.reason, i.kind) for i in issues] == [("auction_not_uniform_price", "note")]


def test_block_split_over_two_prices_keeps_every_leg_at_the_minimum():
    # 250,000 t for 1,750,050,000 fen: average 7,000.2. b = 7000, r = 50,000: b/b+1 would give a 50,000 t leg.
    # Prices 6999 and 7001: q1 = (250,000 − 50,000) / 2 = 100,000, q2 = 150,000;
    # 100,000 × 6,999 + 150,000 × 7,001 = 699,900,000 + 1,050,150,000 = 1,750,050,000 ✓.
    trades, issues = plan_block(volume_t=250_000, amount_fen=1_750_050_000, reference_fen=7000)
    assert legs(trades) == [(6999, 100_000), (7001, 150_000)]
    assert issues == []


def test_block_that_cannot_be_split_says_so():
    # 150,000 t for 150,000 × 7,000 + 1 fen: one price impossible, two legs ≥ 100,000 t need ≥ 200,000 t.
    trades, issues = plan_block(volume_t=150_000, amount_fen=1_050_000_001, reference_fen=7000)
    assert [(i.reason, i.kind) for i in issues] == [("block_amount_not_decomposable", "unreproducible")]
    assert legs(trades) == [(7001, 1), (7000, 149_999)]          # closest: the amount still exact


def test_block_below_minimum_and_outside_band():
    trades, issues = plan_block(volume_t=50_000, amount_fen=350_000_000, reference_fen=7000)
    assert [i.reason for i in issues] == ["block_below_minimum"]
    assert legs(trades) == [(7000, 50_000)]
    # average 48.00 < 70.00 × 0.7 = 49.00: closest plan at the limit down, amount cannot be reproduced
    trades, issues = plan_block(volume_t=100_000, amount_fen=480_000_000, reference_fen=7000)
    assert [i.reason for i in issues] == ["block_outside_band"]
    assert legs(trades) == [(4900, 100_000)]


def test_vwap_outside_high_low_is_not_fudged():
    # 10 t for 700.00 CNY = VWAP 70.00 but high 69.00: impossible. Closest plan: 1 t at 68.00 (open), 1 t at 69.00
    # (high), 1 t at 67.00 (low), 7 t at the high → 68 + 69 + 67 + 7 × 69 = 687.00 CNY.
    trades, issues = plan_listing(volume_t=10, amount_fen=70_000, open_fen=6800, high_fen=6900, low_fen=6700,
                                  close_fen=7000, reference_fen=6800, rules=R)
    assert sum(t.price_fen * t.quantity_t for t in trades) == 68_700
    # the published close 70.00 is the VWAP of the published amount; the closest plan's is 68.70
    assert {(i.reason, i.implied) for i in issues if i.field == "close"} == {("close_unreachable", "6870")}
    assert {i.reason for i in issues} == {"vwap_outside_high_low", "close_unreachable"}


def test_close_that_is_not_the_vwap_is_a_contradiction():
    # 10 t for 680.00 CNY at 68.00 flat but a published close of 68.01
    trades, issues = plan_listing(volume_t=10, amount_fen=68_000, open_fen=6800, high_fen=6800, low_fen=6800,
                                  close_fen=6801, reference_fen=6800, rules=R)
    assert legs(trades) == [(6800, 10)]
    assert [(i.reason, i.kind, i.published, i.implied) for i in issues] == [
        ("close_not_vwap", "contradiction", "6801", "6800")]


def test_too_few_tonnes_for_open_high_low():
    trades, issues = plan_listing(volume_t=2, amount_fen=13_700, open_fen=6800, high_fen=6900, low_fen=6700,
                                  close_fen=6850, reference_fen=6800, rules=R)
    assert "too_few_tonnes" in {i.reason for i in issues}
    assert sum(t.quantity_t for t in trades) == 2


def test_composite_is_refused():
    with pytest.raises(ValueError):
        plan_day(day("2024-01-03", subject="COMCEA", quote=(1, 1, 1, 1, 1)))


def test_summary_counts():
    d = day("2025-07-16", auction=(100_000, 745_220_000), quote=(7000, 0, 0, 7000, 7000))
    s = summarise([plan_day(d)])
    assert (s.subject_days, s.exact, s.findings_by_reason, s.trades) == (
        1, 1, {"auction_not_uniform_price": 1}, {"auction": 2})


# ------------------------------------------------------------------------------------------ properties


@st.composite
def consistent_days(draw):
    """A listing day the rules allow: reference P, low ≤ open ≤ high within the ±10% limits, enough tonnes, and
    an amount reachable with 1 t at each of open/high/low and the rest within [low, high]."""
    ref = draw(st.integers(1000, 20000))
    lo_lim, hi_lim = R.listing_limits(ref)
    low = draw(st.integers(lo_lim, hi_lim))
    high = draw(st.integers(low, hi_lim))
    opening = draw(st.integers(low, high))
    points = list(dict.fromkeys((opening, high, low)))
    volume = draw(st.integers(len(points), 3_000_000))
    rest = volume - len(points)
    amount = sum(points) + draw(st.integers(low * rest, high * rest))
    return volume, amount, opening, high, low, ref


@settings(max_examples=300, deadline=None)
@given(consistent_days())
def test_plan_reproduces_every_consistent_listing_day(case):
    volume, amount, opening, high, low, ref = case
    close = vwap_fen(amount, volume)
    trades, issues = plan_listing(volume_t=volume, amount_fen=amount, open_fen=opening, high_fen=high, low_fen=low,
                                  close_fen=close, reference_fen=ref, rules=R)
    assert issues == []
    prices = [t.price_fen for t in trades]
    assert sum(t.quantity_t for t in trades) == volume
    assert sum(t.quantity_t * t.price_fen for t in trades) == amount
    assert prices[0] == opening
    assert max(prices) == high
    assert min(prices) == low
    lo_lim, hi_lim = R.listing_limits(ref)
    assert all(lo_lim <= p <= hi_lim and isinstance(p, int) for p in prices)
    assert all(1 <= t.quantity_t < 100_000 for t in trades)
    assert len({t.price_fen for t in trades}) <= 5
    assert len(trades) <= 5 + volume // 99_999 + 5                   # a handful, plus splits of big days


@settings(max_examples=300, deadline=None)
@given(st.integers(1000, 20000), st.integers(100_000, 5_000_000), st.data())
def test_block_plan_reproduces_volume_and_amount(ref, volume, data):
    lo, hi = R.block_limits(ref)
    amount = data.draw(st.integers(lo * volume, hi * volume))
    trades, issues = plan_block(volume_t=volume, amount_fen=amount, reference_fen=ref, rules=R)
    assert sum(t.quantity_t for t in trades) == volume
    assert sum(t.quantity_t * t.price_fen for t in trades) == amount
    assert all(lo <= t.price_fen <= hi for t in trades)
    assert len(trades) <= 3
    b = amount // volume
    if volume >= 400_000 and lo <= b - 1 and b + 2 <= hi:
        # r = amount − b·volume < volume; r < 100,000 → (b−1, 100,000), (b+1, 100,000 + r), (b, rest ≥ 100,000);
        # r > volume − 100,000 mirrors it; otherwise two adjacent prices: always ≥ 100,000 t per leg
        assert issues == []
        assert all(t.quantity_t >= 100_000 for t in trades)
    if issues:
        assert [i.reason for i in issues] == ["block_amount_not_decomposable"]
    else:
        assert all(t.quantity_t >= 100_000 for t in trades)
