"""The "Export XLSX" of operators' lists: one response built from the rows a list page shows.

A list view answers ``?format=xlsx`` (or a POSTed ``format=xlsx`` where its search is a POST) with every row of the
same filtered, jurisdiction-scoped query it paginates on the page — not only the page shown. The workbook is written
by :func:`cets.core.tables.xlsx_list` (formula-safe text, refused with S0501 past ``EXPORT_MAX_ROWS`` rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.http import HttpResponse

from cets.core.tables import xlsx_list

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def wants_xlsx(params) -> bool:
    """Whether a list request (its GET or POST parameters) asks for the XLSX export."""
    return params.get("format", "") == "xlsx"


def xlsx_response(*, filename: str, columns: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    """An attachment ``<filename>.xlsx`` with one sheet named ``filename``; raises ``CetsError(S0501)`` when too long."""
    data = xlsx_list(title=filename, columns=columns, rows=rows)
    resp = HttpResponse(data, content_type=XLSX_TYPE)
    resp["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return resp


def xlsx_or_refusal(request, *, filename: str, columns: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse | None:
    """:func:`xlsx_response`, or ``None`` with the refusal (S0501) added to the request's messages in the page's
    language — the view then renders its list as usual."""
    from django.contrib import messages

    from cets.core.errors import CetsError
    from cets.core.labels import say

    try:
        return xlsx_response(filename=filename, columns=columns, rows=rows)
    except CetsError as e:
        messages.error(request, say(request, e))
        return None


def local_minute(when) -> str:
    """An aware datetime as ``YYYY-MM-DD HH:MM`` in the platform's time zone (a workbook cell holds no time zone); ``""`` for None."""
    from django.utils import timezone

    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M") if when else ""
