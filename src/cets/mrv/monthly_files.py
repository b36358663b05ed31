"""The monthly filing template (XLSX) and reading an uploaded one. No Django, no database.

The template has the columns of ``cets mrv compute`` (:data:`cets.mrv.tables.MONTHLY_COLUMNS` plus the
optional purchased / green electricity columns), one pre-filled row per unit and month; the entity
fills one row per fuel (copying the row for a second fuel). Reading returns the records as text so
that :func:`cets.mrv.tables.validate_monthly` applies the same checks as to a CSV.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from io import BytesIO

from cets.core.errors import InputProblem
from cets.core.tables import xlsx_text_only
from cets.core.uploads import xlsx_open

from .tables import MONTHLY_COLUMNS, MONTHLY_OPTIONAL_COLUMNS

TEMPLATE_COLUMNS = MONTHLY_COLUMNS + MONTHLY_OPTIONAL_COLUMNS
PREFILLED = ("entity_uscc", "unit_id", "month", "rated_capacity_mw")


def template_xlsx(*, uscc: str, units: Iterable[tuple[str, Decimal]], year: int, months: Iterable[int] = range(1, 13)) -> bytes:
    """A workbook with the header and one row per (unit code, rated capacity MW) and month of ``year``."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = f"{year}月度数据"
    ws.append(list(TEMPLATE_COLUMNS))
    months = list(months)
    for code, capacity in units:
        for m in months:
            row = {c: "" for c in TEMPLATE_COLUMNS}
            row.update(entity_uscc=uscc, unit_id=code, month=f"{year}-{m:02d}", rated_capacity_mw=format(capacity, "f"))
            ws.append([row[c] for c in TEMPLATE_COLUMNS])
    buf = BytesIO()
    xlsx_text_only(wb)  # user text never becomes a formula
    wb.save(buf)
    return buf.getvalue()


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        # a number typed into Excel arrives as float: use its shortest decimal repr, never binary digits
        return repr(v) if not v.is_integer() else str(int(v))
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m")
    return str(v).strip()


def read_monthly_xlsx(data: bytes, *, file_name: str) -> tuple[list[str], list[dict[str, str]], list[InputProblem]]:
    """Header, records (column → text) and file-level problems of an uploaded filing workbook (first sheet)."""
    wb, refused = xlsx_open(data, file_name=file_name)  # size, rows, columns, decompressed size (S0201–S0205)
    if wb is None:
        return [], [], refused
    it = wb.worksheets[0].iter_rows(values_only=True)
    header = [_text(c) for c in next(it, ())]
    records = []
    for row_no, values in enumerate(it, start=2):
        rec = {h: _text(values[i]) if values is not None and i < len(values) else "" for i, h in enumerate(header) if h}
        if all(v == "" for k, v in rec.items() if k not in PREFILLED):
            continue  # an empty row, or a template row the entity did not fill: not a filing
        rec["_row"] = str(row_no)
        records.append(rec)
    return header, records, []
