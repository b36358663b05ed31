"""Emission accounting (pure): golden cases computed by hand from the guideline formula
E = Σ FC × NCV × CC × OF × 44/12 (发电设施核算指南, cn-ets-rules.md §6.2) and the rule packs."""

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cets.core.errors import CetsError
from cets.mrv.calc import AccountingRules, FuelDefault, MonthlyFuelRow, carbon_to_co2, fuel_carbon, load_factor, unit_year_emissions
from cets.rules.packs import PackError, load_pack, pack_for

DATA = Path(__file__).resolve().parents[2] / "data" / "cn-emission-factors" / "fossil_fuel_default_parameters.csv"
SD_1 = "913700001630435316"


def rules(pack_id="national/power-2023") -> AccountingRules:
    return AccountingRules.from_pack(load_pack(pack_id))


def generic_rules() -> AccountingRules:
    """The fuel table of the data README as it stands (no power-guideline coal rules)."""
    fuels = {}
    with DATA.open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            fuels[r["fuel"]] = FuelDefault(r["fuel"], "t", Decimal(r["default_ncv"]), Decimal(r["default_carbon_content_tc_per_gj"]),
                                           Decimal(r["default_oxidation_rate_pct"]) / 100, coal=False)
    return AccountingRules(pack_id="generic", years=(2023,), fuels=fuels)


def month(m, fuel="烟煤", fc="10000", ncv="20", cc="0.0275", of=None, gen="30000", hours="500", year=2023, unit="#1", **kw):
    d = lambda v: None if v is None else Decimal(v)  # noqa: E731
    return MonthlyFuelRow(entity_uscc=SD_1, unit_id=unit, year=year, month=m, fuel=fuel, fuel_consumed=Decimal(fc), ncv=d(ncv),
                          carbon_content=d(cc), oxidation_rate=d(of), generation_mwh=Decimal(gen), supplied_mwh=Decimal(0),
                          heat_supplied_gj=Decimal(0), operating_hours=Decimal(hours), rated_capacity_mw=Decimal("600"),
                          **{k: Decimal(v) for k, v in kw.items()})


def test_one_tonne_bituminous_coal_with_the_data_readme_defaults():
    # 1 t 烟煤: 1 × 23.204 GJ/t × 0.02618 tC/GJ × 0.93 = 0.5649570696 tC; × 44/12 = 24.8581110624 / 12 = 2.0715092552 tCO2
    [r] = unit_year_emissions([month(1, fc="1", ncv=None, cc=None)], generic_rules())
    assert r.lines[0].carbon_t == Decimal("0.5649570696")
    assert r.combustion_co2_t == Decimal("2.0715092552")
    assert r.combustion_co2_t.quantize(Decimal("0.0001")) == Decimal("2.0715")
    assert [r.lines[0].ncv_source, r.lines[0].carbon_content_source, r.lines[0].oxidation_rate_source] == ["default"] * 3


def test_one_tonne_bituminous_coal_under_the_2023_power_rules():
    # Power guideline 2023: coal OF 99%; no month measured (< 3) → CC 0.03085 tC/GJ.
    # 1 × 23.204 × 0.03085 × 0.99 = 0.708684966 tC; × 44/12 = 2.598511542 tCO2 → 3 t (half up)
    [r] = unit_year_emissions([month(1, fc="1", ncv=None, cc=None)], rules())
    assert r.lines[0].carbon_t == Decimal("0.708684966")
    assert r.combustion_co2_t == Decimal("2.598511542")
    assert r.emissions_t == 3
    assert (r.lines[0].carbon_content_source, r.lines[0].oxidation_rate_source) == ("coal_high_default", "coal_default")


def test_twelve_measured_months():
    # each month 10,000 t × 20 GJ/t × 0.0275 tC/GJ × 0.99 = 5,445 tC → × 44/12 = 19,965 tCO2; × 12 = 239,580 t
    [r] = unit_year_emissions([month(m) for m in range(1, 13)], rules())
    assert r.emissions_t == 239_580
    assert r.coal_measured_months == 12


def test_two_measured_months_fall_back_to_the_default():
    # 2 < 3 measured months → every month at 0.03085: 10,000 × 20 × 0.03085 × 0.99 = 6,108.3 tC → 22,397.1 t; × 12 = 268,765.2 → 268,765
    rows = [month(m, cc="0.0275" if m <= 2 else None) for m in range(1, 13)]
    [r] = unit_year_emissions(rows, rules())
    assert r.coal_measured_months == 2
    assert r.emissions_t == 268_765
    assert {ln.carbon_content_source for ln in r.lines} == {"coal_high_default"}


def test_three_measured_months_keep_their_values():
    # 3 × 19,965 + 9 × 22,397.1 = 59,895 + 201,573.9 = 261,468.9 → 261,469
    rows = [month(m, cc="0.0275" if m <= 3 else None) for m in range(1, 13)]
    [r] = unit_year_emissions(rows, rules())
    assert r.emissions_t == 261_469


def test_unmeasured_months_scope_keeps_measured_values():
    # The other reading of the rule (pack switch): 2 × 19,965 + 10 × 22,397.1 = 39,930 + 223,971 = 263,901
    from dataclasses import replace
    rows = [month(m, cc="0.0275" if m <= 2 else None) for m in range(1, 13)]
    [r] = unit_year_emissions(rows, replace(rules(), coal_cc_below_min="unmeasured_months"))
    assert r.emissions_t == 263_901


def test_natural_gas_defaults():
    # 100 × 10^4 Nm3 天然气: 100 × 389.31 × 0.0153 × 0.99 = 589.687857 tC; × 44/12 = 2,162.188809 → 2,162 t
    [r] = unit_year_emissions([month(1, fuel="天然气", fc="100", ncv=None, cc=None)], rules())
    assert r.lines[0].carbon_t == Decimal("589.687857")
    assert r.emissions_t == 2_162


def test_purchased_electricity_only_where_the_year_counts_it():
    # One measured month (< 3) → CC 0.03085: 10,000 × 20 × 0.03085 × 0.99 × 44/12 = 22,397.1 t of fuel CO2.
    # 2022: + 1,000 MWh × 0.5703 = 570.3 t → 22,967.4 → 22,967; 2023: electricity not counted → 22,397
    r22 = unit_year_emissions([month(1, year=2022, purchased_electricity_mwh="1000")], rules("national/power-2022"))[0]
    r23 = unit_year_emissions([month(1, purchased_electricity_mwh="1000")], rules())[0]
    assert r22.electricity_co2_t == Decimal("570.3000")
    assert r22.emissions_t == 22_967
    assert r23.electricity_co2_t == 0
    assert r23.emissions_t == 22_397


def test_beijing_green_electricity_counts_zero():
    # Beijing: OF from the fuel table (烟煤 0.93): 10,000 × 20 × 0.0275 × 0.93 = 5,115 tC → 18,755 t;
    # electricity (1,000 − 400 green) × 0.604 = 362.4 t; total 19,117.4 → 19,117
    [r] = unit_year_emissions([month(1, purchased_electricity_mwh="1000", green_electricity_mwh="400")], rules("beijing/power-2023"))
    assert r.electricity_co2_t == Decimal("362.400")
    assert r.emissions_t == 19_117


def test_unit_month_figures_counted_once_with_two_fuels():
    # Two fuel rows in one month repeat generation 30,000 MWh and 500 h: counted once.
    # 烟煤 (1 measured month < 3 → 0.03085) 22,397.1 t + 天然气 100 → 2,162.188809 t = 24,559.288809 → 24,559
    rows = [month(1), month(1, fuel="天然气", fc="100", ncv=None, cc=None)]
    [r] = unit_year_emissions(rows, rules())
    assert r.generation_mwh == 30_000
    assert r.operating_hours == 500
    assert r.emissions_t == 24_559


def test_load_factor():
    # 2,340,000 MWh / (600 MW × 5,000 h) = 0.78;  1,000,000 / (350 × 7,000) = 0.40816326… → 0.408163
    assert load_factor(generation_mwh=Decimal(2_340_000), rated_capacity_mw=Decimal(600), operating_hours=Decimal(5000),
                       rounding="half_up:6") == Decimal("0.780000")
    assert load_factor(generation_mwh=Decimal(1_000_000), rated_capacity_mw=Decimal(350), operating_hours=Decimal(7000),
                       rounding="half_up:6") == Decimal("0.408163")
    assert load_factor(generation_mwh=Decimal(0), rated_capacity_mw=Decimal(350), operating_hours=Decimal(0), rounding="half_up:6") == 0
    with pytest.raises(CetsError) as e:
        load_factor(generation_mwh=Decimal(1), rated_capacity_mw=Decimal(350), operating_hours=Decimal(0), rounding="half_up:6")
    assert e.value.code == "M0102"
    # through the year: 12 × 30,000 MWh / (600 × 12 × 500 h) = 360,000 / 3,600,000 = 0.1
    [r] = unit_year_emissions([month(m) for m in range(1, 13)], rules())
    assert r.load_factor == Decimal("0.100000")


def test_accounting_pack_is_kept_apart_from_the_allocation_pack():
    assert pack_for("national", "power", 2023).id == "national/power-2023-2024"
    assert pack_for("national", "power", 2023, kind="accounting").id == "national/power-2023"
    assert pack_for("beijing", "power", 2023, kind="accounting").id == "beijing/power-2023"
    with pytest.raises(CetsError) as e:
        AccountingRules.from_pack(load_pack("national/power-2023-2024"))
    assert e.value.code == "M0101"
    with pytest.raises(PackError):
        pack_for("national", "power", 2021, kind="accounting")


@pytest.mark.parametrize("pack_id", ["national/power-2022", "national/power-2023", "beijing/power-2023"])
def test_pack_fuel_table_matches_the_data_file(pack_id):
    r = rules(pack_id)
    with DATA.open(encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert len(r.fuels) == len(table) == 27
    for row in table:
        f = r.fuels[row["fuel"]]
        assert (f.ncv, f.carbon_content, f.oxidation_rate) == (
            Decimal(row["default_ncv"]), Decimal(row["default_carbon_content_tc_per_gj"]), Decimal(row["default_oxidation_rate_pct"]) / 100)
    p = load_pack(pack_id)
    assert p.is_unconfirmed("fuels.烟煤.ncv")


def test_coal_rules_cited_and_flagged():
    p = load_pack("national/power-2023")
    assert p.decimal("accounting.coal_oxidation_rate") == Decimal("0.99")
    assert p.is_unconfirmed("accounting.coal_cc_unmeasured_default")
    assert not p.is_unconfirmed("accounting.coal_oxidation_rate")
    assert not p.flag("purchased_electricity.included")
    assert load_pack("national/power-2022").flag("purchased_electricity.included")


amounts = st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 12), st.sampled_from(["烟煤", "褐煤", "天然气", "柴油"]), amounts,
                          st.one_of(st.none(), st.decimals(min_value="0.02", max_value="0.04", places=5))), min_size=1, max_size=20,
                unique_by=lambda t: (t[0], t[1])), st.randoms())
def test_total_is_the_rounded_sum_of_its_lines_in_any_order(items, rnd):
    r = rules()
    rows = [month(m, fuel=f, fc=str(fc), cc=None if cc is None else str(cc)) for m, f, fc, cc in items]
    [a] = unit_year_emissions(rows, r)
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    [b] = unit_year_emissions(shuffled, r)
    assert a.emissions_t == b.emissions_t
    assert a.combustion_co2_t == carbon_to_co2(sum(ln.carbon_t for ln in a.lines), r)
    assert abs(Decimal(a.emissions_t) - sum(ln.co2_t for ln in a.lines)) <= Decimal("0.5") + Decimal("1e-20")
    # doubling every fuel amount doubles the exact carbon (tC; the CO2 differs only by the last digit of ÷12)
    doubled = [month(m, fuel=f, fc=str(fc * 2), cc=None if cc is None else str(cc)) for m, f, fc, cc in items]
    [c] = unit_year_emissions(doubled, r)
    assert sum(ln.carbon_t for ln in c.lines) == 2 * sum(ln.carbon_t for ln in a.lines)
    assert fuel_carbon(consumed=Decimal(0), ncv=Decimal(1), carbon_content=Decimal(1), oxidation_rate=Decimal(1)) == 0
