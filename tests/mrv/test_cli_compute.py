"""`cets mrv compute`: monthly CSV → annual CSV, pure (no database); every bad cell reported, nothing written."""

import csv

from cets.cli import main

HEADER = ("entity_uscc,unit_id,month,fuel,fuel_consumed,ncv_gj_per_unit,carbon_content_tc_per_gj,oxidation_rate,"
          "generation_mwh,supplied_mwh,heat_supplied_gj,operating_hours,rated_capacity_mw\n")
SD_1, ZJ_1 = "913700001630435316", "91330800586289189R"


def run(tmp_path, body, pack="national/power-2023", header=HEADER):
    src = tmp_path / "monthly.csv"
    src.write_text(header + body, encoding="utf-8")
    out = tmp_path / "annual.csv"
    return main(["mrv", "compute", "--pack", pack, "--input", str(src), "--out", str(out)]), out


def test_two_units_through_the_command(tmp_path):
    body = "".join(f"{SD_1},#1,2023-{m:02d},烟煤,10000,20,0.0275,,30000,28000,1000,500,600\n" for m in range(1, 13))
    # ZJ_1 G1: gas only, 2 months: 2 × 100 × 389.31 × 0.0153 × 0.99 × 44/12 = 4,324.377618 → 4,324 t;
    # load factor 2 × 50,000 MWh / (400 MW × (300 + 200) h) = 100,000 / 200,000 = 0.5
    body += f"{ZJ_1},G1,2023-01,天然气,100,,,,50000,48000,0,300,400\n{ZJ_1},G1,2023-02,天然气,100,,,,50000,48000,0,200,400\n"
    code, out = run(tmp_path, body)
    assert code == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["entity_uscc", "unit_id", "year", "emissions_t", "generation_mwh", "supplied_mwh", "heat_supplied_gj", "load_factor"]
    by = {r["entity_uscc"]: r for r in rows}
    # 12 × 10,000 × 20 × 0.0275 × 0.99 × 44/12 = 239,580 t; LF 360,000 / (600 × 6,000) = 0.1
    assert by[SD_1] == {"entity_uscc": SD_1, "unit_id": "#1", "year": "2023", "emissions_t": "239580", "generation_mwh": "360000",
                        "supplied_mwh": "336000", "heat_supplied_gj": "12000", "load_factor": "0.100000"}
    assert by[ZJ_1]["emissions_t"] == "4324"
    assert by[ZJ_1]["load_factor"] == "0.500000"


def test_bad_rows_are_all_reported_and_nothing_is_written(tmp_path, capsys):
    (tmp_path / "annual.csv").write_text("previous output\n")
    good = f"{SD_1},#1,2023-01,烟煤,10000,20,0.0275,,30000,28000,1000,500,600\n"
    body = (good
            + "913700001630435317,,2023-13,泥煤,-1,0,2,1.5,x,-1,-1,745,0\n"        # row 3: every cell bad
            + f"{SD_1},#1,2022-05,烟煤,1,,,,0,0,0,0,600\n"                          # row 4: year not in the pack
            + good                                                                   # row 5: duplicate
            + f"{SD_1},#1,2023-01,天然气,1,,,,31000,28000,1000,500,600\n"            # row 6: generation differs from row 2
            + f"{SD_1},#1,2023-02,烟煤,1,,,,100,200,0,673,600\n"                     # row 7: Feb has 672 h; supplied > generation
            + f"{SD_1},#2,2023-03,烟煤,1,,,,100,0,0,0,300\n")                        # row 8: generation without hours
    code, out = run(tmp_path, body)
    assert code == 2
    text = capsys.readouterr().out
    for col in ("entity_uscc", "unit_id", "month", "fuel", "fuel_consumed", "ncv_gj_per_unit", "carbon_content_tc_per_gj",
                "oxidation_rate", "generation_mwh", "supplied_mwh", "heat_supplied_gj", "operating_hours", "rated_capacity_mw"):
        assert f"monthly.csv:3 [{col}=" in text, col
    assert "monthly.csv:4 [month='2022-05'] rule pack national/power-2023 does not cover 2022" in text
    assert "monthly.csv:5 [fuel='烟煤'] duplicate unit, month and fuel" in text
    assert "monthly.csv:6 [generation_mwh='31000'] differs from row 2" in text
    assert "monthly.csv:7 [operating_hours='673']" in text
    assert "monthly.csv:7 [supplied_mwh='200'] supplied electricity exceeds" in text
    assert "monthly.csv:8 [operating_hours='0']" in text
    assert (tmp_path / "annual.csv").read_text() == "previous output\n"


def test_february_hours_boundary_is_accepted(tmp_path):
    code, out = run(tmp_path, f"{SD_1},#1,2023-02,烟煤,1,,,,100,0,0,672,600\n")
    assert code == 0
    assert out.exists()


def test_missing_column_and_wrong_pack(tmp_path, capsys):
    code, out = run(tmp_path, f"{SD_1},#1\n", header="entity_uscc,unit_id\n")
    assert code == 2
    assert "missing columns" in capsys.readouterr().out
    assert not out.exists()
    code, out = run(tmp_path, "", pack="national/power-2023-2024")
    assert code == 2
    assert "M0101" in capsys.readouterr().out
    assert not out.exists()


def test_beijing_green_electricity_columns(tmp_path):
    # Beijing: 10,000 × 20 × 0.0275 × 0.93 × 44/12 = 18,755 t + (1,000 − 400) × 0.604 = 362.4 → 19,117.4 → 19,117
    header = HEADER.rstrip("\n") + ",purchased_electricity_mwh,green_electricity_mwh\n"
    code, out = run(tmp_path, f"{SD_1},#1,2023-01,烟煤,10000,20,0.0275,,30000,28000,0,500,600,1000,400\n", pack="beijing/power-2023", header=header)
    assert code == 0
    assert next(csv.DictReader(out.open(encoding="utf-8")))["emissions_t"] == "19117"
    code, _ = run(tmp_path, f"{SD_1},#1,2023-01,烟煤,1,,,,0,0,0,0,600,100,400\n", pack="beijing/power-2023", header=header)
    assert code == 2
