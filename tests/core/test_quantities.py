from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cets.core.quantities import D, apply_rounding, fen_to_yuan, floor_int, round_half_up, yuan_to_fen
from cets.core.workdays import add_working_days, is_working_day


def test_floor_as_in_the_draft_example():
    # 2025–2026 draft, data-table notes: pre-allocation 1789.70 → 1789.
    assert floor_int(Decimal("1789.70")) == 1789
    assert floor_int(Decimal("1789")) == 1789


def test_half_up_six_places():
    assert round_half_up(Decimal("1.0613635"), 6) == Decimal("1.061364")
    assert round_half_up(Decimal("1.0613634999"), 6) == Decimal("1.061363")


def test_unknown_rounding_rule():
    with pytest.raises(ValueError):
        apply_rounding(Decimal(1), "bankers")


def test_float_refused():
    with pytest.raises(TypeError):
        D(0.1)


@given(st.integers(min_value=-10**15, max_value=10**15))
def test_fen_round_trip(fen):
    assert yuan_to_fen(fen_to_yuan(fen)) == fen


def test_yuan_with_sub_fen_digits_refused():
    with pytest.raises(ValueError):
        yuan_to_fen("1.005")


def test_working_days_over_national_day_2024():
    import datetime as dt

    # 2024-09-30 (Mon) + 1 working day skips the 10-01…10-07 holiday; 10-12 (Sat) is a make-up working day.
    assert add_working_days(dt.date(2024, 9, 30), 1) == dt.date(2024, 10, 8)
    assert is_working_day(dt.date(2024, 10, 12))
    # An override wins over the library.
    assert not is_working_day(dt.date(2024, 10, 12), {dt.date(2024, 10, 12): False})
