"""Beijing pilot: ±20% surplus/shortfall cap, pre-allocation, uniform-price auction (cn-ets-rules.md §7.2 [S/M/U])."""

import csv
from decimal import Decimal

import pytest

from cets.allocation.beijing import BeijingInput, BeijingRules, Bid, auction_clear, free_allocation
from cets.cli import main
from cets.rules.packs import load_pack

BJ23 = BeijingRules.from_pack(load_pack("beijing/emitters-2023-2024"), 2023)


def bj(method="historical_intensity", e=100_000, base="0.5", activity="150000", factor="0.98", prev=0, ok=False):
    return BeijingInput("91110000100000000X", method, e, Decimal(base), Decimal(activity), Decimal(factor), prev, ok)


def test_within_the_band_nothing_changes():
    # A0 = 150,000 × 0.5 × 0.98 = 73,500 < 0.8 × 100,000 = 80,000 → topped up by 6,500 to 80,000 (deficit capped at 20%)
    r = free_allocation(bj(), BJ23)
    assert (r.initial_allocation_t, r.cap_adjustment_t, r.free_allocation_t) == (73_500, 6_500, 80_000)
    # A0 = 190,000 × 0.5 × 1 = 95,000: within 80,000…120,000 → unchanged
    r = free_allocation(bj(activity="190000", factor="1"), BJ23)
    assert (r.cap_adjustment_t, r.free_allocation_t) == (0, 95_000)


def test_surplus_is_cut_at_20_percent_and_bounds_round_down():
    # historical total: 130,000 × 1 = 130,000 > 1.2 × 100,000 = 120,000 → cut by 10,000
    r = free_allocation(bj(method="historical_total", base="130000", activity="0", factor="1"), BJ23)
    assert (r.initial_allocation_t, r.cap_adjustment_t, r.free_allocation_t) == (130_000, -10_000, 120_000)
    # E = 100,001: 0.8 E = 80,000.8 → 80,000; 1.2 E = 120,001.2 → 120,001 (rounded down)
    r = free_allocation(bj(method="benchmark", e=100_001, base="1", activity="1", factor="1"), BJ23)
    assert r.free_allocation_t == 80_000
    r = free_allocation(bj(method="benchmark", e=100_001, base="1", activity="200000", factor="1"), BJ23)
    assert r.free_allocation_t == 120_001


def test_pre_allocation_only_after_full_compliance():
    # 70% × 85,001 = 59,500.7 → 59,500; not compliant → 0; true-up = free − pre
    assert free_allocation(bj(prev=85_001, ok=True), BJ23).pre_allocation_t == 59_500
    r = free_allocation(bj(prev=85_001, ok=False), BJ23)
    assert (r.pre_allocation_t, r.issue_delta_t) == (0, 80_000)


def test_the_2023_vintage_auction():
    # Sept 2024: 348,304 t at a uniform CNY 104.89/t → 348,304 × 10,489 fen = 3,653,360,656 fen = CNY 36,533,606.56
    # (reported total CNY 36.5336 million). Bids above the clearing price pay the clearing price.
    bids = [Bid("a", 200_000, 11_000, 1), Bid("b", 100_000, 10_600, 2), Bid("c", 100_000, 10_489, 3), Bid("d", 50_000, 10_000, 4)]
    r = auction_clear(BJ23.auction_volume_t, bids)
    assert r.clearing_price_fen == 10_489
    assert r.sold_t == 348_304
    assert r.awards == {"a": 200_000, "b": 100_000, "c": 48_304}  # c filled in part, d not at all
    assert r.proceeds_fen == 3_653_360_656
    # under-subscribed: everything bid is sold at the lowest bid
    r = auction_clear(1_000, [Bid("a", 300, 500), Bid("b", 200, 400)])
    assert (r.sold_t, r.clearing_price_fen, r.proceeds_fen) == (500, 400, 200_000)
    with pytest.raises(ValueError):
        auction_clear(10, [Bid("a", 0, 100)])


def test_beijing_through_the_command(tmp_path, capsys):
    src = tmp_path / "bj.csv"
    src.write_text("entity_uscc,method,verified_emissions_t,base,activity,factor,prev_allocation_t,prev_compliant\n"
                   "91110000101101150L,historical_intensity,100000,0.5,150000,0.98,85001,是\n"
                   "91110000101123421K,historical_total,100000,130000,,,0,否\n", encoding="utf-8")
    out = tmp_path / "o.csv"
    args = ["allocation", "compute", "--pack", "beijing/emitters-2023-2024", "--year", "2023", "--input", str(src), "--units-out", str(out),
            "--entities-out", str(out)]
    # real Beijing credit codes (data/); figures as in test_within_the_band_nothing_changes and test_surplus_is_cut…
    assert main(args) == 0
    text = capsys.readouterr().out
    rows = list(csv.DictReader(out.open()))
    assert [r["free_allocation_t"] for r in rows] == ["80000", "120000"]
    assert rows[0]["pre_allocation_t"] == "59500"
    assert "348,304" in text
    src.write_text("entity_uscc,method,verified_emissions_t,base,activity,factor,prev_allocation_t,prev_compliant\n"
                   "91110000101101150L,grandfathering,1.5,-1,,,0,maybe\n", encoding="utf-8")
    out.unlink()
    assert main(args) == 2
    assert not out.exists()
    text = capsys.readouterr().out
    for col in ("method", "verified_emissions_t", "base", "prev_compliant"):
        assert f"bj.csv:2 [{col}=" in text
