"""Serial blocks of credits (pure: no Django, no I/O).

A serial block is a contiguous range ``start``–``end`` (inclusive, both ≥ 1) of serial numbers of one unit
type (``CCER-<project code>-<vintage>``: the project and the vintage are the unit type's), one tonne CO2e per
serial. Serials are minted when units are created (a ``create`` entry: the next free numbers of the unit type)
and then only move: a transfer of ``q`` tonnes out of an account takes the account's **lowest** ``q`` serials
(first in, first out by serial number within the account, :func:`take_fifo`), splitting one block at most.

Serial format (our own — **unconfirmed**): the national CCER registry's publicity pages
(``data/real/ccer-national``: 项目编号 ``projectCode`` such as ``A110004``, ``ccerCode``, 签发批次, the reduction
annual detail ``regYear``/``applyVol``) publish no serial numbers of single credits, and none of the shared rule
texts defines one. We write a serial as ``<unit type code>-<n>`` with ``n`` zero-padded to :data:`DIGITS` digits
(``CCER-A110004-2023-000000001``), a block as ``<unit type code>-<start>-<end>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cets.core.quantities import is_digits

DIGITS = 9
UNCONFIRMED = ("serial format: no published CCER serial-number format in data/real/ccer-national or the shared rule texts; "
               "'<unit type code>-<n:09d>' is the platform's own")


@dataclass(frozen=True, order=True, slots=True)
class Span:
    """Serials ``start``..``end`` inclusive (ints ≥ 1, start ≤ end)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if type(self.start) is not int or type(self.end) is not int or self.start < 1 or self.end < self.start:
            raise ValueError(f"bad serial span {self.start}-{self.end}")

    @property
    def size(self) -> int:
        return self.end - self.start + 1


def mint(highest: int, quantity: int) -> Span:
    """The span created by a ``create`` of ``quantity`` tonnes when the unit type's highest serial so far is
    ``highest`` (0 for none): ``highest + 1`` … ``highest + quantity``."""
    if type(quantity) is not int or quantity <= 0 or type(highest) is not int or highest < 0:
        raise ValueError("quantity must be a positive int, highest a non-negative int")
    return Span(highest + 1, highest + quantity)


def take_fifo(spans: Iterable[Span], quantity: int) -> tuple[list[Span], list[Span]]:
    """Split an account's spans into (taken, kept): the ``quantity`` lowest serials are taken (first in,
    first out by serial number); at most one span is split, its lower part taken. Both lists are in serial
    order. ``ValueError`` if the spans hold fewer than ``quantity`` serials or ``quantity`` is not a positive int."""
    if type(quantity) is not int or quantity <= 0:
        raise ValueError("quantity must be a positive int")
    ordered = sorted(spans)
    taken: list[Span] = []
    kept: list[Span] = []
    left = quantity
    for s in ordered:
        if left == 0:
            kept.append(s)
        elif s.size <= left:
            taken.append(s)
            left -= s.size
        else:
            taken.append(Span(s.start, s.start + left - 1))
            kept.append(Span(s.start + left, s.end))
            left = 0
    if left:
        raise ValueError(f"spans hold {quantity - left} serials, fewer than {quantity}")
    return taken, kept


def merged(spans: Iterable[Span]) -> list[Span]:
    """Adjacent or overlapping spans joined (for display and comparison), in serial order."""
    out: list[Span] = []
    for s in sorted(spans):
        if out and s.start <= out[-1].end + 1:
            out[-1] = Span(out[-1].start, max(out[-1].end, s.end))
        else:
            out.append(s)
    return out


def overlaps(spans: Sequence[Span]) -> list[tuple[Span, Span]]:
    """Pairs of spans that share a serial (neighbours in serial order)."""
    ordered = sorted(spans)
    return [(a, b) for a, b in zip(ordered, ordered[1:], strict=False) if b.start <= a.end]


def serial_text(unit_code: str, n: int) -> str:
    """``CCER-A110004-2023-000000017`` for serial 17 of unit type ``CCER-A110004-2023``."""
    return f"{unit_code}-{n:0{DIGITS}d}"


def block_text(unit_code: str, span: Span) -> str:
    return f"{unit_code}-{span.start:0{DIGITS}d}-{span.end:0{DIGITS}d}"


def parse_serial(text: str) -> tuple[str, int] | None:
    """``(unit type code, n)`` from a serial or a block's text (its first serial); None if it is not one."""
    parts = (text or "").strip().split("-")
    nums: list[int] = []
    while parts and is_digits(parts[-1]) and len(parts[-1]) == DIGITS and len(nums) < 2:
        nums.insert(0, int(parts.pop()))
    if not nums or len(parts) < 2 or nums[0] < 1:
        return None
    return "-".join(parts), nums[0]
