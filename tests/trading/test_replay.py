"""Replay of real published days through order entry, the sequencer and DVP settlement: the
platform's own end-of-day figures equal the official ones to the tonne and the fen, and the ledgers
prove themselves afterwards. (The whole 2021–2026 replay runs with `cets trading replay`; its figures
are in bench/results/replay_national.json.)"""

import datetime as dt

import pytest

from cets.registry.audit import audit_verify
from cets.trading.funds import funds_verify
from cets.trading.models import DailyQuote, DailyStat, Trade
from cets.trading.official import load_official
from cets.trading.replay import replay_run
from tests.conftest import DATA

D = DATA / "cea-national-official"
BY_METHOD, QUOTES = str(D / "cea_daily_by_trade_method.csv"), str(D / "cea_daily_quotes.csv")


@pytest.mark.django_db
def test_first_week_of_the_national_market_reconciles_to_the_fen():
    seen = []
    rep = replay_run(by_method_path=BY_METHOD, quotes_path=QUOTES, end=dt.date(2021, 7, 22), progress=seen.append)
    assert rep.trading_days == 5
    assert rep.subject_days == 5
    assert rep.engine == []
    # the progress after each day: days done of all, the day, trades so far (running total), engine mismatches so far
    assert [(p.done, p.total, p.day, p.engine) for p in seen] == [(i + 1, 5, d, 0) for i, d in enumerate(
        [dt.date(2021, 7, 16), dt.date(2021, 7, 19), dt.date(2021, 7, 20), dt.date(2021, 7, 21), dt.date(2021, 7, 22)])]
    assert seen[-1].trades == Trade.objects.count() and [p.trades for p in seen] == sorted(p.trades for p in seen)
    assert rep.published == []
    # 2021-07-16, the opening day: 4,103,953 t for 210,230,053.25 CNY; close 51.23 (VWAP 51.2263… half-up)
    q = DailyQuote.objects.get(date=dt.date(2021, 7, 16), instrument="CEA")
    st = DailyStat.objects.get(date=dt.date(2021, 7, 16), instrument="CEA", method="listing")
    assert (st.volume_t, st.amount_fen, q.open_fen, q.high_fen, q.low_fen, q.close_fen) == (4_103_953, 21_023_005_325, 4_800, 5_280, 4_800, 5_123)
    data = load_official(BY_METHOD, QUOTES)
    official = sum(sd.volume_t("listing") + sd.volume_t("block") for sd in data.tradeable_days() if sd.date <= dt.date(2021, 7, 22))
    assert sum(t.quantity_t for t in Trade.objects.all()) == official
    assert rep.composite_days == rep.composite_close_matches == 5
    assert funds_verify() == []
    assert audit_verify().ok


@pytest.mark.django_db
def test_vintage_subjects_and_a_one_way_auction_reconcile():
    # 2025-07-16: one-way auctions of CEA23 (100,000 t for 7,452,200.00 CNY) and CEA24 (30,000 t for 2,319,300.00 CNY)
    rep = replay_run(by_method_path=BY_METHOD, quotes_path=QUOTES, start=dt.date(2025, 7, 16), end=dt.date(2025, 7, 16))
    assert rep.engine == []
    assert rep.published == []
    assert rep.volume_t["auction"] == 130_000
    assert rep.amount_fen["auction"] == 977_150_000
    a23 = DailyStat.objects.get(date=dt.date(2025, 7, 16), instrument="CEA23", method="auction")
    assert (a23.volume_t, a23.amount_fen, a23.cum_volume_t) == (100_000, 745_220_000, 100_000)
    # 74.522 CNY/t is not a whole fen: the planner clears the CEA23 auction at two prices one fen apart (pay-as-bid)
    assert rep.findings_by_reason.get("auction_not_uniform_price") == 1
    assert funds_verify() == []
    assert audit_verify().ok


@pytest.mark.django_db
def test_the_publications_own_contradictions_are_listed_not_hidden():
    # 2021-07-16 … 07-22: the quote file truncates amounts to the yuan; only 2021-07-16 had fen
    # (210,230,053.25 CNY published as 210,230,053.00), a note for CEA and for COMCEA; the replay matches to the fen
    rep = replay_run(by_method_path=BY_METHOD, quotes_path=QUOTES, end=dt.date(2021, 7, 22))
    assert rep.engine == []
    assert {(m.category, m.reason) for m in rep.publication} == {("published-note", "amount_rounded_to_yuan")}
    assert [(m.date, m.subject, m.official) for m in rep.publication] == [(dt.date(2021, 7, 16), "CEA", "21023005300"),
                                                                          (dt.date(2021, 7, 16), "COMCEA", "21023005300")]


def test_the_replay_progress_bar_shows_days_trades_and_mismatches():
    """``cets trading replay``'s rich progress bar: days done of all, the last day, trades so far, and the engine
    mismatches so far (the number the replay must keep at 0)."""
    import io

    from rich.console import Console

    from cets.cli import _replay_progress
    from cets.trading.replay import Progress

    out = io.StringIO()
    con = Console(file=out, width=200, force_terminal=False)
    with _replay_progress(con) as progress:
        progress(Progress(1, 5, dt.date(2021, 7, 16), 8, 0))
        progress(Progress(5, 5, dt.date(2021, 7, 22), 1_234, 2))
    text = out.getvalue()
    assert "5/5" in text and "2021-07-22" in text and "1,234 trades" in text and "2 engine mismatches" in text
