"""What every search-as-you-type lookup endpoint shares (the widget: :mod:`cets.parties.widgets`).

A lookup is a GET (htmx sends the field's own ``name=value``; ``?q=`` also works) answered with a small HTML
fragment (``parties/lookup.html``): at most :data:`LIMIT` rows ``(value, label, detail)`` that a click copies into the
field, and the exact match (``match``) when the typed value names one record — an account's holder and kind, an
entity's name. Anonymous users and users without a membership get 403 and nothing else; every endpoint scopes its
rows by the viewer's jurisdiction through its context's selectors. Queries shorter than :data:`MIN_QUERY`
characters return no rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import render

from .access import membership_of

LIMIT = 20  # rows in a fragment (issue 15: "≤ 20 matches")
MIN_QUERY = 2
MAX_QUERY = 80


@dataclass(frozen=True)
class LookupRow:
    """One suggestion: ``value`` goes into the field; ``label`` and ``detail`` are shown."""

    value: str
    label: str
    detail: str = ""


def query_of(request: HttpRequest) -> str:
    """The typed text: ``q``, else the first other parameter's value (the field's own name), printable characters only,
    stripped, ≤ 80 characters."""
    q = request.GET.get("q")
    if q is None:
        q = next((v for k, v in request.GET.items() if k != "q"), "")
    return "".join(ch for ch in q if ch.isprintable()).strip()[:MAX_QUERY]  # no NUL or control characters reach the database


def refused(request: HttpRequest) -> HttpResponse | None:
    """403 for an anonymous user or one without a membership (the caller returns it), else None."""
    if not request.user.is_authenticated or membership_of(request.user) is None:
        return HttpResponseForbidden("")
    return None


def respond(request: HttpRequest, *, q: str, rows: list[LookupRow], match: LookupRow | None = None, more: bool = False) -> HttpResponse:
    """The fragment (``rows`` already cut to :data:`LIMIT`; ``more`` when there were more). The exact match is shown
    once, as the match, not again among the suggestions."""
    if match is not None:
        rows = [r for r in rows if r.value != match.value]
    r = render(request, "parties/lookup.html", {"q": q, "rows": rows, "match": match, "more": more, "limit": LIMIT})
    r["Cache-Control"] = "no-store"
    r["Vary"] = "Cookie, HX-Request"
    return r
