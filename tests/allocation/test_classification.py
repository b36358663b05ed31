"""Unit categories and exclusions by hand from the 2023–2024 plan, 附1 表1 and 表2."""

from decimal import Decimal as D

import pytest

from cets.allocation.classification import FuelProfile, classify_unit
from cets.rules.packs import load_pack

PACK = load_pack("national/power-2023-2024")


def cls(**kw):
    return classify_unit(FuelProfile(**kw), PACK)


@pytest.mark.parametrize("kw,category,clause", [
    (dict(rated_capacity_mw=D(660), conventional_coal=D(1)), "I", "附1 表1"),
    (dict(rated_capacity_mw=D(400), conventional_coal=D(1)), "I", "附1 表1"),  # exactly 400 MW: 不低于400MW
    (dict(rated_capacity_mw=D("399.9"), conventional_coal=D(1)), "II", "附1 表1"),
    (dict(rated_capacity_mw=D(300), conventional_coal=D("0.92"), biomass=D("0.08")), "II", "附1 表1"),  # 注2: ≤ 10% biomass → main fuel
    (dict(rated_capacity_mw=D(300), conventional_coal=D("0.90"), biomass=D("0.10")), "II", "附1 表1"),  # exactly 10%
    (dict(rated_capacity_mw=D(300), unconventional_coal=D("0.51"), conventional_coal=D("0.49")), "III", "附1 表1"),
    (dict(rated_capacity_mw=D(300), unconventional_coal=D("0.50"), conventional_coal=D("0.50")), "II", "附1 表1"),  # 50% is not "超过50%"
    (dict(rated_capacity_mw=D(660), conventional_coal=D(1), cfb=True), "III", "附1 表1"),  # coal CFB is III whatever its size
    (dict(rated_capacity_mw=D(400), natural_gas=D("0.90"), conventional_coal=D("0.10")), "IV", "附1 表1"),
    (dict(rated_capacity_mw=D(400), natural_gas=D("0.89"), conventional_coal=D("0.11")), None, "附1 表1"),  # neither rule fits
    (dict(rated_capacity_mw=D(30), biomass=D(1)), None, "附1 表2-1"),
    (dict(rated_capacity_mw=D(30), biomass=D("0.51"), conventional_coal=D("0.49")), None, "附1 表2-2"),
    (dict(rated_capacity_mw=D(300), biomass=D("0.11"), conventional_coal=D("0.89")), None, "附1 表2-3"),
    (dict(rated_capacity_mw=D(300), secondary_energy=D("0.11"), conventional_coal=D("0.89")), None, "附1 表2-4"),
    (dict(rated_capacity_mw=D(100), special_fuel=D(1)), None, "附1 表2-5"),
    (dict(rated_capacity_mw=D(100), own_waste_gas=D(1)), None, "附1 表2-6"),
    (dict(rated_capacity_mw=D(400), natural_gas=D(1), gas_converted_from_coal_boiler=True), None, "附1 表2-7"),
    (dict(rated_capacity_mw=D(100), oil=D(1)), None, "附1 表2-8"),
    (dict(rated_capacity_mw=D(400), conventional_coal=D(1), igcc=True), None, "附1 表2-8"),
    (dict(rated_capacity_mw=D(660), conventional_coal=D(1), shut_before_final_allocation=True), None, "附1 表2-9"),
])
def test_categories_and_exclusions(kw, category, clause):
    r = cls(**kw)
    assert (r.category, r.clause) == (category, clause)
    assert r.zh
    assert r.en
    assert r.covered == (not clause.startswith("附1 表2"))


def test_shares_must_sum_to_one():
    with pytest.raises(ValueError):
        cls(rated_capacity_mw=D(300), conventional_coal=D("0.8"))
