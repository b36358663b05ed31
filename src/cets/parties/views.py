"""Parties pages: the search-as-you-type lookups of credit-code fields (:mod:`cets.parties.lookup`)."""

from __future__ import annotations

from django.views.decorators.http import require_GET

from cets.core.labels import choice_label
from cets.core.regions import PROVINCES

from . import selectors
from .lookup import LIMIT, MIN_QUERY, LookupRow, query_of, refused, respond
from .models import Organisation


def _province(code: str) -> str:
    from django.utils.translation import get_language

    names = PROVINCES.get(code)
    if names is None:
        return ""
    return names[0] if (get_language() or "zh").startswith("zh") else names[1]


def _organisations(request, kinds: tuple[str, ...]):
    denied = refused(request)
    if denied is not None:
        return denied
    q = query_of(request)
    if len(q) < MIN_QUERY:
        return respond(request, q="", rows=[])
    orgs, exact = selectors.organisations_lookup(user=request.user, q=q, kinds=kinds, limit=LIMIT)

    def row(o: Organisation) -> LookupRow:
        detail = _province(o.province) if o.kind == Organisation.Kind.ENTITY else choice_label(o.get_kind_display())
        return LookupRow(value=o.uscc, label=o.name, detail=detail)

    return respond(request, q=q, rows=[row(o) for o in orgs[:LIMIT]], match=row(exact) if exact else None, more=len(orgs) > LIMIT)


@require_GET
def lookup_entities(request):
    """GET ``?q=`` (or the field's own name): key emitting entities the viewer may see whose name or credit code
    contains the text (≤ 20), and the one whose credit code it is. 403 without a login and a membership."""
    return _organisations(request, (Organisation.Kind.ENTITY,))


@require_GET
def lookup_participants(request):
    """As :func:`lookup_entities`, over the trading participants with a credit code (entities and institutions)."""
    return _organisations(request, (Organisation.Kind.ENTITY, Organisation.Kind.INSTITUTION))


@require_GET
def lookup_organisations(request):
    """As :func:`lookup_entities`, over every organisation with a credit code the viewer may see (entities, verification
    bodies, institutions, project owners…): the subjects of credit records, blacklist decisions and joint-punishment
    notices (《碳排放权交易管理暂行条例》 第二十四条, 第二十五条)."""
    return _organisations(request, tuple(Organisation.Kind.values))
