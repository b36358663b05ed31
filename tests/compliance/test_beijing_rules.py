"""Beijing pilot compliance rules, pure (cets.compliance.beijing) and the shared fine code with the Beijing pack
(cets.compliance.penalty). Golden cases by hand from 京环发〔2024〕8号 (seed 004) 三(四): deadline 2024-11-15, offsets
≤ 5% of the year's determined (核定) emissions, no non-local sub-cap, automatic collection of allowances and offset
products after the deadline; fine 3–5 × market average price × excess tonnes [S]."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cets.compliance.beijing import Lot, OffsetLot, collection_plan, offset_breach, offset_caps, offset_collection_plan, vintage_order
from cets.compliance.penalty import fine_range_price_multiple, price_window
from cets.compliance.status import compliance_status
from cets.rules.packs import load_pack

PACK = "beijing/compliance-2023-2024"
FIVE, TWO_AND_HALF = Decimal("0.05"), Decimal("0.025")


def test_pack_values_from_the_notice():
    """京环发〔2024〕8号 三(四): "碳排放配额清缴截止日期为2024年11月15日"; "使用比例不得高于当年核定碳排放量的5%"; "拟使用抵销产品
    完成清缴工作的重点碳排放单位，须通过碳排放管理系统提交申请文件，截止日期为2024年10月15日"; "逾期未完成的，管理平台将自动收缴
    其账户内的配额及抵销产品". No non-local sub-cap is stated, so the pack has none."""
    p = load_pack(PACK)
    assert (p.market, p.kind, p.years) == ("beijing", "compliance", [2023, 2024])
    assert p.date("compliance.2023.deadline") == dt.date(2024, 11, 15)
    assert p.date("compliance.2023.offset_application_until") == dt.date(2024, 10, 15)
    assert (p.decimal("compliance.2023.offset_cap"), p.text("compliance.2023.offset_basis")) == (FIVE, "obligation")
    assert "nonlocal_ccer_cap" not in p.data["compliance"]["2023"]
    assert "nonlocal_ccer_cap" not in p.data["compliance"]["2024"]
    assert p.date("compliance.2023.old_ccer_usable_until") == dt.date(2024, 12, 31)
    assert list(p.raw("collection.instruments")) == ["BEA", "PCER", "CCER"]
    assert (p.decimal("penalty.multiple_min"), p.decimal("penalty.multiple_max")) == (3, 5)
    # what the notice states is no longer unconfirmed; what it does not state still is
    for key in ("compliance.2023.deadline", "compliance.2023.offset_cap", "compliance.2023.offset_basis", "collection.automatic"):
        assert not p.is_unconfirmed(key), key
    for key in ("compliance.2024.deadline", "compliance.2024.offset_cap", "collection.positions", "penalty.multiple_min", "penalty.price_window"):
        assert p.is_unconfirmed(key), key
    # one home for the surrender rules: the allocation pack keeps no copy of them
    assert "compliance" not in load_pack("beijing/emitters-2023-2024").data


def test_cap_is_five_percent_of_determined_emissions_by_hand():
    """三(四) "使用比例不得高于当年核定碳排放量的5%": determined emissions 123,457 t → 5% = 6,172.85 → 6,172 t (rounded
    down so the cap is never above 5%); the allocation (100,000 t) plays no part; no non-local cap."""
    p = load_pack(PACK)
    c = offset_caps(obligation_t=123_457, allocation_t=100_000, basis=p.text("compliance.2023.offset_basis"),
                    total_share=p.decimal("compliance.2023.offset_cap"), rounding=p.text("compliance.2023.offset_rounding"))
    assert (c.basis_t, c.total_cap_t, c.nonlocal_ccer_cap_t) == (123_457, 6_172, None)
    # 110,000 t → 5,500 t exactly (the cap itself is allowed: "不得高于")
    assert offset_caps(obligation_t=110_000, allocation_t=None, basis="obligation", total_share=FIVE, rounding="floor").total_cap_t == 5_500


def test_the_mechanism_still_runs_with_a_sub_cap_when_a_pack_sets_one():
    # older rules (2014–2020 [S]) as a pack might state them: allocation 123,457 t → 6,172 t and 2.5% = 3,086.425 → 3,086 t
    c = offset_caps(obligation_t=150_000, allocation_t=123_457, basis="allocation", total_share=FIVE, nonlocal_share=TWO_AND_HALF, rounding="floor")
    assert (c.basis_t, c.total_cap_t, c.nonlocal_ccer_cap_t) == (123_457, 6_172, 3_086)


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


def test_without_a_sub_cap_non_local_ccer_counts_only_against_the_5_percent():
    """三(四) states one cap, 5% of determined emissions (here 5,000 t): 4,000 t of non-local CCER + 1,000 = 5,000 is
    allowed, one tonne more is not; a non-local CCER of 4,999 t alone is fine (no 2.5% sub-cap)."""
    kw = dict(nonlocal_ccer=True, used_nonlocal_t=0, total_cap_t=5_000, nonlocal_cap_t=None)
    assert offset_breach(quantity_t=1_000, used_total_t=4_000, **kw) is None
    assert offset_breach(quantity_t=1_001, used_total_t=4_000, **kw) == "total"
    assert offset_breach(quantity_t=4_999, used_total_t=0, **kw) is None


def test_offset_collection_plan_by_hand():
    """三(四) "自动收缴其账户内的配额及抵销产品": outstanding 20,000 t, cap 5% × 110,000 = 5,500 t of which 3,000 used → 2,500
    left; PCER registry 1,000 → 1,500 left; CCER registry 600 then trading 900 of 3,000 → 0 left; the other CCER untouched."""
    lots = [OffsetLot("PCER-2023", "registry", 1_000), OffsetLot("CCER-A-2024", "trading", 3_000), OffsetLot("CCER-A-2024", "registry", 600),
            OffsetLot("CCER-B-2024", "registry", 5_000)]
    plan = offset_collection_plan(outstanding_t=20_000, lots=lots, cap_left_t=2_500, nonlocal_cap_left_t=None, positions=["registry", "trading"])
    assert plan == [OffsetLot("PCER-2023", "registry", 1_000), OffsetLot("CCER-A-2024", "registry", 600), OffsetLot("CCER-A-2024", "trading", 900)]
    # the outstanding quantity binds when it is below the cap left: 700 t outstanding → PCER 700 only
    plan = offset_collection_plan(outstanding_t=700, lots=lots, cap_left_t=2_500, nonlocal_cap_left_t=None, positions=["registry", "trading"])
    assert plan == [OffsetLot("PCER-2023", "registry", 700)]
    # a pack's non-local sub-cap, when set, binds non-local CCERs: 200 t left of it
    far = [OffsetLot("CCER-F-2024", "registry", 3_000, True), OffsetLot("PCER-2023", "registry", 1_000)]
    plan = offset_collection_plan(outstanding_t=20_000, lots=far, cap_left_t=2_500, nonlocal_cap_left_t=200, positions=["registry"])
    assert plan == [OffsetLot("CCER-F-2024", "registry", 200, True), OffsetLot("PCER-2023", "registry", 1_000)]
    # nothing left of the cap: nothing taken
    assert offset_collection_plan(outstanding_t=20_000, lots=lots, cap_left_t=0, nonlocal_cap_left_t=None, positions=["registry"]) == []


@given(st.integers(0, 10**6), st.integers(-10, 10**5), st.lists(st.tuples(st.sampled_from(["PCER-2023", "CCER-A-2024", "CCER-F-2024"]),
                                                                     st.sampled_from(["registry", "trading", "frozen"]), st.integers(0, 10**5)), max_size=6))
def test_offset_collection_never_exceeds_outstanding_cap_or_holdings(outstanding, cap_left, raw):
    lots, seen = [], set()
    for code, pos, q in raw:
        if (code, pos) not in seen:
            seen.add((code, pos))
            lots.append(OffsetLot(code, pos, q, code.startswith("CCER-F")))
    plan = offset_collection_plan(outstanding_t=outstanding, lots=lots, cap_left_t=cap_left, nonlocal_cap_left_t=None, positions=["registry", "trading"])
    available = sum(lot.quantity_t for lot in lots if lot.position in ("registry", "trading"))
    assert sum(lot.quantity_t for lot in plan) == min(outstanding, max(0, cap_left), available)


def test_collected_outcome_is_not_on_time():
    """三(四) "重点碳排放单位应在规定时间内完成配额清缴工作，逾期未完成的，管理平台将自动收缴": obligation 110,000 t, deadline
    2024-11-15; the entity surrendered 5,000 t on 11-10; the collection took 105,000 t on 11-15 → complete but
    "collected", and only the 5,000 t count as surrendered by the deadline. Collection of only 100,000 t →
    incomplete (5,000 t outstanding). Without the collected flag (the national market) the outcomes are unchanged."""
    d = dt.date(2024, 11, 15)
    s = compliance_status(110_000, d, [(dt.date(2024, 11, 10), 5_000, False), (d, 105_000, True)], dt.date(2024, 11, 16))
    assert (s.status, s.surrendered_t, s.surrendered_by_deadline_t, s.outstanding_t) == ("collected", 110_000, 5_000, 0)
    s = compliance_status(110_000, d, [(dt.date(2024, 11, 10), 5_000, False), (dt.date(2024, 11, 20), 100_000, True)], dt.date(2024, 11, 21))
    assert (s.status, s.outstanding_t) == ("incomplete", 5_000)
    assert compliance_status(10, d, [(d, 10)], d).status == "on_time"
    assert compliance_status(10, d, [(d, 5), (dt.date(2024, 11, 16), 5)], dt.date(2024, 11, 16)).status == "late"


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
    # the 2023 Beijing deadline 2024-11-15 (京环发〔2024〕8号 三(四)): six months back is 2024-05-15, + 1 day
    p = load_pack(PACK)
    assert price_window(p.date("compliance.2023.deadline"), p.text("penalty.price_window")) == (dt.date(2024, 5, 16), dt.date(2024, 11, 15))
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
