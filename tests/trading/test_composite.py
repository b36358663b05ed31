"""COMCEA, the composite: computed from the vintage subjects by the rule inferred from the published data
(see cets.trading.composite). Golden days by hand from real rows."""

from __future__ import annotations

import datetime as dt

import pytest

from cets.trading.composite import composite_day
from cets.trading.official import MethodFigures, Quote, SubjectDay


def sd(date, subject, o, h, lo, c, prev, volume=0, amount=0, block=(0, 0)):
    methods = {"listing": MethodFigures(volume, amount, volume, amount, volume, amount),
               "block": MethodFigures(*block, *block, *block)}
    return SubjectDay(dt.date.fromisoformat(date), subject, "", methods, Quote(o, h, lo, c, prev, volume, amount))


def test_mean_rule_one_subject_traded_2024_01_04():
    # Published 2024-01-04: CEA traded 15 t for 1,148.00 CNY: open 73.80, high 82.00, low 73.80, close 76.53
    # (prev 82.00); CEA21 (70.47) and CEA22 (77.97) did not trade. COMCEA published open 74.08, high 76.81,
    # low 74.08, close 74.99. By hand: open (7380 + 7047 + 7797) / 3 = 22,224 / 3 = 7408; high
    # (8200 + 7047 + 7797) / 3 = 23,044 / 3 = 7681.33 → 7681; low = open = 7408; close
    # (7653 + 7047 + 7797) / 3 = 22,497 / 3 = 7499. Volumes add: listing 15 t, block 0 + 100,000 t.
    days = [sd("2024-01-04", "CEA", 7380, 8200, 7380, 7653, 8200, 15, 114_800),
            sd("2024-01-04", "CEA21", 7047, 0, 0, 7047, 7047, block=(100_000, 700_000_000)),
            sd("2024-01-04", "CEA22", 7797, 0, 0, 7797, 7797)]
    c = composite_day(days, previous_close_fen=7681)
    assert (c.rule, c.open_fen, c.high_fen, c.low_fen, c.close_fen) == ("mean", 7408, 7681, 7408, 7499)
    assert c.figures[("listing", "volume_t")] == 15
    assert c.figures[("block", "amount_fen")] == 700_000_000


def test_mean_rule_rounds_half_up_and_2024_12_26_is_the_one_exception():
    # 2024-12-26: closes 97.50, 99.40, 97.12, 97.20 → 391.22 / 4 = 97.805 → 97.81 half-up; the exchange
    # published 97.80 (the only one of 1,082 mean-rule closes that is not half-up).
    days = [sd("2024-12-26", "CEA", 9750, 9750, 9750, 9750, 9800, 14_801, 144_309_750),
            sd("2024-12-26", "CEA21", 9940, 0, 0, 9940, 9940),
            sd("2024-12-26", "CEA22", 9712, 0, 0, 9712, 9712),
            sd("2024-12-26", "CEA23", 9785, 9785, 9600, 9720, 9723, 379_649, 3_690_188_280)]
    c = composite_day(days, previous_close_fen=9794)
    assert c.close_fen == 9781
    # two subjects traded: the open is one of two values, high and low only bounded
    # CEA first: (9750 + 9940 + 9712 + 9723) / 4 = 9781.25 → 9781; CEA23 first: (9800 + 9940 + 9712 + 9785) / 4
    # = 9809.25 → 9809 (the exchange published 98.09)
    assert c.open_fen is None
    assert c.open_candidates == (9781, 9809)
    # high ≤ mean of max(prev, high): (9800 + 9940 + 9712 + 9785) / 4 → 9809; low ≥ mean of min(prev, low):
    # (9750 + 9940 + 9712 + 9600) / 4 = 9750.5 → 9751. Published high 98.09 and low 97.51 lie within.
    assert c.high_range == (9781, 9809)
    assert c.low_range == (9751, 9809)


def test_main_vintage_rule_from_2026_2026_02_04():
    # 2026-02-04: CEA25 open 78.00, high 79.00, low 78.00, close 78.74 (prev 81.00); another vintage also traded,
    # first: COMCEA published open 81.00 (its previous close), high 81.00, low 78.00, close 78.74.
    days = [sd("2026-02-04", "CEA24", 7900, 7900, 7900, 7900, 7900, 650, 5_135_000),
            sd("2026-02-04", "CEA25", 7800, 7900, 7800, 7874, 8100, 82_280, 647_846_400)]
    c = composite_day(days, previous_close_fen=8100)
    assert (c.rule, c.close_fen, c.open_candidates) == ("main", 7874, (7800, 8100))
    assert c.high_range == (7900, 8100)
    assert c.low_range == (7800, 7800)
    # the newest vintage did not trade: everything is its close
    days = [sd("2026-02-13", "CEA24", 8100, 8100, 8100, 8100, 8000, 20_000, 162_000_000),
            sd("2026-02-13", "CEA25", 7870, 0, 0, 7870, 7870)]
    c = composite_day(days, previous_close_fen=7870)
    assert (c.open_fen, c.high_fen, c.low_fen, c.close_fen) == (7870, 7870, 7870, 7870)


def test_no_vintage_is_refused():
    with pytest.raises(ValueError):
        composite_day([], previous_close_fen=None)
