"""Reading and writing allocation tables as CSV. Pure: no Django, no database.

``read_units`` validates every row and collects every problem (file, row, column, value, reason in
Chinese and English) before anything is computed; reading and atomic writing are
:mod:`cets.core.tables`'s.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from decimal import Decimal
from pathlib import Path

from cets.core.errors import InputProblem
from cets.core.quantities import is_digits
from cets.core.tables import CsvTable, UploadedTable, write_csv_atomic  # noqa: F401 (write_csv_atomic: the commands' writer)
from cets.core.uscc import validate_uscc

from .formulas import CATEGORIES, EntityAllocation, PowerRules, UnitAllocation, UnitInput

UNIT_INPUT_COLUMNS = ("entity_uscc", "unit_id", "category", "rated_capacity_mw", "generation_mwh", "heat_supplied_gj", "load_factor",
                      "verified_emissions_t", "prev_verified_emissions_t")
# Columns only some packs need (2019–2022: 供电量 basis, correction factors, pre-allocation from base-year output).
SUPPLY_COLUMNS = ("supplied_mwh",)
COOLING_COLUMNS = ("cooling",)
HEAT_RATIO_COLUMNS = ("heat_ratio",)
PREV_OUTPUT_COLUMNS = ("prev_supplied_mwh", "prev_heat_supplied_gj")
_UNIT_EXTRA_OUT = ("cooling_factor", "heat_factor")
UNIT_OUTPUT_COLUMNS = tuple(f.name for f in fields(UnitAllocation) if f.name not in _UNIT_EXTRA_OUT)
ENTITY_OUTPUT_COLUMNS = tuple(f.name for f in fields(EntityAllocation) if f.name != "borrowing_limit_t")


def input_columns(rules: PowerRules | None = None) -> tuple[str, ...]:
    """The unit table's required columns for ``rules`` (the 2023– columns when None): the 2019–2022
    packs need ``supplied_mwh`` (供电量, MWh) instead of ``generation_mwh``, ``cooling`` (water | air),
    ``heat_ratio`` (供热比, fraction 0–1) and ``prev_supplied_mwh``/``prev_heat_supplied_gj`` (the
    pre-allocation base year's output) instead of ``prev_verified_emissions_t``."""
    cols = list(UNIT_INPUT_COLUMNS)
    if rules is None:
        return tuple(cols)
    if rules.needs_supply:
        cols[cols.index("generation_mwh")] = "supplied_mwh"
    if rules.needs_prev_output:
        cols.remove("prev_verified_emissions_t")
        cols += PREV_OUTPUT_COLUMNS
    if rules.needs_cooling:
        cols += COOLING_COLUMNS
    if rules.needs_heat_ratio:
        cols += HEAT_RATIO_COLUMNS
    return tuple(cols)


def unit_output_columns(rules: PowerRules | None = None) -> tuple[str, ...]:
    """Unit output columns: the 2023– columns, plus ``cooling_factor``/``heat_factor`` when the pack has them."""
    extra = tuple(c for c, need in (("cooling_factor", rules and rules.needs_cooling), ("heat_factor", rules and rules.needs_heat_ratio)) if need)
    return UNIT_OUTPUT_COLUMNS + extra


def entity_output_columns(rules: PowerRules | None = None) -> tuple[str, ...]:
    """Entity output columns, plus ``borrowing_limit_t`` (预支上限) when the pack allows borrowing."""
    return ENTITY_OUTPUT_COLUMNS + (("borrowing_limit_t",) if rules is not None and rules.borrowing_allowed else ())


def _decimal(text: str, *, low: Decimal | None = None, high: Decimal | None = None) -> Decimal:
    if "e" in text.lower() or not text.strip():
        raise ValueError
    d = Decimal(text.strip())
    if not d.is_finite() or (low is not None and d < low) or (high is not None and d > high):
        raise ValueError
    return d


def _nonempty(text: str) -> str:
    if not text.strip():
        raise ValueError
    return text.strip()


def _category(text: str) -> str:
    if text.strip() not in CATEGORIES:
        raise ValueError
    return text.strip()


def _choice(text: str, allowed) -> str:
    if text.strip() not in allowed:
        raise ValueError
    return text.strip()


def _tonnes(text: str) -> int:
    t = text.strip()
    if not is_digits(t):
        raise ValueError
    return int(t)


def read_units(path: Path | str, rules: PowerRules | None = None) -> tuple[list[UnitInput], list[InputProblem]]:
    """Parse a unit table (one row per generating unit; columns :func:`input_columns` of ``rules``).

    ``generation_mwh``/``supplied_mwh`` MWh, ``heat_supplied_gj`` GJ, ``load_factor`` and ``heat_ratio``
    fractions 0–1, ``cooling`` one of the pack's cooling types, emissions in whole tonnes. Returns the
    units and every problem found; missing columns are one problem on row 1.
    """
    path = Path(path)
    problems: list[InputProblem] = []
    units: list[UnitInput] = []
    seen: set[tuple[str, str]] = set()
    required = input_columns(rules)
    table = CsvTable(path, required)
    if table.problems:
        return [], table.problems
    for row_no, rec, bad, field in table.rows():
        uscc = field("entity_uscc", validate_uscc, "", "")
        unit_id = field("unit_id", _nonempty, "机组编号为空", "unit id is empty")
        category = field("category", _category, "机组类别应为 I、II、III 或 IV", "category must be I, II, III or IV")
        cap = field("rated_capacity_mw", lambda v: _decimal(v, low=Decimal(0)), "额定容量应为非负数", "rated capacity must be a number ≥ 0")
        if "generation_mwh" in required:
            gen = field("generation_mwh", lambda v: _decimal(v, low=Decimal(0)), "发电量应为非负数（MWh）", "generation must be a number ≥ 0 (MWh)")
        else:
            gen = Decimal(0)
        extra = {}
        if "supplied_mwh" in required:
            extra["supplied_mwh"] = field(
                "supplied_mwh", lambda v: _decimal(v, low=Decimal(0)), "供电量应为非负数（MWh）", "net supply must be a number ≥ 0 (MWh)"
            )
        if "cooling" in required:
            kinds = sorted(rules.cooling_factors)
            extra["cooling"] = field("cooling", lambda v: _choice(v, kinds), f"冷却方式应为 {'、'.join(kinds)}", f"cooling must be one of {', '.join(kinds)}")
        if "heat_ratio" in required:
            extra["heat_ratio"] = field(
                "heat_ratio", lambda v: _decimal(v, low=Decimal(0), high=Decimal(1)), "供热比应在0到1之间", "heat ratio must be a fraction 0–1"
            )
        if "prev_supplied_mwh" in required:
            extra["prev_supplied_mwh"] = field(
                "prev_supplied_mwh", lambda v: _decimal(v, low=Decimal(0)), "基准年供电量应为非负数（MWh）", "base-year net supply must be a number ≥ 0 (MWh)"
            )
            extra["prev_heat_supplied_gj"] = field(
                "prev_heat_supplied_gj",
                lambda v: _decimal(v, low=Decimal(0)),
                "基准年供热量应为非负数（GJ）",
                "base-year heat supplied must be a number ≥ 0 (GJ)",
            )
        heat = field("heat_supplied_gj", lambda v: _decimal(v, low=Decimal(0)), "供热量应为非负数（GJ）", "heat supplied must be a number ≥ 0 (GJ)")
        lf = field("load_factor", lambda v: _decimal(v, low=Decimal(0), high=Decimal(1)), "负荷系数应在0到1之间", "load factor must be a fraction 0–1")
        e = field("verified_emissions_t", _tonnes, "核查排放量应为非负整数（吨）", "verified emissions must be whole tonnes ≥ 0")
        if "prev_verified_emissions_t" in required:
            prev = field("prev_verified_emissions_t", _tonnes, "上年核查排放量应为非负整数（吨）", "previous-year emissions must be whole tonnes ≥ 0")
        else:
            prev = 0
        if not bad and (uscc, unit_id) in seen:
            bad.append(InputProblem(path.name, row_no, "unit_id", unit_id, "机组重复", "duplicate unit of this entity"))
        if bad:
            problems.extend(bad)
            continue
        seen.add((uscc, unit_id))
        units.append(
            UnitInput(
                entity_uscc=uscc,
                unit_id=unit_id,
                category=category,
                generation_mwh=gen,
                heat_supplied_gj=heat,
                load_factor=lf,
                verified_emissions_t=e,
                prev_verified_emissions_t=prev,
                rated_capacity_mw=cap,
                **extra,
            )
        )
    return units, problems


def as_rows(items) -> list[dict]:
    return [asdict(i) for i in items]


# ---- steel, cement, aluminium (cets.allocation.industry)

LINE_INPUT_COLUMNS = ("entity_uscc", "line_id", "verified_emissions_t", "intensity")
LINE_OPTIONAL_COLUMNS = ("prev_verified_emissions_t", "special")
LINE_OUTPUT_COLUMNS = (
    "entity_uscc",
    "line_id",
    "verified_emissions_t",
    "intensity",
    "balance_value",
    "deviation",
    "alpha",
    "allocation_t",
    "obligation_t",
    "pre_allocation_t",
    "special",
)
INDUSTRY_ENTITY_OUTPUT_COLUMNS = ("entity_uscc", "verified_emissions_t", "pre_allocation_t", "final_allocation_t", "obligation_t", "issue_delta_t")


def read_lines(path: Path | str, rules) -> tuple[list, list[InputProblem]]:
    """Parse a steel/cement/aluminium table, one row per allocation unit (steel enterprise, clinker line,
    electrolysis process): ``entity_uscc, line_id, verified_emissions_t`` (whole tonnes), ``intensity``
    (tCO2e per t product, > 0), ``prev_verified_emissions_t`` (required when the pack pre-allocates) and
    optionally ``special`` (one of the pack's special cases, A = E). Returns lines and every problem."""
    from .industry import LineInput

    path = Path(path)
    problems: list[InputProblem] = []
    lines: list[LineInput] = []
    seen: set[tuple[str, str]] = set()
    required = LINE_INPUT_COLUMNS + (("prev_verified_emissions_t",) if rules.pre_allocation else ())
    table = CsvTable(path, required)
    if table.problems:
        return [], table.problems
    has_special = "special" in table.fieldnames
    for row_no, rec, bad, field in table.rows():
        uscc = field("entity_uscc", validate_uscc, "", "")
        line_id = field("line_id", _nonempty, "生产线（工序）编号为空", "line id is empty")
        e = field("verified_emissions_t", _tonnes, "核查排放量应为非负整数（吨）", "verified emissions must be whole tonnes ≥ 0")
        special = ""
        if has_special and (rec.get("special") or "").strip():
            cases = rules.special_cases
            special = field("special", lambda v: _choice(v, cases), f"特殊情形应为 {'、'.join(cases)}", f"special case must be one of {', '.join(cases)}")
        low = Decimal(0) if special or rules.method == "verified_emissions" else None

        def positive(v, low=low):
            d = _decimal(v, low=Decimal(0))
            if low is None and d <= 0:
                raise ValueError
            return d

        intensity = field("intensity", positive, "碳排放强度应为正数（tCO2e/t）", "intensity must be a number > 0 (tCO2e/t)")
        prev = (
            field("prev_verified_emissions_t", _tonnes, "上年核查排放量应为非负整数（吨）", "previous-year emissions must be whole tonnes ≥ 0")
            if rules.pre_allocation
            else 0
        )
        if not bad and (uscc, line_id) in seen:
            bad.append(InputProblem(path.name, row_no, "line_id", line_id, "生产线（工序）重复", "duplicate line of this entity"))
        if bad:
            problems.extend(bad)
            continue
        seen.add((uscc, line_id))
        lines.append(LineInput(entity_uscc=uscc, line_id=line_id, verified_emissions_t=e, intensity=intensity, prev_verified_emissions_t=prev, special=special))
    return lines, problems


# ---- Beijing pilot (cets.allocation.beijing)

BEIJING_INPUT_COLUMNS = ("entity_uscc", "method", "verified_emissions_t", "base", "activity", "factor", "prev_allocation_t", "prev_compliant")
BEIJING_OUTPUT_COLUMNS = (
    "entity_uscc",
    "method",
    "verified_emissions_t",
    "initial_allocation_t",
    "cap_adjustment_t",
    "free_allocation_t",
    "pre_allocation_t",
    "issue_delta_t",
)


def _yes_no(text: str) -> bool:
    t = text.strip().lower()
    if t in ("1", "yes", "true", "是", "y"):
        return True
    if t in ("0", "no", "false", "否", "n", ""):
        return False
    raise ValueError


BEIJING_BASIS_COLUMNS = ("entity_uscc", "method", "base", "activity", "factor", "prev_allocation_t", "prev_compliant")


def _beijing_basis_fields(field) -> dict:
    """The approval-basis cells of one Beijing row (:data:`BEIJING_BASIS_COLUMNS`), parsed with ``field``."""
    from .beijing import METHODS

    method = field("method", lambda v: _choice(v, METHODS), f"核定方法应为 {'、'.join(METHODS)}", f"method must be one of {', '.join(METHODS)}")
    return dict(
        method=method,
        base=field("base", lambda v: _decimal(v, low=Decimal(0)), "基数应为非负数", "base must be a number ≥ 0"),
        activity=field("activity", lambda v: _decimal(v, low=Decimal(0)) if v.strip() or method != "historical_total" else Decimal(0),
                       "产量（活动水平）应为非负数", "activity must be a number ≥ 0"),
        factor=field("factor", lambda v: _decimal(v, low=Decimal(0)) if v.strip() else Decimal(1), "控排系数应为非负数", "control factor must be a number ≥ 0"),
        prev_allocation_t=field("prev_allocation_t", lambda v: _tonnes(v) if v.strip() else 0, "上年核定配额应为非负整数（吨）",
                                "previous allocation must be whole tonnes ≥ 0"),
        prev_compliant=field("prev_compliant", _yes_no, "上年是否履约应为 是/否", "prev_compliant must be yes or no"),
    )


def _read_beijing_rows(path: Path, columns, make) -> tuple[list, list[InputProblem]]:
    """One Beijing row per entity: ``make(uscc, field, fields, row_no)`` builds it from the parsed basis cells; a
    duplicate entity is a problem. Returns rows and every problem (nothing half read)."""
    problems: list[InputProblem] = []
    rows: list = []
    seen: set[str] = set()
    table = CsvTable(path, columns)
    if table.problems:
        return [], table.problems
    for row_no, rec, bad, field in table.rows():
        uscc = field("entity_uscc", validate_uscc, "", "")
        row = make(uscc, field, _beijing_basis_fields(field), row_no)
        if not bad and uscc in seen:
            bad.append(InputProblem(path.name, row_no, "entity_uscc", uscc, "单位重复", "duplicate entity"))
        if bad:
            problems.extend(bad)
            continue
        seen.add(uscc)
        rows.append(row)
    return rows, problems


def read_beijing(path: Path | str) -> tuple[list, list[InputProblem]]:
    """Parse a Beijing entity table (:data:`BEIJING_INPUT_COLUMNS`): ``method`` (historical_total |
    historical_intensity | benchmark), ``base`` (t, or t per unit of activity), ``activity`` and ``factor``
    (控排系数) ≥ 0 (``activity`` may be empty for historical_total, ``factor`` defaults to 1),
    ``prev_allocation_t`` whole tonnes, ``prev_compliant`` yes/no. Returns rows and every problem."""
    from .beijing import BeijingInput

    def make(uscc, field, basis, row_no):
        e = field("verified_emissions_t", _tonnes, "核查排放量应为非负整数（吨）", "verified emissions must be whole tonnes ≥ 0")
        return BeijingInput(entity_uscc=uscc, verified_emissions_t=e, **basis)

    return _read_beijing_rows(Path(path), BEIJING_INPUT_COLUMNS, make)


def read_beijing_basis(path: Path | str | UploadedTable) -> tuple[list[dict], list[InputProblem]]:
    """Parse a Beijing approval-basis table (:data:`BEIJING_BASIS_COLUMNS`, the same cells as
    :func:`read_beijing` without the verified emissions, which the database path takes from MRV): one dict per
    entity (``entity_uscc``, the file's ``row`` and the :class:`~cets.allocation.models.AllocationBasis` fields).
    Returns rows and every problem (file, row, column, value, reason zh/en)."""
    def make(uscc, field, basis, row_no):
        return {"entity_uscc": uscc, "row": row_no, **basis}

    return _read_beijing_rows(Path(path) if isinstance(path, str) else path, BEIJING_BASIS_COLUMNS, make)
