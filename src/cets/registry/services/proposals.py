"""Four eyes: proposals that take effect only on a second person's approval.

Who may propose each kind and who approves it is the table :data:`cets.registry.kinds.PROPOSAL_KINDS`;
:func:`four_eyes` registers the function that executes a kind on approval (and what a rejection
undoes). Writes: ``proposal_submit``, ``proposal_approve``, ``proposal_reject``. Refusals: R0502
(role), R0401 (key reused), R0504 (no such proposal), R0503 (already decided), R0501 (approver is the
proposer).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cets.core.batch import gc_paused
from cets.core.errors import CetsError
from cets.parties.access import require_role

from ..checks import R0401, R0501, R0503, R0504
from ..kinds import PROPOSAL_KINDS
from ..models import Proposal


@dataclass(frozen=True)
class FourEyesOp:
    """A registry operation that takes effect only on a second person's approval (DESIGN.md, Registry
    ledger): who may propose it and who approves (from :data:`PROPOSAL_KINDS`), what approval executes,
    and what a rejection undoes (units held while the proposal waits are released)."""

    proposers: tuple[str, ...]
    approver: str
    execute: Callable[[Proposal, object], dict]
    on_reject: Callable[[Proposal, object], None] | None = None


FOUR_EYES: dict[str, FourEyesOp] = {}


def four_eyes(kind: str, *, proposers: tuple[str, ...] | None = None, on_reject=None):
    """Register ``execute(proposal, approver) -> dict`` as the four-eyes operation ``kind``. Other
    contexts (compliance: forced surrender, Beijing collection) register theirs the same way. The
    proposers and the approver come from :data:`cets.registry.kinds.PROPOSAL_KINDS`, which must have a
    row for ``kind``; ``proposers``, if given, must agree with it (kept for compatibility)."""
    rule = PROPOSAL_KINDS.get(kind)
    if rule is None:
        raise LookupError(f"four-eyes kind {kind!r} has no row in cets.registry.kinds.PROPOSAL_KINDS")
    if proposers is not None and tuple(proposers) != rule.proposers:
        raise ValueError(f"four-eyes kind {kind!r}: proposers {proposers} differ from the table's {rule.proposers}")

    def deco(fn):
        FOUR_EYES[kind] = FourEyesOp(proposers=rule.proposers, approver=rule.approver, execute=fn, on_reject=on_reject)
        return fn

    return deco


def proposal_submit(*, key: str, kind: str, payload: dict, actor, hold: Callable[[Proposal], None] | None = None) -> Proposal:
    """Record a proposal (idempotent on ``key``; R0401 if the same key carries another payload; R0502
    unless ``actor`` has a proposer role of the table). ``hold`` runs once, in the same transaction, to
    freeze the units the proposal will move."""
    op = FOUR_EYES[kind]
    require_role(actor, *op.proposers)
    with transaction.atomic():
        p, created = Proposal.objects.get_or_create(key=key, defaults={"kind": kind, "payload": payload, "proposed_by": actor})
        if not created:
            if p.kind != kind or p.payload != payload:
                raise CetsError(R0401, key)
            return p
        if hold is not None:
            hold(p)
    return p


def _decide(proposal_id: int, approver) -> Proposal:
    p = Proposal.objects.select_for_update().filter(pk=proposal_id).first()
    if p is None:
        require_role(approver, *{op.approver for op in FOUR_EYES.values()})
        raise CetsError(R0504, str(proposal_id))
    require_role(approver, FOUR_EYES[p.kind].approver)
    if p.status != Proposal.Status.PROPOSED:
        raise CetsError(R0503, p.key)
    if p.proposed_by_id == approver.pk:
        raise CetsError(R0501, p.key)
    return p


@gc_paused()  # an issuance's payload and lines: thousands of plain rows (issue 19)
@transaction.atomic
def proposal_approve(*, proposal_id: int, approver) -> Proposal:
    """Approve and execute a proposal in one transaction (four eyes).

    R0504 no such proposal; R0503 already decided; R0501 approver is the proposer; R0502 approver
    lacks the kind's approver role (the table). If any part is refused, nothing of the proposal takes effect.
    """
    p = _decide(proposal_id, approver)
    p.result = FOUR_EYES[p.kind].execute(p, approver)
    p.status = Proposal.Status.EXECUTED
    p.decided_by = approver
    p.decided_at = timezone.now()
    p.save(update_fields=["result", "status", "decided_by", "decided_at"])
    return p


@transaction.atomic
def proposal_reject(*, proposal_id: int, approver, reason: str) -> Proposal:
    """Reject a proposal; units it held are released. Same checks as :func:`proposal_approve`."""
    p = _decide(proposal_id, approver)
    op = FOUR_EYES[p.kind]
    if op.on_reject is not None:
        op.on_reject(p, approver)
    p.status = Proposal.Status.REJECTED
    p.decided_by = approver
    p.decided_at = timezone.now()
    p.result = {"reason": reason}
    p.save(update_fields=["result", "status", "decided_by", "decided_at"])
    return p


def _eff(p: Proposal) -> dt.datetime | None:
    v = p.payload.get("effective_at")
    return dt.datetime.fromisoformat(v) if v else None


