"""Bounded XLSX uploads: every workbook a user uploads is opened here, after checks that cost no parsing.

Before openpyxl reads a byte: the file's size (S0201, ``max_bytes``), that it is a ZIP with a sane
declared decompressed size (S0204, ``max_uncompressed``: a "zip bomb" is refused by its directory, never
inflated) and that it is an XLSX at all (S0205). Then, from each sheet's dimension: rows (S0202,
``max_rows``) and columns (S0203, ``max_cols``). A refusal is one :class:`InputProblem` in row 1 of the file,
so the callers' problem lists carry it as any other. :func:`problems_capped` keeps a list of problems to its
first ``limit`` entries plus one line that counts the rest.
"""

from __future__ import annotations

import zipfile
from io import BytesIO

from .checks import S0201, S0202, S0203, S0204, S0205
from .errors import Check, InputProblem

MAX_BYTES = 10 * 1024 * 1024  # 10 MiB as uploaded
MAX_UNCOMPRESSED = 100 * 1024 * 1024  # 100 MiB once inflated
MAX_ROWS = 50_000
MAX_COLS = 200
MAX_PROBLEMS = 500


def _problem(file_name: str, check: Check, detail: str) -> InputProblem:
    return InputProblem(file_name, 1, "", detail, f"{check.code} {check.zh}（{detail}）", f"{check.code} {check.en} ({detail})")


def xlsx_open(data: bytes, *, file_name: str, max_bytes: int = MAX_BYTES, max_uncompressed: int = MAX_UNCOMPRESSED,
              max_rows: int = MAX_ROWS, max_cols: int = MAX_COLS):
    """``(workbook, [])`` — an openpyxl read-only, values-only workbook — or ``(None, [problem])`` when the
    upload breaks a bound (S0201–S0204) or is not an XLSX (S0205). Sizes in bytes, rows and columns counted."""
    from openpyxl import load_workbook

    if len(data) > max_bytes:
        return None, [_problem(file_name, S0201, f"{len(data)} > {max_bytes} bytes")]
    try:
        with zipfile.ZipFile(BytesIO(data)) as zf:
            inflated = sum(max(i.file_size, 0) for i in zf.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None, [_problem(file_name, S0205, "not a ZIP container")]
    if inflated > max_uncompressed:
        return None, [_problem(file_name, S0204, f"{inflated} > {max_uncompressed} bytes")]
    try:
        wb = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 — openpyxl raises many kinds for a file that is not a workbook
        return None, [_problem(file_name, S0205, "unreadable")]
    if not wb.worksheets:
        return None, [_problem(file_name, S0205, "no sheet")]
    for ws in wb.worksheets:
        rows, cols = ws.max_row or 0, ws.max_column or 0
        if rows > max_rows:
            return None, [_problem(file_name, S0202, f"{ws.title}: {rows} > {max_rows} rows")]
        if cols > max_cols:
            return None, [_problem(file_name, S0203, f"{ws.title}: {cols} > {max_cols} columns")]
    return wb, []


def problems_capped(problems: list[InputProblem], limit: int = MAX_PROBLEMS) -> list[InputProblem]:
    """The first ``limit`` problems, and one more that says how many were left out."""
    if len(problems) <= limit:
        return problems
    rest = len(problems) - limit
    last = problems[limit - 1]
    return [*problems[:limit], InputProblem(last.file, last.row, "", str(rest), f"另有 {rest} 处问题未列出", f"{rest} more problems not listed")]


# -- documents (identity cards, licences) uploaded with an application ------------------------------------------

DOCUMENT_MAX_BYTES = 5 * 1024 * 1024  # 5 MiB a document
DOCUMENT_MAX_COUNT = 6
DOCUMENT_TYPES = {b"%PDF-": "application/pdf", b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


def document_type(data: bytes, *, max_bytes: int = DOCUMENT_MAX_BYTES) -> str | None:
    """The content type of an uploaded document judged by its first bytes — ``application/pdf``, ``image/jpeg`` or
    ``image/png`` — or ``None`` if it is none of them, empty, or larger than ``max_bytes`` bytes (the name a browser
    sends is not trusted)."""
    if not isinstance(data, bytes | bytearray) or not data or len(data) > max_bytes:
        return None
    for magic, ctype in DOCUMENT_TYPES.items():
        if bytes(data[: len(magic)]) == magic:
            return ctype
    return None
