"""The Beijing exchange's published BEA days replayed through order entry, matching and DvP settlement (issue 13).

The real file (data/cn-pilots-bj-tj-gd-hb/beijing_bea_daily.csv) publishes volume, average price and turnover per
day, and carries the dirt its README names: amounts with a dot as thousands separator (2022-11-07 ``1799.431.00``),
averages that are not turnover / volume (2016-03-31: 1,029,104.00 / 32,320 = 31.84, published 33.94), a date given
twice with different figures (2018-12-21) and days published as traded on which the market's calendar is closed
(2016-06-12, a Sunday). Those are listed — malformed, conflicting or closed — and never replayed or guessed; every
other figure must come out of the platform's own engine as published (engine mismatches 0). The whole file (1,511
days, 0 engine mismatches, 26 published contradictions, 13 rows not replayed; about 2 minutes) is recorded in
bench/results/replay_beijing.json.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cets.registry.audit import audit_verify
from cets.trading.replay_totals import load_bea_daily, replay_totals_run
from tests.conftest import DATA

BEA_DAILY = DATA / "cn-pilots-bj-tj-gd-hb" / "beijing_bea_daily.csv"
pytestmark = pytest.mark.django_db


def test_the_files_dirt_is_named_not_guessed():
    rows = {r.date: r for r in load_bea_daily(BEA_DAILY)}
    assert rows[dt.date(2022, 11, 7)].status == "malformed" and "1799.431.00" in rows[dt.date(2022, 11, 7)].notes
    assert rows[dt.date(2018, 12, 21)].status == "conflicting"
    same = rows[dt.date(2024, 8, 13)]  # given twice with the same figures: one day, the repeat named
    assert (same.status, same.volume_t, same.amount_fen) == ("ok", 1000, 10_000_000) and "repeat" in same.notes
    # 2024-09-02: 5,700 t, CNY 585,300.00, average 102.68
    r = rows[dt.date(2024, 9, 2)]
    assert (r.volume_t, r.amount_fen, r.average_fen, r.cum_volume_t) == (5700, 58_530_000, 10_268, None)


def test_november_2022_and_june_2016_reconcile_and_list_what_was_not_replayed():
    rep = replay_totals_run(market="beijing", path=BEA_DAILY, start=dt.date(2022, 11, 1), end=dt.date(2022, 11, 30))
    assert rep.ok and rep.days > 15 and rep.figures == 3 * rep.days
    assert [(u.date, u.status) for u in rep.unparsed] == [(dt.date(2022, 11, 7), "malformed")]
    rep16 = replay_totals_run(market="beijing", path=BEA_DAILY, start=dt.date(2016, 3, 28), end=dt.date(2016, 6, 14))
    assert rep16.ok
    assert (dt.date(2016, 6, 12), "closed_by_calendar") in [(u.date, u.status) for u in rep16.unparsed]
    # the contradiction of 2016-03-31 is the publication's, not the engine's
    assert [(m.date, m.field, m.ours, m.official) for m in rep16.published if m.category == "published"][:1] == [
        (dt.date(2016, 3, 31), "average", "31.84", "33.94")]
    assert audit_verify().ok
