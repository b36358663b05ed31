"""The demo's activity lines (one entity per industry sector runs the MRV chain) land on its generated verified emissions
when the year is computed by the sector's accounting (within a tonne per month of rounding)."""

from decimal import Decimal

import pytest

from cets.demo.works import WorksSeed, generate_works
from cets.demo.year2024 import _demo_month_lines
from cets.mrv.accounting_industry import ActivityRow, IndustryRules, facility_years
from cets.rules.packs import load_pack


@pytest.mark.parametrize("sector", ["steel", "cement", "aluminium"])
def test_demo_lines_compute_to_the_generated_figures(sector):
    rules = IndustryRules.from_pack(load_pack(f"national/{sector}-accounting-2024-2026"))
    [w, *_] = generate_works(sector, [WorksSeed("91370100000000000X", "demo", "37")], seed=7, years=(2024,))
    y = w.years[2024]
    rows = [ActivityRow(row_no=i, entity_uscc="e", facility_id=w.code, year=2024, month=m, source=ln["source"], part=ln.get("part", ""),
                        material=ln["material"], quantity=ln.get("quantity"), measured_value=ln.get("measured_value"))
            for m in range(1, 13) for i, ln in enumerate(_demo_month_lines(sector, y.verified_emissions_t, y.intensity_emissions_t, y.output_t))]
    [fy] = facility_years(rows, rules)
    assert abs(fy.emissions_t - y.verified_emissions_t) <= 12
    assert abs(fy.output_t - y.output_t) <= Decimal("0.012")
    intensity = fy.emissions_t if fy.part_a_t is None else fy.part_a_t + fy.part_b_t
    if sector == "steel":  # E炼铁 + E烧结 sized to the generated intensity emissions
        assert abs(intensity - y.intensity_emissions_t) <= 12
    else:  # the line's / the electrolysis's emissions are all the intensity counts in this accounting (no fuel source)
        assert abs(intensity - fy.emissions_t) <= 1
