"""Power-sector allocation formulas, 2023–2024 plan (国环规气候〔2024〕1号). Pure: no Django, no I/O.

Every function takes a :class:`PowerRules` built from a rule pack and returns exact results; each
rounding step is the pack's. The clause of the plan is named beside each rule. Quantities:
tonnes CO2e as ``int``; generation in MWh, heat in GJ, load factor as a fraction, all ``Decimal``.

Order of the calculation (plan 附3, 附4, §三, §五):

1. ``Ff`` — peak-regulation correction factor, conventional coal units (I, II) only.
2. ``Ae = Qe × Be × Ff`` and ``Ah = Qh × Bh`` per unit, each rounded as the pack says.
3. gas unit (IV) top-up to its verified emissions (unit level).
4. entity initial allocation = Σ unit allowances; top-up to (1 − cap) × E (entity level, 20% cap).
5. pre-allocation = ratio × previous-year verified emissions per unit, summed per entity;
   the difference final − pre-allocation is issued or clawed back (多退少补).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from cets.core.quantities import apply_rounding, exact
from cets.rules.packs import Pack, PackError

CATEGORIES = ("I", "II", "III", "IV")
# The parameters each peak-regulation curve reads from its pack.
FF_CURVE_PARAMS = {
    "exp_1015": ("base", "intercept", "slope"),  # 2023–2024 plan 附3: base^(intercept − slope × F), F a fraction
    "exp_2025": ("c0", "c1", "tau1", "c2", "tau2"),  # 2025–2026 draft 表2: c0 − c1(1 − e^(−F/τ1)) − c2(1 − e^(−F/τ2)), F in %
}
COAL_CATEGORIES = ("I", "II", "III")
GAS_CATEGORY = "IV"


@dataclass(frozen=True)
class PowerRules:
    """The numbers of one power pack for one year."""

    pack_id: str
    year: int
    electricity_benchmark: dict[str, Decimal]  # tCO2/MWh by category
    heat_benchmark: dict[str, Decimal]  # tCO2/GJ: "coal", "gas"
    pre_allocation_ratio: Decimal
    shortfall_cap: Decimal
    gas_unit_topup: bool
    ff_curve: str
    ff_threshold: Decimal
    ff_params: dict[str, Decimal]
    ff_categories: tuple[str, ...]
    rounding: dict[str, str]

    @classmethod
    def from_pack(cls, pack: Pack, year: int) -> PowerRules:
        """Raises :class:`PackError` if the pack does not cover ``year`` or lacks a value."""
        if not pack.covers(year):
            raise PackError(f"{pack.id} does not cover {year}")
        if pack.sector != "power":
            raise PackError(f"{pack.id} is not a power-sector pack")
        return cls(
            pack_id=pack.id,
            year=year,
            electricity_benchmark={c: pack.decimal(f"benchmarks.{year}.electricity.{c}") for c in CATEGORIES},
            heat_benchmark={k: pack.decimal(f"benchmarks.{year}.heat.{k}") for k in ("coal", "gas")},
            pre_allocation_ratio=pack.decimal("allocation.pre_allocation_ratio"),
            shortfall_cap=pack.decimal("allocation.shortfall_cap"),
            gas_unit_topup=pack.flag("allocation.gas_unit_topup"),
            ff_curve=pack.text("peak_regulation.curve"),
            ff_threshold=pack.decimal("peak_regulation.threshold"),
            ff_params={k: pack.decimal(f"peak_regulation.{k}") for k in FF_CURVE_PARAMS.get(pack.text("peak_regulation.curve"), ())},
            ff_categories=tuple(pack.raw("peak_regulation.categories")),
            rounding={k: str(v) for k, v in pack.raw("rounding").items()},
        )


@dataclass(frozen=True)
class UnitInput:
    """One generating unit's inputs for one year.

    ``generation_mwh`` 发电量 (MWh), ``heat_supplied_gj`` 供热量 (GJ), ``load_factor`` 负荷（出力）系数
    as a fraction 0–1, emissions in tonnes CO2e (int).
    """

    entity_uscc: str
    unit_id: str
    category: str
    generation_mwh: Decimal
    heat_supplied_gj: Decimal
    load_factor: Decimal
    verified_emissions_t: int
    prev_verified_emissions_t: int
    rated_capacity_mw: Decimal = Decimal(0)


@dataclass(frozen=True)
class UnitAllocation:
    entity_uscc: str
    unit_id: str
    category: str
    ff: Decimal
    electricity_allowance_t: int
    heat_allowance_t: int
    gas_topup_t: int
    unit_allowance_t: int
    pre_allocation_t: int


@dataclass(frozen=True)
class EntityAllocation:
    entity_uscc: str
    verified_emissions_t: int
    pre_allocation_t: int
    initial_allocation_t: int
    shortfall_topup_t: int
    final_allocation_t: int
    issue_delta_t: int  # final − pre-allocation: > 0 issued, < 0 clawed back (多退少补)


def peak_regulation_factor(category: str, load_factor: Decimal, rules: PowerRules) -> Decimal:
    """调峰修正系数 Ff: for categories in the pack (I, II) and F below the pack's threshold, the pack's
    curve (2023–2024 plan 附3: ``1.015^(16 − 20F)``; 2025–2026 draft 表2: ``7.254 − 0.633(1 − e^(−F/29.822))
    − 5.643(1 − e^(−F/6.871))`` with F in %), else 1; other categories 1.

    ``load_factor`` is a fraction. Rounded by the pack's ``rounding.ff`` (half-up, 6 decimals).
    Raises ValueError for a load factor outside 0–1 or an unknown category.
    """
    if category not in CATEGORIES:
        raise ValueError(f"unknown unit category {category!r}")
    if not (Decimal(0) <= load_factor <= Decimal(1)):
        raise ValueError(f"load factor must be within 0–1, got {load_factor}")
    if category not in rules.ff_categories or load_factor >= rules.ff_threshold:
        return Decimal(1)
    p = rules.ff_params
    with exact():
        if rules.ff_curve == "exp_1015":
            ff = p["base"] ** (p["intercept"] - p["slope"] * load_factor)
        elif rules.ff_curve == "exp_2025":
            f = load_factor * 100  # the draft's F is in %
            ff = p["c0"] - p["c1"] * (1 - (-f / p["tau1"]).exp()) - p["c2"] * (1 - (-f / p["tau2"]).exp())
        else:
            raise PackError(f"{rules.pack_id}: unknown Ff curve {rules.ff_curve!r}")
    return apply_rounding(ff, rules.rounding["ff"])


def heat_benchmark(category: str, rules: PowerRules) -> Decimal:
    """Heat benchmark for the unit's fuel: coal for I–III, gas for IV (plan 附2)."""
    return rules.heat_benchmark["gas" if category == GAS_CATEGORY else "coal"]


def unit_allocation(u: UnitInput, rules: PowerRules) -> UnitAllocation:
    """A unit's allowance: ``Qe × Be × Ff + Qh × Bh`` (plan 附3; gas: Ff = 1, 附4) plus the gas top-up.

    Each part rounded by the pack; the gas unit's top-up is ``E − A`` when ``A < E`` (plan §三).
    """
    ff = peak_regulation_factor(u.category, u.load_factor, rules)
    with exact():
        ae = apply_rounding(u.generation_mwh * rules.electricity_benchmark[u.category] * ff, rules.rounding["electricity_allowance"])
        ah = apply_rounding(u.heat_supplied_gj * heat_benchmark(u.category, rules), rules.rounding["heat_allowance"])
        allowance = apply_rounding(Decimal(ae) + Decimal(ah), rules.rounding["unit_allowance"])
        topup = 0
        if u.category == GAS_CATEGORY and rules.gas_unit_topup and allowance < u.verified_emissions_t:
            topup = u.verified_emissions_t - int(allowance)
        pre = apply_rounding(Decimal(u.prev_verified_emissions_t) * rules.pre_allocation_ratio, rules.rounding["pre_allocation"])
    return UnitAllocation(
        entity_uscc=u.entity_uscc,
        unit_id=u.unit_id,
        category=u.category,
        ff=ff,
        electricity_allowance_t=int(ae),
        heat_allowance_t=int(ah),
        gas_topup_t=int(topup),
        unit_allowance_t=int(allowance) + int(topup),
        pre_allocation_t=int(pre),
    )


def entity_allocation(
    entity_uscc: str, units: Sequence[UnitAllocation], verified_emissions_t: int, rules: PowerRules
) -> EntityAllocation:
    """Entity level (plan §三): initial = Σ unit allowances; if initial < (1 − cap) × E, top up by
    ``(1 − cap) × E − initial`` rounded by the pack (down), so that the shortfall is at most the cap.

    ``verified_emissions_t`` is the entity's verified emissions of the year (Σ of its units).
    """
    initial = sum(u.unit_allowance_t for u in units)
    pre = sum(u.pre_allocation_t for u in units)
    with exact():
        floor_level = (Decimal(1) - rules.shortfall_cap) * Decimal(verified_emissions_t)
        topup = 0
        if Decimal(initial) < floor_level:
            topup = int(apply_rounding(floor_level - Decimal(initial), rules.rounding["shortfall_topup"]))
    final = initial + topup
    return EntityAllocation(
        entity_uscc=entity_uscc,
        verified_emissions_t=verified_emissions_t,
        pre_allocation_t=pre,
        initial_allocation_t=initial,
        shortfall_topup_t=topup,
        final_allocation_t=final,
        issue_delta_t=final - pre,
    )


def allocate(units: Iterable[UnitInput], rules: PowerRules) -> tuple[list[UnitAllocation], list[EntityAllocation]]:
    """Allocate a fleet: unit results in input order, entity results in order of first appearance."""
    unit_results: list[UnitAllocation] = []
    by_entity: dict[str, list[UnitAllocation]] = {}
    emissions: dict[str, int] = {}
    for u in units:
        r = unit_allocation(u, rules)
        unit_results.append(r)
        by_entity.setdefault(u.entity_uscc, []).append(r)
        emissions[u.entity_uscc] = emissions.get(u.entity_uscc, 0) + u.verified_emissions_t
    entities = [entity_allocation(e, rs, emissions[e], rules) for e, rs in by_entity.items()]
    return unit_results, entities
