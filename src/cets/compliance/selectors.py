"""Compliance reads: status per obligation, computed from approved surrenders (never stored)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from django.utils import timezone

from .models import Obligation, SurrenderApplication
from .status import Status, compliance_status


def _approved_by_obligation(obligation_ids) -> dict[int, list[tuple[dt.date, int]]]:
    out: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    for ob, at, q in SurrenderApplication.objects.filter(obligation_id__in=obligation_ids, status=SurrenderApplication.Status.APPROVED).values_list(
            "obligation_id", "decided_at", "quantity"):
        out[ob].append((timezone.localdate(at), q))
    return out


def status_of(*, obligation: Obligation, today: dt.date | None = None) -> Status:
    today = today or timezone.localdate()
    return compliance_status(obligation.obligation_t, obligation.deadline, _approved_by_obligation([obligation.pk])[obligation.pk], today)


def statuses(*, year: int, entity_qs=None, today: dt.date | None = None) -> dict[int, Status]:
    """entity_id → status for ``year`` (optionally only entities in ``entity_qs``)."""
    today = today or timezone.localdate()
    obs = Obligation.objects.filter(year=year)
    if entity_qs is not None:
        obs = obs.filter(entity__in=entity_qs)
    obs = list(obs)
    approved = _approved_by_obligation([o.pk for o in obs])
    return {o.entity_id: compliance_status(o.obligation_t, o.deadline, approved.get(o.pk, []), today) for o in obs}


def outcome_counts(*, year: int, entity_qs=None, today: dt.date | None = None) -> dict[str, int]:
    return dict(Counter(s.status for s in statuses(year=year, entity_qs=entity_qs, today=today).values()))


def surrendered_by_instrument(*, year: int, entity_qs=None) -> dict[str, int]:
    qs = SurrenderApplication.objects.filter(obligation__year=year, status=SurrenderApplication.Status.APPROVED)
    if entity_qs is not None:
        qs = qs.filter(obligation__entity__in=entity_qs)
    out: Counter = Counter()
    for inst, q in qs.values_list("unit_type__instrument", "quantity"):
        out[inst] += q
    return dict(out)
