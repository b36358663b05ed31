"""Reversal (冲正): a new entry in the opposite direction, linked to the one it reverses; nothing is
ever edited or deleted. Four eyes."""

from __future__ import annotations

from cets.core.errors import CetsError

from ..checks import R0108, R0110, R0504
from ..models import Proposal, Transfer, TransferKind
from .ledger import Leg
from .proposals import four_eyes, proposal_submit
from .transfers import transfer_post

IRREVERSIBLE = frozenset({TransferKind.CREATE, TransferKind.REVERSAL})


def reversal_propose(*, key: str, transfer_key: str, reason: str, actor) -> Proposal:
    """Propose reversing a completed transfer by a new entry in the opposite direction, linked to it.
    R0110 for creation and reversal entries; R0108 if already reversed (checked again on approval)."""
    t = Transfer.objects.filter(key=transfer_key).first()
    if t is None:
        raise CetsError(R0504, transfer_key)
    if t.kind in IRREVERSIBLE:
        raise CetsError(R0110, t.kind)
    if Transfer.objects.filter(kind=TransferKind.REVERSAL, related=t).exists():
        raise CetsError(R0108, transfer_key)
    return proposal_submit(key=key, kind="reversal", payload={"transfer": transfer_key, "reason": reason}, actor=actor)


@four_eyes("reversal")
def _execute_reversal(p: Proposal, approver) -> dict:
    t = Transfer.objects.select_related("debit_account", "credit_account", "unit_type", "beneficiary").get(key=p.payload["transfer"])
    if Transfer.objects.filter(kind=TransferKind.REVERSAL, related=t).exists():
        raise CetsError(R0108, t.key)
    r = transfer_post(key=f"{p.key}:reversal", kind=TransferKind.REVERSAL, unit_type=t.unit_type, debit=Leg(t.credit_account, t.credit_position),
                      credit=Leg(t.debit_account, t.debit_position), quantity=t.quantity, reference=f"冲正 reversal: {p.payload['reason']}",
                      related=t, actor=p.proposed_by, approver=approver, beneficiary=t.beneficiary)
    return {"transfer": r.key, "reverses": t.key, "quantity_t": t.quantity}
