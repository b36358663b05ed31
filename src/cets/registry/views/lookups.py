"""The registry's search-as-you-type lookups (:mod:`cets.parties.lookup`, widget :class:`cets.parties.widgets.LookupInput`):
accounts by number, holder name or holder credit code, and unit types by code. Each returns the small HTML fragment
``parties/lookup.html``; the exact account number shows its holder's name and account kind before the form is posted."""

from __future__ import annotations

from django.views.decorators.http import require_GET

from cets.core.labels import choice_label
from cets.parties.lookup import LIMIT, MIN_QUERY, LookupRow, query_of, refused, respond
from cets.registry import selectors as reg
from cets.registry.models import Account, AccountKind


def _holder(acc: Account, *, payee: bool) -> str:
    if acc.holder is None:
        return ""
    if payee and acc.kind == AccountKind.INDIVIDUAL:
        return reg.masked_name(acc.holder.name)
    return acc.holder.name


def _row(acc: Account, *, payee: bool = False) -> LookupRow:
    return LookupRow(value=acc.number, label=_holder(acc, payee=payee) or choice_label(acc.get_kind_display()),
                     detail=choice_label(acc.get_kind_display()))


@require_GET
def lookup_accounts(request):
    """GET ``?q=`` (or the field's own name): accounts the viewer may see (:func:`cets.registry.selectors.account_scope`)
    matching the text (≤ 20), and for an exact number the holder's name and account kind (a holder also gets the
    payee's name of any open held account: :func:`cets.registry.selectors.accounts_lookup`). 403 without a login and
    a membership."""
    denied = refused(request)
    if denied is not None:
        return denied
    q = query_of(request)
    if len(q) < MIN_QUERY:
        return respond(request, q="", rows=[])
    rows, exact, payee = reg.accounts_lookup(user=request.user, q=q, limit=LIMIT)
    return respond(request, q=q, rows=[_row(a) for a in rows[:LIMIT]], match=_row(exact, payee=payee) if exact else None, more=len(rows) > LIMIT)


@require_GET
def lookup_unit_types(request):
    """GET ``?q=``: unit types whose code contains the text (≤ 20), and the exact one. 403 without a login and a membership."""
    denied = refused(request)
    if denied is not None:
        return denied
    q = query_of(request)
    if len(q) < 1:
        return respond(request, q="", rows=[])

    def row(u) -> LookupRow:
        return LookupRow(value=u.code, label=choice_label(u.get_instrument_display()) if u.project_id is None else u.project.name, detail=u.vintage)

    rows, exact = reg.unit_types_lookup(q=q, limit=LIMIT)
    return respond(request, q=q, rows=[row(u) for u in rows[:LIMIT]], match=row(exact) if exact else None, more=len(rows) > LIMIT)
