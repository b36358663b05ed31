"""The whole published national market, 2021-07-16 … 2026-08-19 (data/cea-national-official): every
tradeable subject-day gets an exact replay plan or a named finding, the published figures are checked
against the published rules, and the composite COMCEA is recomputed. The counts asserted here are the
ones measured on this data set; the comments say where each comes from."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from cets.trading.composite import compare_composite
from cets.trading.official import NATIONAL_RULES, load_official, vwap_fen
from cets.trading.replay_plan import plan_all, summarise

from ..conftest import DATA

OFFICIAL = DATA / "cea-national-official"
D = dt.date.fromisoformat


@pytest.fixture(scope="module")
def data():
    return load_official(OFFICIAL / "cea_daily_by_trade_method.csv", OFFICIAL / "cea_daily_quotes.csv")


@pytest.fixture(scope="module")
def plans(data):
    return plan_all(data)


def test_the_data_set(data):
    # 12,391 by-method rows and 4,824 quote rows give 4,825 subject-days (COMCEA lacks a quote on 2025-10-13);
    # 3,590 are tradeable: CEA 1,235 + CEA21 721 + CEA22 721 + CEA23 442 + CEA24 319 + CEA25 152.
    assert len(data.days) == 4825
    assert Counter(d.subject for d in data.tradeable_days()) == {
        "CEA": 1235, "CEA21": 721, "CEA22": 721, "CEA23": 442, "CEA24": 319, "CEA25": 152}


def test_every_subject_day_gets_an_exact_plan_or_a_named_finding(data, plans):
    s = summarise(plans)
    # All 3,590 plans are exact: the by-method listing amount is exact to the fen and the published close is its
    # VWAP on all 2,023 days with listing trades, every VWAP lies within [low, high], every high/low within the
    # ±10% limits, every block average within ±30% and every block volume ≥ 100,000 t (973 block days).
    # The only findings are two notes: auctions whose amount / volume is not on the tick, so the plan clears them
    # pay-as-bid at two prices one fen apart (2025-07-16 CEA23 100,000 t for 7,452,200.00 CNY = 74.522/t;
    # 2025-11-04 CEA24 100,000 t for 4,894,850.00 CNY = 48.9485/t). The other 5 auction days clear uniformly.
    assert (s.subject_days, s.exact, s.with_findings) == (3590, 3590, 0)
    assert s.findings_by_reason == {"auction_not_uniform_price": 2}
    notes = sorted((f.date, f.subject) for p in plans for f in p.findings)
    assert notes == [(D("2025-07-16"), "CEA23"), (D("2025-11-04"), "CEA24")]
    # 7,202 listing trades (2,023 days, a day one of 4.1 Mt needs 44 of them), 1,444 block legs (502 single-price
    # days + 471 two-price days), 9 auction fills (5 uniform + 2 × 2 pay-as-bid).
    assert s.trades == {"auction": 9, "block": 1444, "listing": 7202}
    assert sum(1 for p in plans if p.auction_uniform) == 5


def test_each_plan_reproduces_the_published_day_within_the_rules(data, plans):
    """Checked here from the trades themselves, not through DayPlan.figures."""
    for plan in plans:
        day = data.days[(plan.date, plan.subject)]
        q = day.quote
        ref = plan.reference_fen
        for method, trades in (("listing", plan.listing), ("block", plan.block), ("auction", plan.auction)):
            assert sum(t.quantity_t for t in trades) == day.volume_t(method), (plan.date, plan.subject, method)
            assert sum(t.quantity_t * t.price_fen for t in trades) == day.amount_fen(method), (plan.date, method)
        lo, hi = NATIONAL_RULES.listing_limits(ref)
        blo, bhi = NATIONAL_RULES.block_limits(ref)
        assert all(0 < t.quantity_t < 100_000 and lo <= t.price_fen <= hi for t in plan.listing)
        assert all(t.quantity_t >= 100_000 and blo <= t.price_fen <= bhi for t in plan.block)
        if plan.listing:
            prices = [t.price_fen for t in plan.listing]
            assert (prices[0], max(prices), min(prices)) == (q.open_fen, q.high_fen, q.low_fen)
            assert vwap_fen(day.amount_fen("listing"), day.volume_t("listing")) == q.close_fen
        else:
            assert q.close_fen == ref
            assert q.open_fen == ref
            assert q.high_fen == q.low_fen == 0
        # and what the plan says the engine will publish is the published quote
        f = plan.figures()
        assert (f.open_fen, f.high_fen, f.low_fen, f.close_fen) == (q.open_fen, q.high_fen, q.low_fen, q.close_fen)
    # first days take the published open as the band reference: 2021-07-16 CEA 48.00, the vintages' listing prices
    firsts = {(p.subject, p.reference_fen) for p in plans if data.days[(p.date, p.subject)].quote.prev_close_fen is None}
    assert firsts == {("CEA", 4800), ("CEA21", 7306), ("CEA22", 7306), ("CEA23", 10425), ("CEA24", 7317),
                      ("CEA25", 7463)}


def test_published_figures_against_the_published_rules(data):
    from cets.trading.official import check_published

    findings = check_published(data)
    contradictions = [(f.date, f.subject, f.field, f.reason) for f in findings if f.kind == "contradiction"]
    # "The published figures contradict the published rule": none on a tradeable subject; four on COMCEA —
    # no quote on 2025-10-13, so the next day's previous close (57.15, our composite for 10-13) is not the
    # last published close (58.23 on 10-10); on 2026-05-20 the quote's listing volume/amount (110,000 t,
    # 8,987,500.00) miss 10,000 t / 816,000.00 CNY that the by-method rows (= Σ vintages) carry.
    assert contradictions == [
        (D("2025-10-13"), "COMCEA", "quote", "quote_missing"),
        (D("2025-10-14"), "COMCEA", "prev_close", "prev_close_mismatch"),
        (D("2026-05-20"), "COMCEA", "listing.amount_fen", "quote_amount_mismatch"),
        (D("2026-05-20"), "COMCEA", "listing.volume_t", "quote_volume_mismatch"),
    ]
    # Counters: every ytd and cumulative counter of every subject and method = previous + day: 0 mismatches.
    assert not [f for f in findings if f.reason == "counter_mismatch"]
    # Notes: until 2023-08-22 the quote file cuts the listing amount to the yuan (106 CEA days and the same 106
    # COMCEA days). On 6 of them the close is the VWAP of the exact by-method amount but not of the cut one —
    # using the quote file's amount would wrongly report 6 closes ≠ VWAP (2021-08-30, 2021-09-01, 2022-02-07,
    # 2022-02-14, 2022-02-18, 2023-05-05); with the by-method amount there are 0.
    notes = [f for f in findings if f.kind == "note"]
    assert Counter((f.reason, f.subject) for f in notes) == {("amount_rounded_to_yuan", "CEA"): 106,
                                                              ("amount_rounded_to_yuan", "COMCEA"): 106}
    assert max(f.date for f in notes) == D("2023-08-22")
    only_exact = sorted(f.date for f in notes if f.subject == "CEA" and "exact amount only" in f.detail)
    assert only_exact == [D("2021-08-30"), D("2021-09-01"), D("2022-02-07"), D("2022-02-14"), D("2022-02-18"),
                          D("2023-05-05")]


def test_composite_against_the_official_comcea(data):
    r = compare_composite(data)
    # 1,235 dates. Volumes, amounts and ytd/cum counters of every method = Σ vintages on all 1,235.
    # Close: 1,233 of the 1,234 published COMCEA quotes match to the fen; open/high/low fixed by the daily data on
    # 755 days (one subject traded, or the newest-vintage rule) all match; on the other 453 trading days the
    # published open is one of the candidates and high/low lie within their bounds.
    assert (r.days, r.figures_matching, r.close_compared, r.close_matching) == (1235, 1235, 1234, 1233)
    assert r.determined == {"open": 755, "high": 755, "low": 755, "undetermined": 906}
    assert r.matching == 1232
    assert [(d.date, d.field, d.published, d.computed) for d in r.diffs] == [
        (D("2024-12-26"), "close", "9780", "9781"),        # mean 97.805: the exchange did not round half-up
        (D("2025-10-13"), "quote", "", "5715"),            # no COMCEA quote; ours 57.15 = next day's prev close
        (D("2026-05-20"), "quote.volume_t", "110000", "120000"),
    ]


def test_analyse_official_puts_the_three_parts_together(data):
    from cets.trading.replay_plan import analyse_official

    a = analyse_official(data)
    assert a.summary.exact == len(a.plans) == 3590
    assert sum(1 for f in a.published if f.kind == "contradiction") == 4
    assert a.composite.matching == 1232
