"""Steel, cement and aluminium accounting: golden cases computed by hand from the guideline formulas, the guideline's
refusals with their clause, and `cets mrv compute` per sector with a bad row (nothing written)."""

import csv
from decimal import Decimal as D
from decimal import localcontext

import pytest

from cets.cli import main
from cets.mrv.accounting_industry import IndustryRules, facility_years
from cets.mrv.activity import read_activity
from cets.rules.packs import load_pack

HEADER = "entity_uscc,facility_id,month,source,part,material,quantity,ncv_gj_per_unit,carbon_content_tc_per_gj,oxidation_rate,measured_value\n"
E1 = "913700001630435316"
with localcontext(prec=40):  # the precision of cets.core.quantities.exact(), so that hand formulas compare exactly
    K = D(44) / D(12)


@pytest.fixture(autouse=True)
def _exact():
    with localcontext(prec=40):
        yield


def rules(sector):
    return IndustryRules.from_pack(load_pack(f"national/{sector}-accounting-2024-2026"))


def compute(tmp_path, sector, body):
    p = tmp_path / "activity.csv"
    p.write_text(HEADER + body, encoding="utf-8")
    rows, problems = read_activity(p, rules(sector))
    return (facility_years(rows, rules(sector)) if not problems else None), problems


def line(month, source, part, material, qty, ncv="", cc="", of="", mv="", fac="plant-1"):
    return f"{E1},{fac},2025-{month:02d},{source},{part},{material},{qty},{ncv},{cc},{of},{mv}\n"


# ---- steel (CETS-AG-03.01-V01-2024) ----

def test_steel_defaults_and_products_sold(tmp_path):
    """Formula (1) with A.1/A.2 defaults only, coke sold deducted (footnote 3), crude steel and sold pig iron deducted."""
    body = (line(1, "fuel", "", "洗精煤", 1000) + line(1, "fuel_sold", "", "焦炭", 100) + line(1, "carbonate", "", "石灰石", 200)
            + line(1, "electrode", "", "电极", 2) + line(1, "carbon_raw_material", "", "废钢", 300)
            + line(1, "carbon_product", "", "粗钢", 1000) + line(1, "carbon_product", "", "生铁", 50))
    [r], problems = compute(tmp_path, "steel", body)
    assert problems == []
    # (1000 × 26.344 × 0.02541 − 100 × 28.435 × 0.02942) × 44/12 = (669.40104 − 83.65577) × 44/12 = 2147.7326567 t
    # + 200 × 0.440 + 2 × 3.663 + 300 × 0.037 − 1000 × 0.037 − 50 × 0.172 = 88 + 7.326 + 11.1 − 37 − 8.6 = 60.826
    expected = (D("669.40104") - D("83.65577")) * K + D("60.826")
    assert r.exact["e_enterprise_t"] == expected
    assert r.emissions_t == 2209  # 2208.5586567 → 2209 (C.5 *1, 四舍五入保留整数)
    assert r.details["crude_steel_t"] == D("1000.00")
    assert r.details["e_other_t"] == D("2208.56")  # formula (4): no process, no unit


def test_steel_measured_ncv_processes_and_cofiring(tmp_path):
    """Measured NCV (solid fuel all year, gas monthly), processes by formula (2) taking the enterprise NCV of the month
    (7.1.2.2.1), a co-firing unit by formula (3) with OF 99%, the remainder by formula (4)."""
    body = (line(1, "fuel", "", "烟煤", 200, ncv="24.100") + line(2, "fuel", "", "烟煤", 100, ncv="23.500")
            + line(1, "fuel", "", "天然气", 10, ncv="380") + line(2, "fuel", "", "天然气", 10)  # Feb: no measurement → 389.310
            + line(1, "process_input", "ironmaking", "烟煤", 150) + line(1, "process_input", "ironmaking", "焦炭", 350)
            + line(1, "process_output", "ironmaking", "高炉煤气", 150) + line(1, "product", "ironmaking", "生铁", 1000)
            + line(2, "process_input", "sintering", "烟煤", 50) + line(2, "product", "sintering", "烧结矿", 900)
            + line(1, "cofiring_fuel", "G1", "高炉煤气", 50) + line(2, "electricity", "ironmaking", "电力", "100.5"))
    [r], problems = compute(tmp_path, "steel", body)
    assert problems == []
    ent = (200 * D("24.100") * D("0.02618") + 100 * D("23.500") * D("0.02618") + 10 * D(380) * D("0.01532")
           + 10 * D("389.310") * D("0.01532")) * K  # (126.1876 + 61.523 + 58.216 + 59.643 ...) × 44/12
    iron = (150 * D("24.100") * D("0.02618") + 350 * D("28.435") * D("0.02942") - 150 * D("33.000") * D("0.07080")) * K
    sinter = 50 * D("23.500") * D("0.02618") * K  # February's enterprise NCV
    unit = 50 * D("33.000") * D("0.07080") * D("0.99") * K
    assert r.exact["e_enterprise_t"] == ent
    assert r.exact["e_ironmaking_t"] == iron
    assert r.exact["e_sintering_t"] == sinter
    assert r.exact["e_unit_G1_t"] == unit
    assert r.emissions_t == 1120  # 1120.4192… t
    assert (r.part_a_t, r.part_b_t, r.output_t) == (D("135.58"), D("112.79"), D("1000.00"))  # 135.5797…, 112.7856…
    assert r.details["e_cofiring_t"] == D("424.06")  # 424.0566
    assert r.exact["e_other_t"] == ent - iron - sinter - unit
    assert r.details["aux_electricity_mwh"] == D("100.500")  # 附录E: reported, not an emission


def test_steel_refusals_cite_the_clause(tmp_path):
    body = (line(1, "fuel", "", "烟煤", 100, ncv="24.1") + line(2, "fuel", "", "烟煤", 100)        # row 3: mixed (6.2.2.2)
            + line(1, "fuel", "", "焦炭", 10, ncv="28")                                               # row 4: coke measured
            + line(1, "fuel", "", "柴油", 1, cc="0.02")                                                # row 5: CC measured
            + line(1, "carbonate", "", "菱镁矿", 5)                                                    # row 6: not in A.2
            + line(1, "process_output", "sintering", "焦炉煤气", 1)                                    # row 7: no output for sintering
            + line(1, "process_input", "ironmaking", "烟煤", 10, ncv="25"))                            # row 8: ≠ enterprise 24.1
    results, problems = compute(tmp_path, "steel", body)
    assert results is None
    got = {(p.row, p.field): p.zh for p in problems}
    assert "M0105" in got[(3, "ncv_gj_per_unit")]
    assert "6.2.2.2" in got[(3, "ncv_gj_per_unit")]
    assert "M0104" in got[(4, "ncv_gj_per_unit")]
    assert "M0104" in got[(5, "carbon_content_tc_per_gj")]
    assert "M0106" in got[(6, "material")]
    assert "M0107" in got[(7, "material")]
    assert "M0109" in got[(8, "ncv_gj_per_unit")]


# ---- cement (环办气候函〔2024〕321号; pack values unconfirmed) ----

def test_cement_measured_oxides_and_default_raw_meal_carbon(tmp_path):
    body = (line(1, "fuel", "", "烟煤", 100, fac="L1") + line(1, "clinker", "", "熟料", 1000, fac="L1")
            + line(1, "clinker_content", "", "氧化钙", "", mv="0.65", fac="L1") + line(1, "clinker_content", "", "氧化镁", "", mv="0.02", fac="L1")
            + line(1, "raw_meal", "", "生料", 1550, fac="L1"))
    [r], problems = compute(tmp_path, "cement", body)
    assert problems == []
    fuel = 100 * D("23.736") * D("0.02618") * D("0.99") * K
    carb = 1000 * (D("0.65") * D(44) / D(56) + D("0.02") * D(44) / D(40))
    raw = 1550 * D("0.001") * K
    assert r.exact["e_line_t"] == fuel + carb + raw
    assert r.emissions_t == 764  # 225.5647… + 532.7143… + 5.6833… = 763.96…
    assert r.output_t == D("1000.00")
    assert r.part_a_t is None


def test_cement_non_carbonate_oxide_and_measured_fuel(tmp_path):
    body = (line(3, "fuel", "", "烟煤", 50, ncv="22", cc="0.027", fac="L2") + line(3, "clinker", "", "熟料", 500, fac="L2")
            + line(3, "clinker_content", "", "氧化钙", "", mv="0.66", fac="L2") + line(3, "clinker_content", "", "氧化镁", "", mv="0.015", fac="L2")
            + line(3, "clinker_content", "", "非碳酸盐氧化钙", "", mv="0.01", fac="L2") + line(3, "raw_meal", "", "生料", 800, mv="0.002", fac="L2"))
    [r], _ = compute(tmp_path, "cement", body)
    expected = (50 * D(22) * D("0.027") * D("0.99") * K + 500 * (D("0.65") * D(44) / D(56) + D("0.015") * D(44) / D(40))
                + 800 * D("0.002") * K)
    assert r.exact["e_line_t"] == expected
    assert r.emissions_t == 377  # 107.811 + 263.6071… + 5.8666… = 377.2848…


def test_cement_missing_clinker_oxide_is_refused(tmp_path):
    _, problems = compute(tmp_path, "cement", line(1, "clinker", "", "熟料", 1000, fac="L1"))
    assert [(p.row, "M0108" in p.zh) for p in problems] == [(2, True), (2, True)]  # CaO and MgO: no default


# ---- aluminium (环办气候函〔2024〕321号; pack values unconfirmed) ----

def test_aluminium_defaults(tmp_path):
    body = line(1, "anode", "", "炭阳极", 420, fac="P1") + line(1, "product", "", "原铝液", 1000, fac="P1")
    [r], problems = compute(tmp_path, "aluminium", body)
    assert problems == []
    anode = 420 * (1 - D("0.02") - D("0.004")) * K  # 1503.04 t
    pfc = 1000 * (D("0.034") * 6630 + D("0.0034") * 11100) / 1000  # 225.42 + 37.74 = 263.16 t CO2e
    assert r.exact["e_anode_t"] == anode
    assert r.exact["e_pfc_t"] == pfc
    assert (r.emissions_t, r.part_a_t, r.part_b_t, r.output_t) == (1766, D("1503.04"), D("263.16"), D("1000.00"))


def test_aluminium_measured_sulphur_and_pfc_factor(tmp_path):
    """A PFC case: February's measured CF4 factor and anode sulphur replace the defaults for that month only."""
    body = (line(1, "anode", "", "炭阳极", 420, fac="P1") + line(1, "product", "", "原铝液", 1000, fac="P1")
            + line(2, "anode", "", "炭阳极", 410, fac="P1") + line(2, "anode_content", "", "硫分", "", mv="0.015", fac="P1")
            + line(2, "product", "", "原铝液", 1000, fac="P1") + line(2, "pfc_factor", "", "CF4", "", mv="0.05", fac="P1"))
    [r], _ = compute(tmp_path, "aluminium", body)
    anode = (420 * D("0.976") + 410 * (1 - D("0.015") - D("0.004"))) * K  # 1503.04 + 1474.77 = 2977.81
    pfc = D("263.16") + 1000 * (D("0.05") * 6630 + D("0.0034") * 11100) / 1000  # 263.16 + 331.5 + 37.74 = 632.40
    assert r.exact["e_anode_t"] == anode
    assert r.exact["e_pfc_t"] == pfc
    assert (r.emissions_t, r.part_a_t, r.part_b_t, r.output_t) == (3610, D("2977.81"), D("632.40"), D("2000.00"))


def test_aluminium_no_measured_parameter_for_the_anode_row(tmp_path):
    _, problems = compute(tmp_path, "aluminium", line(1, "anode", "", "炭阳极", 420, ncv="30", fac="P1"))
    assert problems[0].field == "ncv_gj_per_unit"
    assert "M0104" in problems[0].zh


# ---- the command, per sector: the example works; a bad row is reported with row and column and nothing is written ----

def run(tmp_path, sector, text):
    src, out = tmp_path / "activity.csv", tmp_path / "annual.csv"
    src.write_text(text, encoding="utf-8")
    out.write_text("previous\n")
    return main(["mrv", "compute", "--pack", f"national/{sector}-accounting-2024-2026", "--input", str(src), "--out", str(out)]), out


def _example(sector):
    from pathlib import Path

    return (Path(__file__).parents[2] / "data" / "examples" / f"{sector}-activity.csv").read_text(encoding="utf-8")


def test_cli_examples(tmp_path):
    for sector, emissions in (("steel", "2769"), ("cement", "764"), ("aluminium", "3610")):
        code, out = run(tmp_path, sector, _example(sector))
        assert code == 0
        [row] = list(csv.DictReader(out.open(encoding="utf-8")))
        assert row["sector"] == sector
        assert row["emissions_t"] == emissions


def test_cli_bad_row_per_sector(tmp_path, capsys):
    bad = {"steel": line(1, "fuel", "", "烟煤", "-5"), "cement": line(1, "clinker", "", "熟料", "x", fac="L1"),
           "aluminium": line(13, "anode", "", "炭阳极", 1, fac="P1").replace("2025-13", "2025-13")}
    cols = {"steel": "quantity", "cement": "quantity", "aluminium": "month"}
    for sector, row in bad.items():
        code, out = run(tmp_path, sector, _example(sector) + row)
        assert code == 2, sector
        text = capsys.readouterr().out
        n = _example(sector).count("\n") + 1
        assert f"activity.csv:{n} [{cols[sector]}=" in text, (sector, text)
        assert "nothing written" in text
        assert out.read_text() == "previous\n"
