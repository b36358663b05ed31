"""Parsing the exchange's published files into exact integers, and the checks of the published figures
against the published rules (reference §3.1). Small inline files; the whole real data set is in
test_replay_real_data.py."""

from __future__ import annotations

import datetime as dt

import pytest

from cets.core.errors import InputError
from cets.trading.official import (
    NATIONAL_RULES,
    check_counters,
    check_published,
    check_quote,
    parse_official,
    vwap_fen,
    yuan_to_fen,
)

BM_HEAD = ("trade_date,subject_code,subject_name,trade_method_code,trade_method,volume_t,amount_cny,"
           "ytd_volume_t,ytd_amount_cny,cum_volume_t,cum_amount_cny\n")
Q_HEAD = "trade_date,subject_code,subject_name,open,high,low,close,prev_close,change,change_pct,volume_t,amount_cny\n"

# Real rows (data/cea-national-official): 2021-08-30 CEA, 35 t for 1,580.75 CNY; the quote file carries 1,580.00.
BM = BM_HEAD + (
    "2021-08-27,CEA,碳排放配额,10,listing,20,900.00,5405515,280343997.09,5405515,280343997.09\n"
    "2021-08-30,CEA,碳排放配额,10,listing,35,1580.75,5405550,280345577.84,5405550,280345577.84\n"
    "2021-08-30,CEA,碳排放配额,20,block,0,0.00,3034856,135789693.72,3034856,135789693.72\n"
)
QT = Q_HEAD + "2021-08-30,CEA,碳排放配额,45.09,45.22,45.09,45.16,45.09,0.07,0.16,35,1580.00\n"


def test_parse_gives_exact_integers():
    data = parse_official(BM, QT)
    day = data.days[(dt.date(2021, 8, 30), "CEA")]
    assert day.volume_t("listing") == 35
    assert day.amount_fen("listing") == 158_075          # 1,580.75 CNY
    assert day.methods["block"].cum_amount_fen == 13_578_969_372
    assert day.quote.amount_fen == 158_000               # the quote file's yuan figure
    assert (day.quote.open_fen, day.quote.high_fen, day.quote.low_fen, day.quote.close_fen) == (4509, 4522, 4509, 4516)
    assert day.reference_fen == 4509
    assert day.tradeable
    assert day.methods["listing"].line == 3              # header is line 1


def test_yuan_to_fen_is_exact_and_refuses_floats():
    # 0.1 + 0.2 style errors cannot happen: 0.29 CNY = 29 fen, 123456789.99 CNY = 12345678999 fen.
    assert yuan_to_fen("0.29") == 29
    assert yuan_to_fen("123456789.99") == 12_345_678_999
    assert yuan_to_fen("7") == 700
    for bad in ("1e3", "1.234", "-5.00", "", "NaN", "1,000.00"):
        with pytest.raises(ValueError):
            yuan_to_fen(bad)


def test_every_malformed_row_is_reported_with_file_line_field():
    bm = BM_HEAD + (
        "2021-08-30,CEA,x,10,listing,35,1580.755,1,1.00,1,1.00\n"      # line 2: three decimals
        "2021-13-01,CEA,x,10,listing,35,1.00,1,1.00,1,1.00\n"          # line 3: bad date
        "2021-08-30,CEA,x,99,listing,35,1.00,1,1.00,1,1.00\n"          # line 4: unknown method
        "2021-08-31,XYZ,x,10,listing,3.5,1.00,1,1.00,1,1.00\n"         # line 5: subject, volume
        "2021-09-01,CEA,x,10,listing,1,1.00,1,1.00,1,1.00\n"           # line 6: fine
        "2021-09-01,CEA,x,10,listing,1,1.00,1,1.00,1,1.00\n"           # line 7: duplicate of line 6
        "2021-09-02,CEA,x,10\n"                                       # line 8: too few fields
    )
    qt = Q_HEAD + "2021-08-30,CEA,x,45.09,45.22,45.09,45.16,,0,0,35,-1.00\n"   # line 2: negative amount
    with pytest.raises(InputError) as err:
        parse_official(bm, qt, by_method_name="bm.csv", quotes_name="q.csv")
    got = {(p.file, p.row, p.field) for p in err.value.problems}
    assert got == {
        ("bm.csv", 2, "amount_cny"), ("bm.csv", 3, "trade_date"), ("bm.csv", 4, "trade_method_code"),
        ("bm.csv", 5, "subject_code"), ("bm.csv", 5, "volume_t"), ("bm.csv", 7, "trade_method_code"),
        ("bm.csv", 8, "row"), ("q.csv", 2, "amount_cny"),
    }
    assert all(p.zh and p.en for p in err.value.problems)


def test_missing_column_is_refused():
    with pytest.raises(InputError) as err:
        parse_official(BM_HEAD.replace(",ytd_volume_t", ",ytd") + "", QT)
    assert err.value.problems[0].row == 1
    assert "ytd_volume_t" in err.value.problems[0].value


def test_vwap_rounds_half_up_to_the_fen():
    # 158,075 fen / 35 t = 4,516.43 → 4,516 (45.16, the published close of 2021-08-30)
    assert vwap_fen(158_075, 35) == 4516
    # exactly half: 9 fen / 2 t = 4.5 → 5; just below: 13 / 3 = 4.33 → 4
    assert vwap_fen(9, 2) == 5
    assert vwap_fen(13, 3) == 4


def test_band_limits_round_half_up_to_the_tick():
    # 52.96 × 1.10 = 58.256 → 58.26 (CEA high on 2021-08-09); 52.96 × 0.90 = 47.664 → 47.66
    assert NATIONAL_RULES.listing_limits(5296) == (4766, 5826)
    # block ±30%: 72.22 × 0.7 = 50.554 → 50.55; × 1.3 = 93.886 → 93.89
    assert NATIONAL_RULES.block_limits(7222) == (5055, 9389)


def test_quote_amount_cut_to_the_yuan_is_a_note_and_the_close_is_the_exact_vwap():
    data = parse_official(BM, QT)
    findings = [f for f in check_published(data) if f.date == dt.date(2021, 8, 30)]
    assert [(f.reason, f.kind, f.published, f.implied) for f in findings] == [
        ("amount_rounded_to_yuan", "note", "158000", "158075")]
    # 158,000 / 35 = 4,514.29 → 45.14 ≠ 45.16: only the exact by-method amount gives the published close
    assert findings[0].detail == "close is the VWAP of the exact amount only"


def test_a_day_without_a_quote_row_is_named():
    findings = [f for f in check_published(parse_official(BM, QT)) if f.date == dt.date(2021, 8, 27)]
    assert [(f.field, f.reason) for f in findings] == [("quote", "quote_missing")]


def test_close_not_vwap_and_band_breach_are_contradictions():
    qt = Q_HEAD + "2021-08-30,CEA,碳排放配额,45.09,49.61,45.09,45.17,45.09,0,0,35,1580.75\n"
    day = parse_official(BM, qt).days[(dt.date(2021, 8, 30), "CEA")]
    reasons = {(f.field, f.reason, f.kind) for f in check_quote(day)}
    # close 45.17 ≠ VWAP 45.16; high 49.61 > 45.09 × 1.1 = 49.599 → limit 49.60
    assert reasons == {("close", "close_not_vwap", "contradiction"), ("high", "price_outside_band", "contradiction")}


def test_counter_mismatch_names_the_one_wrong_day():
    # line 3 has a cum amount 0.01 CNY too high; line 4 continues from the published (wrong) figure,
    # so only 2021-08-30 is named, not every later day.
    bm = BM_HEAD + (
        "2021-08-27,CEA,x,10,listing,20,900.00,20,900.00,20,900.00\n"
        "2021-08-30,CEA,x,10,listing,35,1580.75,55,2480.75,55,2480.76\n"
        "2021-08-31,CEA,x,10,listing,1,1.00,56,2481.75,56,2481.76\n"
        "2022-01-04,CEA,x,10,listing,2,2.00,2,2.00,58,2483.76\n"      # new year: ytd starts again
    )
    findings = check_counters(parse_official(bm, Q_HEAD))
    assert [(f.date, f.field, f.published, f.implied) for f in findings] == [
        (dt.date(2021, 8, 30), "listing.cum_amount_fen", "248076", "248075")]
