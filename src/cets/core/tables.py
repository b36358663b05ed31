"""CSV input tables and atomic CSV output, shared by every context's pure command-line readers.

Pure: no Django, no database. A reader collects *every* problem (file, 1-based row, column, value,
reason in Chinese and English) before anything is computed; a writer writes to a temporary file
beside the target and renames it, so a failed run never leaves partial output.

Encodings: UTF-8 (with or without BOM) and GB18030 (which covers GBK and GB2312, the encodings
Chinese spreadsheet tools save CSV in). Anything else is one problem on row 1, never a traceback.
Output text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, tab or CR) are written with a leading apostrophe; numbers are written as they are.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from cets.core.errors import InputProblem
from cets.core.uscc import InvalidUscc

ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass(frozen=True)
class UploadedTable:
    """An uploaded file that the readers here take in place of a :class:`~pathlib.Path`: its ``name`` (for the
    problems' file column) and its bytes (``read_bytes()``)."""

    name: str
    data: bytes

    def read_bytes(self) -> bytes:
        return self.data
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def read_text(path: Path) -> tuple[str | None, InputProblem | None]:
    """The text of ``path`` decoded as UTF-8 or GB18030; or ``(None, problem)`` when it is neither."""
    raw = path.read_bytes()
    for enc in ENCODINGS:
        try:
            return raw.decode(enc), None
        except UnicodeDecodeError:
            continue
    return None, InputProblem(path.name, 1, "", "", "文件编码无法识别：请使用 UTF-8 或 GB18030（GBK）",
                              "unreadable encoding: save the file as UTF-8 or GB18030 (GBK)")


def read_records(path: Path) -> tuple[list[str], list[dict[str, str]], list[InputProblem]]:
    """``(fieldnames, records, problems)`` of a CSV file; problems is the encoding problem, if any."""
    text, problem = read_text(path)
    if problem is not None:
        return [], [], [problem]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    return list(reader.fieldnames or []), list(reader), []


def missing_columns(name: str, required: Sequence[str], fieldnames: Sequence[str]) -> list[InputProblem]:
    """One problem on row 1 naming the ``required`` columns absent from ``fieldnames`` (none if all there)."""
    missing = [c for c in required if c not in fieldnames]
    if not missing:
        return []
    return [InputProblem(name, 1, ",".join(missing), "", f"缺少列：{'、'.join(missing)}", f"missing columns: {', '.join(missing)}")]


def read_table(path: Path, required: Sequence[str]) -> tuple[list[str], list[dict[str, str]], list[InputProblem]]:
    """:func:`read_records` and then :func:`missing_columns`: ``(fieldnames, records, problems)``."""
    fieldnames, records, problems = read_records(path)
    return fieldnames, records, problems or missing_columns(path.name, required, fieldnames)


class CsvTable:
    """A CSV input table with its ``required`` columns: ``problems`` holds the encoding or
    missing-columns problem (row 1); ``rows()`` yields ``(row_no, record, bad, field)`` per data row,
    where ``field(name, parse, zh, en)`` parses one cell and appends an :class:`InputProblem` to ``bad``
    (a GB 32100 credit-code problem keeps its own text) instead of raising."""

    def __init__(self, path: Path, required: Sequence[str]) -> None:
        self.path = path
        self.fieldnames, self._records, self.problems = read_table(path, required)

    def rows(self) -> Iterator[tuple[int, dict[str, str], list[InputProblem], object]]:
        for row_no, rec in enumerate(self._records, start=2):
            bad: list[InputProblem] = []
            yield row_no, rec, bad, cell_parser(self.path.name, rec, row_no, bad)


def cell_parser(file_name: str, rec: dict[str, str], row_no: int, bad: list[InputProblem]):
    """``field(name, parse, zh, en)`` for one record: parses the cell ``name`` with ``parse`` and, when it raises
    ``ValueError``/``InvalidOperation``/``InvalidUscc``, appends an :class:`InputProblem` (file, row, column,
    value, reason; a GB 32100 credit-code problem keeps its own text) to ``bad`` and returns None."""

    def field(name, parse, zh, en):
        value = rec.get(name) or ""
        try:
            return parse(value)
        except (ValueError, InvalidOperation, InvalidUscc) as e:
            detail = e.problem if isinstance(e, InvalidUscc) else None
            bad.append(InputProblem(file_name, row_no, name, value, detail.zh if detail else zh, detail.en if detail else en))
            return None

    return field


def safe_cell(value):
    """``value`` as a spreadsheet may show it: text starting with a formula lead gets a leading
    apostrophe (OWASP CSV injection); numbers, dates and other values are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def write_csv_atomic(path: Path | str, columns: Sequence[str], rows: Iterable[dict]) -> None:
    """Write ``rows`` (only the keys in ``columns``) to ``path`` via a temporary file and an atomic
    rename (no partial output). Decimals are written exactly; text cells pass :func:`safe_cell`."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(columns))
            w.writeheader()
            for r in rows:
                w.writerow({k: (str(v) if isinstance(v, Decimal) else safe_cell(v)) for k, v in r.items() if k in columns})
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


EXPORT_MAX_ROWS = 100_000  # one operator's list as a workbook; more is refused (S0501), never cut short


def xlsx_list(*, title: str, columns: Sequence[str], rows: Iterable[Sequence], max_rows: int = EXPORT_MAX_ROWS) -> bytes:
    """One sheet ``title`` (Excel's 31 characters at most) with a header row ``columns`` and ``rows`` (a sequence of
    cell values each: text, ``int`` tonnes or fen, ``Decimal``, dates) as XLSX bytes — the "Export XLSX" of the
    operators' lists. Text cells are made formula-safe (:func:`xlsx_text_only`: a name ``=cmd|...`` stays text).
    More than ``max_rows`` rows is refused with ``CetsError(S0501)`` rather than exported in part."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    from cets.core.checks import S0501
    from cets.core.errors import CetsError

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(list(columns))
    for n, row in enumerate(rows, start=1):
        if n > max_rows:
            raise CetsError(S0501, f"> {max_rows}")
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])  # control characters: not XML
    ws.freeze_panes = "A2"
    xlsx_text_only(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def xlsx_text_only(wb) -> None:
    """Make every text cell of an openpyxl workbook (write mode) text: openpyxl stores a string that begins
    with ``=`` as a formula, so a name such as ``=HYPERLINK(...)`` from a user would run in the reader's
    spreadsheet. Text beginning with any :data:`FORMULA_LEADS` (``=``, ``+``, ``-``, ``@``, tab, CR) is stored
    as a plain string with Excel's quote prefix (shown unchanged, never evaluated); numbers and dates are left
    alone. Every XLSX writer calls this just before ``wb.save`` (cets writes no formulas of its own)."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                v = cell.value
                if isinstance(v, str) and v.startswith(FORMULA_LEADS):
                    cell.data_type = "s"
                    cell.quotePrefix = True
