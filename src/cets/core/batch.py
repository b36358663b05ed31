"""Set-based work on many rows at once (issue 19): helpers for the paths that compute or post a whole year or batch."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector held off while a set-based computation builds its rows (``with gc_paused():``).

    Such a path allocates hundreds of thousands of plain rows (tuples, dicts, Decimals) that hold no reference cycles;
    each few hundred allocations start a collection, and every so often a full one walks every object the process
    holds — a national allocation's compute spent 0.15 of its 0.63 s there. Reference counting still frees what the
    path drops; anything cyclic is collected after, when the collector runs again. Re-enabled on exit only if it was
    enabled on entry (a nested or concurrent pause does not turn it back on early for good)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
