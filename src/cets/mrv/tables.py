"""Monthly unit data in, annual unit emissions out, as CSV. No Django, no database.

``read_monthly`` checks every row and every column and collects every problem (file, row, column,
value, reason in Chinese and English) before anything is computed; the caller writes nothing when
there is a problem (``cets mrv compute`` exits 2). Reading (UTF-8 or GB18030) and the atomic writer
(temporary file + rename, no partial output) are :mod:`cets.core.tables`'s.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path

from cets.core.errors import InputProblem
from cets.core.tables import cell_parser, read_records, write_csv_atomic
from cets.core.uscc import validate_uscc

from .calc import AccountingRules, MonthlyFuelRow, UnitYearEmissions

MONTHLY_COLUMNS = ("entity_uscc", "unit_id", "month", "fuel", "fuel_consumed", "ncv_gj_per_unit", "carbon_content_tc_per_gj",
                   "oxidation_rate", "generation_mwh", "supplied_mwh", "heat_supplied_gj", "operating_hours", "rated_capacity_mw")
# Optional: only needed where the year's rules count purchased electricity (national ≤ 2022, Beijing).
MONTHLY_OPTIONAL_COLUMNS = ("purchased_electricity_mwh", "green_electricity_mwh")
ANNUAL_COLUMNS = ("entity_uscc", "unit_id", "year", "emissions_t", "generation_mwh", "supplied_mwh", "heat_supplied_gj", "load_factor")
# Figures of the unit and month: they repeat on each fuel row of that month and must agree.
UNIT_MONTH_COLUMNS = ("generation_mwh", "supplied_mwh", "heat_supplied_gj", "operating_hours", "rated_capacity_mw",
                      *MONTHLY_OPTIONAL_COLUMNS)

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _decimal(text: str, *, low: Decimal | None = None, high: Decimal | None = None, strict_low: bool = False) -> Decimal:
    t = text.strip()
    if not t or "e" in t.lower() or t.startswith("+"):
        raise ValueError
    d = Decimal(t)
    if not d.is_finite() or (high is not None and d > high):
        raise ValueError
    if low is not None and (d < low or (strict_low and d == low)):
        raise ValueError
    return d


def _optional(parse):
    def f(text: str):
        return None if not text.strip() else parse(text)
    return f


def _nonempty(text: str) -> str:
    if not text.strip():
        raise ValueError
    return text.strip()


def _one_of(text: str, names) -> str:
    if text.strip() not in names:
        raise ValueError
    return text.strip()


def _month(text: str) -> tuple[int, int]:
    m = _MONTH.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError
    return int(m.group(1)), int(m.group(2))


def read_monthly(path: Path | str, rules: AccountingRules) -> tuple[list[MonthlyFuelRow], list[InputProblem]]:
    """Parse monthly unit data (one row per unit, month and fuel; columns :data:`MONTHLY_COLUMNS`,
    optionally :data:`MONTHLY_OPTIONAL_COLUMNS`) against the accounting ``rules``.

    Units: ``fuel_consumed`` t (10^4 Nm3 for gases), ``ncv_gj_per_unit`` GJ/t or GJ/10^4 Nm3,
    ``carbon_content_tc_per_gj`` tC/GJ, ``oxidation_rate`` a fraction 0–1 (blank = not measured),
    ``generation_mwh``/``supplied_mwh``/``purchased_electricity_mwh``/``green_electricity_mwh`` MWh,
    ``heat_supplied_gj`` GJ, ``operating_hours`` h (at most the hours of the month), ``rated_capacity_mw`` MW.
    ``month`` is ``YYYY-MM`` of a year the pack covers; ``fuel`` is a fuel name of the pack.

    Returns the rows and every problem found (1-based row numbers, the header is row 1). A missing
    column is one problem on row 1. Beyond each cell it checks: supplied ≤ generation, green ≤
    purchased, one row per unit, month and fuel, the unit-month figures equal on every fuel row of the
    month, one rated capacity per unit and year, and operating hours where there is generation.
    """
    path = Path(path)
    header, records, problems = read_records(path)
    if problems:
        return [], problems
    return validate_monthly(path.name, header, records, rules)


def validate_monthly(name: str, header: list[str], records: Iterable[Mapping[str, str]],
                     rules: AccountingRules) -> tuple[list[MonthlyFuelRow], list[InputProblem]]:
    """The checks of :func:`read_monthly` over ``records`` (column → text, the header being row 1),
    whatever file they came from (CSV, or the XLSX filing template). A record's ``_row`` key, if
    present, is its row number in the file (records are otherwise numbered from 2)."""
    problems: list[InputProblem] = []
    rows: list[MonthlyFuelRow] = []
    missing = [c for c in MONTHLY_COLUMNS if c not in header]
    if missing:
        return [], [InputProblem(name, 1, ",".join(missing), "", f"缺少列：{'、'.join(missing)}", f"missing columns: {', '.join(missing)}")]
    seen: set[tuple[str, str, int, int, str]] = set()
    first_of_month: dict[tuple[str, str, int, int], tuple[int, dict[str, Decimal]]] = {}
    capacity_of: dict[tuple[str, str, int], Decimal] = {}
    for auto_row, rec in enumerate(records, start=2):
        row_no = int(rec.get("_row") or auto_row)
        bad: list[InputProblem] = []

        cell = cell_parser(name, rec, row_no, bad)

        nonneg = lambda v: _decimal(v, low=Decimal(0))  # noqa: E731
        uscc = cell("entity_uscc", validate_uscc, "", "")
        unit_id = cell("unit_id", _nonempty, "机组编号为空", "unit id is empty")
        ym = cell("month", _month, "月份应为 YYYY-MM", "month must be YYYY-MM")
        if ym is not None and ym[0] not in rules.years:
            bad.append(InputProblem(name, row_no, "month", rec["month"], f"规则包 {rules.pack_id} 不适用于 {ym[0]} 年",
                                    f"rule pack {rules.pack_id} does not cover {ym[0]}"))
            ym = None
        fuel = cell("fuel", lambda v: _one_of(v, rules.fuels),
                    "燃料品种不在规则包中（应使用指南中的名称，如 烟煤、无烟煤、褐煤、天然气）",
                    "fuel not in the rule pack (use the guideline's names, e.g. 烟煤, 无烟煤, 褐煤, 天然气)")
        consumed = cell("fuel_consumed", nonneg, "燃料消耗量应为非负数（t 或 10^4 Nm3）", "fuel consumed must be a number ≥ 0 (t or 10^4 Nm3)")
        ncv = cell("ncv_gj_per_unit", _optional(lambda v: _decimal(v, low=Decimal(0), strict_low=True)),
                   "低位发热量应为正数或留空（未实测）", "net calorific value must be a number > 0, or blank (not measured)")
        cc = cell("carbon_content_tc_per_gj", _optional(lambda v: _decimal(v, low=Decimal(0), high=Decimal(1), strict_low=True)),
                  "单位热值含碳量应为0到1之间的正数（tC/GJ）或留空", "carbon content must be a number in (0, 1] tC/GJ, or blank")
        of = cell("oxidation_rate", _optional(lambda v: _decimal(v, low=Decimal(0), high=Decimal(1), strict_low=True)),
                  "碳氧化率应为0到1之间的小数（如0.99）或留空", "oxidation rate must be a fraction in (0, 1] (e.g. 0.99), or blank")
        gen = cell("generation_mwh", nonneg, "发电量应为非负数（MWh）", "generation must be a number ≥ 0 (MWh)")
        sup = cell("supplied_mwh", nonneg, "供电量应为非负数（MWh）", "supplied electricity must be a number ≥ 0 (MWh)")
        heat = cell("heat_supplied_gj", nonneg, "供热量应为非负数（GJ）", "heat supplied must be a number ≥ 0 (GJ)")
        max_hours = Decimal(24 * calendar.monthrange(*ym)[1]) if ym else Decimal(24 * 31)
        hours = cell("operating_hours", lambda v: _decimal(v, low=Decimal(0), high=max_hours),
                     f"运行小时数应在0到{max_hours}之间（当月小时数）", f"operating hours must be between 0 and {max_hours} (the hours of the month)")
        cap = cell(
            "rated_capacity_mw", lambda v: _decimal(v, low=Decimal(0), strict_low=True), "额定容量应为正数（MW）", "rated capacity must be a number > 0 (MW)"
        )
        opt = {}
        for col in MONTHLY_OPTIONAL_COLUMNS:
            opt[col] = (
                cell(col, _optional(nonneg), "电量应为非负数（MWh）或留空", "electricity must be a number ≥ 0 (MWh), or blank") if col in header else None
            ) or Decimal(0)
        if gen is not None and sup is not None and sup > gen:
            bad.append(InputProblem(name, row_no, "supplied_mwh", rec["supplied_mwh"], "供电量大于发电量", "supplied electricity exceeds generation"))
        if opt["green_electricity_mwh"] > opt["purchased_electricity_mwh"]:
            bad.append(
                InputProblem(
                    name,
                    row_no,
                    "green_electricity_mwh",
                    rec.get("green_electricity_mwh", ""),
                    "绿电电量大于外购电量",
                    "green electricity exceeds purchased electricity",
                )
            )
        if bad:
            problems.extend(bad)
            continue
        year, month = ym
        key = (uscc, unit_id, year, month, fuel)
        if key in seen:
            problems.append(InputProblem(name, row_no, "fuel", fuel, "同一机组、月份、燃料重复", "duplicate unit, month and fuel"))
            continue
        seen.add(key)
        figures = {"generation_mwh": gen, "supplied_mwh": sup, "heat_supplied_gj": heat, "operating_hours": hours, "rated_capacity_mw": cap, **opt}
        um = (uscc, unit_id, year, month)
        if um in first_of_month:
            first_row, first = first_of_month[um]
            diff = [c for c in UNIT_MONTH_COLUMNS if first[c] != figures[c]]
            if diff:
                problems.extend(
                    InputProblem(
                        name, row_no, c, rec.get(c, ""), f"与第{first_row}行同机组同月的数值不一致", f"differs from row {first_row} of the same unit and month"
                    )
                    for c in diff
                )
                continue
        else:
            first_of_month[um] = (row_no, figures)
        uy = (uscc, unit_id, year)
        if capacity_of.setdefault(uy, cap) != cap:
            problems.append(
                InputProblem(
                    name,
                    row_no,
                    "rated_capacity_mw",
                    rec["rated_capacity_mw"],
                    f"同一机组同一年的额定容量应一致（{capacity_of[uy]}）",
                    f"one rated capacity per unit and year ({capacity_of[uy]})",
                )
            )
            continue
        rows.append(
            MonthlyFuelRow(
                entity_uscc=uscc,
                unit_id=unit_id,
                year=year,
                month=month,
                fuel=fuel,
                fuel_consumed=consumed,
                ncv=ncv,
                carbon_content=cc,
                oxidation_rate=of,
                generation_mwh=gen,
                supplied_mwh=sup,
                heat_supplied_gj=heat,
                operating_hours=hours,
                rated_capacity_mw=cap,
                purchased_electricity_mwh=opt["purchased_electricity_mwh"],
                green_electricity_mwh=opt["green_electricity_mwh"],
            )
        )
    # A unit-year that generated without a single operating hour has no load factor.
    totals: dict[tuple[str, str, int], list[Decimal]] = {}
    for (uscc, unit_id, year, _m), (row_no, fig) in first_of_month.items():
        t = totals.setdefault((uscc, unit_id, year), [Decimal(0), Decimal(0), Decimal(row_no)])
        t[0] += fig["generation_mwh"]
        t[1] += fig["operating_hours"]
        t[2] = min(t[2], Decimal(row_no))
    for (uscc, unit_id, year), (gen, hours, row_no) in totals.items():
        if gen > 0 and hours == 0:
            problems.append(
                InputProblem(
                    name,
                    int(row_no),
                    "operating_hours",
                    "0",
                    f"{year}年有发电量但运行小时数合计为零，无法计算负荷系数",
                    f"{year}: generation but no operating hours, no load factor can be computed",
                )
            )
    return rows, problems


def annual_rows(results: Iterable[UnitYearEmissions]) -> list[dict]:
    """Output rows in :data:`ANNUAL_COLUMNS`: decimals as plain strings, emissions as whole tonnes."""
    return [
        {
            "entity_uscc": r.entity_uscc,
            "unit_id": r.unit_id,
            "year": r.year,
            "emissions_t": r.emissions_t,
            "generation_mwh": _plain(r.generation_mwh),
            "supplied_mwh": _plain(r.supplied_mwh),
            "heat_supplied_gj": _plain(r.heat_supplied_gj),
            "load_factor": _plain(r.load_factor),
        }
        for r in results
    ]


def _plain(d: Decimal) -> str:
    return format(d, "f")


def write_annual(path: Path | str, results: Iterable[UnitYearEmissions]) -> None:
    """Write the annual table atomically (no partial file on failure)."""
    write_csv_atomic(path, ANNUAL_COLUMNS, annual_rows(results))
