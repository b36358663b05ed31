"""Emission accounting of power facilities from monthly unit data. Pure: no Django, no I/O.

The formula is that of 《企业温室气体排放核算与报告指南 发电设施》 (2022 revision, cn-ets-rules.md §6.2)::

    E_fuel = Σ FC × NCV × CC × OF × 44/12            tonnes CO2
    E_elec = (purchased − green) × grid factor        tonnes CO2, only where the year's rules count it

``FC`` fuel consumed (t, or 10^4 Nm3 for gases), ``NCV`` net calorific value (GJ/t or GJ/10^4 Nm3),
``CC`` carbon content per unit heat (tC/GJ), ``OF`` oxidation rate (a fraction, 0.99 = 99%).
A parameter that was not measured takes the rule pack's default. For coal the pack may set

* ``coal_oxidation_rate`` — the guideline's 99% (2022 guideline §6.2.5.1) instead of the fuel table's;
* ``coal_cc_unmeasured_default`` — the high default carbon content (0.03085 tC/GJ) for months without
  a measurement, and ``coal_cc_min_measured_months`` — with fewer measured months in the year the
  default applies to the whole year (``coal_cc_below_min = "all_months"``) or only to the
  unmeasured months (``"unmeasured_months"``).

Every value comes from an ``[pack] kind = "accounting"`` rule pack (e.g. ``national/power-2023``);
see :meth:`AccountingRules.from_pack`. Arithmetic is exact :class:`~decimal.Decimal`; 44/12 is applied
last so that the only rounding is the pack's ``emissions_rounding`` of the unit's annual total.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from cets.core.errors import CetsError
from cets.core.quantities import apply_rounding, exact
from cets.rules.packs import Pack, PackError

from .checks import NO_OPERATING_HOURS, NOT_ACCOUNTING, UNKNOWN_FUEL

COAL_SCOPES = ("all_months", "unmeasured_months")


@dataclass(frozen=True)
class FuelDefault:
    """Default parameters of one fuel: ``ncv`` GJ per ``unit`` (``t`` or ``10^4 Nm3``), ``carbon_content``
    tC/GJ, ``oxidation_rate`` a fraction; ``coal`` marks the fuels the coal rules apply to."""

    name: str
    unit: str
    ncv: Decimal
    carbon_content: Decimal
    oxidation_rate: Decimal
    coal: bool


@dataclass(frozen=True)
class AccountingRules:
    """The accounting parameters of one market, sector and emission year, read from a rule pack."""

    pack_id: str
    years: tuple[int, ...]
    fuels: Mapping[str, FuelDefault]
    co2_c_numerator: Decimal = Decimal(44)
    co2_c_denominator: Decimal = Decimal(12)
    coal_oxidation_rate: Decimal | None = None
    coal_cc_unmeasured_default: Decimal | None = None
    coal_cc_min_measured_months: int = 0
    coal_cc_below_min: str = "unmeasured_months"
    emissions_rounding: str = "half_up:0"
    load_factor_rounding: str = "half_up:6"
    purchased_electricity_included: bool = False
    grid_factor: Decimal | None = None
    green_counts_zero: bool = False

    @classmethod
    def from_pack(cls, pack: Pack) -> AccountingRules:
        """Read ``[accounting]``, ``[purchased_electricity]`` and ``[fuels.*]`` of an accounting pack.

        Raises :class:`~cets.core.errors.CetsError` ``M0101`` if ``[pack].kind`` is not ``accounting``
        and :class:`~cets.rules.packs.PackError` for a missing or malformed value.
        """
        if pack.kind != "accounting":
            raise CetsError(NOT_ACCOUNTING, pack.id)
        acc = pack.raw("accounting")
        fuels = {}
        for name in pack.raw("fuels"):
            key = f"fuels.{name}"
            unit = pack.text(f"{key}.unit")
            if unit not in ("t", "10^4 Nm3"):
                raise PackError(f"{pack.id}: {key}.unit must be 't' or '10^4 Nm3'")
            fuels[name] = FuelDefault(name=name, unit=unit, ncv=pack.decimal(f"{key}.ncv"),
                                      carbon_content=pack.decimal(f"{key}.carbon_content"),
                                      oxidation_rate=pack.decimal(f"{key}.oxidation_rate"), coal=pack.flag(f"{key}.coal"))
        scope = pack.text("accounting.coal_cc_below_min") if "coal_cc_below_min" in acc else "unmeasured_months"
        if scope not in COAL_SCOPES:
            raise PackError(f"{pack.id}: accounting.coal_cc_below_min must be one of {COAL_SCOPES}")
        included = pack.flag("purchased_electricity.included")
        return cls(
            pack_id=pack.id,
            years=tuple(pack.years),
            fuels=fuels,
            co2_c_numerator=pack.decimal("accounting.co2_c_numerator"),
            co2_c_denominator=pack.decimal("accounting.co2_c_denominator"),
            coal_oxidation_rate=pack.decimal("accounting.coal_oxidation_rate") if "coal_oxidation_rate" in acc else None,
            coal_cc_unmeasured_default=(pack.decimal("accounting.coal_cc_unmeasured_default")
                                        if "coal_cc_unmeasured_default" in acc else None),
            coal_cc_min_measured_months=int(pack.decimal("accounting.coal_cc_min_measured_months")),
            coal_cc_below_min=scope,
            emissions_rounding=pack.text("accounting.emissions_rounding"),
            load_factor_rounding=pack.text("accounting.load_factor_rounding"),
            purchased_electricity_included=included,
            grid_factor=pack.decimal("purchased_electricity.grid_factor") if included else None,
            green_counts_zero=pack.flag("purchased_electricity.green_counts_zero"),
        )


@dataclass(frozen=True)
class MonthlyFuelRow:
    """One unit, month and fuel of the monthly data (月度信息化存证).

    ``fuel_consumed`` t (10^4 Nm3 for gases); ``ncv`` GJ per unit, ``carbon_content`` tC/GJ,
    ``oxidation_rate`` a fraction — ``None`` when not measured. The unit-month figures
    (``generation_mwh``, ``supplied_mwh`` MWh, ``heat_supplied_gj`` GJ, ``operating_hours`` h,
    ``rated_capacity_mw`` MW, ``purchased_electricity_mwh`` and ``green_electricity_mwh`` MWh) repeat
    on every fuel row of the same unit and month and are counted once.
    """

    entity_uscc: str
    unit_id: str
    year: int
    month: int
    fuel: str
    fuel_consumed: Decimal
    ncv: Decimal | None
    carbon_content: Decimal | None
    oxidation_rate: Decimal | None
    generation_mwh: Decimal
    supplied_mwh: Decimal
    heat_supplied_gj: Decimal
    operating_hours: Decimal
    rated_capacity_mw: Decimal
    purchased_electricity_mwh: Decimal = Decimal(0)
    green_electricity_mwh: Decimal = Decimal(0)


@dataclass(frozen=True)
class FuelLine:
    """How one monthly fuel row was computed: the parameters used, where each came from
    (``measured`` / ``default`` / ``coal_default`` / ``coal_high_default``), carbon in tC and CO2 in t."""

    month: int
    fuel: str
    ncv: Decimal
    ncv_source: str
    carbon_content: Decimal
    carbon_content_source: str
    oxidation_rate: Decimal
    oxidation_rate_source: str
    carbon_t: Decimal
    co2_t: Decimal


@dataclass(frozen=True)
class UnitYearEmissions:
    """One unit's year: ``emissions_t`` tonnes CO2 (int, rounded per the pack), production sums
    (MWh, GJ), ``load_factor`` (fraction, rounded per the pack), and the trace of the computation."""

    entity_uscc: str
    unit_id: str
    year: int
    emissions_t: int
    generation_mwh: Decimal
    supplied_mwh: Decimal
    heat_supplied_gj: Decimal
    load_factor: Decimal
    operating_hours: Decimal = Decimal(0)
    combustion_co2_t: Decimal = Decimal(0)
    electricity_co2_t: Decimal = Decimal(0)
    coal_measured_months: int = 0
    lines: tuple[FuelLine, ...] = field(default=(), repr=False)


def fuel_carbon(*, consumed: Decimal, ncv: Decimal, carbon_content: Decimal, oxidation_rate: Decimal) -> Decimal:
    """Oxidised carbon in tC: FC × NCV × CC × OF (exact)."""
    with exact():
        return consumed * ncv * carbon_content * oxidation_rate


def carbon_to_co2(carbon_t: Decimal, rules: AccountingRules) -> Decimal:
    """tC → tCO2: × 44/12 (numerator and denominator from the pack; the division is the last step)."""
    with exact():
        return carbon_t * rules.co2_c_numerator / rules.co2_c_denominator


def load_factor(*, generation_mwh: Decimal, rated_capacity_mw: Decimal, operating_hours: Decimal, rounding: str) -> Decimal:
    """负荷（出力）系数 = generation (MWh) / (rated capacity (MW) × operating hours (h)), rounded per ``rounding``.

    0 when nothing was generated. Raises :class:`CetsError` ``M0102`` if there is generation but no
    operating hours or no capacity (power accounting guideline, production data).
    """
    if generation_mwh == 0:
        return apply_rounding(Decimal(0), rounding)
    if operating_hours <= 0 or rated_capacity_mw <= 0:
        raise CetsError(NO_OPERATING_HOURS, f"generation {generation_mwh} MWh")
    with exact():
        return apply_rounding(generation_mwh / (rated_capacity_mw * operating_hours), rounding)


def _parameters(row: MonthlyFuelRow, rules: AccountingRules, coal_below_min: bool) -> tuple[Decimal, str, Decimal, str, Decimal, str]:
    fd = rules.fuels.get(row.fuel)
    if fd is None:
        raise CetsError(UNKNOWN_FUEL, row.fuel)
    ncv, ncv_src = (row.ncv, "measured") if row.ncv is not None else (fd.ncv, "default")
    if fd.coal and rules.coal_cc_unmeasured_default is not None:
        use_measured = row.carbon_content is not None and not (coal_below_min and rules.coal_cc_below_min == "all_months")
        cc, cc_src = (row.carbon_content, "measured") if use_measured else (rules.coal_cc_unmeasured_default, "coal_high_default")
    else:
        cc, cc_src = (row.carbon_content, "measured") if row.carbon_content is not None else (fd.carbon_content, "default")
    if row.oxidation_rate is not None:
        of, of_src = row.oxidation_rate, "measured"
    elif fd.coal and rules.coal_oxidation_rate is not None:
        of, of_src = rules.coal_oxidation_rate, "coal_default"
    else:
        of, of_src = fd.oxidation_rate, "default"
    return ncv, ncv_src, cc, cc_src, of, of_src


def unit_year_emissions(rows: Iterable[MonthlyFuelRow], rules: AccountingRules) -> list[UnitYearEmissions]:
    """Annual emissions and production of every unit and year in ``rows`` (validated monthly rows,
    e.g. from :func:`cets.mrv.tables.read_monthly`), sorted by entity, unit and year.

    Coal carbon content: the months with a measured value are counted per unit and year over all its
    coal fuels; with fewer than ``coal_cc_min_measured_months`` the pack's high default applies.
    Purchased electricity is counted once per unit and month, only if the pack includes it; green
    electricity is subtracted where the pack says it counts as zero (Beijing, 京环发〔2024〕8号 §二(一)).

    Raises :class:`CetsError` ``M0103`` for a fuel the pack does not know, ``M0102`` for generation
    without operating hours.
    """
    groups: dict[tuple[str, str, int], list[MonthlyFuelRow]] = defaultdict(list)
    for r in rows:
        groups[(r.entity_uscc, r.unit_id, r.year)].append(r)
    out = []
    for (uscc, unit_id, year), rs in sorted(groups.items()):
        rs.sort(key=lambda r: (r.month, r.fuel))
        measured = {r.month for r in rs if r.carbon_content is not None and r.fuel in rules.fuels and rules.fuels[r.fuel].coal}
        below_min = len(measured) < rules.coal_cc_min_measured_months
        carbon = Decimal(0)
        lines = []
        for r in rs:
            ncv, ncv_src, cc, cc_src, of, of_src = _parameters(r, rules, below_min)
            c = fuel_carbon(consumed=r.fuel_consumed, ncv=ncv, carbon_content=cc, oxidation_rate=of)
            with exact():
                carbon += c
            lines.append(FuelLine(r.month, r.fuel, ncv, ncv_src, cc, cc_src, of, of_src, c, carbon_to_co2(c, rules)))
        months = {r.month: r for r in rs}  # unit-month figures: one row per month suffices (they repeat)
        with exact():
            gen = sum((m.generation_mwh for m in months.values()), Decimal(0))
            sup = sum((m.supplied_mwh for m in months.values()), Decimal(0))
            heat = sum((m.heat_supplied_gj for m in months.values()), Decimal(0))
            hours = sum((m.operating_hours for m in months.values()), Decimal(0))
            elec = Decimal(0)
            if rules.purchased_electricity_included:
                mwh = sum((m.purchased_electricity_mwh - (m.green_electricity_mwh if rules.green_counts_zero else 0)
                           for m in months.values()), Decimal(0))
                elec = mwh * rules.grid_factor
            combustion = carbon_to_co2(carbon, rules)
            total = apply_rounding(combustion + elec, rules.emissions_rounding)
        capacity = max(m.rated_capacity_mw for m in months.values())
        lf = load_factor(generation_mwh=gen, rated_capacity_mw=capacity, operating_hours=hours, rounding=rules.load_factor_rounding)
        out.append(UnitYearEmissions(entity_uscc=uscc, unit_id=unit_id, year=year, emissions_t=int(total), generation_mwh=gen,
                                     supplied_mwh=sup, heat_supplied_gj=heat, load_factor=lf, operating_hours=hours,
                                     combustion_co2_t=combustion, electricity_co2_t=elec, coal_measured_months=len(measured),
                                     lines=tuple(lines)))
    return out
