"""Beijing pilot compliance rules, pure (cets.compliance.beijing) and the shared fine code with the Beijing pack
(cets.compliance.penalty). Golden cases by hand from the pack's values (older Beijing rules [S]: offsets ≤ 5% of
the year's allocation, CCERs from outside Beijing ≤ 2.5%; fine 3–5 × market average price × excess tonnes)."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cets.compliance.beijing import Lot, collection_plan, offset_breach, offset_caps, vintage_order
from cets.compliance.penalty import fine_range_price_multiple, price_window
from cets.rules.packs import load_pack

PACK = "beijing/compliance-2023-2024"
FIVE, TWO_AND_HALF = Decimal("0.05"), Decimal("0.025")


def test_pack_values_and_their_unconfirmed_tags():
    p = load_pack(PACK)
    assert (p.market, p.kind, p.years) == ("beijing", "compliance", [2023, 2024])
    assert (p.decimal("compliance.2023.offset_cap"), p.decimal("compliance.2023.nonlocal_ccer_cap")) == (FIVE, TWO_AND_HALF)
    assert p.text("compliance.2023.offset_basis") == "allocation"
    assert (p.decimal("penalty.multiple_min"), p.decimal("penalty.multiple_max")) == (3, 5)
    # reference §7.2 tags the caps [S], the deadline, the collection and the price rules [U]/[M]: all listed
    for key in ("compliance.2023.offset_cap", "compliance.2023.nonlocal_ccer_cap", "compliance.2023.deadline", "compliance.2024.deadline",
                "collection.automatic", "penalty.multiple_min", "penalty.price_window", "penalty.price_methods"):
        assert p.is_unconfirmed(key), key


def test_caps_on_the_allocation_by_hand():
    # allocation 123,457 t: 5% = 6,172.85 → floor 6,172 t; 2.5% = 3,086.425 → floor 3,086 t (obligation irrelevant)
    c = offset_caps(obligation_t=150_000, allocation_t=123_457, basis="allocation", total_share=FIVE, nonlocal_share=TWO_AND_HALF, rounding="floor")
    assert (c.basis_t, c.total_cap_t, c.nonlocal_ccer_cap_t) == (123_457, 6_172, 3_086)


def test_caps_on_the_obligation_by_hand():
    # the pack can switch the basis: obligation 80,000 t → 5% = 4,000 t, 2.5% = 2,000 t (allocation 100,000 ignored)
    c = offset_caps(obligation_t=80_000, allocation_t=100_000, basis="obligation", total_share=FIVE, nonlocal_share=TWO_AND_HALF, rounding="floor")
    assert (c.basis_t, c.total_cap_t, c.nonlocal_ccer_cap_t) == (80_000, 4_000, 2_000)


def test_caps_refuse_bad_inputs():
    with pytest.raises(ValueError):
        offset_caps(obligation_t=1, allocation_t=None, basis="allocation", total_share=FIVE, nonlocal_share=TWO_AND_HALF, rounding="floor")
    with pytest.raises(ValueError):
        offset_caps(obligation_t=1, allocation_t=1, basis="emissions", total_share=FIVE, nonlocal_share=TWO_AND_HALF, rounding="floor")


@pytest.mark.parametrize(("q", "nonlocal_ccer", "used_total", "used_nonlocal", "want"), [
    (1_000, False, 4_000, 0, None),        # 4,000 + 1,000 = 5,000 ≤ 5,000: the cap itself is allowed ("不超过")
    (1_001, False, 4_000, 0, "total"),     # 5,001 > 5,000
    (500, True, 0, 2_000, None),           # non-local 2,000 + 500 = 2,500 ≤ 2,500
    (501, True, 0, 2_000, "nonlocal"),     # 2,501 > 2,500
    (501, False, 0, 2_000, None),          # a local CCER or PCER does not count against the non-local cap
    (3_000, True, 2_500, 0, "total"),      # the total cap is checked first
])
def test_offset_breach_boundaries(q, nonlocal_ccer, used_total, used_nonlocal, want):
    assert offset_breach(quantity_t=q, nonlocal_ccer=nonlocal_ccer, used_total_t=used_total, used_nonlocal_t=used_nonlocal,
                         total_cap_t=5_000, nonlocal_cap_t=2_500) == want


def test_collection_plan_by_hand():
    # outstanding 105,000 t for 2023, usable 2021–2023: own vintage first (2023 registry 60,000 → 45,000 left), then
    # 2022 (registry 30,000 → 15,000 left, trading 15,000 of its 20,000 → 0); 2024 (not usable) and 2021 untouched.
    lots = [Lot("2024", "registry", 10_000), Lot("2022", "trading", 20_000), Lot("2023", "registry", 60_000), Lot("2022", "registry", 30_000),
            Lot("2021", "registry", 7_000)]
    plan = collection_plan(year=2023, outstanding_t=105_000, lots=lots, usable=["2021", "2022", "2023"], positions=["registry", "trading"])
    assert plan == [Lot("2023", "registry", 60_000), Lot("2022", "registry", 30_000), Lot("2022", "trading", 15_000)]


def test_vintage_order():
    assert vintage_order(2023, ["2021", "2022", "2023"], ["2021", "2024", "2022", "2023"]) == ["2023", "2022", "2021"]


@given(st.integers(0, 10**7), st.lists(st.tuples(st.sampled_from(["2021", "2022", "2023", "2024"]), st.sampled_from(["registry", "trading", "frozen"]),
                                              st.integers(0, 10**6)), max_size=8))
def test_collection_never_exceeds_outstanding_nor_usable(outstanding, raw):
    lots, seen = [], set()
    for v, pos, q in raw:
        if (v, pos) not in seen:
            seen.add((v, pos))
            lots.append(Lot(v, pos, q))
    usable, positions = ["2021", "2022", "2023"], ["registry", "trading"]
    plan = collection_plan(year=2023, outstanding_t=outstanding, lots=lots, usable=usable, positions=positions)
    available = sum(lot.quantity_t for lot in lots if lot.vintage in usable and lot.position in positions)
    assert sum(lot.quantity_t for lot in plan) == min(outstanding, available)
    held = {(lot.vintage, lot.position): lot.quantity_t for lot in lots}
    assert all(0 < lot.quantity_t <= held[(lot.vintage, lot.position)] and lot.vintage in usable and lot.position in positions for lot in plan)


def test_six_month_window_and_the_national_windows_unchanged():
    assert price_window(dt.date(2017, 6, 15), "months_before_deadline:6") == (dt.date(2016, 12, 16), dt.date(2017, 6, 15))
    assert price_window(dt.date(2024, 12, 31), "months_before_deadline:6") == (dt.date(2024, 7, 1), dt.date(2024, 12, 31))
    # 2025-08-31 six months back is 2025-02-31 → clamped to 2025-02-28, + 1 day
    assert price_window(dt.date(2025, 8, 31), "months_before_deadline:6") == (dt.date(2025, 3, 1), dt.date(2025, 8, 31))
    assert price_window(dt.date(2024, 12, 31), "month_before_deadline") == price_window(dt.date(2024, 12, 31), "months_before_deadline:1")
    assert price_window(dt.date(2025, 1, 15), "month_before_deadline") == (dt.date(2024, 12, 16), dt.date(2025, 1, 15))
    for bad in ("months_before_deadline:0", "months_before_deadline:x", "months_before_deadline"):
        with pytest.raises(ValueError):
            price_window(dt.date(2024, 12, 31), bad)


def test_beijing_fine_range_from_the_pack_by_hand():
    # 20,000 t × 10,953 fen/t = 219,060,000 fen; × 3 = 657,180,000 fen (CNY 6,571,800); × 5 = 1,095,300,000 fen
    p = load_pack(PACK)
    r = fine_range_price_multiple(20_000, 10_953, p.decimal("penalty.multiple_min"), p.decimal("penalty.multiple_max"), p.text("penalty.fine_rounding"))
    assert (r.min_fen, r.max_fen) == (657_180_000, 1_095_300_000)
