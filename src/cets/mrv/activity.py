"""Monthly activity rows of steel, cement and aluminium facilities in, annual facility results out, as CSV. No Django.

``read_activity`` checks every cell of every row (file, row, column, value, reason in Chinese and English) and then
the inputs the guideline does not allow (:func:`cets.mrv.accounting_industry.guideline_refusals`, checks M0104–M0109,
with the clause); the caller writes nothing when there is a problem (``cets mrv compute`` exits 2). Reading (UTF-8 or
GB18030) and the atomic writer are :mod:`cets.core.tables`'s. The columns are documented in README.md
"MRV input formats".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from cets.core.errors import InputProblem
from cets.core.tables import CsvTable, write_csv_atomic
from cets.core.uscc import validate_uscc

from .accounting_industry import CONTENT_SOURCES, PART_SOURCES, SOURCES, ActivityRow, FacilityYear, IndustryRules, guideline_refusals

ACTIVITY_COLUMNS = ("entity_uscc", "facility_id", "month", "source", "part", "material", "quantity", "ncv_gj_per_unit",
                    "carbon_content_tc_per_gj", "oxidation_rate", "measured_value")
# The first columns are those of `cets mrv intensity` (cets.mrv.industry.INDUSTRY_COLUMNS) plus the year.
COMMON_OUTPUT = ("entity_uscc", "unit_id", "sector", "year", "emissions_t", "part_a_t", "part_b_t", "output_t")
DETAIL_COLUMNS = {
    "steel": ("e_coking_t", "e_sintering_t", "e_pelletizing_t", "e_ironmaking_t", "e_bof_t", "e_eaf_t", "e_cofiring_t", "e_other_t",
              "crude_steel_t", "aux_electricity_mwh", "aux_heat_gj"),
    "cement": ("e_fuel_t", "e_carbonate_t", "e_raw_meal_carbon_t"),
    "aluminium": (),
    "combustion": ("e_fuel_t", "e_electricity_t", "e_heat_t", "electricity_mwh", "green_electricity_mwh", "heat_gj"),
    "combustion_clinker": ("e_fuel_t", "e_electricity_t", "e_heat_t", "e_carbonate_t", "e_raw_meal_carbon_t", "electricity_mwh",
                           "green_electricity_mwh", "heat_gj"),
}
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def output_columns(sector: str) -> tuple[str, ...]:
    return COMMON_OUTPUT + DETAIL_COLUMNS[sector]


def _number(text: str, *, low: Decimal | None = None, high: Decimal | None = None, strict_low: bool = False) -> Decimal:
    t = text.strip()
    if not t or "e" in t.lower():
        raise ValueError(t)
    d = Decimal(t)
    if not d.is_finite() or (low is not None and (d < low or (strict_low and d == low))) or (high is not None and d > high):
        raise ValueError(t)
    return d


def _optional(parse):
    return lambda v: None if not v.strip() else parse(v)


def _month(v: str) -> tuple[int, int]:
    m = _MONTH.match(v.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(v)
    return int(m.group(1)), int(m.group(2))


def read_activity(path: Path | str, rules: IndustryRules) -> tuple[list[ActivityRow], list[InputProblem]]:
    """Parse and check an activity CSV (:data:`ACTIVITY_COLUMNS`) against ``rules``; ``(rows, problems)``.

    Cell checks: credit code (GB 32100), facility id, month YYYY-MM in the pack's years, a source of the sector, the
    ``part`` (steel: a process code of the pack for process rows, a unit id for ``cofiring_fuel``, blank otherwise),
    quantity ≥ 0 (blank only on parameter rows), NCV > 0, carbon content and oxidation rate in (0, 1], measured value
    within the parameter's bounds, a duplicate (entity, facility, month, source, part, material). Then the guideline's
    refusals with their clause (M0104–M0109)."""
    path = Path(path)
    name = path.name
    table = CsvTable(path, ACTIVITY_COLUMNS)
    if table.problems:
        return [], table.problems
    sources = SOURCES[rules.sector]
    out: list[ActivityRow] = []
    problems: list[InputProblem] = []
    seen: dict[tuple, int] = {}
    known: dict[str, str] = {}
    source_msg = (f"排放源类型应为：{'、'.join(sources)}", f"source must be one of: {', '.join(sources)}")
    optional_cols = ("ncv_gj_per_unit", "carbon_content_tc_per_gj", "oxidation_rate")
    for row_no, rec, bad, field in table.rows():
        code = rec.get("entity_uscc") or ""
        uscc = known.get(code) or field("entity_uscc", validate_uscc, "", "")  # a code repeats on every row of its entity
        if uscc is not None:
            known[code] = uscc
        facility = field("facility_id", lambda v: v.strip() or _raise(v), "设施编号为空", "facility id is empty")
        ym = field("month", _month, "月份应为 YYYY-MM", "month must be YYYY-MM")
        if ym is not None and ym[0] not in rules.years:
            bad.append(InputProblem(name, row_no, "month", rec["month"], f"规则包 {rules.pack_id} 不适用于 {ym[0]} 年",
                                    f"rule pack {rules.pack_id} does not cover {ym[0]}"))
            ym = None
        source = field("source", lambda v: v.strip() if v.strip() in sources else _raise(v), *source_msg)
        part = (rec.get("part") or "").strip()
        if source is not None:
            if rules.sector == "steel" and source in PART_SOURCES:
                if source != "cofiring_fuel" and part not in rules.processes:
                    bad.append(InputProblem(name, row_no, "part", part, f"应为工序代码：{'、'.join(rules.processes)}",
                                            f"must be a process code: {', '.join(rules.processes)}"))
                elif source == "cofiring_fuel" and not part:
                    bad.append(InputProblem(name, row_no, "part", part, "应填掺烧发电机组编号", "the co-firing unit id is required"))
            elif part:
                bad.append(InputProblem(name, row_no, "part", part, "此排放源不填工序/机组", "this source takes no process or unit"))
        material = (rec.get("material") or "").strip()
        if not material:
            bad.append(InputProblem(name, row_no, "material", "", "物料/燃料名称为空", "material is empty"))
        parameter_row = source in CONTENT_SOURCES
        if parameter_row:
            qty = field("quantity", lambda v: None if not v.strip() else _raise(v), "参数行不填数量", "a parameter row takes no quantity")
        else:
            qty = field("quantity", lambda v: _number(v, low=Decimal(0)), "数量应为非负数（t、10^4 Nm3、MW·h 或 GJ）",
                        "quantity must be a number ≥ 0 (t, 10^4 Nm3, MW·h or GJ)")
        ncv = cc = of = None
        if any((rec.get(c) or "").strip() for c in optional_cols):  # most rows take the defaults: skip three blank cells
            ncv = field("ncv_gj_per_unit", _optional(lambda v: _number(v, low=Decimal(0), strict_low=True)),
                        "低位发热量应为正数或留空（缺省值）", "net calorific value must be a number > 0, or blank (default)")
            cc = field("carbon_content_tc_per_gj", _optional(lambda v: _number(v, low=Decimal(0), high=Decimal(1), strict_low=True)),
                       "单位热值含碳量应为0到1之间的正数（tC/GJ）或留空", "carbon content must be in (0, 1] tC/GJ, or blank")
            of = field("oxidation_rate", _optional(lambda v: _number(v, low=Decimal(0), high=Decimal(1), strict_low=True)),
                       "碳氧化率应为0到1之间的小数或留空", "oxidation rate must be a fraction in (0, 1], or blank")
        param = rules.parameters.get(material) if parameter_row else (rules.parameters.get("生料非燃料碳") if source == "raw_meal" else None)
        if param is not None:
            mv = field("measured_value", _optional(lambda v: _number(v, low=param.low, high=param.high)),
                       f"实测值应在 {param.low} 到 {param.high} 之间（{param.unit}）或留空",
                       f"measured value must be in [{param.low}, {param.high}] {param.unit}, or blank")
        else:
            mv = field("measured_value", _optional(lambda v: _number(v)), "实测值应为数字或留空", "measured value must be a number, or blank")
        if bad:
            problems.extend(bad)
            continue
        k = (uscc, facility, ym, source, part, material)
        if k in seen:
            problems.append(InputProblem(name, row_no, "material", material, f"与第{seen[k]}行重复（同一单位、设施、月份、排放源、工序和物料）",
                                         f"duplicate of row {seen[k]} (same entity, facility, month, source, part and material)"))
            continue
        seen[k] = row_no
        out.append(ActivityRow(row_no=row_no, entity_uscc=uscc, facility_id=facility, year=ym[0], month=ym[1], source=source, part=part,
                               material=material, quantity=qty, ncv=ncv, carbon_content=cc, oxidation_rate=of, measured_value=mv))
    for ref in guideline_refusals(out, rules):
        problems.append(InputProblem(name, ref.row_no, ref.column, ref.value, f"{ref.check.code} {ref.check.zh}（{ref.clause_zh}）",
                                     f"{ref.check.code} {ref.check.en} ({ref.clause_en})"))
    problems.sort(key=lambda p: p.row)
    return out, problems


def _raise(v: str):
    raise ValueError(v)


def annual_rows(results: Iterable[FacilityYear]) -> list[dict]:
    """Output rows in :func:`output_columns`: Decimals as rounded, emissions as whole tonnes."""
    rows = []
    for r in results:
        row = {"entity_uscc": r.entity_uscc, "unit_id": r.facility_id, "sector": r.sector, "year": r.year, "emissions_t": r.emissions_t,
               "part_a_t": "" if r.part_a_t is None else r.part_a_t, "part_b_t": "" if r.part_b_t is None else r.part_b_t,
               "output_t": r.output_t}
        row |= dict(r.details)  # Decimals: written as numbers (a negative E其他 is a number, not a formula)
        rows.append(row)
    return rows


def write_facility_years(path: Path | str, sector: str, results: Iterable[FacilityYear]) -> None:
    """Write the annual table atomically (no partial file on failure)."""
    write_csv_atomic(path, output_columns(sector), annual_rows(results))

