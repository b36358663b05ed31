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
    assert units[0]["ff"] == "1.061364"
    assert units[0]["electricity_allowance_t"] == "2531353"
    assert units[0]["pre_allocation_t"] == "2450000"
    assert ents["913700001630435316"]["final_allocation_t"] == "2880000"
    assert ents["913700001630435316"]["issue_delta_t"] == "430000"
    assert units[1]["gas_topup_t"] == "64140"
    assert ents["91330800586289189R"]["final_allocation_t"] == "400000"


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
    assert (tmp_path / "u.csv").read_text() == "previous output\n"
    assert not e.exists()


def test_missing_column(tmp_path, capsys):
    src = tmp_path / "units.csv"
    src.write_text("entity_uscc,unit_id\n913700001630435316,#1\n")
    code = main(["allocation", "compute", "--pack", "national/power-2023-2024", "--year", "2023", "--input", str(src),
                 "--units-out", str(tmp_path / "u.csv"), "--entities-out", str(tmp_path / "e.csv")])
    assert code == 2
    assert "missing columns" in capsys.readouterr().out


EARLY_HEADER = ("entity_uscc,unit_id,category,rated_capacity_mw,supplied_mwh,heat_supplied_gj,load_factor,verified_emissions_t,"
                "prev_supplied_mwh,prev_heat_supplied_gj,cooling,heat_ratio\n")


def test_every_power_pack_runs_through_the_command(tmp_path):
    # 2019–2020 golden case of test_formulas_early_periods (final 2,793,935, pre 1,798,300); 2021–2022 borrowing case.
    src = tmp_path / "early.csv"
    src.write_text(EARLY_HEADER + "913700001630435316,#1,I,600,3000000,1000000,0.78,3200000,2800000,900000,air,0.20\n"
                   "91330800586289189R,#1,II,300,1000000,0,0.90,1050000,0,0,water,0\n", encoding="utf-8")
    for pack, year in (("national/power-2019-2020", 2019), ("national/power-2021-2022", 2021)):
        u, e = tmp_path / f"u{year}.csv", tmp_path / f"e{year}.csv"
        assert main(["allocation", "compute", "--pack", pack, "--year", str(year), "--input", str(src), "--units-out", str(u),
                     "--entities-out", str(e)]) == 0
        units = list(csv.DictReader(u.open()))
        ents = {r["entity_uscc"]: r for r in csv.DictReader(e.open())}
        assert units[0]["cooling_factor"] == "1.05"
        if year == 2019:
            assert ents["913700001630435316"]["final_allocation_t"] == "2793935"
            assert units[0]["pre_allocation_t"] == "1798300"
            assert "borrowing_limit_t" not in ents["913700001630435316"]
        else:
            assert ents["91330800586289189R"]["borrowing_limit_t"] == "86350"  # 0.5 × (1,050,000 − 877,300)
    # the 2023– packs read the 2023 columns (test_worked_example_through_the_command); the 2025–2026 draft too:
    src = tmp_path / "units.csv"
    src.write_text(HEADER + "913700001630435316,#1,I,600,3000000,2000000,0.30,3300000,3579\n", encoding="utf-8")
    assert main(["allocation", "compute", "--pack", "national/power-2025-2026", "--year", "2025", "--input", str(src),
                 "--units-out", str(tmp_path / "u.csv"), "--entities-out", str(tmp_path / "e.csv")]) == 0
    # test_2025_draft_unit_and_pre_allocation: unit allowance 3,242,484, pre-allocation 1,789
    row = next(csv.DictReader((tmp_path / "u.csv").open()))
    assert (row["unit_allowance_t"], row["pre_allocation_t"]) == ("3242484", "1789")


def test_early_pack_needs_its_columns(tmp_path, capsys):
    src = tmp_path / "units.csv"
    src.write_text(HEADER + "913700001630435316,#1,I,600,3000000,2000000,0.60,3600000,3500000\n")
    code = main(["allocation", "compute", "--pack", "national/power-2019-2020", "--year", "2019", "--input", str(src),
                 "--units-out", str(tmp_path / "u.csv"), "--entities-out", str(tmp_path / "e.csv")])
    out = capsys.readouterr().out
    assert code == 2
    assert "supplied_mwh" in out
    assert "cooling" in out
    assert "heat_ratio" in out
    src.write_text(EARLY_HEADER + "913700001630435316,#1,I,600,3000000,1000000,0.78,3200000,2800000,900000,seawater,1.2\n")
    code = main(["allocation", "compute", "--pack", "national/power-2019-2020", "--year", "2019", "--input", str(src),
                 "--units-out", str(tmp_path / "u.csv"), "--entities-out", str(tmp_path / "e.csv")])
    out = capsys.readouterr().out
    assert code == 2
    assert "[cooling='seawater']" in out
    assert "[heat_ratio='1.2']" in out


def test_cement_through_the_command(tmp_path, capsys):
    # test_industry.test_cement_lines_with_a_published_balance_value: BP 0.85 → 1,008,823 / 513,235 / 291,000
    src = tmp_path / "lines.csv"
    src.write_text("entity_uscc,line_id,verified_emissions_t,intensity,prev_verified_emissions_t,special\n"
                   "913700001630435316,L1,1000000,0.80,999999,\n913700001630435316,L2,500000,0.70,0,\n"
                   "913700001630435316,L3,300000,1.10,0,\n91330800586289189R,W1,400000,1.2,0,white_clinker\n", encoding="utf-8")
    u, e = tmp_path / "u.csv", tmp_path / "e.csv"
    args = ["allocation", "compute", "--pack", "national/cement-2026", "--year", "2026", "--input", str(src), "--units-out", str(u),
            "--entities-out", str(e)]
    assert main(args + ["--balance-value", "0.85"]) == 0
    lines = list(csv.DictReader(u.open()))
    assert [r["allocation_t"] for r in lines] == ["1008823", "513235", "291000", "400000"]
    assert lines[0]["balance_value"] == "0.85"
    assert lines[2]["alpha"] == "-0.03"
    assert lines[3]["special"] == "white_clinker"
    ents = {r["entity_uscc"]: r for r in csv.DictReader(e.open())}
    assert ents["913700001630435316"]["final_allocation_t"] == "1813058"
    assert ents["913700001630435316"]["pre_allocation_t"] == "499999"
    # solved balance value: Σ allocation = Σ emissions (1,800,000 for the three formula lines, ±1 for a double floor step)
    assert main(args) == 0
    lines = list(csv.DictReader(u.open()))
    assert abs(sum(int(r["allocation_t"]) for r in lines[:3]) - 1_800_000) <= 1
    assert main(args + ["--balance-value", "-1"]) == 2


def test_industry_bad_rows(tmp_path, capsys):
    src = tmp_path / "lines.csv"
    src.write_text("entity_uscc,line_id,verified_emissions_t,intensity,special\n"
                   "913700001630435316,L1,1000000,0,\n913700001630435316,,12.5,1.0,white_clinker\n", encoding="utf-8")
    u = tmp_path / "u.csv"
    code = main(["allocation", "compute", "--pack", "national/steel-2026", "--year", "2026", "--input", str(src), "--units-out", str(u),
                 "--entities-out", str(tmp_path / "e.csv")])
    out = capsys.readouterr().out
    assert code == 2
    assert not u.exists()
    assert "missing columns: prev_verified_emissions_t" in out  # the 2026 pack pre-allocates
    src.write_text("entity_uscc,line_id,verified_emissions_t,intensity,prev_verified_emissions_t,special\n"
                   "913700001630435316,L1,1000000,0,0,\n913700001630435316,,12.5,1.0,0,white_clinker\n", encoding="utf-8")
    code = main(["allocation", "compute", "--pack", "national/steel-2026", "--year", "2026", "--input", str(src), "--units-out", str(u),
                 "--entities-out", str(tmp_path / "e.csv")])
    out = capsys.readouterr().out
    assert code == 2
    assert not u.exists()
    for frag in (
        "lines.csv:2 [intensity='0']",
        "lines.csv:3 [line_id='']",
        "lines.csv:3 [verified_emissions_t='12.5']",
        "lines.csv:3 [special='white_clinker']",
    ):
        assert frag in out
