"""Emission accounting of steel, cement and aluminium facilities (and Beijing's other sectors) from monthly activity rows. Pure: no Django, no I/O.

Every default, factor, GWP and rounding is a value of an ``[pack] kind = "accounting"`` rule pack
(``national/<sector>-accounting-2024-2026``); :meth:`IndustryRules.from_pack` reads it. Arithmetic is exact
:class:`~decimal.Decimal`; the only roundings are those the guideline says to report (half away from zero,
``half_up:N``): the facility's annual total (whole tonnes) and the reported parts and products.

**Steel** — 《企业温室气体排放核算与报告指南 钢铁行业》 CETS—AG—03.01—V01—2024 (tCO2; t or 10^4 Nm3; GJ/t or GJ/10^4 Nm3; tC/GJ):

* (1) enterprise, material balance (6.1.1)::

      E企业 = Σi FCi × NCVi × CCi × 44/12 + Σp P碳酸盐,p × EFp + P电极 × EF电极 + Σq M含碳原料,q × EFq − Σk AD含碳产品,k × EFk

  FCi is the purchased fuel's net consumption, less self-produced coke and gas sold and the fuel of units already in
  the power market (footnote 3): sources ``fuel`` minus ``fuel_sold`` minus ``fuel_power_market``.
* (2) each main process j (coking, sintering, pelletizing, ironmaking, bof, eaf; 7.1.1)::

      E工序,j = Σm FCm,j × NCVm,j × CCm,j × 44/12 − Σw FCw,j × NCVw,j × CCw,j × 44/12

  (``process_input`` minus ``process_output``; the outputs formula (2) allows per process are in the pack).
* (3) each co-firing power unit x (7.2.1), the only formula with an oxidation rate::

      E掺烧,x = Σi FCi,x × NCVi,x × CCi,x × OFi,x × 44/12
* (4) the remainder (7.3): E其他 = E企业 − Σj E工序,j − Σx E掺烧,x.

Parameters: only the NCV may be measured (6.2.2; CC is the A.1 default, 6.2.3/7.1.2.3/7.2.2.3; OF the A.1 default,
7.2.2.4; carbonate, electrode, raw-material and product factors the A.2 defaults, 6.2.4). Coke NCV is the default
(6.2.2.2); another solid fuel is measured or defaulted for the whole year (6.2.2.2, check M0105); a liquid or gas month
without a measurement takes the default (6.2.2.4); a process's or unit's solid-fuel NCV is the enterprise-level value of
the month (7.1.2.2.1, 7.2.2.2, check M0109). Purchased electricity and heat are 附录E auxiliary items, reported, not
emissions. Reporting: E企业 四舍五入保留整数 (C.5 *1); process and unit emissions 2 decimals (C.4 *4 d)).

**Cement** (clinker line) and **aluminium** (electrolysis) — 环办气候函〔2024〕321号 guidelines, whose texts are not in the
project's reference folder: the formulas below follow the pack, whose ``[[unconfirmed]]`` list says what no text confirms.

* cement: E线 = Σ FC × NCV × CC × OF × 44/12 + Σmonths Q熟料 × ((CaO − CaO非碳酸盐) × 44/56 + (MgO − MgO非碳酸盐) × 44/40)
  + Σmonths Q生料 × C非燃料碳 × 44/12 (t clinker, t raw meal, mass fractions);
* aluminium: E阳极 = Σmonths NC × (1 − S − A) × 44/12 (t net anode consumption, fractions);
  E_PFC = Σmonths P原铝液 × (EF_CF4 × GWP_CF4 + EF_C2F6 × GWP_C2F6) / 1000 (kg/t Al → t CO2e).

**Beijing beyond power** — 京环发〔2024〕8号 二(一) sends services (data centres included), heat production and supply,
cement and other sectors to the DB11/T local standards, whose texts (and the notice's 附件1) are not held: the packs
``beijing/<sector>-2023`` (methods ``combustion_indirect`` and ``combustion_indirect_clinker``) carry their common
structure, computed by :func:`combustion_year`: fuel combustion + (purchased − green) electricity × factor + purchased heat
× factor (+ the clinker process of :func:`_clinker_process`), every value no held text gives in their ``[[unconfirmed]]``.

Refusals are :class:`Refusal` (row, column, check, clause); :func:`guideline_refusals` finds the inputs the guideline
does not allow (checks M0104–M0109, M0701), before :func:`facility_years` computes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from cets.core.errors import CetsError, Check
from cets.core.quantities import apply_rounding, exact
from cets.rules.packs import Pack, PackError

from .checks import (
    GREEN_EXCEEDS_PURCHASED,
    MATERIAL_NOT_ACCOUNTED,
    MEASURED_DEFAULT_MIXED,
    MEASURED_NOT_ALLOWED,
    MEASUREMENT_REQUIRED,
    NCV_DIFFERS_FROM_ENTERPRISE,
    NOT_ACCOUNTING,
    PROCESS_OUTPUT_NOT_ALLOWED,
    UNKNOWN_METHOD,
)

# accounting.method → the calculator family (``IndustryRules.sector``). The two ``combustion_*`` methods are the common
# structure of Beijing's DB11/T standards (fossil fuel + net purchased electricity + purchased heat, and for cement the
# clinker process): the market's sector is the pack's ``[pack] sector`` (``IndustryRules.pack_sector``).
METHODS = {"steel_material_balance": "steel", "cement_clinker": "cement", "aluminium_electrolysis": "aluminium",
           "combustion_indirect": "combustion", "combustion_indirect_clinker": "combustion_clinker"}
COMBUSTION_FAMILIES = ("combustion", "combustion_clinker")
INDIRECT_SOURCES = ("electricity", "green_electricity", "heat")
STEEL_SOURCES = ("fuel", "fuel_sold", "fuel_power_market", "carbonate", "electrode", "carbon_raw_material", "carbon_product",
                 "process_input", "process_output", "cofiring_fuel", "product", "electricity", "heat_in", "heat_out")
SOURCES = {
    "steel": STEEL_SOURCES,
    "cement": ("fuel", "clinker", "clinker_content", "raw_meal"),
    "aluminium": ("anode", "anode_content", "pfc_factor", "product"),
    "combustion": ("fuel", *INDIRECT_SOURCES, "product"),
    "combustion_clinker": ("fuel", *INDIRECT_SOURCES, "clinker", "clinker_content", "raw_meal"),
}
FUEL_SOURCES = ("fuel", "fuel_sold", "fuel_power_market", "process_input", "process_output", "cofiring_fuel")
ENTERPRISE_FUEL_SOURCES = ("fuel", "fuel_sold", "fuel_power_market")
# Sources whose ``part`` names something: the steel process (process_*, product, electricity, heat_*) or power unit (cofiring_fuel).
PART_SOURCES = ("process_input", "process_output", "product", "electricity", "heat_in", "heat_out", "cofiring_fuel")
# Sources whose row carries only a measured parameter (measured_value), no quantity.
CONTENT_SOURCES = ("clinker_content", "anode_content", "pfc_factor")
NCV_RULES = ("never", "year", "month")


@dataclass(frozen=True)
class Fuel:
    """A.1 defaults of one fuel: ``ncv`` GJ per ``unit`` (t or 10^4 Nm3), ``carbon_content`` tC/GJ, ``oxidation_rate``
    a fraction; ``ncv_measured``/``cc_measured`` ``never`` | ``year`` | ``month`` (which measurements the guideline allows)."""

    name: str
    unit: str
    state: str
    ncv: Decimal
    carbon_content: Decimal
    oxidation_rate: Decimal
    ncv_measured: str
    cc_measured: str = "never"
    of_measured: str = "never"


@dataclass(frozen=True)
class Parameter:
    """A measured-or-default parameter of a non-fuel source (cement oxide contents, raw-meal carbon, anode sulphur and
    ash, PFC factors): ``default`` (None: must be measured), bounds ``low``..``high`` of a measured value, its unit."""

    name: str
    source: str
    unit: str
    default: Decimal | None
    low: Decimal
    high: Decimal


@dataclass(frozen=True)
class IndustryRules:
    """The accounting parameters of one sector and emission years, read from a rule pack."""

    pack_id: str
    sector: str
    method: str
    years: tuple[int, ...]
    fuels: Mapping[str, Fuel]
    factors: Mapping[str, tuple[Decimal, tuple[str, ...]]] = field(default_factory=dict)  # A.2: name → (tCO2/t, uses)
    processes: Mapping[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)  # code → (zh, outputs, products)
    sold_fuels: tuple[str, ...] = ()
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    materials: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # source → allowed material names (cement, aluminium)
    constants: Mapping[str, Decimal] = field(default_factory=dict)
    emissions_rounding: str = "half_up:0"
    part_rounding: str = "half_up:2"
    product_rounding: str = "half_up:2"
    electricity_rounding: str = "half_up:3"
    heat_rounding: str = "half_up:2"
    pack_sector: str = ""  # the pack's [pack] sector (the market's sector code)
    electricity_factor: Decimal | None = None  # tCO2/MWh of net purchased electricity (combustion families)
    green_counts_zero: bool = False  # purchased green electricity subtracted (Beijing 京环发〔2024〕8号 二(一))
    heat_factor: Decimal | None = None  # tCO2/GJ of purchased heat (combustion families)

    @classmethod
    def from_pack(cls, pack: Pack) -> IndustryRules:
        """Read ``[accounting]``, ``[fuels.*]``, ``[factors.*]``, ``[processes.*]``, ``[enterprise]``, ``[parameters.*]``,
        ``[materials]`` of an accounting pack. Raises :class:`CetsError` ``M0101`` for a pack of another kind, ``M0110``
        for an unknown ``accounting.method``, :class:`PackError` for a missing or malformed value."""
        if pack.kind != "accounting":
            raise CetsError(NOT_ACCOUNTING, pack.id)
        acc = pack.raw("accounting")
        method = acc.get("method") if isinstance(acc, dict) else None
        if method not in METHODS:
            raise CetsError(UNKNOWN_METHOD, f"{pack.id}: {method!r}")
        fuels = {}
        for name in pack.data.get("fuels", {}):
            k = f"fuels.{name}"
            f = pack.raw(k)
            unit = pack.text(f"{k}.unit")
            if unit not in ("t", "10^4 Nm3"):
                raise PackError(f"{pack.id}: {k}.unit must be 't' or '10^4 Nm3'")
            rules = {r: f.get(r, "never") for r in ("ncv_measured", "cc_measured", "of_measured")}
            if any(v not in NCV_RULES for v in rules.values()):
                raise PackError(f"{pack.id}: {k}: *_measured must be one of {NCV_RULES}")
            fuels[name] = Fuel(name=name, unit=unit, state=pack.text(f"{k}.state"), ncv=pack.decimal(f"{k}.ncv"),
                               carbon_content=pack.decimal(f"{k}.carbon_content"), oxidation_rate=pack.decimal(f"{k}.oxidation_rate"), **rules)
        factors = {name: (pack.decimal(f"factors.{name}.ef"), tuple(pack.raw(f"factors.{name}.uses")))
                   for name in pack.data.get("factors", {})}
        processes = {code: (pack.text(f"processes.{code}.name_zh"), tuple(pack.raw(f"processes.{code}.outputs")),
                            tuple(pack.raw(f"processes.{code}.products"))) for code in pack.data.get("processes", {})}
        params = {}
        for name, p in pack.data.get("parameters", {}).items():
            k = f"parameters.{name}"
            params[name] = Parameter(name=name, source=pack.text(f"{k}.source"), unit=pack.text(f"{k}.unit"),
                                     default=pack.decimal(f"{k}.default") if "default" in p else None,
                                     low=pack.decimal(f"{k}.low"), high=pack.decimal(f"{k}.high"))
        materials = {src: tuple(v) for src, v in pack.data.get("materials", {}).items()}
        constants = {k: pack.decimal(f"accounting.{k}") for k, v in acc.items()
                     if k.startswith(("co2_", "gwp_")) and isinstance(v, str)}
        rounding = {k: pack.text(f"accounting.{k}") for k in ("emissions_rounding", "part_rounding", "product_rounding",
                                                                "electricity_rounding", "heat_rounding") if k in acc}
        indirect = {}
        if METHODS[method] in COMBUSTION_FAMILIES:  # both factors are required: PackError when one is missing
            indirect = dict(electricity_factor=pack.decimal("purchased_electricity.grid_factor"),
                            green_counts_zero=pack.flag("purchased_electricity.green_counts_zero"),
                            heat_factor=pack.decimal("purchased_heat.factor"))
        return cls(pack_id=pack.id, sector=METHODS[method], method=method, years=tuple(pack.years), fuels=fuels, factors=factors,
                   processes=processes, sold_fuels=tuple(pack.data.get("enterprise", {}).get("sold_fuels", ())), parameters=params,
                   materials=materials, constants=constants, pack_sector=pack.sector, **indirect, **rounding)

    @property
    def output_required(self) -> bool:
        """Whether a facility's year has an intensity denominator (output > 0): every family but a ``combustion`` pack
        without a ``[materials] product`` (e.g. Beijing services: allocated on historical emissions, no product)."""
        return self.sector != "combustion" or bool(self.materials.get("product"))

    def allowed_materials(self, source: str, part: str = "") -> tuple[str, ...]:
        """The material names a row of ``source`` (and steel process ``part``) may carry."""
        if source in ("fuel", "fuel_power_market", "process_input", "cofiring_fuel") or (self.sector == "cement" and source == "fuel"):
            return tuple(self.fuels)
        if source == "fuel_sold":
            return self.sold_fuels
        if source == "process_output":
            return self.processes[part][1] if part in self.processes else ()
        if self.sector == "steel" and source == "product":
            return self.processes[part][2] if part in self.processes else ()
        if source in ("carbonate", "electrode", "carbon_raw_material", "carbon_product"):
            return tuple(n for n, (_ef, uses) in self.factors.items() if source in uses)
        if source == "green_electricity":  # only where the pack counts it as zero
            return ("绿电",) if self.sector in COMBUSTION_FAMILIES and self.green_counts_zero else ()
        if source in ("electricity", "heat_in", "heat_out", "heat"):
            return ("电力",) if source == "electricity" else ("热力",)
        if source in CONTENT_SOURCES:
            return tuple(n for n, p in self.parameters.items() if p.source == source)
        return self.materials.get(source, ())


@dataclass(frozen=True)
class ActivityRow:
    """One entity, facility, month, source, part and material (月度数据). ``quantity`` in the material's unit (t,
    10^4 Nm3, MW·h, GJ; None on a parameter-only row); ``ncv`` GJ per unit, ``carbon_content`` tC/GJ, ``oxidation_rate``
    a fraction, ``measured_value`` the source's parameter (fractions; PFC factors kg/t Al) — None when not measured."""

    row_no: int
    entity_uscc: str
    facility_id: str
    year: int
    month: int
    source: str
    part: str
    material: str
    quantity: Decimal | None
    ncv: Decimal | None = None
    carbon_content: Decimal | None = None
    oxidation_rate: Decimal | None = None
    measured_value: Decimal | None = None


@dataclass(frozen=True)
class Refusal:
    """An input the guideline does not allow: file row, column, value, the check and the clause (zh, en)."""

    row_no: int
    column: str
    value: str
    check: Check
    clause_zh: str
    clause_en: str


@dataclass(frozen=True)
class FacilityYear:
    """One facility's year. ``emissions_t`` tCO2(e), int, rounded per the pack; ``part_a_t``/``part_b_t`` the intensity
    parts (steel: E_ironmaking, E_sintering; aluminium: anode, PFC; cement: None), ``output_t`` the intensity denominator
    (steel: ironmaking product; cement: clinker; aluminium: molten aluminium), rounded as reported; ``details`` the
    other reported figures (name → rounded Decimal); ``exact`` the unrounded figures."""

    entity_uscc: str
    facility_id: str
    sector: str
    year: int
    emissions_t: int
    part_a_t: Decimal | None
    part_b_t: Decimal | None
    output_t: Decimal
    details: Mapping[str, Decimal] = field(default_factory=dict)
    exact: Mapping[str, Decimal] = field(default_factory=dict, repr=False)


Key = tuple[str, str, int]  # entity, facility, year


def _ent_key(r: ActivityRow) -> Key:
    return (r.entity_uscc, r.facility_id, r.year)


def guideline_refusals(rows: Iterable[ActivityRow], rules: IndustryRules) -> list[Refusal]:
    """Inputs the guideline does not allow (rows are otherwise well-formed):

    * M0106 a material not in the pack for its source (steel 6.2.4: what A.2 does not list is not accounted;
      a sold fuel other than self-produced coke or gas, formula (1) footnote 3);
    * M0107 a process output formula (2) does not define for that process (7.1.1, 7.1.2.1.1);
    * M0104 a measured value where only the default applies (steel: coke NCV 6.2.2.2; CC 6.2.3, 7.1.2.3, 7.2.2.3;
      OF 7.2.2.4 and no OF outside formula (3); cement/aluminium per their packs);
    * M0105 a solid fuel's enterprise-level NCV measured in some months and defaulted in others (6.2.2.2);
    * M0109 a process's or unit's solid-fuel NCV that differs from the enterprise-level value of the month (7.1.2.2.1, 7.2.2.2);
    * M0108 a month with clinker (or the parameter's source) but no measured value for a parameter without default;
    * M0701 (combustion families) a month whose green electricity exceeds its purchased electricity (green electricity is
      part of the purchased electricity it is subtracted from, 京环发〔2024〕8号 二(一)).
    """
    rows = list(rows)
    out: list[Refusal] = []
    steel = rules.sector == "steel"
    for r in rows:
        allowed = rules.allowed_materials(r.source, r.part)
        if r.material not in allowed:
            if steel and r.source == "process_output" and r.material in rules.fuels and r.part in rules.processes:
                out.append(Refusal(r.row_no, "material", r.material, PROCESS_OUTPUT_NOT_ALLOWED,
                                   f"公式（2）、7.1.2.1.1：{rules.processes[r.part][0]}输出的化石燃料为{'、'.join(allowed) or '无'}",
                                   f"formula (2), 7.1.2.1.1: {r.part} sends out {', '.join(allowed) or 'no fuel'}"))
            else:
                clause = ("6.2.4：附表A.2未列明的不进行核算；公式（1）注3" if steel else f"规则包 {rules.pack_id}")
                out.append(Refusal(r.row_no, "material", r.material, MATERIAL_NOT_ACCOUNTED,
                                   f"{clause}；{r.source} 可填：{'、'.join(allowed) or '无'}",
                                   f"{'6.2.4 / formula (1) footnote 3' if steel else rules.pack_id}; {r.source} takes: {', '.join(allowed) or 'none'}"))
            continue
        fuel = rules.fuels.get(r.material) if r.source in FUEL_SOURCES else None
        if fuel is not None:
            if r.ncv is not None and fuel.ncv_measured == "never":
                out.append(Refusal(r.row_no, "ncv_gj_per_unit", str(r.ncv), MEASURED_NOT_ALLOWED,
                                   *(("6.2.2.2：焦炭采用附表A.1缺省值", "6.2.2.2: coke takes the A.1 default") if steel
                                     else (f"规则包 {rules.pack_id}", rules.pack_id))))
            if r.carbon_content is not None and fuel.cc_measured == "never":
                out.append(Refusal(r.row_no, "carbon_content_tc_per_gj", str(r.carbon_content), MEASURED_NOT_ALLOWED,
                                   *(("6.2.3、7.1.2.3、7.2.2.3：单位热值含碳量采用附表A.1缺省值",
                                       "6.2.3, 7.1.2.3, 7.2.2.3: carbon content is the A.1 default")
                                     if steel else (f"规则包 {rules.pack_id}", rules.pack_id))))
            if r.oxidation_rate is not None and (fuel.of_measured == "never" or (steel and r.source != "cofiring_fuel")):
                out.append(Refusal(r.row_no, "oxidation_rate", str(r.oxidation_rate), MEASURED_NOT_ALLOWED,
                                   *(("7.2.2.4：碳氧化率采用附表A.1缺省值，且仅用于公式（3）",
                                       "7.2.2.4: the oxidation rate is the A.1 default, used only in formula (3)")
                                     if steel else (f"规则包 {rules.pack_id}", rules.pack_id))))
        elif r.source not in CONTENT_SOURCES and r.source not in ("raw_meal",):
            for col, v in (("ncv_gj_per_unit", r.ncv), ("carbon_content_tc_per_gj", r.carbon_content), ("oxidation_rate", r.oxidation_rate),
                           ("measured_value", r.measured_value)):
                if v is not None:
                    out.append(Refusal(r.row_no, col, str(v), MEASURED_NOT_ALLOWED,
                                       *(("6.2.4：碳酸盐、电极、含碳原料、含碳产品采用附表A.2缺省值；附录E辅助项无参数",
                                           "6.2.4: A.2 defaults only; 附录E items take no parameter")
                                         if steel else (f"规则包 {rules.pack_id}：此排放源无可实测参数",
                                                        f"{rules.pack_id}: this source has no measured parameter"))))
        if r.source in CONTENT_SOURCES or r.source == "raw_meal":
            for col, v in (("ncv_gj_per_unit", r.ncv), ("carbon_content_tc_per_gj", r.carbon_content), ("oxidation_rate", r.oxidation_rate)):
                if v is not None:
                    out.append(Refusal(r.row_no, col, str(v), MEASURED_NOT_ALLOWED, f"规则包 {rules.pack_id}", rules.pack_id))
    if steel:
        out += _steel_ncv_refusals(rows, rules)
    else:
        out += _required_parameter_refusals(rows, rules)
    if rules.sector in COMBUSTION_FAMILIES:
        out += _green_refusals(rows, rules)
    return sorted(out, key=lambda x: (x.row_no, x.column))


def _steel_ncv_refusals(rows: list[ActivityRow], rules: IndustryRules) -> list[Refusal]:
    out = []
    first: dict[tuple[Key, str], ActivityRow] = {}
    month_ncv = _enterprise_month_ncv(rows, rules)
    for r in sorted(rows, key=lambda r: r.row_no):
        fuel = rules.fuels.get(r.material)
        if fuel is None or fuel.ncv_measured != "year" or r.source not in FUEL_SOURCES:
            continue
        if r.source in ENTERPRISE_FUEL_SOURCES:
            f = first.setdefault((_ent_key(r), r.material), r)
            if (f.ncv is None) != (r.ncv is None):
                how_zh, how_en = ("实测值", "measured") if f.ncv is not None else ("缺省值", "the default")
                out.append(Refusal(r.row_no, "ncv_gj_per_unit", "" if r.ncv is None else str(r.ncv), MEASURED_DEFAULT_MIXED,
                                   f"6.2.2.2：{r.material}低位发热量本年度已在第{f.row_no}行采用{how_zh}，当年确定后不应更改",
                                   f"6.2.2.2: {r.material} NCV is {how_en} from row {f.row_no}; the method is fixed for the year"))
        elif r.ncv is not None:
            ent = month_ncv.get((_ent_key(r), r.month, r.material))
            if ent is not None and ent != r.ncv:
                out.append(Refusal(r.row_no, "ncv_gj_per_unit", str(r.ncv), NCV_DIFFERS_FROM_ENTERPRISE,
                                   f"7.1.2.2.1、7.2.2.2：应为企业层级当月数据 {ent}（或留空）",
                                   f"7.1.2.2.1, 7.2.2.2: the enterprise-level value of the month is {ent} (or leave blank)"))
    return out


def _required_parameter_refusals(rows: list[ActivityRow], rules: IndustryRules) -> list[Refusal]:
    """M0108: a parameter without default needs a measurement in every month its source has activity."""
    required = [p for p in rules.parameters.values() if p.default is None]
    if not required:
        return []
    measured = {(_ent_key(r), r.month, r.material) for r in rows if r.source in CONTENT_SOURCES and r.measured_value is not None}
    out = []
    basis = {"clinker_content": "clinker", "anode_content": "anode", "pfc_factor": "product"}
    for r in rows:
        for p in required:
            if basis.get(p.source) == r.source and (_ent_key(r), r.month, p.name) not in measured:
                out.append(Refusal(r.row_no, "quantity", str(r.quantity), MEASUREMENT_REQUIRED,
                                   f"规则包 {rules.pack_id}：{r.year}-{r.month:02d} 缺少{p.name}实测值（{p.source} 行）",
                                   f"{rules.pack_id}: {r.year}-{r.month:02d} has no measured {p.name} ({p.source} row)"))
    return out


def _green_refusals(rows: list[ActivityRow], rules: IndustryRules) -> list[Refusal]:
    """M0701: per facility and month, Σ green_electricity ≤ Σ electricity (MW·h); the refusal names the green row."""
    bought: dict[tuple[Key, int], Decimal] = defaultdict(Decimal)
    green: dict[tuple[Key, int], list[ActivityRow]] = defaultdict(list)
    for r in rows:
        if r.source == "electricity":
            bought[(_ent_key(r), r.month)] += r.quantity or Decimal(0)
        elif r.source == "green_electricity":
            green[(_ent_key(r), r.month)].append(r)
    out = []
    for k, gs in green.items():
        total = sum((g.quantity or Decimal(0) for g in gs), Decimal(0))
        if total > bought[k]:
            out += [Refusal(g.row_no, "quantity", str(g.quantity), GREEN_EXCEEDS_PURCHASED,
                            f"{rules.pack_id}：{g.year}-{g.month:02d} 绿电 {total} MWh > 外购电力 {bought[k]} MWh",
                            f"{rules.pack_id}: {g.year}-{g.month:02d} green {total} MWh > purchased {bought[k]} MWh") for g in gs]
    return out


def _enterprise_month_ncv(rows: Iterable[ActivityRow], rules: IndustryRules) -> dict[tuple[Key, int, str], Decimal]:
    """NCV of each solid fuel at enterprise level per month (the ``fuel`` row's measured value, else the A.1 default)."""
    out: dict[tuple[Key, int, str], Decimal] = {}
    for r in rows:
        fuel = rules.fuels.get(r.material)
        if r.source == "fuel" and fuel is not None:
            out[(_ent_key(r), r.month, r.material)] = r.ncv if r.ncv is not None else fuel.ncv
    return out


def _fuel_carbon(qty: Decimal, ncv: Decimal, cc: Decimal, of: Decimal = Decimal(1)) -> Decimal:
    with exact():
        return qty * ncv * cc * of


def facility_years(rows: Iterable[ActivityRow], rules: IndustryRules) -> list[FacilityYear]:
    """Annual results of every (entity, facility, year) in ``rows`` (validated rows without guideline refusals),
    sorted; dispatches on the pack's ``accounting.method``."""
    groups: dict[Key, list[ActivityRow]] = defaultdict(list)
    for r in rows:
        groups[_ent_key(r)].append(r)
    fn = {"steel": steel_year, "cement": cement_year, "aluminium": aluminium_year, "combustion": combustion_year,
          "combustion_clinker": combustion_year}[rules.sector]
    return [fn(key, groups[key], rules) for key in sorted(groups)]


def _co2(carbon: Decimal, rules: IndustryRules) -> Decimal:
    with exact():
        return carbon * rules.constants["co2_c_numerator"] / rules.constants["co2_c_denominator"]


def steel_year(key: Key, rows: list[ActivityRow], rules: IndustryRules) -> FacilityYear:
    """One steel enterprise (or integrated plant) and year by formulas (1)–(4); see the module docstring.

    Returns E企业 (``emissions_t``, whole tonnes, C.5 *1), E_ironmaking and E_sintering (``part_a_t``, ``part_b_t``,
    2 decimals, C.4 *4 d)), the ironmaking product (``output_t``, t, 8.2.1), and in ``details`` every process's and
    unit's emissions, E其他, crude steel (t) and the 附录E auxiliary electricity (MW·h) and heat (GJ, E.1: in − out)."""
    month_ncv = _enterprise_month_ncv(rows, rules)
    ent_c = Decimal(0)  # tC of formula (1)'s fuel term
    other = Decimal(0)  # tCO2 of its carbonate, electrode and raw-material terms minus products
    proc_c: dict[str, Decimal] = defaultdict(Decimal)
    unit_c: dict[str, Decimal] = defaultdict(Decimal)
    products: dict[str, Decimal] = defaultdict(Decimal)
    crude = elec = heat = Decimal(0)
    with exact():
        for r in rows:
            q = r.quantity or Decimal(0)
            fuel = rules.fuels.get(r.material) if r.source in FUEL_SOURCES else None
            if fuel is not None:
                ncv = r.ncv
                if ncv is None and r.source not in ENTERPRISE_FUEL_SOURCES and fuel.ncv_measured == "year":
                    ncv = month_ncv.get((key, r.month, r.material))  # 7.1.2.2.1 / 7.2.2.2: the enterprise-level month value
                ncv = fuel.ncv if ncv is None else ncv
                if r.source == "cofiring_fuel":
                    unit_c[r.part] += _fuel_carbon(q, ncv, fuel.carbon_content, fuel.oxidation_rate)
                    continue
                c = _fuel_carbon(q, ncv, fuel.carbon_content)
                if r.source == "fuel":
                    ent_c += c
                elif r.source in ("fuel_sold", "fuel_power_market"):
                    ent_c -= c
                elif r.source == "process_input":
                    proc_c[r.part] += c
                else:  # process_output
                    proc_c[r.part] -= c
            elif r.source in ("carbonate", "electrode", "carbon_raw_material"):
                other += q * rules.factors[r.material][0]
            elif r.source == "carbon_product":
                other -= q * rules.factors[r.material][0]
                if r.material == "粗钢":
                    crude += q
            elif r.source == "product":
                products[r.part] += q
            elif r.source == "electricity":
                elec += q
            elif r.source == "heat_in":
                heat += q
            elif r.source == "heat_out":
                heat -= q
        e_ent = _co2(ent_c, rules) + other
        e_proc = {p: _co2(c, rules) for p, c in proc_c.items()}
        e_unit = {u: _co2(c, rules) for u, c in unit_c.items()}
        e_other = e_ent - sum(e_proc.values(), Decimal(0)) - sum(e_unit.values(), Decimal(0))
    pr = rules.part_rounding
    details = {f"e_{p}_t": apply_rounding(e_proc.get(p, Decimal(0)), pr) for p in rules.processes}
    details |= {"e_cofiring_t": apply_rounding(sum(e_unit.values(), Decimal(0)), pr), "e_other_t": apply_rounding(e_other, pr),
                "crude_steel_t": apply_rounding(crude, rules.product_rounding),
                "aux_electricity_mwh": apply_rounding(elec, rules.electricity_rounding), "aux_heat_gj": apply_rounding(heat, rules.heat_rounding)}
    exact_figures = {"e_enterprise_t": e_ent, "e_other_t": e_other, **{f"e_{p}_t": v for p, v in e_proc.items()},
                     **{f"e_unit_{u}_t": v for u, v in e_unit.items()}}
    return FacilityYear(entity_uscc=key[0], facility_id=key[1], sector="steel", year=key[2],
                        emissions_t=int(apply_rounding(e_ent, rules.emissions_rounding)),
                        part_a_t=details["e_ironmaking_t"], part_b_t=details["e_sintering_t"],
                        output_t=apply_rounding(products.get("ironmaking", Decimal(0)), rules.product_rounding),
                        details=details, exact=exact_figures)


def _monthly_parameter(rows: list[ActivityRow], rules: IndustryRules) -> dict[tuple[int, str], Decimal]:
    """(month, parameter) → the measured value of the month, else the pack default (parameters without default are
    refused beforehand by M0108)."""
    out: dict[tuple[int, str], Decimal] = {}
    months = {r.month for r in rows}
    for p in rules.parameters.values():
        if p.default is not None:
            for m in months:
                out[(m, p.name)] = p.default
    for r in rows:
        if r.source in CONTENT_SOURCES and r.measured_value is not None:
            out[(r.month, r.material)] = r.measured_value
    return out


def _fuels_co2(rows: list[ActivityRow], rules: IndustryRules) -> Decimal:
    carbon = Decimal(0)
    with exact():
        for r in rows:
            if r.source == "fuel":
                f = rules.fuels[r.material]
                carbon += _fuel_carbon(r.quantity or Decimal(0), r.ncv if r.ncv is not None else f.ncv,
                                       r.carbon_content if r.carbon_content is not None else f.carbon_content,
                                       r.oxidation_rate if r.oxidation_rate is not None else f.oxidation_rate)
    return _co2(carbon, rules)


def _clinker_process(rows: list[ActivityRow], rules: IndustryRules) -> tuple[Decimal, Decimal, Decimal]:
    """(carbonate tCO2, raw-meal non-fuel carbon tCO2, clinker t) of a clinker line's months (exact)::

        E碳酸盐 = Σmonths Q熟料 × ((CaO − CaO非碳酸盐) × 44/56 + (MgO − MgO非碳酸盐) × 44/40)
        E生料 = Σ Q生料 × C非燃料碳 × 44/12"""
    k = rules.constants
    par = _monthly_parameter(rows, rules)
    carbonate = raw = clinker = Decimal(0)
    with exact():
        for r in rows:
            q = r.quantity or Decimal(0)
            if r.source == "clinker":
                clinker += q
                cao = par[(r.month, "氧化钙")] - par[(r.month, "非碳酸盐氧化钙")]
                mgo = par[(r.month, "氧化镁")] - par[(r.month, "非碳酸盐氧化镁")]
                carbonate += q * (cao * k["co2_cao_numerator"] / k["co2_cao_denominator"] + mgo * k["co2_mgo_numerator"] / k["co2_mgo_denominator"])
            elif r.source == "raw_meal":
                fr = r.measured_value if r.measured_value is not None else rules.parameters["生料非燃料碳"].default
                raw += _co2(q * fr, rules)
    return carbonate, raw, clinker


def cement_year(key: Key, rows: list[ActivityRow], rules: IndustryRules) -> FacilityYear:
    """One clinker line and year (tCO2): fuel combustion + carbonate decomposition (clinker CaO and MgO net of their
    non-carbonate part, × 44/56 and 44/40) + non-fuel carbon of the raw meal (× 44/12); intensity denominator the clinker
    (t). Constants and defaults from the pack (unconfirmed where its ``[[unconfirmed]]`` says)."""
    fuel = _fuels_co2(rows, rules)
    carbonate, raw, clinker = _clinker_process(rows, rules)
    with exact():
        total = fuel + carbonate + raw
    pr = rules.part_rounding
    return FacilityYear(entity_uscc=key[0], facility_id=key[1], sector="cement", year=key[2],
                        emissions_t=int(apply_rounding(total, rules.emissions_rounding)), part_a_t=None, part_b_t=None,
                        output_t=apply_rounding(clinker, rules.product_rounding),
                        details={"e_fuel_t": apply_rounding(fuel, pr), "e_carbonate_t": apply_rounding(carbonate, pr),
                                 "e_raw_meal_carbon_t": apply_rounding(raw, pr)},
                        exact={"e_line_t": total, "e_fuel_t": fuel, "e_carbonate_t": carbonate, "e_raw_meal_carbon_t": raw})


def combustion_year(key: Key, rows: list[ActivityRow], rules: IndustryRules) -> FacilityYear:
    """One facility and year by the common structure of Beijing's DB11/T accounting standards (京环发〔2024〕8号 二(一);
    the standards' texts are not held: the packs ``beijing/<sector>-2023`` list what is unconfirmed). Tonnes CO2::

        E = E燃烧 + E电 + E热 (+ E过程)
        E燃烧 = Σ FC × NCV × CC × OF × 44/12        FC t or 10^4 Nm3, NCV GJ/unit, CC tC/GJ, OF fraction (measured, else the pack's)
        E电 = (Σ AD电 − Σ AD绿电) × EF电             MW·h, tCO2/MW·h; green electricity bought through market mechanisms counts
                                                     zero (二(一) "通过市场化手段购买使用的绿电碳排放量核算为零")
        E热 = Σ AD热 × EF热                          GJ, tCO2/GJ
        E过程 (method combustion_indirect_clinker) = the clinker line's carbonate and raw-meal carbon (:func:`_clinker_process`)

    ``output_t``: clinker (t) for a clinker line, else Σ ``product`` (the pack's product, e.g. heat supplied, GJ), 0 when
    the sector has none. ``details``: each term (``part_rounding``), electricity, green electricity (MW·h) and heat (GJ).
    Exact arithmetic; the total is rounded once (``emissions_rounding``)."""
    fuel = _fuels_co2(rows, rules)
    elec = green = heat = product = Decimal(0)
    for r in rows:
        q = r.quantity or Decimal(0)
        with exact():
            if r.source == "electricity":
                elec += q
            elif r.source == "green_electricity":
                green += q
            elif r.source == "heat":
                heat += q
            elif r.source == "product":
                product += q
    carbonate = raw = Decimal(0)
    if rules.sector == "combustion_clinker":
        carbonate, raw, product = _clinker_process(rows, rules)
    with exact():
        e_elec = (elec - (green if rules.green_counts_zero else 0)) * rules.electricity_factor
        e_heat = heat * rules.heat_factor
        total = fuel + e_elec + e_heat + carbonate + raw
    pr = rules.part_rounding
    details = {"e_fuel_t": apply_rounding(fuel, pr), "e_electricity_t": apply_rounding(e_elec, pr), "e_heat_t": apply_rounding(e_heat, pr)}
    if rules.sector == "combustion_clinker":
        details |= {"e_carbonate_t": apply_rounding(carbonate, pr), "e_raw_meal_carbon_t": apply_rounding(raw, pr)}
    details |= {"electricity_mwh": apply_rounding(elec, rules.electricity_rounding), "green_electricity_mwh": apply_rounding(green, rules.electricity_rounding),
                "heat_gj": apply_rounding(heat, rules.heat_rounding)}
    return FacilityYear(entity_uscc=key[0], facility_id=key[1], sector=rules.pack_sector, year=key[2],
                        emissions_t=int(apply_rounding(total, rules.emissions_rounding)), part_a_t=None, part_b_t=None,
                        output_t=apply_rounding(product, rules.product_rounding), details=details,
                        exact={"e_total_t": total, "e_fuel_t": fuel, "e_electricity_t": e_elec, "e_heat_t": e_heat, "e_carbonate_t": carbonate,
                               "e_raw_meal_carbon_t": raw})


def aluminium_year(key: Key, rows: list[ActivityRow], rules: IndustryRules) -> FacilityYear:
    """One electrolysis process and year (tCO2e): carbon anode consumed as raw material, NC × (1 − S − A) × 44/12, plus
    anode-effect PFCs, P × (EF_CF4 × GWP_CF4 + EF_C2F6 × GWP_C2F6) / 1000 (EF kg/t Al, P t molten aluminium); intensity
    parts anode and PFC, denominator the molten aluminium (t). Constants and defaults from the pack (see its
    ``[[unconfirmed]]``)."""
    k = rules.constants
    par = _monthly_parameter(rows, rules)
    anode = pfc = metal = Decimal(0)
    with exact():
        for r in rows:
            q = r.quantity or Decimal(0)
            if r.source == "anode":
                anode += _co2(q * (1 - par[(r.month, "硫分")] - par[(r.month, "灰分")]), rules)
            elif r.source == "product":
                metal += q
                pfc += q * (par[(r.month, "CF4")] * k["gwp_cf4"] + par[(r.month, "C2F6")] * k["gwp_c2f6"]) / k["co2_kg_per_t"]
        total = anode + pfc
    pr = rules.part_rounding
    return FacilityYear(entity_uscc=key[0], facility_id=key[1], sector="aluminium", year=key[2],
                        emissions_t=int(apply_rounding(total, rules.emissions_rounding)),
                        part_a_t=apply_rounding(anode, pr), part_b_t=apply_rounding(pfc, pr),
                        output_t=apply_rounding(metal, rules.product_rounding), details={},
                        exact={"e_anode_t": anode, "e_pfc_t": pfc, "e_total_t": total})
