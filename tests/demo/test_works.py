"""Tests for the DEMO industry facility generator (``cets.demo.works``) and the pure helpers of the demo's 2024
year: generated data, not real. Pure: no database. The realistic input is the demo's own selection of the
real 2024 disclosures (steel; cement and aluminium by name)."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pytest

from cets.demo.works import GeneratedFacility, WorksSeed, generate_works

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ROOT / "data" / "cets-verification-entities" / "verification_targets.csv"
GT = 10**9


def _seeds(industry: str, contains: str = "") -> list[WorksSeed]:
    first: dict[str, str] = {}
    with TARGETS.open(encoding="utf-8-sig", newline="") as f:
        for r in csv.DictReader(f):
            if r["year"] == "2024" and r["industry"] == industry:
                first.setdefault(r["target_uscc"], r["target_entity_name"])
    return [WorksSeed(u, n, u[2:4]) for u, n in sorted(first.items()) if contains in n]


@pytest.fixture(scope="module")
def sectors() -> dict[str, tuple[list[WorksSeed], list[GeneratedFacility]]]:
    out = {}
    for sector, industry, contains in (("steel", "钢铁", ""), ("cement", "建材", "水泥"), ("aluminium", "有色金属", "铝")):
        seeds = _seeds(industry, contains)
        out[sector] = (seeds, generate_works(sector, seeds))
    return out


def test_selection_counts(sectors):
    assert {s: len(v[0]) for s, v in sectors.items()} == {"steel": 480, "cement": 636, "aluminium": 48}


def test_deterministic_and_order_free(sectors):
    seeds, works = sectors["cement"]
    assert generate_works("cement", list(reversed(seeds))) == works
    assert generate_works("cement", seeds, seed=7) != works
    # adding a year changes no other year
    two = generate_works("cement", seeds[:50], years=(2024, 2025))
    assert [dataclasses.replace(w, years={2024: w.years[2024]}) for w in two] == [w for w in works if w.entity_uscc <= seeds[49].uscc]


def test_every_entity_has_facilities_with_unique_codes(sectors):
    for sector, (seeds, works) in sectors.items():
        assert {w.entity_uscc for w in works} == {s.uscc for s in seeds}
        codes = [(w.entity_uscc, w.code) for w in works]
        assert len(codes) == len(set(codes))
        assert works == sorted(works, key=lambda w: (w.entity_uscc, w.code))
        assert {w.kind for w in works} == {{"steel": "integrated_works", "cement": "clinker_line", "aluminium": "electrolysis"}[sector]}


def test_figures_are_ints_within_the_database_constraint(sectors):
    for _, works in sectors.values():
        for w in works:
            y = w.years[2024]
            for v in (y.verified_emissions_t, y.intensity_emissions_t, y.output_t):
                assert type(v) is int
            assert 0 < y.intensity_emissions_t <= y.verified_emissions_t
            assert y.output_t > 0


@pytest.mark.parametrize("sector, lo, hi, gt_lo, gt_hi", [
    ("steel", 1.45, 1.65, 1.4, 1.8),  # t CO2 per t hot metal; ≈ 1.6 Gt over 480 entities
    ("cement", 0.83, 0.89, 0.75, 1.0),  # t CO2 per t clinker; ≈ 0.9 Gt over 636 producers
    ("aluminium", 1.60, 1.80, 0.05, 0.1),  # t CO2e per t aluminium (direct); ≈ 0.07 Gt over 48 smelters
])
def test_calibration(sectors, sector, lo, hi, gt_lo, gt_hi):
    _, works = sectors[sector]
    e = sum(w.years[2024].verified_emissions_t for w in works)
    i = sum(w.years[2024].intensity_emissions_t for w in works)
    out = sum(w.years[2024].output_t for w in works)
    assert gt_lo * GT <= e <= gt_hi * GT
    assert lo <= i / out <= hi
    assert min(w.years[2024].verified_emissions_t for w in works) >= 26_000  # above the coverage threshold


@pytest.mark.parametrize("kwargs", [
    {"sector": "paper", "entities": []},
    {"sector": "steel", "entities": [WorksSeed("X", "a", "11"), WorksSeed("X", "b", "11")]},
    {"sector": "steel", "entities": [], "years": ()},
    {"sector": "steel", "entities": [], "years": (2024, 2024)},
])
def test_bad_input_raises(kwargs):
    sector, entities = kwargs.pop("sector"), kwargs.pop("entities")
    with pytest.raises(ValueError):
        generate_works(sector, entities, **kwargs)


def test_split_surrendered_is_exact():
    from cets.demo.year2024 import split_surrendered

    assert split_surrendered(410_000, {"power": 110_000, "steel": 300_000}) == {"power": 110_000, "steel": 300_000}
    parts = split_surrendered(100, {"power": 1, "steel": 1, "cement": 1})
    assert sum(parts.values()) == 100
    assert sorted(parts.values()) == [33, 33, 34]
    assert split_surrendered(0, {"power": 5}) == {"power": 0}
    assert split_surrendered(7, {}) == {}


def test_cea24_prices_are_the_real_close():
    from cets.demo.year2024 import cea24_prices

    assert cea24_prices(TARGETS.parents[1] / "cea-national-official" / "cea_daily_quotes.csv") == (5_964, 5_849)  # 59.64 and 58.49 CNY/t
