"""Data tables as XLSX (seed notice field names): download in scope, import with row-level problems, atomic."""

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from cets.allocation.models import EntityAllocation
from cets.allocation.services import allocation_adjustment_record, allocation_compute, allocation_tables_import, special_treatment_set
from cets.allocation.workbook import read_entity_tables
from cets.core.errors import InputError
from tests.conftest import SD_1, SD_2, ZJ_1

PACK = "national/power-2023-2024"


def login(user):
    c = Client()
    c.force_login(user)
    return c


def sheet(body, title):
    ws = load_workbook(io.BytesIO(body))[title]
    header = [c.value for c in ws[2]]
    return header, [dict(zip(header, [c.value for c in row])) for row in ws.iter_rows(min_row=4)]


@pytest.fixture
def computed(fleet):
    allocation_adjustment_record(entity=fleet.sd1, year=2023, kind="arrears_deduction", quantity_t=5_000, reason="欠缴", source="c:1",
                                 actor=fleet.province_sd)
    special_treatment_set(entity=fleet.sd2, year=2023, kind="compliance_risk", reason="司法冻结", actor=fleet.province_sd)
    allocation_compute(year=2023, pack_id=PACK)
    return fleet


def test_download_in_scope_with_the_notice_field_names(computed):
    w = computed
    r = login(w.province_sd).get("/api/v1/allocation/2023/tables.xlsx")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    header, rows = sheet(r.content, "核定-重点排放单位")
    for name in ("应发配额量", "应清缴配额量", "配额调整总量", "实发配额量", "特别说明"):
        assert name in header
    assert {x["统一社会信用代码"] for x in rows} == {SD_1, SD_2}  # Shandong only, not Zhejiang
    sd1 = next(x for x in rows if x["统一社会信用代码"] == SD_1)
    # conftest fleet: 应发 136,000; 应清缴 170,000; 调整 5,000; 预分配实发 100,000 → 实发 31,000
    assert (sd1["应发配额量"], sd1["应清缴配额量"], sd1["配额调整总量"], sd1["实发配额量"]) == (136_000, 170_000, 5_000, 31_000)
    header, rows = sheet(r.content, "预分配-重点排放单位")
    assert {"预分配配额量", "配额总调整量", "预分配实发配额量"} <= set(header)
    sd2 = next(x for x in rows if x["统一社会信用代码"] == SD_2)
    assert sd2["预分配配额量"] == 0
    assert "履约风险" in sd2["特别说明"]
    _, units = sheet(r.content, "核定-机组")
    assert sorted(u["机组编号"] for u in units) == ["1", "A", "B"]
    assert next(u for u in units if u["机组编号"] == "B")["负荷（出力）系数"] == "0.65"  # exact decimals as text, never a float
    # an entity sees itself only; another province's entity is a 404
    assert login(w.entity_zj1_user).get(f"/api/v1/allocation/2023/tables.xlsx?entity={SD_1}").status_code == 404
    assert login(w.province_sd).get(f"/api/v1/allocation/2023/tables.xlsx?entity={ZJ_1}").status_code == 404
    _, rows = sheet(login(w.entity_zj1_user).get("/api/v1/allocation/2023/tables.xlsx").content, "核定-重点排放单位")
    assert [x["统一社会信用代码"] for x in rows] == [ZJ_1]
    assert Client().get("/api/v1/allocation/2023/tables.xlsx").status_code == 401


def test_pages_link_to_the_tables(computed):
    page = login(computed.province_sd).get(f"/entities/{SD_1}/?year=2023").content.decode()
    assert f"/api/v1/allocation/2023/tables.xlsx?entity={SD_1}" in page
    assert "31,000" in page
    assert "/api/v1/allocation/2023/tables.xlsx" in login(computed.province_sd).get("/?year=2023").content.decode()


def _edit(body, title, uscc, changes):
    wb = load_workbook(io.BytesIO(body))
    ws = wb[title]
    header = [c.value for c in ws[2]]
    for row in ws.iter_rows(min_row=4):
        if row[header.index("统一社会信用代码")].value == uscc:
            for k, v in changes.items():
                row[header.index(k)].value = v
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_round_trip_import_and_every_bad_row_reported(computed):
    w = computed
    body = login(w.mee).get("/api/v1/allocation/2023/tables.xlsx").content
    rows, problems = read_entity_tables(body, "t.xlsx")
    assert not problems
    assert len(rows) == 3
    before = list(EntityAllocation.objects.order_by("entity_id").values_list("final_allocation_t", "final_issue_t", "source"))
    bad = _edit(body, "核定-重点排放单位", SD_1, {"实发配额量": 31_001, "应清缴配额量": "x"})
    bad = _edit(bad, "预分配-重点排放单位", SD_2, {"配额总调整量": -1})
    with pytest.raises(InputError) as e:
        allocation_tables_import(year=2023, pack_id=PACK, data=bad, filename="t.xlsx", actor=w.mee)
    found = {(p.file, p.field, p.value) for p in e.value.problems}
    assert ("t.xlsx:核定-重点排放单位", "应清缴配额量", "x") in found
    assert ("t.xlsx:预分配-重点排放单位", "配额总调整量", "-1") in found
    assert all(p.row >= 4 and p.zh and p.en for p in e.value.problems)
    # the arithmetic identity is checked once the cells are well-formed
    bad = _edit(body, "核定-重点排放单位", SD_1, {"实发配额量": 31_001})
    with pytest.raises(InputError) as e:
        allocation_tables_import(year=2023, pack_id=PACK, data=bad, filename="t.xlsx", actor=w.mee)
    assert [(p.field, p.value) for p in e.value.problems] == [("实发配额量", "31001")]
    assert list(EntityAllocation.objects.order_by("entity_id").values_list("final_allocation_t", "final_issue_t", "source")) == before
    # a Shandong officer cannot import Zhejiang rows: refused as a whole
    with pytest.raises(InputError) as e:
        allocation_tables_import(year=2023, pack_id=PACK, data=body, filename="t.xlsx", actor=w.province_sd)
    assert [p.value for p in e.value.problems] == [ZJ_1]
    # a good file replaces the records and marks them imported
    good = _edit(body, "核定-重点排放单位", SD_1, {"配额调整总量": 6_000, "实发配额量": 30_000})
    assert allocation_tables_import(year=2023, pack_id=PACK, data=good, filename="t.xlsx", actor=w.mee) == 3
    a = EntityAllocation.objects.get(entity=w.sd1)
    assert (a.adjustments_total_t, a.final_issue_t, a.source) == (6_000, 30_000, "imported:t.xlsx")


def test_import_endpoint(computed):
    w = computed
    body = login(w.mee).get("/api/v1/allocation/2023/tables.xlsx").content
    r = login(w.mee).post("/api/v1/allocation/2023/tables", {"pack_id": PACK, "file": _upload(body)})
    assert r.status_code == 200
    assert r.json() == {"entities": 3}
    r = login(w.mee).post("/api/v1/allocation/2023/tables", {"pack_id": PACK, "file": _upload(b"not a workbook")})
    assert r.status_code == 422
    assert r.json()["problems"][0]["en"].startswith("S0205 ")  # cets.core.uploads
    r = login(w.entity_zj1_user).post("/api/v1/allocation/2023/tables", {"pack_id": PACK, "file": _upload(body)})
    assert r.status_code == 403


def _upload(data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("t.xlsx", data, content_type="application/octet-stream")
