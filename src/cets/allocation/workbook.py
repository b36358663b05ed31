"""Allocation data tables as XLSX (openpyxl), in the field names of the seed notice 国环规气候〔2024〕1号
(一(一): 预分配配额量、配额总调整量、预分配实发配额量; 二(一): 应发配额量、应清缴配额量、配额调整总量、实发配额量),
and reading the entity tables back with every bad cell reported. No Django, no database.

Each sheet: row 1 a title, row 2 the Chinese field names (the notice's), row 3 the English column keys,
data from row 4. Reading matches columns by their Chinese name (row 2), so a province may reorder them.
Quantities are whole tonnes CO2e; 实发配额量 may be negative (a claw-back).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from cets.core.errors import InputProblem
from cets.core.tables import xlsx_text_only
from cets.core.uploads import problems_capped, xlsx_open
from cets.core.uscc import InvalidUscc, validate_uscc

UNIT_PRE = (("entity_uscc", "统一社会信用代码"), ("entity_name", "重点排放单位名称"), ("unit_code", "机组编号"), ("category", "机组类别"),
            ("prev_verified_emissions_t", "上年度经核查排放量"), ("pre_allocation_t", "预分配配额量"))
ENTITY_PRE = (("entity_uscc", "统一社会信用代码"), ("entity_name", "重点排放单位名称"), ("pre_allocation_t", "预分配配额量"),
              ("pre_adjustment_t", "配额总调整量"), ("pre_issue_t", "预分配实发配额量"), ("special_note", "特别说明"))
UNIT_FINAL = (("entity_uscc", "统一社会信用代码"), ("entity_name", "重点排放单位名称"), ("unit_code", "机组编号"), ("category", "机组类别"),
              ("generation_mwh", "发电量（MWh）"), ("heat_supplied_gj", "供热量（GJ）"), ("load_factor", "负荷（出力）系数"),
              ("electricity_benchmark", "发电基准值"), ("heat_benchmark", "供热基准值"), ("ff", "调峰修正系数"),
              ("electricity_allowance_t", "发电配额量"), ("heat_allowance_t", "供热配额量"), ("gas_topup_t", "燃气机组补发配额量"),
              ("unit_allowance_t", "机组核定配额量"), ("verified_emissions_t", "经核查排放量"))
ENTITY_FINAL = (("entity_uscc", "统一社会信用代码"), ("entity_name", "重点排放单位名称"), ("verified_emissions_t", "经核查排放量"),
                ("initial_allocation_t", "初始配额量"), ("shortfall_topup_t", "履约缺口率上限补发配额量"), ("final_allocation_t", "应发配额量"),
                ("obligation_t", "应清缴配额量"), ("adjustments_total_t", "配额调整总量"), ("pre_issue_t", "预分配实发配额量"),
                ("final_issue_t", "实发配额量"), ("special_note", "特别说明"))

SHEETS = {  # sheet title → (columns, title zh, title en)
    "预分配-机组": (UNIT_PRE, "预分配配额 机组表", "pre-allocation, per unit"),
    "预分配-重点排放单位": (ENTITY_PRE, "预分配配额 重点排放单位表", "pre-allocation, per entity"),
    "核定-机组": (UNIT_FINAL, "核定配额 机组表", "final allocation, per unit"),
    "核定-重点排放单位": (ENTITY_FINAL, "核定配额 重点排放单位表", "final allocation, per entity"),
}
TONNES = {"prev_verified_emissions_t", "pre_allocation_t", "pre_adjustment_t", "pre_issue_t", "electricity_allowance_t", "heat_allowance_t",
          "gas_topup_t", "unit_allowance_t", "verified_emissions_t", "initial_allocation_t", "shortfall_topup_t", "final_allocation_t",
          "obligation_t", "adjustments_total_t", "final_issue_t"}
SIGNED = {"final_issue_t"}


def tables_xlsx(*, year: int, scope: str, unit_rows: Sequence[dict], entity_rows: Sequence[dict]) -> bytes:
    """The four data tables of ``year`` as one workbook. ``unit_rows`` and ``entity_rows`` are dicts
    with the column keys above (quantities int, factors Decimal); ``scope`` names who it covers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for title, (cols, zh, en) in SHEETS.items():
        ws = wb.create_sheet(title)
        ws.append([f"{year}年度 {zh} · {year} {en} · {scope}"])
        ws.cell(row=1, column=1).font = Font(bold=True)
        ws.append([c[1] for c in cols])
        ws.append([c[0] for c in cols])
        for c in ws[2]:
            c.font = Font(bold=True)
        rows = unit_rows if "机组" in title else entity_rows
        for r in rows:
            ws.append([_cell(r.get(k)) for k, _ in cols])
        for i, (k, zhname) in enumerate(cols, start=1):
            ws.column_dimensions[ws.cell(row=2, column=i).column_letter].width = max(12, 2 * len(zhname) + 2)
    buf = io.BytesIO()
    xlsx_text_only(wb)  # user text never becomes a formula
    wb.save(buf)
    return buf.getvalue()


def _cell(v):
    if isinstance(v, Decimal):
        # exact: a factor is text, never a binary float; trailing zeros dropped (0.650000 → 0.65) so that
        # SQLite (text) and PostgreSQL (numeric(p, s)) give the same cell
        return f"{v.normalize():f}"
    return v


@dataclass(frozen=True)
class EntityTableRow:
    """One entity's figures read from the pre-allocation and final entity tables (tonnes CO2e, int)."""

    entity_uscc: str
    verified_emissions_t: int
    pre_allocation_t: int
    pre_adjustment_t: int
    pre_issue_t: int
    initial_allocation_t: int
    shortfall_topup_t: int
    final_allocation_t: int
    obligation_t: int
    adjustments_total_t: int
    final_issue_t: int
    special_note: str
    row: int  # row of the final table (for later problems)


def _int(value, signed: bool) -> int:
    if isinstance(value, bool) or value is None:
        raise ValueError
    if isinstance(value, int):
        n = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError
        n = int(value)
    else:
        text = str(value).strip().replace(",", "")
        d = Decimal(text)
        if d != d.to_integral_value():
            raise ValueError
        n = int(d)
    if n < 0 and not signed:
        raise ValueError
    return n


def _sheet_rows(wb, title: str, filename: str, problems: list[InputProblem]) -> list[tuple[int, dict]]:
    cols, _, _ = SHEETS[title]
    if title not in wb.sheetnames:
        problems.append(InputProblem(filename, 1, title, "", f"缺少工作表：{title}", f"missing sheet: {title}"))
        return []
    ws = wb[title]
    header = [str(c.value).strip() if c.value is not None else "" for c in ws[2]] if ws.max_row >= 2 else []
    index = {}
    for key, zh in cols:
        if zh not in header:
            problems.append(InputProblem(f"{filename}:{title}", 2, zh, "", f"缺少列：{zh}", f"missing column: {zh} ({key})"))
        else:
            index[key] = header.index(zh)
    if len(index) < len(cols):
        return []
    out = []
    for row_no, values in enumerate(ws.iter_rows(min_row=4, values_only=True), start=4):
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        out.append((row_no, {k: (values[i] if i < len(values) else None) for k, i in index.items()}))
    return out


def read_entity_tables(data: bytes, filename: str) -> tuple[list[EntityTableRow], list[InputProblem]]:
    """Read the pre-allocation and final entity tables of a workbook written by :func:`tables_xlsx` (or a
    province's copy of it). Every bad cell is a problem (file:sheet, Excel row, the Chinese field name,
    value, reason zh/en): an invalid credit code, a quantity that is not a whole number of tonnes (or is
    negative, except 实发配额量), a duplicate entity, an entity in one table only, and the tables'
    identities — 预分配实发 = 预分配 − 配额总调整量; 应发 = 初始 + 补发; 实发 = 应发 − 配额调整总量 −
    预分配实发; 应清缴 = 经核查排放量; the 预分配实发 of both tables equal."""
    problems: list[InputProblem] = []
    wb, refused = xlsx_open(data, file_name=filename)  # size, rows, columns, decompressed size (S0201–S0205)
    if wb is None:
        return [], refused
    parsed: dict[str, dict[str, tuple[int, dict]]] = {}
    for title in ("预分配-重点排放单位", "核定-重点排放单位"):
        cols = dict(SHEETS[title][0])
        where = f"{filename}:{title}"
        seen: dict[str, tuple[int, dict]] = {}
        for row_no, rec in _sheet_rows(wb, title, filename, problems):
            bad = False
            clean = {}
            for key, value in rec.items():
                try:
                    if key == "entity_uscc":
                        clean[key] = validate_uscc(str(value or "").strip())
                    elif key in TONNES:
                        clean[key] = _int(value, key in SIGNED)
                    else:
                        clean[key] = "" if value is None else str(value).strip()
                except InvalidUscc as e:
                    problems.append(InputProblem(where, row_no, cols[key], str(value or ""), e.problem.zh, e.problem.en))
                    bad = True
                except (ValueError, InvalidOperation):
                    zh, en = ("应为整数吨", "must be whole tonnes") if key in SIGNED else ("应为非负整数吨", "must be whole tonnes ≥ 0")
                    problems.append(InputProblem(where, row_no, cols[key], str(value), zh, en))
                    bad = True
            if bad:
                continue
            if clean["entity_uscc"] in seen:
                problems.append(InputProblem(where, row_no, cols["entity_uscc"], clean["entity_uscc"], "重点排放单位重复", "duplicate entity"))
                continue
            seen[clean["entity_uscc"]] = (row_no, clean)
        parsed[title] = seen
    pre, fin = parsed.get("预分配-重点排放单位", {}), parsed.get("核定-重点排放单位", {})
    rows: list[EntityTableRow] = []
    if problems:
        return [], problems_capped(problems)
    for uscc in sorted(set(pre) ^ set(fin)):
        title = "预分配-重点排放单位" if uscc in pre else "核定-重点排放单位"
        row_no = (pre.get(uscc) or fin.get(uscc))[0]
        problems.append(InputProblem(f"{filename}:{title}", row_no, "统一社会信用代码", uscc, "该单位只出现在一张表中", "the entity is in one table only"))
    for uscc, (prow, p) in pre.items():
        if uscc not in fin:
            continue
        frow, f = fin[uscc]
        checks = [
            (p["pre_issue_t"] == p["pre_allocation_t"] - p["pre_adjustment_t"], "预分配-重点排放单位", prow, "预分配实发配额量", p["pre_issue_t"],
             "应等于预分配配额量−配额总调整量", "must equal pre-allocation − total adjustment"),
            (f["final_allocation_t"] == f["initial_allocation_t"] + f["shortfall_topup_t"], "核定-重点排放单位", frow, "应发配额量",
             f["final_allocation_t"], "应等于初始配额量+补发配额量", "must equal initial allocation + top-up"),
            (f["obligation_t"] == f["verified_emissions_t"], "核定-重点排放单位", frow, "应清缴配额量", f["obligation_t"],
             "应等于经核查排放量", "must equal verified emissions"),
            (f["pre_issue_t"] == p["pre_issue_t"], "核定-重点排放单位", frow, "预分配实发配额量", f["pre_issue_t"],
             "与预分配表不一致", "differs from the pre-allocation table"),
            (f["final_issue_t"] == f["final_allocation_t"] - f["adjustments_total_t"] - f["pre_issue_t"], "核定-重点排放单位", frow, "实发配额量",
             f["final_issue_t"], "应等于应发配额量−配额调整总量−预分配实发配额量", "must equal final − adjustments − pre-allocation issued"),
        ]
        bad = False
        for ok, title, row_no, name, value, zh, en in checks:
            if not ok:
                problems.append(InputProblem(f"{filename}:{title}", row_no, name, str(value), zh, en))
                bad = True
        if not bad:
            rows.append(EntityTableRow(
                entity_uscc=uscc, verified_emissions_t=f["verified_emissions_t"], pre_allocation_t=p["pre_allocation_t"],
                pre_adjustment_t=p["pre_adjustment_t"], pre_issue_t=p["pre_issue_t"], initial_allocation_t=f["initial_allocation_t"],
                shortfall_topup_t=f["shortfall_topup_t"], final_allocation_t=f["final_allocation_t"], obligation_t=f["obligation_t"],
                adjustments_total_t=f["adjustments_total_t"], final_issue_t=f["final_issue_t"],
                special_note=f["special_note"] or p["special_note"], row=frow))
    return (rows, problems) if not problems else ([], problems_capped(problems))


def rows_of(items: Iterable, keys: Sequence[str]) -> list[dict]:
    """Plain dicts of ``keys`` from model instances or dataclasses (attribute access)."""
    return [{k: getattr(i, k) for k in keys} for i in items]
