"""Pure modules of the exchange's UI: exact CNY ↔ fen conversion (tick 0.01 CNY, trading pack
``order.price_tick_fen``) and the chart's integer geometry."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cets.core.errors import CetsError
from cets.trading.chart import HEIGHT, LEFT, PRICE_H, TOP, VOLUME_H, Day, chart_of
from cets.trading.prices import cny_to_fen, fen_to_cny


@pytest.mark.parametrize("text, fen", [("96", 9_600), ("96.5", 9_650), ("96.50", 9_650), ("0.01", 1), (" 51.23 ", 5_123), ("007.10", 710),
                                       ("999999999.99", 99_999_999_999)])
def test_cny_to_fen_golden(text, fen):
    assert cny_to_fen(text) == fen


@pytest.mark.parametrize("text", ["", "0", "0.00", "96.505", "-1", "+1", "1e2", "96,50", ".5", "5.", "９６", "96.5 0", "1234567890", "NaN", "Infinity"])
def test_cny_to_fen_refuses(text):
    with pytest.raises(CetsError) as e:
        cny_to_fen(text)
    assert e.value.code == "T0401"


def test_cny_to_fen_refuses_a_float_and_fen_to_cny_refuses_a_float():
    with pytest.raises(CetsError):
        cny_to_fen(96.5)
    with pytest.raises(TypeError):
        fen_to_cny(96.5)
    assert (fen_to_cny(5), fen_to_cny(9_650), fen_to_cny(-105)) == ("0.05", "96.50", "-1.05")


@given(st.integers(min_value=1, max_value=99_999_999_999))
def test_round_trip_is_exact(fen):
    assert cny_to_fen(fen_to_cny(fen)) == fen


def test_chart_geometry_by_hand():
    days = [Day(dt.date(2024, 11, 4), 9_000, 300, 0), Day(dt.date(2024, 11, 5), 10_000, 100, 200), Day(dt.date(2024, 11, 6), 9_500, 0, 0)]
    c = chart_of(days)
    # price axis: 9,000 … 10,000 padded by (10,000 − 9,000) // 10 = 100 → 8,900 … 10,100 over 190 px
    # y(9,000) = 14 + (10,100 − 9,000) × 190 // 1,200 = 14 + 174 = 188; y(10,000) = 14 + 100 × 190 // 1,200 = 14 + 15 = 29
    # x: plot width 760 − 70 − 16 = 674, x_i = 70 + (2i + 1) × 674 // 6 → 182, 407, 631
    assert c.points == "182,188 407,29 631,109"  # y(9,500) = 14 + 600 × 190 // 1,200 = 14 + 95 = 109
    # volume: max day 300 t = 80 px; day 2: listing 100 t → 26 px, block 200 t → 80 − 26 = 54 px above it
    vb = TOP + PRICE_H + 28 + VOLUME_H
    b0, b1, b2 = c.bars
    assert (b0.listing_h, b0.block_h, b1.listing_h, b1.block_h, b2.listing_h, b2.block_h) == (80, 0, 26, 54, 0, 0)
    assert b1.listing_y == vb - 26
    assert b1.block_y == vb - 80
    assert [lbl for _y, lbl in c.y_labels] == ["89.00", "95.00", "101.00"]
    assert c.volume_max_label == "300"
    assert [lbl for _x, lbl in c.x_labels] == ["2024-11-04", "2024-11-05", "2024-11-06"]
    assert c.left == LEFT
    assert c.height == HEIGHT


@given(st.lists(st.tuples(st.integers(1, 10_000_000), st.integers(0, 10**8), st.integers(0, 10**8)), min_size=1, max_size=30),
       st.integers(1, 60))
def test_chart_stays_inside_its_panels(rows, repeat):
    rows = rows * repeat  # up to 1,800 days: more days than pixels
    days = [Day(dt.date(2020, 1, 1) + dt.timedelta(days=i), p, lv, bv) for i, (p, lv, bv) in enumerate(rows)]
    c = chart_of(days)
    for pt in c.points.split():
        x, y = map(int, pt.split(","))
        assert LEFT <= x <= c.right_x
        assert c.price_top <= y <= c.price_bottom
    for b in c.bars:
        assert b.listing_h >= 0
        assert b.block_h >= 0
        assert c.volume_top <= b.block_y <= b.listing_y <= c.volume_bottom
        assert LEFT <= b.x
        assert b.x + b.width <= c.right_x + 1
    xs = [int(pt.split(",")[0]) for pt in c.points.split()]
    assert xs == sorted(xs)  # days left to right


def test_no_days_no_chart():
    assert chart_of([]) is None


def test_real_published_prices_convert_exactly_and_chart_the_whole_cea_series():
    """data/cea-national-official/cea_daily_quotes.csv (the exchange's published daily quotes,
    2021-07-16 … 2026-08-19): every non-zero open/high/low/close converts to fen and back to the same
    text; 0.00 (high/low on a day without listing trades) is not a price and is refused. The chart of
    the whole CEA series (1,235 days, more days than pixels) peaks on the highest close (106.00)."""
    import csv

    from tests.conftest import DATA

    rows = list(csv.DictReader((DATA / "cea-national-official" / "cea_daily_quotes.csv").open(encoding="utf-8")))
    converted = zeros = 0
    for r in rows:
        for f in ("open", "high", "low", "close"):
            if r[f] == "0.00":
                zeros += 1
                with pytest.raises(CetsError):
                    cny_to_fen(r[f])
                continue
            assert fen_to_cny(cny_to_fen(r[f])) == r[f], (r["trade_date"], r["subject_code"], f)
            converted += 1
    assert converted + zeros == 4 * len(rows)
    assert converted > 16_000
    cea = [r for r in rows if r["subject_code"] == "CEA"]
    days = [Day(dt.date.fromisoformat(r["trade_date"]), cny_to_fen(r["close"]), int(r["volume_t"])) for r in cea]
    c = chart_of(days)
    ys = [int(p.split(",")[1]) for p in c.points.split()]
    assert len(ys) == len(cea) == 1_235
    top = min(range(len(ys)), key=ys.__getitem__)
    assert days[top].close_fen == max(d.close_fen for d in days) == 10_600
