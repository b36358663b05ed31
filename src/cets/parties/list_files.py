"""Key-emitter lists as XLSX in the published list format, and import of a province's list with
row-level errors. No Django, no database (openpyxl only).

Columns (the published list records of the national management platform, as in
``data/cets-verification-entities/key_emitters_sample_neimenggu_2026.csv``; the notices' 附件2
format itself was not available): 序号, 年度, 省份, 地市, 行业, 单位名称, 统一社会信用代码, 公布部门, 公布日期.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from io import BytesIO
from typing import BinaryIO

from cets.core.errors import InputProblem
from cets.core.regions import PROVINCES
from cets.core.tables import xlsx_text_only
from cets.core.uploads import problems_capped, xlsx_open
from cets.core.uscc import InvalidUscc, uscc_province, validate_uscc

LIST_COLUMNS = ("序号", "年度", "省份", "地市", "行业", "单位名称", "统一社会信用代码", "公布部门", "公布日期")
#: Optional last column of a list with two kinds of unit (Beijing's list, 京环发〔2024〕4号 as cited by 京环发〔2024〕8号 一:
#: 重点碳排放单位 and 一般报告单位). Empty or absent = key emitter.
CATEGORY_COLUMN = "单位类别"
CATEGORY_NAMES = {"key_emitter": "重点碳排放单位", "general_reporting": "一般报告单位"}
_CATEGORY_BY_NAME = {"重点碳排放单位": "key_emitter", "重点排放单位": "key_emitter", "": "key_emitter", "一般报告单位": "general_reporting"}

# The national sectors by the industry names the published lists use.


@dataclass(frozen=True)
class ListRow:
    """One row of a published list: ``sector`` is the code (``power``…), ``province`` the GB/T 2260 code."""

    year: int
    province: str
    city: str
    sector: str
    name: str
    uscc: str
    authority: str
    published_on: dt.date | None
    row: int = 0
    category: str = "key_emitter"


def write_list_xlsx(rows: Iterable[ListRow], *, sector_names: Mapping[str, str]) -> bytes:
    """The list as an XLSX workbook (one sheet 重点排放单位名录, header row :data:`LIST_COLUMNS`, plus
    :data:`CATEGORY_COLUMN` when a row is a general reporting unit)."""
    from openpyxl import Workbook

    rows = list(rows)
    with_category = any(r.category != "key_emitter" for r in rows)
    wb = Workbook()
    ws = wb.active
    ws.title = "重点排放单位名录"
    ws.append(list(LIST_COLUMNS) + ([CATEGORY_COLUMN] if with_category else []))
    for i, r in enumerate(rows, start=1):
        ws.append([i, r.year, PROVINCES[r.province][0], r.city, sector_names.get(r.sector, r.sector), r.name, r.uscc, r.authority,
                   r.published_on.isoformat() if r.published_on else ""] + ([CATEGORY_NAMES[r.category]] if with_category else []))
    for col, width in zip("ABCDEFGHIJ", (6, 6, 14, 12, 10, 40, 22, 24, 12, 14)):
        ws.column_dimensions[col].width = width
    buf = BytesIO()
    xlsx_text_only(wb)  # user text never becomes a formula
    wb.save(buf)
    return buf.getvalue()


def read_list_xlsx(stream: BinaryIO | bytes, *, file_name: str, year: int, province: str,
                   sector_names: Mapping[str, str]) -> tuple[list[ListRow], list[InputProblem]]:
    """Parse a province's list (:data:`LIST_COLUMNS`, first sheet). Every bad row is reported (file,
    row, column, value, reason zh/en): a missing column, a year other than ``year``, a province other
    than ``province`` (by name, and by the credit code's region code), an industry not among
    ``sector_names`` (code → published name), an empty name, an invalid credit code (GB 32100), a
    duplicate (sector, credit code), a date that is not ISO, a :data:`CATEGORY_COLUMN` value other than
    重点碳排放单位/重点排放单位/一般报告单位 (the column is optional). Returns rows and problems.
    """
    data = stream if isinstance(stream, bytes) else stream.read()
    wb, refused = xlsx_open(data, file_name=file_name)  # size, rows, columns, decompressed size (S0201–S0205)
    if wb is None:
        return [], refused
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header = [str(c).strip() if c is not None else "" for c in next(it, ())]
    missing = [c for c in LIST_COLUMNS if c not in header]
    if missing:
        return [], [InputProblem(file_name, 1, ",".join(missing), "", f"缺少列：{'、'.join(missing)}", f"missing columns: {', '.join(missing)}")]
    pos = {c: header.index(c) for c in LIST_COLUMNS + ((CATEGORY_COLUMN,) if CATEGORY_COLUMN in header else ())}
    code_by_name = {name: code for code, name in sector_names.items()}
    province_zh = PROVINCES[province][0]
    rows: list[ListRow] = []
    problems: list[InputProblem] = []
    seen: dict[tuple[str, str], int] = {}
    for row_no, values in enumerate(it, start=2):
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        cell = {c: ("" if pos[c] >= len(values) or values[pos[c]] is None else str(values[pos[c]]).strip()) for c in pos}
        cell.setdefault(CATEGORY_COLUMN, "")
        bad: list[InputProblem] = []

        def problem(col, zh, en, cell=cell, bad=bad, row_no=row_no):
            bad.append(InputProblem(file_name, row_no, col, cell[col], zh, en))

        if cell["年度"] != str(year):
            problem("年度", f"年度应为 {year}", f"year must be {year}")
        if cell["省份"] != province_zh:
            problem("省份", f"省份应为 {province_zh}", f"province must be {province_zh}")
        sector = code_by_name.get(cell["行业"])
        if sector is None:
            problem("行业", f"行业应为：{'、'.join(sector_names.values())}", f"industry must be one of {', '.join(sector_names.values())}")
        if not cell["单位名称"]:
            problem("单位名称", "单位名称为空", "entity name is empty")
        uscc = None
        try:
            uscc = validate_uscc(cell["统一社会信用代码"])
        except InvalidUscc as e:
            problem("统一社会信用代码", e.problem.zh, e.problem.en)
        if uscc is not None and (uscc_province(uscc) or "") != province:
            problem("统一社会信用代码", f"信用代码的行政区划不在{province_zh}", f"the credit code's region is not in {province_zh}")
            uscc = None
        published = None
        if cell["公布日期"]:
            try:
                published = dt.date.fromisoformat(cell["公布日期"][:10])
            except ValueError:
                problem("公布日期", "日期应为 YYYY-MM-DD", "date must be YYYY-MM-DD")
        category = _CATEGORY_BY_NAME.get(cell[CATEGORY_COLUMN])
        if category is None:
            problem(CATEGORY_COLUMN, "单位类别应为：重点碳排放单位、一般报告单位",
                    "category must be 重点碳排放单位 (key emitter) or 一般报告单位 (general reporting unit)")
        if not bad and (sector, uscc) in seen:
            problem("统一社会信用代码", f"与第{seen[(sector, uscc)]}行重复", f"duplicate of row {seen[(sector, uscc)]}")
        if bad:
            problems.extend(bad)
            continue
        seen[(sector, uscc)] = row_no
        rows.append(ListRow(year=year, province=province, city=cell["地市"], sector=sector, name=cell["单位名称"], uscc=uscc,
                            authority=cell["公布部门"], published_on=published, row=row_no, category=category))
    return rows, problems_capped(problems)
