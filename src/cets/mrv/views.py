"""MRV pages. Thin: parse the request, call a selector, render. Nothing here writes."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_safe

from cets.web import selectors as web_selectors

from . import selectors


@require_safe
@login_required
def blocked_cases(request):
    """不符合 verification conclusions in the viewer's jurisdiction (blocked until resolved)."""
    raw = request.GET.get("year", "")
    year = int(raw) if raw.isdigit() and 2005 <= int(raw) <= 2100 else None
    unresolved = request.GET.get("unresolved") == "1"
    qs = selectors.blocked_cases(user=request.user, year=year, unresolved_only=unresolved)
    page = Paginator(qs, 100).get_page(request.GET.get("page", 1))
    ctx = {"viewer": web_selectors.viewer_of(request.user), "year": year, "unresolved": unresolved, "page": page,
           "years": [2022, 2023, 2024]}
    return render(request, "mrv/blocked.html", ctx)
