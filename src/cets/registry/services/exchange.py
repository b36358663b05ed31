"""The exchange's side of the registry (trading settlement, Measures Art. 23–24).

Called only by trading services inside their own transaction: units for a sell order are held in the
pending position at order entry, delivered to the buyer's trading position trade by trade, and the
rest released when the order is done. Each is one :func:`.transfers.transfer_post` (the ledger's one
write path), so settlement runs the same checks and writes the same journal rows as any transfer.
"""

from __future__ import annotations

import datetime as dt

from ..models import Account, Position, Transfer, TransferKind, UnitType
from .ledger import Leg
from .transfers import transfer_post


def exchange_hold(*, key: str, account: Account, unit_type: UnitType, quantity: int, reference: str,
                  effective_at: dt.datetime | None = None) -> Transfer:
    """Hold ``quantity`` tonnes (int) of the trading position for a sell order (trading → pending).
    R0302 if the trading position holds less; R0102/R0103 for a closed or frozen account."""
    return transfer_post(key=key, kind=TransferKind.POSITION_MOVE, unit_type=unit_type, debit=Leg(account, Position.TRADING),
                         credit=Leg(account, Position.PENDING), quantity=quantity, reference=reference, effective_at=effective_at)


def exchange_release(*, key: str, account: Account, unit_type: UnitType, quantity: int, reference: str,
                     effective_at: dt.datetime | None = None) -> Transfer:
    """Release units held for a sell order that is done (pending → trading)."""
    return transfer_post(key=key, kind=TransferKind.POSITION_MOVE, unit_type=unit_type, debit=Leg(account, Position.PENDING),
                         credit=Leg(account, Position.TRADING), quantity=quantity, reference=reference, effective_at=effective_at)


def exchange_deliver(*, key: str, seller: Account, buyer: Account, unit_type: UnitType, quantity: int, reference: str,
                     effective_at: dt.datetime | None = None) -> Transfer:
    """Deliver a trade's units: the seller's held units (pending) → the buyer's trading position. The holders'
    notices name the exchange as the other side, not the counterparty (``via_exchange``)."""
    return transfer_post(key=key, kind=TransferKind.TRANSFER, unit_type=unit_type, debit=Leg(seller, Position.PENDING),
                         credit=Leg(buyer, Position.TRADING), quantity=quantity, reference=reference, effective_at=effective_at,
                         via_exchange=True)
