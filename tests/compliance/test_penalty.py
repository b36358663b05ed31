"""Pure fine arithmetic (Regulations 2024 Art. 24; Measures 2021 Art. 40): price window, average price,
fine range. No database."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cets.compliance.penalty import (
    CALENDAR_MONTH_BEFORE,
    MONTH_BEFORE,
    average_price,
    fine_price_multiple,
    fine_range_price_multiple,
    multiple_allowed,
    price_window,
)
from cets.rules.packs import load_pack

D = dt.date


@pytest.mark.parametrize(("deadline", "rule", "window"), [
    (D(2024, 12, 31), CALENDAR_MONTH_BEFORE, (D(2024, 11, 1), D(2024, 11, 30))),  # 2023 obligation: November 2024
    (D(2025, 12, 31), CALENDAR_MONTH_BEFORE, (D(2025, 11, 1), D(2025, 11, 30))),
    (D(2025, 1, 15), CALENDAR_MONTH_BEFORE, (D(2024, 12, 1), D(2024, 12, 31))),  # across the year end
    (D(2024, 12, 31), MONTH_BEFORE, (D(2024, 12, 1), D(2024, 12, 31))),
    (D(2025, 3, 31), MONTH_BEFORE, (D(2025, 3, 1), D(2025, 3, 31))),  # 02-28 + 1 day (February is short)
    (D(2024, 3, 31), MONTH_BEFORE, (D(2024, 3, 1), D(2024, 3, 31))),  # leap year: 02-29 + 1 day
    (D(2025, 1, 10), MONTH_BEFORE, (D(2024, 12, 11), D(2025, 1, 10))),
])
def test_price_window(deadline, rule, window):
    assert price_window(deadline, rule) == window


def test_unknown_window_rule_is_refused():
    with pytest.raises(ValueError):
        price_window(D(2024, 12, 31), "last_week")


FIG = [
    # date, instrument, method, volume_t, amount_fen
    (D(2024, 11, 1), "CEA22", "listing", 100, 1_000_000),   # 100.00 CNY/t
    (D(2024, 11, 1), "CEA22", "block", 300, 2_850_000),     # 95.00 CNY/t
    (D(2024, 11, 4), "CEA23", "auction", 0, 0),             # no volume: not a trading day for the count
    (D(2024, 11, 4), "COMCEA", "listing", 400, 3_850_000),  # composite: not counted (would double count)
    (D(2024, 10, 31), "CEA22", "listing", 1000, 1),         # outside the window
]


def test_average_is_volume_weighted_over_counted_trades():
    # (1,000,000 + 2,850,000) / (100 + 300) = 3,850,000 / 400 = 9,625 fen = 96.25 CNY/t
    p = average_price(FIG, start=D(2024, 11, 1), end=D(2024, 11, 30), instruments=["CEA22", "CEA23"], methods=["listing", "block", "auction"],
                      average="volume_weighted", rounding="half_up:0")
    assert (p.price_fen, p.volume_t, p.amount_fen, p.days) == (9625, 400, 3_850_000, 1)
    # listing only: 1,000,000 / 100 = 10,000 fen
    p = average_price(FIG, start=D(2024, 11, 1), end=D(2024, 11, 30), instruments=["CEA22"], methods=["listing"], average="volume_weighted",
                      rounding="half_up:0")
    assert p.price_fen == 10_000


def test_average_rounds_half_up_to_the_fen():
    # 2,001 fen / 2 t = 1,000.5 → 1,001 (half up); 2,003 / 3 = 667.67 → 668; 2,002 / 3 = 667.33 → 667
    for amt, vol, want in ((2001, 2, 1001), (2003, 3, 668), (2002, 3, 667)):
        p = average_price([(D(2024, 11, 5), "CEA", "listing", vol, amt)], start=D(2024, 11, 1), end=D(2024, 11, 30), instruments=["CEA"],
                          methods=["listing"], average="volume_weighted", rounding="half_up:0")
        assert p.price_fen == want


def test_no_counted_trade_gives_no_price():
    assert average_price(FIG, start=D(2024, 12, 1), end=D(2024, 12, 31), instruments=["CEA22"], methods=["listing"], average="volume_weighted",
                         rounding="half_up:0") is None
    with pytest.raises(ValueError):
        average_price(FIG, start=D(2024, 11, 1), end=D(2024, 11, 30), instruments=["CEA22"], methods=["listing"], average="median",
                      rounding="half_up:0")


def test_fine_golden_and_bounds():
    # 10,000 t unsurrendered at 97.48 CNY/t: 5 × 10,000 × 9,748 = 487,400,000 fen (CNY 4,874,000);
    # 10 × … = 974,800,000 fen; 7.5 × … = 731,100,000 fen.
    r = fine_range_price_multiple(10_000, 9748, Decimal(5), Decimal(10), "half_up:0")
    assert (r.min_fen, r.max_fen) == (487_400_000, 974_800_000)
    assert fine_price_multiple(10_000, 9748, Decimal("7.5"), "half_up:0") == 731_100_000
    # half a fen: 5.25 × 1 t × 2 fen = 10.5 fen → 11 fen
    assert fine_price_multiple(1, 2, Decimal("5.25"), "half_up:0") == 11
    assert multiple_allowed(Decimal(5), Decimal(5), Decimal(10))
    assert multiple_allowed(Decimal(10), Decimal(5), Decimal(10))
    assert not multiple_allowed(Decimal("4.99"), Decimal(5), Decimal(10))
    assert not multiple_allowed(Decimal("10.01"), Decimal(5), Decimal(10))
    with pytest.raises(ValueError):
        fine_price_multiple(10, 0, Decimal(5), "half_up:0")


@given(q=st.integers(0, 10**9), price=st.integers(1, 10**5), m=st.decimals(min_value=5, max_value=10, places=2))
def test_fine_lies_in_the_range_and_grows_with_the_multiple(q, price, m):
    r = fine_range_price_multiple(q, price, Decimal(5), Decimal(10), "half_up:0")
    f = fine_price_multiple(q, price, m, "half_up:0")
    assert r.min_fen <= f <= r.max_fen
    assert r.min_fen == 5 * q * price
    assert r.max_fen == 10 * q * price  # whole multiples need no rounding
    assert fine_price_multiple(q, price, m + Decimal("0.01"), "half_up:0") >= f


def test_packs_carry_the_penalty_rules():
    new, old, draft = (load_pack(f"national/power-{p}") for p in ("2023-2024", "2021-2022", "2025-2026"))
    assert new.text("penalty.basis") == "price_multiple"
    assert new.decimal("penalty.multiple_min") == 5
    assert new.decimal("penalty.multiple_max") == 10
    assert new.is_unconfirmed("penalty.price_methods")
    assert new.is_unconfirmed("penalty.price_window")
    # Measures 2021 Art. 40: CNY 20,000–30,000
    assert old.text("penalty.basis") == "fixed_range"
    assert (old.decimal("penalty.fine_min_fen"), old.decimal("penalty.fine_max_fen")) == (2_000_000, 3_000_000)
    assert new.flag("penalty.arrears_deduction")
    assert not draft.flag("penalty.arrears_deduction")
    assert new.date("compliance.2023.rectification_deadline") == D(2025, 2, 28)
    assert new.date("compliance.2024.rectification_deadline") == D(2026, 2, 28)
