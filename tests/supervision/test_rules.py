"""Golden cases of the pure supervision rules, computed by hand from the texts and the national supervision pack
(national/supervision-2021-2026), and surveillance alerts on a constructed trade log, with cases that must not alert."""

import datetime as dt
from decimal import Decimal

import pytest

from cets.rules.packs import load_pack
from cets.supervision import rules as r

PACK = "national/supervision-2021-2026"
D = dt.date(2024, 11, 4)


def reg(gains_fen):
    p = load_pack(PACK)
    g = "false_reporting.regulations."
    return r.regulations_fine_range(gains_fen=gains_fen, multiple_min=p.decimal(g + "gains_multiple_min"), multiple_max=p.decimal(g + "gains_multiple_max"),
                                    gains_floor_fen=p.decimal(g + "gains_floor_fen"), fine_min_fen=p.decimal(g + "fine_min_fen"),
                                    fine_max_fen=p.decimal(g + "fine_max_fen"))


def test_measures_art_43_fine_is_ten_to_thirty_thousand_yuan():
    p = load_pack(PACK)
    f = r.measures_fine_range(fine_min_fen=p.decimal("false_reporting.measures.fine_min_fen"), fine_max_fen=p.decimal("false_reporting.measures.fine_max_fen"))
    # 1万元 = 10,000 CNY = 1,000,000 fen; 3万元 = 3,000,000 fen
    assert (f.min_fen, f.max_fen) == (1_000_000, 3_000_000)
    assert "第四十三条" in f.source


def test_regulations_art_22_fine_range_by_gains():
    # no gains: 50万–200万元 = 50,000,000–200,000,000 fen
    assert (reg(0).min_fen, reg(0).max_fen) == (50_000_000, 200_000_000)
    # gains 49.9999万元 (< 50万): the fixed range still
    assert (reg(49_999_900).min_fen, reg(49_999_900).max_fen) == (50_000_000, 200_000_000)
    # gains exactly 50万元 = 50,000,000 fen: 5× = 250万元, 10× = 500万元
    assert (reg(50_000_000).min_fen, reg(50_000_000).max_fen) == (250_000_000, 500_000_000)
    # gains 100万元: 500万–1000万元
    assert (reg(100_000_000).min_fen, reg(100_000_000).max_fen) == (500_000_000, 1_000_000_000)
    assert "第二十二条" in reg(0).source
    with pytest.raises(ValueError):
        reg(-1)


def test_allocation_cut_half_up():
    # 50% of 123,457 t = 61,728.5 → 61,729 t (half up); 100% = all
    assert r.allocation_cut_t(next_year_allocation_t=123_457, share=Decimal("0.50")) == 61_729
    assert r.allocation_cut_t(next_year_allocation_t=123_457, share=Decimal("1.00")) == 123_457


def T(seq, buyer, seller, q, price=9_500, day=D):
    return r.TradeRow(seq, day, "CEA23", price, q, buyer, seller, 100 + seq, 200 + seq)


def test_wash_trade_between_related_accounts_alerts_and_unrelated_does_not():
    trades = [T(1, 1, 2, 1_000), T(2, 1, 3, 1_000), T(3, 4, 5, 500)]
    alerts = r.wash_trades(trades, holder_of={1: "g:A", 2: "g:A", 3: "g:B"})
    assert [(a.rule, a.participants, a.orders) for a in alerts] == [("wash_trade", (1, 2), (101, 201))]
    assert r.wash_trades(trades, holder_of={}) == []


def test_concentration_of_a_days_volume():
    # day volume 10,000 + 5,000 + 5,000 = 20,000 t; participant 1 is in 15,000 t = 75% > 30%;
    # 2 in 10,000 t = 50%; 3 in 10,000 t = 50%; 4 and 5 in 5,000 t = 25% → no alert for 4 and 5.
    trades = [T(1, 1, 2, 10_000), T(2, 1, 3, 5_000), T(3, 4, 3, 5_000)]
    alerts = r.concentration(trades, share=Decimal("0.30"), min_volume_t=10_000)
    assert [a.participants for a in alerts] == [(1,), (2,), (3,)]
    assert alerts[0].detail.startswith("15000 t of 20000 t")
    # a quiet day (below the minimum volume) never alerts
    assert r.concentration([T(1, 1, 2, 9_999)], share=Decimal("0.30"), min_volume_t=10_000) == []


def test_price_near_the_limit():
    # previous close 95.00, band ±10% → limit 104.50 / 85.50; 90% of the way = ±8.55 → ≥ 103.55 or ≤ 86.45 alerts
    prev = {(D, "CEA23"): 9_500}
    trades = [T(1, 1, 2, 100, price=10_355), T(2, 1, 2, 100, price=10_354), T(3, 1, 2, 100, price=8_645), T(4, 1, 2, 100, price=8_646)]
    alerts = r.band_proximity(trades, prev_close_fen=prev, band=Decimal("0.10"), proximity=Decimal("0.90"))
    assert [a.orders for a in alerts] == [(101, 201), (103, 203)]


def test_large_cancels():
    cancels = [r.CancelRow(7, D, 1, 50_000), r.CancelRow(8, D, 1, 49_999)]
    assert [a.orders for a in r.large_cancels(cancels, min_t=50_000)] == [(7,)]


def test_regulations_art_23_verification_body_range():
    p = load_pack(PACK)
    g = "false_reporting.regulations_23."
    f = r.regulations_fine_range(gains_fen=0, multiple_min=p.decimal(g + "gains_multiple_min"), multiple_max=p.decimal(g + "gains_multiple_max"),
                                 gains_floor_fen=p.decimal(g + "gains_floor_fen"), fine_min_fen=p.decimal(g + "fine_min_fen"),
                                 fine_max_fen=p.decimal(g + "fine_max_fen"), source=r.SRC_ART_23)
    # 20万–100万元 = 20,000,000–100,000,000 fen
    assert (f.min_fen, f.max_fen) == (20_000_000, 100_000_000)
