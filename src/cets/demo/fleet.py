"""DEMO power fleet: generated generating units (机组) for the power sector's key emitting entities.

**This is demo data, generated, not real.** Unit-level data of China's power key emitting entities
(重点排放单位) is not public, so the demo makes it up from a seed. It is deterministic and shaped to look
like China's coal and gas fleet, but no figure here describes a real plant.

Shape: :func:`generate_fleet` takes the entities (USCC, name, 2-digit GB/T 2260 province code) and
returns one :class:`GeneratedUnit` per unit, 1–4 per entity, each with one :class:`UnitYear` per
requested year (default 2022 and 2023). Units, categories and quantities:

- ``category``: ``"I"`` conventional coal ≥ 400 MW (600/660/1000 MW), ``"II"`` conventional coal < 400 MW
  (135–350 MW), ``"III"`` non-conventional coal / CFB (50–350 MW), ``"IV"`` gas (50–460 MW), as in the
  2023–2024 plan 附1 (reference §1.2). By unit count roughly 35% / 40% / 13% / 12%.
- ``rated_capacity_mw`` (MW), ``generation_mwh`` (MWh, 3 decimals), ``heat_supplied_gj`` (GJ, 3
  decimals), ``load_factor`` (fraction 0–1, 6 decimals, exactly ``generation / (capacity × hours)``
  rounded half-up), ``operating_hours`` (h, int), ``verified_emissions_t`` (tCO2, int, direct
  combustion only).

How the numbers are made (all per entity, from an RNG seeded by ``sha256(seed, uscc)``; yearly figures
from an RNG seeded by ``sha256(seed, uscc, unit code, year)``, so the output does not depend on input
order, and adding a year does not change the others):

- coal units run 4,000–8,000 h at a load factor mostly 0.55–0.85 (about a third below 0.65, which
  earns the peak-regulation factor Ff); gas units run 2,000–6,500 h. About half of the coal units
  supply heat (more in the north), a third of the gas units.
- emissions = generation × unit generation intensity + heat × unit heat intensity, the intensities
  scattered around the 2023 balance values (reference §1.3) times a calibration factor, with a small
  load penalty (lower load → higher intensity). Most entities are within ±10% of the centre; about
  2.5% are far worse (+28–50%), so the entity-level 20% shortfall cap binds for about 1–3% of
  entities, and about 40% of the gas units emit more than their allocation (gas top-up).
- the calibration makes ~2,100 entities emit about 5 Gt CO2 in 2023 (~2.4 Mt per entity), 2022 a few
  percent lower, years after 2023 with intensities 1% a year better (``IMPROVEMENT``), and leaves the
  sector roughly balanced under the 2023 allocation: total surplus of the long entities is 1.0–1.3 ×
  total deficit of the short ones.

Pure: no Django, no I/O. Floats are used only inside the samplers; every figure in the result is
``Decimal`` or ``int``, converted with explicit half-up rounding.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from cets.core.quantities import is_digits

__all__ = ["EntitySeed", "UnitYear", "GeneratedUnit", "generate_fleet"]

CATEGORIES = ("I", "II", "III", "IV")

#: 2023 balance values (平衡值), 2023–2024 plan 附2 (reference §1.3): tCO2/MWh and tCO2/GJ.
BALANCE_2023 = {"I": Decimal("0.7982"), "II": Decimal("0.8155"), "III": Decimal("0.8352"), "IV": Decimal("0.3239")}
HEAT_BALANCE_2023 = {"coal": Decimal("0.1041"), "gas": Decimal("0.0525")}

#: Calibration: the centre of the generated intensities is balance value × this factor. Tuned so that,
#: under the 2023 allocation, surplus / deficit over the entities is 1.0–1.3 (see the module doc).
CENTRE_FACTOR = {"coal": 0.998, "gas": 1.0}

#: Weights of an entity's main category before the provincial adjustment (by entity).
BASE_CATEGORY_WEIGHTS = {"I": 0.36, "II": 0.405, "III": 0.115, "IV": 0.12}
#: Provinces where gas units are common (Beijing, Tianjin, Shanghai, Jiangsu, Zhejiang, Fujian,
#: Guangdong, Chongqing) and where CFB / coal-gangue units are (Shanxi, Inner Mongolia, Shaanxi, Gansu,
#: Ningxia, Xinjiang); multipliers on the base weights, renormalised.
GAS_PROVINCES = frozenset({"11", "12", "31", "32", "33", "35", "44", "50"})
CFB_PROVINCES = frozenset({"14", "15", "61", "62", "64", "65"})
PROVINCE_MULTIPLIER = {
    "gas": {"I": 1.0, "II": 0.85, "III": 0.5, "IV": 2.6},
    "cfb": {"I": 0.9, "II": 0.9, "III": 2.2, "IV": 0.3},
    "other": {"I": 1.0, "II": 1.05, "III": 1.0, "IV": 0.45},
}
#: Provinces with district heating (北方供暖): coal units there supply heat more often.
NORTH_PROVINCES = frozenset({"11", "12", "13", "14", "15", "21", "22", "23", "37", "41", "61", "62", "63", "64", "65"})
HEAT_SHARE = {"north": 0.62, "south": 0.38, "gas": 0.33}

#: Units per entity (weights).
UNITS_PER_ENTITY = ((1, 0.50), (2, 0.36), (3, 0.08), (4, 0.06))
#: Chance that a unit is of another category than the entity's main one, and which.
MIXED_UNIT_SHARE = 0.12
SECONDARY_CATEGORY = {"I": (("II", 0.7), ("III", 0.3)), "II": (("I", 0.4), ("III", 0.6)), "III": (("II", 1.0),), "IV": ()}
#: Chance that a unit has the same capacity as the entity's first unit of its category (2 × 660 MW).
SAME_CAPACITY_SHARE = 0.7

#: Rated capacity (MW) and weight, by category.
CAPACITY_MW = {
    "I": ((600, 0.25), (660, 0.48), (1000, 0.27)),
    "II": ((135, 0.12), (200, 0.10), (300, 0.35), (330, 0.23), (350, 0.20)),
    "III": ((50, 0.10), (100, 0.12), (135, 0.18), (150, 0.15), (200, 0.10), (300, 0.20), (330, 0.08), (350, 0.07)),
    "IV": ((50, 0.08), (80, 0.08), (100, 0.10), (180, 0.14), (200, 0.10), (250, 0.08), (300, 0.08), (350, 0.08), (390, 0.14), (460, 0.12)),
}

#: Operating hours (h): base drawn uniformly, then ±3% a year, clipped.
HOURS = {"coal": (4200, 6800, 4000, 8000), "gas": (2400, 6000, 2000, 6500)}  # base lo, hi, clip lo, hi
#: Load factor: base ~ N(mean, sd), clipped; then ±2.5% a year.
LOAD_FACTOR = {"coal": (0.69, 0.075), "gas": (0.72, 0.09)}
LOAD_FACTOR_CLIP = (0.40, 0.95)
#: Heat supplied per MWh generated (GJ/MWh) by a heat-supplying unit: uniform range.
HEAT_RATIO = {"coal": (0.6, 3.0), "gas": (0.5, 2.0)}

#: Intensity scatter: entity quality ~ N(0, sd); each unit adds N(0, sd); each year N(0, sd).
ENTITY_SD = {"coal": 0.035, "gas": 0.05}
UNIT_SD = 0.02
YEAR_SD = 0.006
#: A few entities are far worse than the centre (old, badly run, poor coal).
POOR_ENTITY_SHARE = 0.025
POOR_ENTITY_EXCESS = (0.28, 0.50)
#: Intensity rises as load falls: + slope × (pivot − load factor).
LOAD_PENALTY = {"coal": (0.12, 0.70), "gas": (0.08, 0.72)}
#: Heat intensity: scatter N(0, sd) plus this share of the entity's quality.
HEAT_SD = 0.03
HEAT_QUALITY_SHARE = 0.5

#: Generation growth a year; the generated year y is scaled by GROWTH ** (y − 2023), split between
#: hours and load factor.
BASE_YEAR = 2023
GROWTH = 1.035
#: Intensity improvement a year after the base year: generated years y > 2023 have their intensity centres
#: scaled by (1 − IMPROVEMENT) ** (y − 2023); years up to 2023 are untouched. 1% a year, a little more than
#: the plan's own benchmark step (2024 benchmarks are 0.5% below 2023's, pack power-2023-2024 附2), so that
#: the 2024 sector under the 2024 benchmarks is slightly long (about 1%), as 2023's is.
IMPROVEMENT = 0.01

_MWH = Decimal("0.001")
_GJ = Decimal("0.001")
_LF = Decimal("0.000001")
_INTENSITY = Decimal("0.000001")


@dataclass(frozen=True)
class EntitySeed:
    """A power key emitting entity to generate units for: USCC, name, 2-digit GB/T 2260 province code."""

    uscc: str
    name: str
    province: str


@dataclass(frozen=True)
class UnitYear:
    """One DEMO unit's figures for one year (generated, not real).

    ``generation_mwh`` MWh (3 dp), ``heat_supplied_gj`` GJ (3 dp), ``load_factor`` fraction 0–1 (6 dp,
    = generation / (rated capacity × operating hours), half-up), ``operating_hours`` h,
    ``verified_emissions_t`` tCO2 (direct combustion).
    """

    generation_mwh: Decimal
    heat_supplied_gj: Decimal
    load_factor: Decimal
    operating_hours: int
    verified_emissions_t: int


@dataclass(frozen=True)
class GeneratedUnit:
    """One DEMO generating unit (机组) of an entity (generated, not real).

    ``code`` ``"#1"``, ``"#2"``, … unique within the entity; ``category`` ``"I"``–``"IV"`` (plan 附1);
    ``rated_capacity_mw`` MW; ``years`` maps each requested year to its :class:`UnitYear`.
    """

    entity_uscc: str
    code: str
    category: str
    rated_capacity_mw: Decimal
    years: dict[int, UnitYear]


def _rng(*parts: object) -> random.Random:
    """An RNG seeded from a SHA-256 of the parts (stable across runs, unlike the salted ``hash()``)."""
    key = "|".join(["cets-demo-fleet", *map(str, parts)]).encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


def _pick(rng: random.Random, options: Sequence[tuple[object, float]]):
    x = rng.random() * sum(w for _, w in options)
    for value, weight in options:
        x -= weight
        if x < 0:
            return value
    return options[-1][0]


def _clip(x: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, x))


def _dec(x: float, quantum: Decimal) -> Decimal:
    """A sampler's float as a Decimal, rounded half-up to ``quantum`` (the only float → Decimal door)."""
    return Decimal(x).quantize(quantum, rounding=ROUND_HALF_UP)


def _category_weights(province: str) -> list[tuple[str, float]]:
    region = "gas" if province in GAS_PROVINCES else "cfb" if province in CFB_PROVINCES else "other"
    mult = PROVINCE_MULTIPLIER[region]
    return [(c, BASE_CATEGORY_WEIGHTS[c] * mult[c]) for c in CATEGORIES]


@dataclass(frozen=True)
class _UnitPlan:
    code: str
    category: str
    capacity_mw: int
    hours_base: float
    load_factor_base: float
    heat_ratio: float  # GJ per MWh; 0 if the unit supplies no heat
    deviation: float  # relative deviation of the generation intensity from the centre
    heat_deviation: float


def _plan_entity(entity: EntitySeed, seed: int) -> list[_UnitPlan]:
    rng = _rng(seed, entity.uscc)
    main = _pick(rng, _category_weights(entity.province))
    n_units = _pick(rng, UNITS_PER_ENTITY)
    fuel_main = "gas" if main == "IV" else "coal"
    quality = rng.gauss(0.0, ENTITY_SD[fuel_main])
    if rng.random() < POOR_ENTITY_SHARE:
        quality += rng.uniform(*POOR_ENTITY_EXCESS)
    heat_share = HEAT_SHARE["gas"] if main == "IV" else HEAT_SHARE["north" if entity.province in NORTH_PROVINCES else "south"]
    supplies_heat = rng.random() < heat_share
    first_capacity: dict[str, int] = {}
    plans = []
    for i in range(1, n_units + 1):
        category = main
        if i > 1 and SECONDARY_CATEGORY[main] and rng.random() < MIXED_UNIT_SHARE:
            category = _pick(rng, SECONDARY_CATEGORY[main])
        if category in first_capacity and rng.random() < SAME_CAPACITY_SHARE:
            capacity = first_capacity[category]
        else:
            capacity = _pick(rng, CAPACITY_MW[category])
            first_capacity.setdefault(category, capacity)
        fuel = "gas" if category == "IV" else "coal"
        h_lo, h_hi, _, _ = HOURS[fuel]
        lf_mean, lf_sd = LOAD_FACTOR[fuel]
        heat_lo, heat_hi = HEAT_RATIO[fuel]
        plans.append(
            _UnitPlan(
                code=f"#{i}",
                category=category,
                capacity_mw=capacity,
                hours_base=rng.uniform(h_lo, h_hi),
                load_factor_base=_clip(rng.gauss(lf_mean, lf_sd), *LOAD_FACTOR_CLIP),
                heat_ratio=rng.uniform(heat_lo, heat_hi) if supplies_heat else 0.0,
                deviation=quality + rng.gauss(0.0, UNIT_SD),
                heat_deviation=HEAT_QUALITY_SHARE * quality + rng.gauss(0.0, HEAT_SD),
            )
        )
    return plans


def _unit_year(entity: EntitySeed, plan: _UnitPlan, year: int, seed: int) -> UnitYear:
    rng = _rng(seed, entity.uscc, plan.code, year)
    fuel = "gas" if plan.category == "IV" else "coal"
    _, _, h_min, h_max = HOURS[fuel]
    growth = math.sqrt(GROWTH ** (year - BASE_YEAR))
    hours = int(round(_clip(plan.hours_base * growth * (1 + rng.gauss(0.0, 0.03)), h_min, h_max)))
    lf_sample = _dec(_clip(plan.load_factor_base * growth * (1 + rng.gauss(0.0, 0.025)), *LOAD_FACTOR_CLIP), _LF)
    capacity = Decimal(plan.capacity_mw)
    with localcontext(prec=40):
        generation = (capacity * hours * lf_sample).quantize(_MWH, rounding=ROUND_HALF_UP)
        load_factor = (generation / (capacity * hours)).quantize(_LF, rounding=ROUND_HALF_UP)
        heat = Decimal(0).quantize(_GJ)
        if plan.heat_ratio:
            heat = (generation * _dec(plan.heat_ratio * (1 + rng.gauss(0.0, 0.05)), _INTENSITY)).quantize(_GJ, rounding=ROUND_HALF_UP)
        slope, pivot = LOAD_PENALTY[fuel]
        lf = float(load_factor)
        better = (1 - IMPROVEMENT) ** (year - BASE_YEAR) if year > BASE_YEAR else 1.0
        centre = float(BALANCE_2023[plan.category]) * CENTRE_FACTOR[fuel] * better
        gen_intensity = _dec(centre * (1 + plan.deviation + slope * (pivot - lf) + rng.gauss(0.0, YEAR_SD)), _INTENSITY)
        heat_centre = float(HEAT_BALANCE_2023[fuel]) * CENTRE_FACTOR[fuel] * better
        heat_intensity = _dec(heat_centre * (1 + plan.heat_deviation + rng.gauss(0.0, YEAR_SD)), _INTENSITY)
        emissions = (generation * gen_intensity + heat * heat_intensity).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return UnitYear(
        generation_mwh=generation,
        heat_supplied_gj=heat,
        load_factor=load_factor,
        operating_hours=hours,
        verified_emissions_t=int(emissions),
    )


def generate_fleet(entities: Sequence[EntitySeed], *, seed: int = 2023, years: Sequence[int] = (2022, 2023)) -> list[GeneratedUnit]:
    """Generate DEMO generating units (not real data) for ``entities``: 1–4 units each, with figures
    for each of ``years``.

    Deterministic: the same entities (in any order) and seed give the same list, sorted by entity
    USCC and then unit number. Raises ValueError for a duplicate USCC, a province that is not a
    2-digit code, or no / duplicate / non-integer years.
    """
    year_list = list(years)
    if not year_list or len(set(year_list)) != len(year_list) or not all(isinstance(y, int) and not isinstance(y, bool) for y in year_list):
        raise ValueError(f"years must be distinct integers, got {years!r}")
    year_list.sort()
    seen: set[str] = set()
    for e in entities:
        if not e.uscc:
            raise ValueError("entity without a USCC")
        if e.uscc in seen:
            raise ValueError(f"duplicate entity {e.uscc}")
        if not (len(e.province) == 2 and is_digits(e.province)):
            raise ValueError(f"{e.uscc}: province must be a 2-digit GB/T 2260 code, got {e.province!r}")
        seen.add(e.uscc)
    units: list[GeneratedUnit] = []
    for entity in sorted(entities, key=lambda e: e.uscc):
        for plan in _plan_entity(entity, seed):
            units.append(
                GeneratedUnit(
                    entity_uscc=entity.uscc,
                    code=plan.code,
                    category=plan.category,
                    rated_capacity_mw=Decimal(plan.capacity_mw),
                    years={y: _unit_year(entity, plan, y, seed) for y in year_list},
                )
            )
    return units
