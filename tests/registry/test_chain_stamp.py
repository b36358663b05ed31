"""``chain.stamp``: the journal's canonical time, part of every entry's hash. Remembered for UTC times only (issue 19):
in a zone with summer time, two instants an hour apart compare and hash equal (they differ only in ``fold``), so a
cache keyed by the datetime would give the second the first one's stamp."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from cets.registry.chain import stamp


def test_equal_instants_stamp_alike_and_the_two_readings_of_an_ambiguous_hour_do_not():
    utc = dt.datetime(2025, 3, 2, 2, 0, 0, 123456, tzinfo=dt.timezone.utc)
    assert stamp(utc) == "2025-03-02T02:00:00.123456Z"
    assert stamp(utc.astimezone(ZoneInfo("Asia/Shanghai"))) == stamp(utc) == stamp(utc)
    ny = ZoneInfo("America/New_York")
    first = dt.datetime(2024, 11, 3, 1, 30, tzinfo=ny)  # 01:30 EDT = 05:30 UTC
    second = first.replace(fold=1)  # 01:30 EST = 06:30 UTC
    assert first == second and hash(first) == hash(second)  # what a cache keyed by the datetime would confuse
    assert stamp(first) == "2024-11-03T05:30:00.000000Z"
    assert stamp(second) == "2024-11-03T06:30:00.000000Z"
    assert stamp(first.astimezone(dt.timezone.utc)) == stamp(first)
    assert stamp(second.astimezone(dt.timezone.utc)) == stamp(second)
