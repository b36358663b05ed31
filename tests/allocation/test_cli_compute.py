"""`cets allocation compute`: pure computation from a unit table, no database, no partial output."""

import csv

from cets.cli import main

HEADER = ("entity_uscc,unit_id,category,rated_capacity_mw,generation_mwh,heat_supplied_gj,load_factor,"
          "verified_emissions_t,prev_verified_emissions_t\n")


def run(tmp_path, body):
    src = tmp_path / "units.csv"
    src.write_text(HEADER + body, encoding="utf-8")
    u, e = tmp_path / "u.csv", tmp_path / "e.csv"
    code = main(["allocation", "compute", "--pack", "national/power-2023-2024", "--year", "2023", "--input", str(src),
                 "--units-out", str(u), "--entities-out", str(e)])
    return code, u, e


def test_worked_example_through_the_command(tmp_path):
    code, u, e = run(tmp_path, "913700001630435316,#1,I,600,3000000,2000000,0.60,3600000,3500000\n"
                               "91330800586289189R,G1,IV,400,1000000,100000,0.40,400000,0\n")
    assert code == 0
    units = list(csv.DictReader(u.open()))
    ents = {r["entity_uscc"]: r for r in csv.DictReader(e.open())}
    assert units[0]["ff"] == "1.061364" and units[0]["electricity_allowance_t"] == "2531353" and units[0]["pre_allocation_t"] == "2450000"
    assert ents["913700001630435316"]["final_allocation_t"] == "2880000" and ents["913700001630435316"]["issue_delta_t"] == "430000"
    assert units[1]["gas_topup_t"] == "64140" and ents["91330800586289189R"]["final_allocation_t"] == "400000"


def test_bad_rows_are_all_reported_and_nothing_is_written(tmp_path, capsys):
    (tmp_path / "u.csv").write_text("previous output\n")
    code, u, e = run(tmp_path, "913700001630435316,#1,I,600,3000000,0,0.60,3600000,0\n"
                               "913700001630435317,#1,V,600,-5,0,1.2,36.5,x\n"
                               "913700001630435316,#1,I,600,1,0,0.5,1,1\n")
    assert code == 2
    out = capsys.readouterr().out
    for col in ("entity_uscc", "category", "generation_mwh", "load_factor", "verified_emissions_t", "prev_verified_emissions_t"):
        assert f"units.csv:3 [{col}=" in out
    assert "units.csv:4 [unit_id='#1'] duplicate unit" in out
    assert (tmp_path / "u.csv").read_text() == "previous output\n" and not e.exists()


def test_missing_column(tmp_path, capsys):
    src = tmp_path / "units.csv"
    src.write_text("entity_uscc,unit_id\n913700001630435316,#1\n")
    code = main(["allocation", "compute", "--pack", "national/power-2023-2024", "--year", "2023", "--input", str(src),
                 "--units-out", str(tmp_path / "u.csv"), "--entities-out", str(tmp_path / "e.csv")])
    assert code == 2 and "missing columns" in capsys.readouterr().out
