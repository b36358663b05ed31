"""Power-sector allocation formulas of every national period. Pure: no Django, no I/O.

2023–2024 plan (国环规气候〔2024〕1号) as the main case; the 2019–2020 and 2021–2022 plans add the
供电量 (net supply) basis, the cooling-method, heat-supply and load-band correction factors, the
pre-allocation from an earlier year's output and (2021–2022) borrowing (预支); the 2025–2026 draft a new
Ff curve. Which applies is pack data (cn-ets-rules.md §1.1, §1.5, §1.6, §1.7).

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
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from functools import lru_cache

from cets.core.quantities import apply_rounding, exact
from cets.rules.packs import Pack, PackError

CATEGORIES = ("I", "II", "III", "IV")
# The parameters each peak-regulation curve reads from its pack.
FF_CURVE_PARAMS = {
    "exp_1015": ("base", "intercept", "slope"),  # 2023–2024 plan 附3: base^(intercept − slope × F), F a fraction
    "exp_2025": ("c0", "c1", "tau1", "c2", "tau2"),  # 2025–2026 draft 表2: c0 − c1(1 − e^(−F/τ1)) − c2(1 − e^(−F/τ2)), F in %
    # 2019–2020 / 2021–2022 负荷(出力)系数修正系数: linear bands a + b × (c − 100F) from their lower bound,
    # below the lowest band base^(intercept − slope × F) (cn-ets-rules.md §1.5)
    "bands_exp_1015": ("base", "intercept", "slope"),
}
OUTPUT_BASES = ("generation", "supply")
PRE_ALLOCATION_BASES = ("prev_emissions", "prev_output")
COAL_CATEGORIES = ("I", "II", "III")
GAS_CATEGORY = "IV"


def _band_value(pack: Pack, i: int, band: dict, key: str) -> Decimal:
    value = band.get(key)
    if not isinstance(value, str):
        raise PackError(f"{pack.id}: peak_regulation.bands[{i}].{key} must be a quoted decimal string")
    return Decimal(value)


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
    # Earlier periods (all optional; absent in the 2023– packs):
    output_basis: str = "generation"  # "supply": Qe is 供电量 (2019–2022)
    pre_allocation_basis: str = "prev_emissions"  # "prev_output": ratio × (earlier output × benchmarks)
    cooling_factors: dict[str, Decimal] = field(default_factory=dict)  # 冷却方式修正系数 by cooling type
    cooling_categories: tuple[str, ...] = ()
    heat_ratio_coefficients: dict[str, Decimal] = field(default_factory=dict)  # 供热量修正系数 1 − k × 供热比, k by fuel
    heat_ratio_categories: tuple[str, ...] = ()
    ff_pure_condensing_only: bool = False  # load correction only for units that supply no heat (2021–2022 [M])
    ff_bands: tuple[tuple[Decimal, Decimal, Decimal, Decimal], ...] = ()  # (from F, a, b, c), highest first
    borrowing_allowed: bool = False
    borrowing_threshold: Decimal = Decimal(0)  # an entity whose gap E − A exceeds this share of A may borrow
    borrowing_share: Decimal = Decimal(0)  # share of the gap it may borrow
    borrowing_rounding: str = "floor"
    # The top-up leaves a gap of at most the cap (⌈(1 − cap) × E⌉; pack ``allocation.shortfall_gap_at_most_cap``)
    shortfall_gap_at_most_cap: bool = False

    @property
    def needs_supply(self) -> bool:
        return self.output_basis == "supply"

    @property
    def needs_prev_output(self) -> bool:
        return self.pre_allocation_basis == "prev_output"

    @property
    def needs_cooling(self) -> bool:
        return bool(self.cooling_factors)

    @property
    def needs_heat_ratio(self) -> bool:
        return bool(self.heat_ratio_coefficients)

    @classmethod
    def from_pack(cls, pack: Pack, year: int) -> PowerRules:
        """Raises :class:`PackError` if the pack does not cover ``year`` or lacks a value."""
        if not pack.covers(year):
            raise PackError(f"{pack.id} does not cover {year}")
        if pack.sector != "power":
            raise PackError(f"{pack.id} is not a power-sector pack")
        data = pack.data
        alloc = data.get("allocation", {})
        corr = data.get("correction", {})
        pr = data.get("peak_regulation", {})
        output_basis = alloc.get("output_basis", "generation")
        pre_basis = alloc.get("pre_allocation_basis", "prev_emissions")
        if output_basis not in OUTPUT_BASES or pre_basis not in PRE_ALLOCATION_BASES:
            raise PackError(f"{pack.id}: unknown output or pre-allocation basis {output_basis!r}/{pre_basis!r}")
        bands = tuple(tuple(_band_value(pack, i, b, k) for k in ("from", "a", "b", "c")) for i, b in enumerate(pr.get("bands", [])))
        borrowing = bool(alloc.get("borrowing_allowed", False))
        extra = dict(
            output_basis=output_basis,
            pre_allocation_basis=pre_basis,
            cooling_factors={k: pack.decimal(f"correction.cooling.{k}") for k in corr.get("cooling", {})},
            cooling_categories=tuple(corr.get("cooling_categories", ())),
            heat_ratio_coefficients={k: pack.decimal(f"correction.heat_ratio.{k}") for k in corr.get("heat_ratio", {})},
            heat_ratio_categories=tuple(corr.get("heat_ratio_categories", ())),
            ff_pure_condensing_only=bool(pr.get("pure_condensing_only", False)),
            ff_bands=tuple(sorted(bands, key=lambda b: b[0], reverse=True)),
            borrowing_allowed=borrowing,
            borrowing_threshold=pack.decimal("borrowing.gap_threshold") if borrowing else Decimal(0),
            borrowing_share=pack.decimal("borrowing.share_of_gap") if borrowing else Decimal(0),
            borrowing_rounding=pack.text("borrowing.rounding") if borrowing else "floor",
            shortfall_gap_at_most_cap=bool(alloc.get("shortfall_gap_at_most_cap", False)),
        )
        return cls(
            **extra,
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
    # Earlier periods only (2019–2022 packs): 供电量 MWh, cooling type ("water"/"air"), 供热比 (fraction 0–1),
    # and the output of the pre-allocation base year (供电量 MWh, 供热量 GJ).
    supplied_mwh: Decimal | None = None
    cooling: str = ""
    heat_ratio: Decimal = Decimal(0)
    prev_supplied_mwh: Decimal = Decimal(0)
    prev_heat_supplied_gj: Decimal = Decimal(0)


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
    cooling_factor: Decimal = Decimal(1)  # 冷却方式修正系数 (2019–2022)
    heat_factor: Decimal = Decimal(1)  # 供热量修正系数 (2019–2022)


@dataclass(frozen=True)
class EntityAllocation:
    entity_uscc: str
    verified_emissions_t: int
    pre_allocation_t: int
    initial_allocation_t: int
    shortfall_topup_t: int
    final_allocation_t: int
    issue_delta_t: int  # final − pre-allocation: > 0 issued, < 0 clawed back (多退少补)
    borrowing_limit_t: int = 0  # 预支 the entity may borrow from the next vintage (2021–2022 only)


def peak_regulation_factor(category: str, load_factor: Decimal, rules: PowerRules) -> Decimal:
    """调峰修正系数 Ff: for categories in the pack (I, II) and F below the pack's threshold, the pack's
    curve (2023–2024 plan 附3: ``1.015^(16 − 20F)``; 2025–2026 draft 表2: ``7.254 − 0.633(1 − e^(−F/29.822))
    − 5.643(1 − e^(−F/6.871))`` with F in %; 2019–2022 负荷系数修正系数: bands ``a + b(c − 100F)`` from 75%
    and 80%, below 75% ``1.015^(16 − 20F)``, cn-ets-rules.md §1.5 [M]), else 1; other categories 1.

    ``load_factor`` is a fraction. Rounded by the pack's ``rounding.ff`` (half-up, 6 decimals).
    Raises ValueError for a load factor outside 0–1 or an unknown category.
    """
    if category not in CATEGORIES:
        raise ValueError(f"unknown unit category {category!r}")
    if not (Decimal(0) <= load_factor <= Decimal(1)):
        raise ValueError(f"load factor must be within 0–1, got {load_factor}")
    if category not in rules.ff_categories or load_factor >= rules.ff_threshold:
        return Decimal(1)
    return _curve(rules.pack_id, rules.ff_curve, tuple(rules.ff_params.items()), rules.ff_bands, rules.rounding["ff"], load_factor)


@lru_cache(maxsize=65536)
def _curve(pack_id: str, curve: str, params: tuple, bands: tuple, rounding: str, load_factor: Decimal) -> Decimal:
    """The curve's value at ``load_factor`` (cached: a fractional power at 40 digits costs about half a
    millisecond, and a fleet shares load factors)."""
    p = dict(params)
    rules = _CurveRules(pack_id, curve, bands)
    with exact():
        if rules.ff_curve == "exp_1015":
            ff = p["base"] ** (p["intercept"] - p["slope"] * load_factor)
        elif rules.ff_curve == "bands_exp_1015":
            for lower, a, b, c in rules.ff_bands:
                if load_factor >= lower:
                    ff = a + b * (c - 100 * load_factor)
                    break
            else:
                ff = p["base"] ** (p["intercept"] - p["slope"] * load_factor)
        elif rules.ff_curve == "exp_2025":
            f = load_factor * 100  # the draft's F is in %
            ff = p["c0"] - p["c1"] * (1 - (-f / p["tau1"]).exp()) - p["c2"] * (1 - (-f / p["tau2"]).exp())
        else:
            raise PackError(f"{rules.pack_id}: unknown Ff curve {rules.ff_curve!r}")
    return apply_rounding(ff, rounding)


@dataclass(frozen=True)
class _CurveRules:
    pack_id: str
    ff_curve: str
    ff_bands: tuple


def cooling_factor(u: UnitInput, rules: PowerRules) -> Decimal:
    """冷却方式修正系数 (2019–2022; cn-ets-rules.md §1.5 [M]: water 1.00, air 1.05) for the pack's categories,
    else 1. Raises ValueError if the unit's cooling type is not in the pack."""
    if not rules.cooling_factors or u.category not in rules.cooling_categories:
        return Decimal(1)
    if u.cooling not in rules.cooling_factors:
        raise ValueError(f"unit {u.unit_id}: cooling type must be one of {sorted(rules.cooling_factors)}, got {u.cooling!r}")
    return rules.cooling_factors[u.cooling]


def heat_supply_factor(u: UnitInput, rules: PowerRules) -> Decimal:
    """供热量修正系数 ``1 − k × 供热比`` (2019–2022; cn-ets-rules.md §1.5 [M]: k = 0.22 coal, 0.6 gas) for the
    pack's categories, else 1; rounded like Ff. Raises ValueError for a 供热比 outside 0–1."""
    if not rules.heat_ratio_coefficients or u.category not in rules.heat_ratio_categories:
        return Decimal(1)
    if not (Decimal(0) <= u.heat_ratio <= Decimal(1)):
        raise ValueError(f"unit {u.unit_id}: heat ratio must be within 0–1, got {u.heat_ratio}")
    k = rules.heat_ratio_coefficients["gas" if u.category == GAS_CATEGORY else "coal"]
    with exact():
        return apply_rounding(1 - k * u.heat_ratio, rules.rounding.get("correction", rules.rounding["ff"]))


def borrowing_limit(verified_emissions_t: int, final_allocation_t: int, rules: PowerRules) -> int:
    """预支 (灵活履约, 2021–2022 only; notice of 2023-07-17 §三, cn-ets-rules.md §1.6 [S]): an entity whose gap
    ``E − A`` exceeds the pack's ``borrowing.gap_threshold`` (10%) of its allocation A may borrow up to
    ``borrowing.share_of_gap`` (50%) of the gap from the next vintage, rounded by ``borrowing.rounding``
    (down); otherwise 0. A gap of exactly 10% is not eligible ("超过"). Tonnes CO2e (int). The same rule
    as the compliance context's ``cets.compliance.borrowing.borrowing_limit`` (tests check they agree)."""
    gap = verified_emissions_t - final_allocation_t
    if not rules.borrowing_allowed or gap <= 0:
        return 0
    with exact():
        if Decimal(gap) <= rules.borrowing_threshold * Decimal(final_allocation_t):
            return 0
        return int(apply_rounding(Decimal(gap) * rules.borrowing_share, rules.borrowing_rounding))


def heat_benchmark(category: str, rules: PowerRules) -> Decimal:
    """Heat benchmark for the unit's fuel: coal for I–III, gas for IV (plan 附2)."""
    return rules.heat_benchmark["gas" if category == GAS_CATEGORY else "coal"]


def unit_allocation(u: UnitInput, rules: PowerRules) -> UnitAllocation:
    """A unit's allowance: ``Qe × Be × Ff + Qh × Bh`` (plan 附3; gas: Ff = 1, 附4) plus the gas top-up.

    Each part rounded by the pack; the gas unit's top-up is ``E − A`` when ``A < E`` (plan §三).
    2019–2022 packs: ``Qe`` is 供电量 and ``Ae = Qe × Be × 冷却 × 供热 × 负荷`` factors; the pre-allocation is
    ratio × (base-year 供电量 × Be + 供热量 × Bh) (cn-ets-rules.md §1.1, §1.5 [M/S]). Raises ValueError for
    an unknown category, a load factor outside 0–1, a cooling type the pack lacks, a 供热比 outside 0–1,
    or a missing 供电量 when the pack needs it.
    """
    ff = peak_regulation_factor(u.category, u.load_factor, rules)
    if rules.ff_pure_condensing_only and u.heat_supplied_gj > 0:
        ff = Decimal(1)
    fc, fh = cooling_factor(u, rules), heat_supply_factor(u, rules)
    if rules.needs_supply and u.supplied_mwh is None:
        raise ValueError(f"{rules.pack_id}: unit {u.unit_id} needs its 供电量 supplied_mwh")
    qe = u.supplied_mwh if rules.needs_supply else u.generation_mwh
    be = rules.electricity_benchmark[u.category]
    with exact():
        ae = apply_rounding(qe * be * fc * fh * ff, rules.rounding["electricity_allowance"])
        ah = apply_rounding(u.heat_supplied_gj * heat_benchmark(u.category, rules), rules.rounding["heat_allowance"])
        allowance = apply_rounding(Decimal(ae) + Decimal(ah), rules.rounding["unit_allowance"])
        topup = 0
        if u.category == GAS_CATEGORY and rules.gas_unit_topup and allowance < u.verified_emissions_t:
            topup = u.verified_emissions_t - int(allowance)
        if rules.needs_prev_output:
            base = u.prev_supplied_mwh * be + u.prev_heat_supplied_gj * heat_benchmark(u.category, rules)
        else:
            base = Decimal(u.prev_verified_emissions_t)
        pre = apply_rounding(base * rules.pre_allocation_ratio, rules.rounding["pre_allocation"])
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
        cooling_factor=fc,
        heat_factor=fh,
    )


def entity_allocation(
    entity_uscc: str, units: Sequence[UnitAllocation], verified_emissions_t: int, rules: PowerRules
) -> EntityAllocation:
    """Entity level (plan §三): initial = Σ unit allowances; if initial < (1 − cap) × E, top up by
    ``(1 − cap) × E − initial`` rounded by the pack (down), so that the shortfall is at most the cap.
    Where the pack sets ``allocation.shortfall_gap_at_most_cap`` (2021–2022) the plan's words "使其配额履约缺口率
    不超过20%" are kept in whole tonnes: final = ⌈(1 − cap) × E⌉, e.g. E 1,001 t, initial 700 t → 0.8 × 1,001 =
    800.8 → final 801 t, top-up 101 t, gap 200/1,001 = 19.98% (rounded down: 800 t, gap 201/1,001 = 20.08% > 20%).

    ``verified_emissions_t`` is the entity's verified emissions of the year (Σ of its units).
    """
    initial = sum(u.unit_allowance_t for u in units)
    pre = sum(u.pre_allocation_t for u in units)
    with exact():
        floor_level = (Decimal(1) - rules.shortfall_cap) * Decimal(verified_emissions_t)
        topup = 0
        if Decimal(initial) < floor_level:
            if rules.shortfall_gap_at_most_cap:  # "使其配额履约缺口率不超过20%": the smallest whole allocation ≥ 0.8 × E
                topup = int(floor_level.to_integral_value(rounding=ROUND_CEILING)) - initial
            else:
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
        borrowing_limit_t=borrowing_limit(verified_emissions_t, final, rules),
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
