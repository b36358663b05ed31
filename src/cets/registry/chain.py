"""The hash of a journal entry. Pure: no Django.

``hash = sha256(canonical content ‖ previous head of the debit account ‖ previous head of the credit
account)``. Chaining per account (not one global chain) lets transfers between unrelated accounts
commit in parallel, while any altered, removed or inserted entry breaks the chain of every account
it touches.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib

GENESIS = "0" * 64


def stamp(t: dt.datetime) -> str:
    """Canonical UTC time with microseconds; the journal stores timezone-aware datetimes."""
    if t.tzinfo is dt.timezone.utc:  # the clock's own times (django.utils.timezone.now): a batch's thousands share one or two
        return _stamp_utc(t)
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@functools.lru_cache(maxsize=256)
def _stamp_utc(t: dt.datetime) -> str:
    """:func:`stamp` of a UTC time, remembered for the last few hundred (issue 19). Only UTC: in a zone with summer
    time two instants an hour apart can compare (and hash) equal, differing only in ``fold``."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def content(
    *,
    key: str,
    kind: str,
    unit_type: str,
    debit: str,
    debit_position: str,
    credit: str,
    credit_position: str,
    quantity: int,
    reference: str,
    related: str,
    actor: str,
    beneficiary: str = "",
    approver: str,
    effective_at: dt.datetime,
    recorded_at: dt.datetime,
) -> str:
    """The fields that identify an entry, in a fixed order, unambiguously joined: a separator (``\\x1f``) inside a
    field becomes a space."""
    parts = [key, kind, unit_type, debit, debit_position, credit, credit_position, str(quantity), reference, related, actor, approver,
             stamp(effective_at), stamp(recorded_at), beneficiary]
    text = "\x1f".join(parts)
    if text.count("\x1f") != len(parts) - 1:  # rare: a field holds the separator (one pass over the text, not one per field)
        text = "\x1f".join(p.replace("\x1f", " ") for p in parts)
    return text


def entry_hash(content_text: str, debit_prev: str, credit_prev: str) -> str:
    h = hashlib.sha256()
    h.update(content_text.encode("utf-8"))
    h.update(b"\x1e")
    h.update(debit_prev.encode("ascii"))
    h.update(b"\x1e")
    h.update(credit_prev.encode("ascii"))
    return h.hexdigest()


def idempotency_digest(*, kind: str, unit_type: str, debit: str, debit_position: str, credit: str, credit_position: str,
                       quantity: int, reference: str, beneficiary: str = "") -> str:
    """What a retried request must repeat exactly for the same key to mean the same transfer."""
    text = "\x1f".join([kind, unit_type, debit, debit_position, credit, credit_position, str(quantity), reference, beneficiary])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
