"""Parties reads, always scoped by the reader's jurisdiction."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from .access import organisation_scope
from .models import GeneratingUnit, Organisation


def entities_visible(*, user, search: str = "", province: str = ""):
    """Key emitting entities ``user`` may see, optionally filtered by name/credit code and province."""
    qs = Organisation.objects.filter(organisation_scope(user), kind=Organisation.Kind.ENTITY)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(uscc__icontains=search.upper()))
    if province:
        qs = qs.filter(province=province)
    return qs.order_by("province", "uscc")


def entity_get(*, user, uscc: str) -> Organisation:
    """The entity with this credit code if ``user`` may see it; Http404 otherwise (existence is not revealed)."""
    org = Organisation.objects.filter(organisation_scope(user), kind=Organisation.Kind.ENTITY, uscc=(uscc or "").upper()).first()
    if org is None:
        raise Http404("no such entity")
    return org


def units_of(*, entity: Organisation):
    return GeneratingUnit.objects.filter(entity=entity).order_by("code")
