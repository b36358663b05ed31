"""``cets compliance fine``: the Art. 24 range straight from the exchange's published CSV (no database)."""

from cets.cli import main
from tests.conftest import DATA

CSV = DATA / "cea-national-official" / "cea_daily_by_trade_method.csv"


def test_fine_for_the_2023_and_2024_deadlines(capsys):
    args = ["compliance", "fine", "--pack", "national/power-2023-2024", "--unsurrendered", "10000", "--prices", str(CSV)]
    assert main([*args, "--deadline", "2024-12-31"]) == 0
    out = capsys.readouterr().out
    # November 2024: 593,027,635,654 fen / 60,837,241 t → 9,748 fen (see test_noncompliance for the daily rows)
    assert "97.48" in out
    assert "4874000.00" in out
    assert "9748000.00" in out
    # 2024 obligation, deadline 2025-12-31 → November 2025: 275,696,894,114 fen / 47,753,225 t = 5,773.35… → 5,773 fen
    assert 275_696_894_114 // 47_753_225 == 5_773
    assert 2 * (275_696_894_114 % 47_753_225) < 47_753_225
    assert main([*args, "--deadline", "2025-12-31"]) == 0
    assert "57.73" in capsys.readouterr().out


def test_bad_rows_refuse_the_file(tmp_path, capsys):
    f = tmp_path / "bad.csv"
    f.write_text("trade_date,subject_code,subject_name,trade_method_code,trade_method,volume_t,amount_cny\n"
                 "2024-11-04,CEA22,x,10,listing,100,10000.00\n"
                 "2024-11-05,CEA22,x,99,?,100,10000.00\n"
                 "2024-11-06,CEA22,x,20,block,-5,10.001\n", encoding="utf-8")
    assert main(["compliance", "fine", "--pack", "national/power-2023-2024", "--deadline", "2024-12-31", "--unsurrendered", "1",
                 "--prices", str(f)]) == 2
    out = capsys.readouterr().out
    assert "bad.csv:3" in out
    assert "bad.csv:4" in out
