"""Changes of holder on a merger or split (Measures Art. 18), approved by the province."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from cets.core.errors import CetsError
from cets.parties.access import require_role
from cets.parties.models import Organisation, Role
from cets.rules.markets import PRIMARY_MARKET

from ..checks import R0111
from ..models import Account, AccountStatus, HolderChange, Holding, Position, TransferKind, UnitType
from .accounts import account_open
from .ledger import Leg
from .transfers import transfer_post


@transaction.atomic
def holder_change_register(*, key: str, kind: str, from_holder: Organisation, to_holder: Organisation, lines: Sequence[tuple[UnitType, int]],
                           decision_ref: str, province_approver, actor, published_at: dt.datetime | None = None):
    """Register a change of holder on a merger or split (Measures Art. 18): the province has approved
    (``province_approver`` must be the provincial authority of ``from_holder``), the registry moves
    the units and publishes the change. On a merger every unit moves and the old account is closed.
    Idempotent on ``key``."""
    existing = HolderChange.objects.filter(key=key).first()
    if existing:
        return existing
    require_role(actor, Role.REGISTRY_OPERATOR)
    require_role(province_approver, Role.PROVINCIAL_AUTHORITY, province=from_holder.province)
    src = Account.objects.get(holder=from_holder, market=PRIMARY_MARKET)
    dst = account_open(holder=to_holder)
    if kind == HolderChange.Kind.MERGER:
        lines = [(h.unit_type, h.quantity) for h in Holding.objects.filter(account=src, position=Position.REGISTRY, quantity__gt=0).select_related("unit_type")]
        if Holding.objects.filter(account=src, quantity__gt=0).exclude(position=Position.REGISTRY).exists():
            raise CetsError(R0111, "trading, frozen or pending units must be settled before a merger")
    for ut, q in lines:
        transfer_post(key=f"{key}:{ut.code}", kind=TransferKind.TRANSFER, unit_type=ut, debit=Leg(src, Position.REGISTRY),
                      credit=Leg(dst, Position.REGISTRY), quantity=q, reference=f"{kind} 主体变更 change of holder {decision_ref}",
                      actor=actor, approver=province_approver)
    if kind == HolderChange.Kind.MERGER:
        Account.objects.filter(pk=src.pk).update(status=AccountStatus.CLOSED, closed_at=timezone.now())
    return HolderChange.objects.create(key=key, kind=kind, from_holder=from_holder, to_holder=to_holder,
                                       lines=[{"unit_type": ut.code, "quantity": q} for ut, q in lines], approved_by=province_approver,
                                       registered_by=actor, decision_ref=decision_ref, published_at=published_at or timezone.now())
