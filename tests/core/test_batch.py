"""``cets.core.batch.gc_paused``: the collector held off inside, restored as it was after — nested, failing or not."""

from __future__ import annotations

import gc

import pytest

from cets.core.batch import gc_paused


@pytest.fixture(autouse=True)
def _collector_back_on():
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_paused_inside_and_back_on_after_even_when_the_work_fails():
    gc.enable()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested: the inner exit does not turn it back on under the outer
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("the batch failed")
    assert gc.isenabled()


def test_a_collector_off_on_entry_stays_off_and_the_decorated_form_works_each_call():
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()
    gc.enable()
    seen = []

    @gc_paused()
    def work(n):
        seen.append(gc.isenabled())
        return n * 2

    assert (work(2), work(3)) == (4, 6) and seen == [False, False] and gc.isenabled()
