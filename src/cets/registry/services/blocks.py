"""Serial blocks follow the journal: :func:`blocks_follow` is called by the ledger's single-entry write path
(:func:`cets.registry.services.transfers.transfer_post`) after each entry of a unit type whose instrument carries
serial numbers (:data:`SERIAL_INSTRUMENTS`), inside the entry's transaction, with both accounts locked.

- ``create`` (into the national total account): mints the unit type's next serials as one block
  (:func:`cets.registry.serials.mint`) — a CCER issuance batch of a project and vintage is one block;
- an entry between two accounts (issue, transfer, trade delivery, surrender, cancellation, deduction, claw-back,
  reversal, …): the debit account's lowest serials move (first in, first out by serial, :func:`serials.take_fifo`);
  the blocks taken are closed (``closed_by`` = the entry), the moved spans become blocks of the credit account
  and the rest of a split block stays with the debit account as a new block;
- an entry within one account (position move, freeze, release): no serial moves — blocks belong to the account,
  its positions together.

Issuance of CCER: :func:`cets.registry.ccer.ccer_registry_import` (the national CCER registry's registered
reduction batches) creates each batch with :func:`.vintages.vintage_create` and issues it with ``transfer_post``,
so each batch is one block in the project owner's CCER holding account. The batch issuance path
(:func:`.issuance.issuance_batch_post`) hands serial-numbered unit types to the line-by-line path.
"""

from __future__ import annotations

from django.db.models import Max

from cets.core.errors import CetsError

from .. import serials
from ..checks import R1001
from ..models import Instrument, SerialBlock, Transfer, TransferKind, UnitType

# Instruments whose units carry serial numbers (the mechanism: a credit is traced from issuance to retirement).
SERIAL_INSTRUMENTS = frozenset({Instrument.CCER})


def has_serials(unit_type: UnitType) -> bool:
    return unit_type.instrument in SERIAL_INSTRUMENTS


def blocks_follow(entry: Transfer) -> None:
    """Move, split or mint the serial blocks for one posted journal entry (tonnes CO2e = serials, int).
    R1001 if the debit account's blocks do not cover the quantity (the blocks and the holdings disagree —
    never expected; the entry's transaction is rolled back)."""
    ut_id, qty = entry.unit_type_id, entry.quantity
    if entry.kind == TransferKind.CREATE or entry.debit_account_id is None:
        highest = SerialBlock.objects.filter(unit_type_id=ut_id).aggregate(m=Max("end"))["m"] or 0
        span = serials.mint(highest, qty)
        SerialBlock.objects.create(unit_type_id=ut_id, account_id=entry.credit_account_id, start=span.start, end=span.end, entry_id=entry.seq)
        return
    if entry.debit_account_id == entry.credit_account_id:
        return
    open_blocks = list(SerialBlock.objects.filter(account_id=entry.debit_account_id, unit_type_id=ut_id, closed_by__isnull=True))
    by_span = {serials.Span(b.start, b.end): b for b in open_blocks}
    try:
        taken, kept = serials.take_fifo(by_span, qty)
    except ValueError:
        raise CetsError(R1001, f"#{entry.seq} {entry.key}: {sum(s.size for s in by_span)} < {qty}") from None
    touched = {s.start: s for s in taken}
    new: list[SerialBlock] = []
    closed: list[int] = []
    for span, block in by_span.items():
        if span in kept:
            continue  # untouched
        closed.append(block.pk)
        moved = touched.get(span.start)
        new.append(SerialBlock(unit_type_id=ut_id, account_id=entry.credit_account_id, start=moved.start, end=moved.end, entry_id=entry.seq,
                               parent=block))
        if moved.end < span.end:  # the split block's rest stays where it was
            new.append(SerialBlock(unit_type_id=ut_id, account_id=entry.debit_account_id, start=moved.end + 1, end=span.end,
                                   entry_id=entry.seq, parent=block))
    SerialBlock.objects.filter(pk__in=closed).update(closed_by_id=entry.seq)
    SerialBlock.objects.bulk_create(new)
