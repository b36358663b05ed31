"""Golden cases for the 2019–2020 and 2021–2022 power packs (供电量 basis, correction factors, borrowing),
computed by hand from the rules in cn-ets-rules.md §1.1, §1.3, §1.5, §1.6 (values [M]/[S]: see the packs)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cets.allocation.formulas import PowerRules, UnitInput, allocate, borrowing_limit, peak_regulation_factor, unit_allocation
from cets.rules.packs import load_pack

R19 = PowerRules.from_pack(load_pack("national/power-2019-2020"), 2019)
R21 = PowerRules.from_pack(load_pack("national/power-2021-2022"), 2021)
R22 = PowerRules.from_pack(load_pack("national/power-2021-2022"), 2022)


def unit(cat="I", supply="3000000", heat="1000000", lf="0.78", e=3_200_000, cooling="air", ratio="0.20", prev_supply="2800000",
         prev_heat="900000", entity="E1", uid="#1"):
    return UnitInput(entity_uscc=entity, unit_id=uid, category=cat, generation_mwh=Decimal(0), heat_supplied_gj=Decimal(heat),
                     load_factor=Decimal(lf), verified_emissions_t=e, prev_verified_emissions_t=0, supplied_mwh=Decimal(supply),
                     cooling=cooling, heat_ratio=Decimal(ratio), prev_supplied_mwh=Decimal(prev_supply), prev_heat_supplied_gj=Decimal(prev_heat))


def test_2019_coal_unit_with_every_correction():
    # Fc air 1.05; Fh 1 − 0.22 × 0.20 = 0.956; Ff (75% ≤ F < 80%) 1.007 + 0.0016 × (80 − 78) = 1.0102
    # Ae = 3,000,000 × 0.877 × 1.05 × 0.956 × 1.0102 = 2,631,000 × 1.05 = 2,762,550 × 0.956 = 2,640,997.8 × 1.0102
    #    = 2,667,935.977… → 2,667,935; Ah = 1,000,000 × 0.126 = 126,000; A = 2,793,935 ≥ 0.8 × 3,200,000 = 2,560,000
    # pre = 0.7 × (2,800,000 × 0.877 + 900,000 × 0.126) = 0.7 × (2,455,600 + 113,400) = 0.7 × 2,569,000 = 1,798,300
    us, (ent,) = allocate([unit()], R19)
    u = us[0]
    assert (u.cooling_factor, u.heat_factor, u.ff) == (Decimal("1.05"), Decimal("0.956000"), Decimal("1.010200"))
    assert (u.electricity_allowance_t, u.heat_allowance_t, u.unit_allowance_t) == (2_667_935, 126_000, 2_793_935)
    assert u.pre_allocation_t == 1_798_300
    assert (ent.shortfall_topup_t, ent.final_allocation_t, ent.borrowing_limit_t) == (0, 2_793_935, 0)


@pytest.mark.parametrize("lf,expected", [
    ("0.85", "1"),  # F ≥ 85% → 1
    ("0.84", "1.001400"),  # 1 + 0.0014 × (85 − 84)
    ("0.80", "1.007000"),  # 1 + 0.0014 × 5 = 1.007 — the band below gives 1.007 + 0.0016 × 0 as well (continuous)
    ("0.75", "1.015000"),  # 1.007 + 0.0016 × 5 = 1.015 = 1.015^(16 − 15): continuous at 75%
    ("0.7499", "1.015030"),  # 1.015^1.002 = 1.0150302…
    ("0.49", "1.096704"),  # 1.015^6.2 = 1.0967039… (secondary source: 49% load → +9.7%)
])
def test_2019_load_factor_bands(lf, expected):
    got = peak_regulation_factor("II", Decimal(lf), R19)
    assert got == Decimal(expected)
    f = float(lf)
    if f < 0.75:  # independent float oracle for the exponential branch
        assert abs(float(got) - 1.015 ** (16 - 20 * f)) < 5e-7


def test_2019_gas_unit_heat_factor_and_top_up():
    # Gas: no cooling or load factor; Fh = 1 − 0.6 × 0.10 = 0.94; Ae = 1,000,000 × 0.392 × 0.94 = 368,480;
    # Ah = 200,000 × 0.059 = 11,800; A = 380,280 < E = 400,000 → gas top-up 19,720 → 400,000
    u = unit_allocation(unit(cat="IV", supply="1000000", heat="200000", lf="0.30", e=400_000, cooling="air", ratio="0.10"), R19)
    assert (u.cooling_factor, u.heat_factor, u.ff) == (1, Decimal("0.940000"), 1)
    assert (u.electricity_allowance_t, u.heat_allowance_t, u.gas_topup_t, u.unit_allowance_t) == (368_480, 11_800, 19_720, 400_000)


def test_2019_whole_number_product_and_20_percent_cap_over_two_units():
    # Two class II water-cooled units, no heat, F 0.90: 1,000,000 × 0.979 = 979,000 each (whole number, not reduced)
    # E = 1,300,000 each → 0.8 × 2,600,000 = 2,080,000 > 1,958,000 → top-up 122,000
    us, (ent,) = allocate([unit(cat="II", supply="1000000", heat="0", lf="0.90", e=1_300_000, cooling="water", ratio="0", uid=f"#{i}")
                           for i in (1, 2)], R19)
    assert [u.electricity_allowance_t for u in us] == [979_000, 979_000]
    assert (ent.initial_allocation_t, ent.shortfall_topup_t, ent.final_allocation_t) == (1_958_000, 122_000, 2_080_000)


def test_2021_load_correction_only_for_pure_condensing_units():
    # Class I at F 0.60: pure-condensing (no heat) → 1.015^(16 − 12) = 1.061364; with heat supplied → 1
    # Ae = 1,000,000 × 0.8218 × 1 (water) × 1 (ratio 0) × 1.061364 = 872,228.93… → 872,228
    pure = unit_allocation(unit(supply="1000000", heat="0", lf="0.60", e=0, cooling="water", ratio="0"), R21)
    chp = unit_allocation(unit(supply="1000000", heat="10", lf="0.60", e=0, cooling="water", ratio="0"), R21)
    assert (pure.ff, pure.electricity_allowance_t) == (Decimal("1.061364"), 872_228)
    assert (chp.ff, chp.electricity_allowance_t) == (1, 821_800)


def test_2021_borrowing():
    # Class II, 1,000,000 MWh × 0.8773 = 877,300; E 1,050,000: 0.8E = 840,000 → no top-up; gap 172,700 >
    # 10% × 877,300 = 87,730 → may borrow floor(0.5 × 172,700) = 86,350 (notice 2023-07-17 §三 [S])
    _, (ent,) = allocate([unit(cat="II", supply="1000000", heat="0", lf="0.90", e=1_050_000, cooling="water", ratio="0")], R21)
    assert (ent.final_allocation_t, ent.borrowing_limit_t) == (877_300, 86_350)
    assert borrowing_limit(1_100_000, 1_000_000, R21) == 0  # gap exactly 10% of the allocation is not "超过"
    assert borrowing_limit(1_100_001, 1_000_000, R21) == 50_000  # 0.5 × 100,001 = 50,000.5 → 50,000
    assert borrowing_limit(1_000_000, 1_000_001, R21) == 0
    assert borrowing_limit(1_000_000, 800_000, R19) == 0  # no borrowing in 2019–2020


@given(e=st.integers(0, 10**9), a=st.integers(0, 10**9))
def test_borrowing_agrees_with_the_compliance_context(e, a):
    from cets.compliance.borrowing import borrowing_limit as compliance_limit

    pack = load_pack("national/power-2021-2022")
    theirs = compliance_limit(obligation_t=e, allocation_t=a, threshold=pack.decimal("borrowing.gap_threshold"),
                              share=pack.decimal("borrowing.share_of_gap"), rounding=pack.text("borrowing.rounding"))
    assert borrowing_limit(e, a, R21) == theirs.limit_t


def test_2022_benchmarks():
    # Class III air-cooled, ratio 0, F n/a: 100,000 × 0.9303 × 1.05 = 97,681.5 → 97,681
    u = unit_allocation(unit(cat="III", supply="100000", heat="0", lf="0.5", e=0, cooling="air", ratio="0"), R22)
    assert u.electricity_allowance_t == 97_681


def test_refusals():
    with pytest.raises(ValueError):
        unit_allocation(unit(cooling="seawater"), R19)
    with pytest.raises(ValueError):
        unit_allocation(unit(ratio="1.5"), R19)
    with pytest.raises(ValueError):
        unit_allocation(UnitInput("E", "#1", "I", Decimal(1), Decimal(0), Decimal("0.9"), 0, 0), R19)  # no 供电量
