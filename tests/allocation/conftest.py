"""Allocation fixtures: a small fleet on the ``world`` of tests/conftest.py, through the platform's services."""

from decimal import Decimal

import pytest

from cets.mrv.models import UnitYearData
from cets.mrv.services import unit_year_data_upsert
from cets.parties.models import GeneratingUnit


def _unit(entity, code, cat, mw, gen, heat, lf, e, prev):
    u = GeneratingUnit.objects.create(entity=entity, code=code, category=cat, rated_capacity_mw=Decimal(mw))
    unit_year_data_upsert(rows=[
        UnitYearData(unit=u, year=2023, generation_mwh=Decimal(gen), heat_supplied_gj=Decimal(heat), load_factor=Decimal(lf), verified_emissions_t=e),
        UnitYearData(unit=u, year=2022, generation_mwh=Decimal(0), heat_supplied_gj=Decimal(0), load_factor=Decimal("0.8"), verified_emissions_t=prev),
    ])
    return u


@pytest.fixture
def fleet(world):
    # SD_1, two class I units (multi-unit entity hitting the 20% cap):
    #   A: 100,000 MWh × 0.7950 × Ff 1 (F 0.80 ≥ 0.65) = 79,500; E 110,000; pre 0.7 × 100,000 = 70,000
    #   B:  50,000 MWh × 0.7950 × Ff 1 (F exactly 0.65)  = 39,750; E  60,000; pre 0.7 ×  50,000 = 35,000
    #   initial 119,250 < 0.8 × 170,000 = 136,000 → top-up 16,750, 应发 136,000; 预分配 105,000
    _unit(world.sd1, "A", "I", "600", "100000", "0", "0.80", 110_000, 100_000)
    _unit(world.sd1, "B", "I", "600", "50000", "0", "0.65", 60_000, 50_000)
    # SD_2, class II: 100,000 × 0.8090 = 80,900 ≥ 0.8 × 90,000 = 72,000 → 应发 80,900; pre 0.7 × 80,000 = 56,000
    _unit(world.sd2, "1", "II", "300", "100000", "0", "0.90", 90_000, 80_000)
    # ZJ_1, gas unit below its emissions: 100,000 × 0.3305 = 33,050 + 10,000 GJ × 0.0536 = 536 → 33,586 < E 40,000
    #   → gas top-up 6,414, 应发 40,000; pre 0.7 × 30,000 = 21,000
    _unit(world.zj1, "G1", "IV", "400", "100000", "10000", "0.40", 40_000, 30_000)
    return world


