"""Golden cases computed by hand from the 2023–2024 power plan (国环规气候〔2024〕1号) and reference §1.8."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cets.allocation.formulas import PowerRules, UnitInput, allocate, entity_allocation, peak_regulation_factor, unit_allocation
from cets.rules.packs import load_pack

RULES = PowerRules.from_pack(load_pack("national/power-2023-2024"), 2023)


def unit(cat="I", gen="3000000", heat="2000000", lf="0.60", e=3_600_000, prev=0, entity="E1", uid="#1"):
    return UnitInput(entity_uscc=entity, unit_id=uid, category=cat, generation_mwh=Decimal(gen), heat_supplied_gj=Decimal(heat),
                     load_factor=Decimal(lf), verified_emissions_t=e, prev_verified_emissions_t=prev)


def test_reference_worked_example_1_8():
    # Class I coal, Qe 3,000,000 MWh, Qh 2,000,000 GJ, F = 60%, E = 3,600,000 t (cn-ets-rules.md §1.8).
    units, entities = allocate([unit()], RULES)
    u, e = units[0], entities[0]
    assert u.ff == Decimal("1.061364")  # 1.015^(16 − 12) = 1.0613635... → half-up 6 dp
    assert u.electricity_allowance_t == 2_531_353  # 3,000,000 × 0.7950 × 1.061364 = 2,531,353.14 → floor
    assert u.heat_allowance_t == 207_600  # 2,000,000 × 0.1038
    assert e.initial_allocation_t == 2_738_953
    assert e.shortfall_topup_t == 141_047  # 0.8 × 3,600,000 − 2,738,953
    assert e.final_allocation_t == 2_880_000
    assert e.verified_emissions_t - e.final_allocation_t == 720_000


def test_load_factor_exactly_065_gets_no_correction():
    assert peak_regulation_factor("I", Decimal("0.65"), RULES) == 1
    # just below: 1.015^(16 − 12.998) = 1.015^3.002 = 1.0457095... → 1.045710 (the rule jumps at 65%, reference §1.4.1)
    assert peak_regulation_factor("I", Decimal("0.6499"), RULES) == Decimal("1.045710")


def test_ff_only_for_conventional_coal():
    assert peak_regulation_factor("II", Decimal("0.50"), RULES) == Decimal("1.093443")  # 1.015^6 = 1.093443263…
    assert peak_regulation_factor("III", Decimal("0.30"), RULES) == 1
    assert peak_regulation_factor("IV", Decimal("0.30"), RULES) == 1


def test_ff_rounding_is_half_up_to_six_places():
    # F = 0.50: 1.015^6 = 1.093443263...; rounded → 1.093443
    assert peak_regulation_factor("I", Decimal("0.50"), RULES) == Decimal("1.093443")


def test_product_that_is_a_whole_number_is_not_reduced():
    # Qe 1,000,000 MWh × 0.7950 × Ff 1 (F = 0.80) = 795,000 exactly; heat 0.
    u = unit_allocation(unit(gen="1000000", heat="0", lf="0.80", e=700_000), RULES)
    assert u.electricity_allowance_t == 795_000


def test_gas_unit_below_its_emissions_is_topped_up():
    # Class IV: 1,000,000 MWh × 0.3305 = 330,500; heat 100,000 GJ × 0.0536 = 5,360; A = 335,860 < E = 400,000.
    u = unit_allocation(unit(cat="IV", gen="1000000", heat="100000", lf="0.40", e=400_000), RULES)
    assert (u.ff, u.electricity_allowance_t, u.heat_allowance_t) == (1, 330_500, 5_360)
    assert u.gas_topup_t == 64_140
    assert u.unit_allowance_t == 400_000


def test_coal_unit_gets_no_unit_level_topup():
    u = unit_allocation(unit(cat="II", gen="1000000", heat="0", lf="0.80", e=2_000_000), RULES)
    assert u.gas_topup_t == 0
    assert u.unit_allowance_t == 809_000


def test_multi_unit_entity_hits_the_20_percent_cap():
    # Two class II units at F ≥ 65%: 1,000,000 × 0.8090 = 809,000 each → initial 1,618,000.
    # E = 1,100,000 + 1,100,000 = 2,200,000; 0.8 × E = 1,760,000 > 1,618,000 → top-up 142,000.
    units, entities = allocate([unit(cat="II", gen="1000000", heat="0", lf="0.70", e=1_100_000, uid="#1"),
                                unit(cat="II", gen="1000000", heat="0", lf="0.70", e=1_100_000, uid="#2")], RULES)
    (e,) = entities
    assert (e.initial_allocation_t, e.shortfall_topup_t, e.final_allocation_t) == (1_618_000, 142_000, 1_760_000)


def test_topup_is_rounded_down():
    # E = 1,000,001 → 0.8 × E = 800,000.8; initial 795,000 → top-up floor(5,000.8) = 5,000.
    (u,) = [unit_allocation(unit(gen="1000000", heat="0", lf="0.80", e=1_000_001), RULES)]
    e = entity_allocation("E1", [u], 1_000_001, RULES)
    assert e.shortfall_topup_t == 5_000
    assert e.final_allocation_t == 800_000


def test_pre_allocation_is_seventy_percent_of_last_year_rounded_down():
    # 70% × 2,556.71…: prev 2,557 t → 1,789.9 → 1,789 (cf. the draft's 1789.70 → 1789).
    u = unit_allocation(unit(prev=2557), RULES)
    assert u.pre_allocation_t == 1789
    units, entities = allocate([unit(prev=2557, uid="#1"), unit(prev=2557, uid="#2")], RULES)
    assert entities[0].pre_allocation_t == 2 * 1789  # summed per unit after rounding (plan §五(一))
    assert entities[0].issue_delta_t == entities[0].final_allocation_t - 3578


def test_bad_inputs_refused():
    with pytest.raises(ValueError):
        peak_regulation_factor("V", Decimal("0.5"), RULES)
    with pytest.raises(ValueError):
        peak_regulation_factor("I", Decimal("1.2"), RULES)


def test_2024_benchmarks_are_used_for_2024():
    r24 = PowerRules.from_pack(load_pack("national/power-2023-2024"), 2024)
    u = unit_allocation(unit(gen="1000000", heat="0", lf="0.80", e=0), r24)
    assert u.electricity_allowance_t == 791_000


decimals = st.decimals(min_value=0, max_value=10_000_000, places=3, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(
    cats=st.lists(st.sampled_from(["I", "II", "III", "IV"]), min_size=1, max_size=4),
    gen=decimals, heat=decimals, lf=st.decimals(min_value=0, max_value=1, places=6),
    e=st.integers(min_value=0, max_value=20_000_000), prev=st.integers(min_value=0, max_value=20_000_000),
)
def test_entity_invariants(cats, gen, heat, lf, e, prev):
    units = [UnitInput("E", f"#{i}", c, gen, heat, lf, e, prev) for i, c in enumerate(cats)]
    us, (ent,) = allocate(units, RULES)
    E = e * len(cats)
    # shortfall at most 20%: final ≥ 0.8 E, and the top-up adds no more than needed (floor).
    assert 5 * ent.final_allocation_t >= 4 * E - 5
    assert ent.shortfall_topup_t >= 0
    assert ent.shortfall_topup_t == 0 or 5 * (ent.final_allocation_t - 1) < 4 * E
    assert ent.final_allocation_t == ent.initial_allocation_t + ent.shortfall_topup_t
    assert ent.initial_allocation_t == sum(u.unit_allowance_t for u in us)
    for u in us:
        assert isinstance(u.unit_allowance_t, int)
        assert u.unit_allowance_t >= 0
        if u.category == "IV":
            assert u.unit_allowance_t >= e  # gas units never short at unit level
        assert u.pre_allocation_t == (prev * 7) // 10


# ---- 2025–2026 consultation draft (表2 curve, pre-allocation 50%)

R25 = PowerRules.from_pack(load_pack("national/power-2025-2026"), 2025)


@pytest.mark.parametrize("lf,expected", [("0.30", "1.281146"), ("0.45", "1.126059"), ("0.4999", "1.100321"), ("0.50", "1"), ("0.80", "1")])
def test_2025_draft_ff_curve(lf, expected):
    # Independent check: math.exp in binary floating point gives the same value to 6 places
    # (F = 30: 7.254 − 0.633 × (1 − e^(−30/29.822)) − 5.643 × (1 − e^(−30/6.871)) = 1.2811458…).
    import math

    f = float(lf) * 100
    oracle = 7.254 - 0.633 * (1 - math.exp(-f / 29.822)) - 5.643 * (1 - math.exp(-f / 6.871)) if f < 50 else 1.0
    got = peak_regulation_factor("I", Decimal(lf), R25)
    assert got == Decimal(expected)
    assert abs(float(got) - oracle) < 5e-7


def test_2025_draft_unit_and_pre_allocation():
    # Class I, Qe 3,000,000 MWh, Qh 2,000,000 GJ, F = 30%: Ae = 3,000,000 × 0.7902 × 1.281146 = 3,037,084.71 → 3,037,084;
    # Ah = 2,000,000 × 0.1027 = 205,400; pre-allocation 50% × 3,579 = 1,789.5 → 1,789 (the draft's rounding down).
    u = unit_allocation(unit(gen="3000000", heat="2000000", lf="0.30", e=3_300_000, prev=3_579), R25)
    assert (u.electricity_allowance_t, u.heat_allowance_t, u.unit_allowance_t, u.pre_allocation_t) == (3_037_084, 205_400, 3_242_484, 1_789)
