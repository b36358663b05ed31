"""Positions and judicial freezes of one account: registry ↔ trading moves by the holder, court
freezes and releases by a registry operator. Each is one journal entry of the account with itself."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from cets.core.errors import CetsError
from cets.parties.access import require_role
from cets.parties.models import Role

from ..checks import R0111, R0506
from ..models import Account, Position, Transfer, TransferKind, UnitType
from .accounts import _holder_or_operator
from .ledger import Leg
from .transfers import transfer_post

HOLDER_MOVES = {(Position.REGISTRY, Position.TRADING), (Position.TRADING, Position.REGISTRY)}


@transaction.atomic
def position_move(*, key: str, account: Account, unit_type: UnitType, from_position: str, to_position: str, quantity: int, actor,
                  effective_at: dt.datetime | None = None) -> Transfer:
    """Move units between the registry position (登记持仓) and the trading position (交易持仓) of one
    account (2023–2024 plan 附5: carry-over applications need units in the registry position).
    The holder or a registry operator; other positions are moved only by their own operations (R0111)."""
    if (from_position, to_position) not in HOLDER_MOVES:
        raise CetsError(R0111, f"{from_position} → {to_position}")
    _holder_or_operator(actor, account)
    return transfer_post(key=key, kind=TransferKind.POSITION_MOVE, unit_type=unit_type, debit=Leg(account, from_position),
                         credit=Leg(account, to_position), quantity=quantity, reference="持仓划转 position move", actor=actor,
                         effective_at=effective_at)


@transaction.atomic
def judicial_freeze(*, key: str, account: Account, unit_type: UnitType, quantity: int, court_ref: str, actor,
                    from_position: str = Position.REGISTRY, effective_at: dt.datetime | None = None) -> Transfer:
    """Freeze units on a court's order (司法冻结): they move to the frozen position and count toward
    holdings but cannot be used. Registry operators only (R0502)."""
    require_role(actor, Role.REGISTRY_OPERATOR)
    if from_position not in (Position.REGISTRY, Position.TRADING):
        raise CetsError(R0111, from_position)
    return transfer_post(key=key, kind=TransferKind.FREEZE, unit_type=unit_type, debit=Leg(account, from_position),
                         credit=Leg(account, Position.FROZEN), quantity=quantity, reference=f"司法冻结 {court_ref}", actor=actor,
                         effective_at=effective_at)


@transaction.atomic
def judicial_release(*, key: str, account: Account, unit_type: UnitType, quantity: int, court_ref: str, actor,
                     effective_at: dt.datetime | None = None) -> Transfer:
    """Releasing frozen units (解除冻结) needs a second registry operator: propose it with
    :func:`cets.registry.services.operator.freeze_release_propose`. R0502 unless a registry operator, then R0506."""
    require_role(actor, Role.REGISTRY_OPERATOR)
    raise CetsError(R0506, f"{account.number} {court_ref}")


def _release_frozen(*, key: str, account: Account, unit_type: UnitType, quantity: int, court_ref: str, actor, approver,
                    effective_at: dt.datetime | None = None) -> Transfer:
    return transfer_post(key=key, kind=TransferKind.RELEASE, unit_type=unit_type, debit=Leg(account, Position.FROZEN),
                         credit=Leg(account, Position.REGISTRY), quantity=quantity, reference=f"解除冻结 {court_ref}", actor=actor,
                         approver=approver, effective_at=effective_at)

