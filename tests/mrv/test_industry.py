"""Steel, cement and aluminium: reported emissions and intensity inputs (cn-ets-rules.md §2.2), with checks."""

import csv
from decimal import Decimal

from cets.cli import main
from cets.mrv.industry import intensity

HEADER = "entity_uscc,unit_id,sector,emissions_t,part_a_t,part_b_t,output_t\n"
SD_1, SD_2 = "913700001630435316", "91370100163155357D"


def test_intensities_by_hand():
    # steel: (1,500,000 + 300,000) / 1,000,000 t iron = 1.8 tCO2e/t
    assert intensity(sector="steel", emissions_t=2_000_000, part_a_t=Decimal(1_500_000), part_b_t=Decimal(300_000), output_t=Decimal(1_000_000)) == Decimal(
        "1.800000"
    )
    # cement: 850,000 t / 1,000,000 t clinker = 0.85; aluminium: (1,200,000 + 30,000) / 100,000 t = 12.3
    assert intensity(sector="cement", emissions_t=850_000, part_a_t=None, part_b_t=None, output_t=Decimal(1_000_000)) == Decimal("0.850000")
    assert intensity(sector="aluminium", emissions_t=1_500_000, part_a_t=Decimal(1_200_000), part_b_t=Decimal(30_000), output_t=Decimal(100_000)) == Decimal(
        "12.300000"
    )
    # 6 decimals half up: 1,000,000 / 3 = 333,333.33…, / 1,000,000 → 0.333333
    assert intensity(sector="cement", emissions_t=1_000_000, part_a_t=None, part_b_t=None, output_t=Decimal(3_000_000)) == Decimal("0.333333")


def test_command_checks_every_row_and_writes_nothing_on_a_problem(tmp_path, capsys):
    src, out = tmp_path / "r.csv", tmp_path / "i.csv"
    src.write_text(HEADER + f"{SD_1},BF1,steel,2000000,1500000,300000,1000000\n{SD_2},L1,cement,850000,,,1000000\n", encoding="utf-8")
    assert main(["mrv", "intensity", "--input", str(src), "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["unit_id"], r["intensity"]) for r in rows] == [("BF1", "1.800000"), ("L1", "0.850000")]
    out.unlink()
    src.write_text(
        HEADER
        + f"{SD_1},BF1,steel,1000000,900000,300000,1000000\n"  # row 2: parts 1,200,000 > E 1,000,000
        + f"{SD_2},L1,cement,850000,5,,0\n"  # row 3: part given for cement; output 0
        + f"{SD_1},P1,copper,1.5,,,10\n"  # row 4: sector; emissions not whole tonnes
        + f"{SD_1},BF1,steel,2000000,1,1,1\n"  # row 5: fine (row 2 of the same unit was refused)
        + f"{SD_1},BF1,steel,2000000,1,1,1\n",
        encoding="utf-8",
    )  # row 6: duplicate of row 5
    assert main(["mrv", "intensity", "--input", str(src), "--out", str(out)]) == 2
    text = capsys.readouterr().out
    for needle in ("r.csv:2 [part_b_t=", "r.csv:3 [part_a_t='5']", "r.csv:3 [output_t='0']", "r.csv:4 [sector='copper']", "r.csv:4 [emissions_t='1.5']"):
        assert needle in text
    assert "r.csv:6 [unit_id='BF1'] duplicate of row 5" in text
    assert "r.csv:5" not in text
    assert not out.exists()
