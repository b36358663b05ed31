"""The trading calendar against the real market: every weekday the national market was closed
(data/cea-national-official/non_trading_weekdays.csv) is closed, every day it published a quote is open."""

import csv
import datetime as dt

from cets.rules.packs import load_pack
from cets.trading.calendar import in_session, is_trading_day, parse_sessions
from tests.conftest import DATA

CLOSED = frozenset(dt.date.fromisoformat(d) for d in load_pack("national/trading-2021-2026").raw("calendar.closed_days"))

D = DATA / "cea-national-official"


def test_every_published_closed_weekday_is_closed_and_every_quoted_day_open():
    with (D / "non_trading_weekdays.csv").open() as fh:
        closed = [dt.date.fromisoformat(r["date"]) for r in csv.DictReader(fh)]
    with (D / "cea_daily_quotes.csv").open() as fh:
        open_days = sorted({dt.date.fromisoformat(r["trade_date"]) for r in csv.DictReader(fh)})
    assert len(closed) == 94
    assert len(open_days) == 1_235
    assert [d for d in closed if is_trading_day(d, closed=CLOSED)] == []
    # the one working weekday the exchange closed by notice, listed in the pack
    assert [d for d in closed if is_trading_day(d)] == [dt.date(2024, 2, 9)]
    assert [d for d in open_days if not is_trading_day(d, closed=CLOSED)] == []
    # and between the first and last published day there is no other weekday the calendar opens
    every = [open_days[0] + dt.timedelta(days=i) for i in range((open_days[-1] - open_days[0]).days + 1)]
    assert [d for d in every if is_trading_day(d, closed=CLOSED) and d not in set(open_days)] == []


def test_weekend_make_up_working_days_are_not_trading_days():
    # 2024-10-12 (Saturday) was a make-up working day after National Day; markets stay closed on weekends
    assert not is_trading_day(dt.date(2024, 10, 12))


def test_sessions_start_inclusive_end_exclusive():
    s = parse_sessions([["09:30", "11:30"], ["13:00", "15:00"]])
    assert in_session(dt.time(9, 30), s)
    assert not in_session(dt.time(11, 30), s)
    assert not in_session(dt.time(12, 0), s)
    assert in_session(dt.time(14, 59, 59), s)
    assert not in_session(dt.time(15, 0), s)
