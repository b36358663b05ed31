"""DEMO industry facilities: generated steel works, cement clinker lines and aluminium electrolysis processes.

**This is demo data, generated, not real.** Facility data of China's steel, cement and aluminium key
emitting entities is not public, so the demo makes it up from a seed, like the power fleet
(:mod:`cets.demo.fleet`). No figure here describes a real plant.

Shape: :func:`generate_works` takes the entities of one sector (USCC, name, 2-digit GB/T 2260 province
code) and returns one :class:`GeneratedFacility` per facility, each with one :class:`FacilityYear` per
requested year (default 2024). The facility is the allocation unit of the sector's plan (2025–2026 draft
§四(二)3, cn-ets-rules.md §2.2):

- ``steel``: 1–2 integrated works (``integrated_works``, codes ``S1``, ``S2``) per entity; output = the
  ironmaking product (hot metal, t); intensity emissions = E_ironmaking + E_sintering, about 1.55 t CO2 per
  t hot metal (±8% by works); verified emissions of the works = intensity emissions × 1.12–1.30 (coking,
  steelmaking, rolling and on-site power on top).
- ``cement``: 1–3 clinker lines (``clinker_line``, ``C1``…) per entity of 2,500 / 5,000 / 10,000 t/d,
  running 250–330 days at 55–90% of rated output; output = clinker (t); intensity emissions = the line's
  emissions, about 0.86 t CO2 per t clinker (process ≈ 0.52 + fuel ≈ 0.34; ±4% by line); verified =
  intensity emissions × 1.00–1.03 (kiln-head drying, vehicles).
- ``aluminium``: 1–2 electrolysis processes (``electrolysis``, ``A1``, ``A2``) per entity of 0.15–1.2 Mt
  molten aluminium a year; intensity emissions = energy-as-raw-material (anode) + anode-effect (PFC, CO2e)
  emissions, about 1.70 t CO2e per t aluminium (±6%); verified = intensity emissions × 1.03–1.10 (fuel
  combustion in anode baking and casting). Direct emissions only: the national market covers direct
  emissions (coverage threshold on direct emissions, 2025 notice 环办气候函〔2025〕140号, cn-ets-rules.md §2.1);
  the electricity a smelter uses (≈ 13,500 kWh/t) is another party's emissions and is not counted here.

Calibration (magnitudes, cn-ets-rules.md §2.1: the three sectors' 2024–2025 plan covers about 3,700
entities and about 3 Gt of allowances [S, ICAP]): about 3.3 Mt CO2 per steel entity (China's crude steel
≈ 1.0 Gt a year at ≈ 1.8 t CO2/t; the 480 steel entities of the 2024 disclosures → ≈ 1.6 Gt, ≈ 0.85 Gt of
hot metal), about 1.4 Mt per cement producer (≈ 1.1 Gt clinker a year nationally; the 636 cement producers
of the disclosures → ≈ 0.9 Gt, ≈ 1.0 Gt of clinker), about 1.5 Mt per aluminium smelter (≈ 43 Mt primary
aluminium a year nationally; the 48 smelters → ≈ 40 Mt aluminium, ≈ 0.07 Gt direct).

Years: each year's figures come from an RNG seeded by ``sha256(seed, sector, uscc, facility, year)``;
the facility's size and quality from ``sha256(seed, sector, uscc)``; output grows by ``GROWTH`` a year
from 2024 (steel and cement −1%, aluminium +2%: the 2024 market was flat to falling), so adding a year
does not change the others and input order does not matter.

Pure: no Django, no I/O. Floats are used only inside the samplers; every figure in the result is an
``int`` (tonnes), converted with explicit half-up rounding.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .fleet import EntitySeed

__all__ = ["SECTORS", "WorksSeed", "FacilityYear", "GeneratedFacility", "generate_works"]

SECTORS = ("steel", "cement", "aluminium")

#: Facility kind and code prefix by sector.
KIND = {"steel": "integrated_works", "cement": "clinker_line", "aluminium": "electrolysis"}
PREFIX = {"steel": "S", "cement": "C", "aluminium": "A"}
#: Facilities per entity (weights).
FACILITIES_PER_ENTITY = {
    "steel": ((1, 0.85), (2, 0.15)),
    "cement": ((1, 0.60), (2, 0.30), (3, 0.10)),
    "aluminium": ((1, 0.80), (2, 0.20)),
}
#: Intensity (t CO2e per t product) centre and relative sd by facility; yearly scatter relative sd.
INTENSITY = {"steel": (1.55, 0.08), "cement": (0.86, 0.04), "aluminium": (1.70, 0.06)}
INTENSITY_YEAR_SD = 0.01
#: Verified emissions / intensity emissions: uniform range by facility.
OTHER_EMISSIONS = {"steel": (1.12, 1.30), "cement": (1.00, 1.03), "aluminium": (1.03, 1.10)}
#: Steel: hot metal a year (t), log-normal median and sigma, clipped.
STEEL_HOT_METAL = (1_250_000, 0.65, 200_000, 12_000_000)
#: Cement: clinker line rated output (t/day) and weight; days run and utilisation (uniform).
CLINKER_TPD = ((2_500, 0.30), (5_000, 0.55), (10_000, 0.15))
CLINKER_DAYS = (250, 330)
CLINKER_UTILISATION = (0.55, 0.90)
#: Aluminium: molten aluminium a year (t), uniform.
ALUMINIUM_T = (150_000, 1_200_000)
#: Output growth a year from 2024, by sector; each year's output also scatters by ±3% (sd).
BASE_YEAR = 2024
GROWTH = {"steel": 0.99, "cement": 0.99, "aluminium": 1.02}
OUTPUT_YEAR_SD = 0.03


# An industry key emitting entity to generate facilities for: the power fleet's seed (USCC, name, province).
WorksSeed = EntitySeed


@dataclass(frozen=True)
class FacilityYear:
    """One DEMO facility's figures for one year (generated, not real), tonnes (int): ``verified_emissions_t``
    t CO2e of the facility, ``intensity_emissions_t`` t CO2e its sector's intensity counts (≤ verified),
    ``output_t`` t of product (hot metal, clinker, molten aluminium; > 0)."""

    verified_emissions_t: int
    intensity_emissions_t: int
    output_t: int


@dataclass(frozen=True)
class GeneratedFacility:
    """One DEMO facility (generated, not real): ``code`` unique within the entity (``S1``, ``C2``, ``A1``…),
    ``kind`` as :class:`cets.parties.models.Facility` names it, ``years`` maps each requested year to its
    :class:`FacilityYear`."""

    entity_uscc: str
    sector: str
    code: str
    kind: str
    years: dict[int, FacilityYear]


def _rng(*parts: object) -> random.Random:
    key = "|".join(["cets-demo-works", *map(str, parts)]).encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


def _pick(rng: random.Random, options):
    x = rng.random() * sum(w for _, w in options)
    for value, weight in options:
        x -= weight
        if x < 0:
            return value
    return options[-1][0]


def _t(x: float) -> int:
    """A sampler's float as whole tonnes, half-up (the only float → int door)."""
    return int(Decimal(x).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class _Plan:
    code: str
    output_base: float  # t product a year in BASE_YEAR
    intensity: float  # t CO2e per t product
    other: float  # verified / intensity emissions


def _plan(sector: str, entity: WorksSeed, seed: int) -> list[_Plan]:
    rng = _rng(seed, sector, entity.uscc)
    centre, sd = INTENSITY[sector]
    plans = []
    for i in range(1, _pick(rng, FACILITIES_PER_ENTITY[sector]) + 1):
        if sector == "steel":
            median, sigma, lo, hi = STEEL_HOT_METAL
            output = min(hi, max(lo, rng.lognormvariate(0.0, sigma) * median))
        elif sector == "cement":
            output = _pick(rng, CLINKER_TPD) * rng.uniform(*CLINKER_DAYS) * rng.uniform(*CLINKER_UTILISATION)
        else:
            output = rng.uniform(*ALUMINIUM_T)
        intensity = centre * max(0.7, 1 + rng.gauss(0.0, sd))
        plans.append(_Plan(code=f"{PREFIX[sector]}{i}", output_base=output, intensity=intensity, other=rng.uniform(*OTHER_EMISSIONS[sector])))
    return plans


def _year(sector: str, entity: WorksSeed, plan: _Plan, year: int, seed: int) -> FacilityYear:
    rng = _rng(seed, sector, entity.uscc, plan.code, year)
    output = _t(plan.output_base * GROWTH[sector] ** (year - BASE_YEAR) * max(0.8, 1 + rng.gauss(0.0, OUTPUT_YEAR_SD)))
    intensity_e = _t(output * plan.intensity * (1 + rng.gauss(0.0, INTENSITY_YEAR_SD)))
    verified = max(intensity_e, _t(intensity_e * plan.other))
    return FacilityYear(verified_emissions_t=verified, intensity_emissions_t=intensity_e, output_t=max(1, output))


def generate_works(sector: str, entities: Sequence[WorksSeed], *, seed: int = 2023, years: Sequence[int] = (2024,)) -> list[GeneratedFacility]:
    """Generate DEMO facilities (not real data) of ``sector`` (steel, cement or aluminium) for ``entities``,
    with figures for each of ``years``. Deterministic: the same entities (in any order) and seed give the
    same list, sorted by entity USCC and facility code. Raises ValueError for an unknown sector, a
    duplicate or empty USCC, or no / duplicate / non-integer years."""
    if sector not in SECTORS:
        raise ValueError(f"sector must be one of {SECTORS}, got {sector!r}")
    year_list = sorted(years)
    if not year_list or len(set(year_list)) != len(year_list) or not all(isinstance(y, int) and not isinstance(y, bool) for y in year_list):
        raise ValueError(f"years must be distinct integers, got {years!r}")
    seen: set[str] = set()
    for e in entities:
        if not e.uscc or e.uscc in seen:
            raise ValueError(f"empty or duplicate entity {e.uscc!r}")
        seen.add(e.uscc)
    out = []
    for entity in sorted(entities, key=lambda e: e.uscc):
        for plan in _plan(sector, entity, seed):
            out.append(GeneratedFacility(entity_uscc=entity.uscc, sector=sector, code=plan.code, kind=KIND[sector],
                                         years={y: _year(sector, entity, plan, y, seed) for y in year_list}))
    return out
