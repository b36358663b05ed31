"""Key-emitter lists: listing at the threshold, removal after two consecutive years below or closure
(Measures Arts. 8, 11; 2025 notice §一), publication against the deadline, XLSX export and import with
row-level errors, and no pilot management of a national-market entity (Regulations Art. 29)."""

import datetime as dt
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook

from cets.core.errors import CetsError, InputError
from cets.parties.list_files import LIST_COLUMNS, ListRow, read_list_xlsx, write_list_xlsx
from cets.parties.lists import ListRules, list_decision, publication_status
from cets.parties.selectors import list_rules, sector_names_for_list
from cets.rules.packs import load_pack
from tests.conftest import SD_1

NAT = ListRules.from_pack(load_pack("national/emitter-list-2024-2027"))
BJ = ListRules.from_pack(load_pack("beijing/emitter-list-2023-2025"))


@pytest.mark.parametrize("emissions,listed,closed,expect", [
    ({2024: 26_000}, False, False, (True, "threshold")),            # exactly 2.6万吨 "达到" → listed
    ({2024: 25_999}, False, False, (False, "below_threshold")),
    ({}, False, False, (False, "no_data")),
    ({2024: 25_999, 2023: 30_000}, True, False, (True, "stays_listed")),   # one year below: stays
    ({2024: 25_999, 2023: 10_000}, True, False, (False, "below_consecutive")),  # two consecutive years below: removed
    ({2024: 25_999}, True, False, (True, "stays_listed")),          # the year before unknown: not two years proven
    ({2024: 900_000}, True, True, (False, "closed")),
])
def test_national_decision_for_the_2026_list(emissions, listed, closed, expect):
    # the 2026 list is decided on 2024 emissions (basis offset 2, pack [M])
    d = list_decision(year=2026, emissions=emissions, listed_before=listed, closed=closed, rules=NAT)
    assert (d.included, d.reason) == expect
    assert d.basis_year == 2024


NATIONAL_SECTOR_NAMES = sector_names_for_list("national", list_rules("national", 2026))  # the 2026 list's sectors, named by the registry


def test_beijing_threshold_from_its_pack():
    assert BJ.threshold_t == 5_000
    assert NAT.threshold_t == 26_000
    assert list_decision(year=2024, emissions={2023: 5_000}, listed_before=False, closed=False, rules=BJ).included
    assert not list_decision(year=2024, emissions={2023: 4_999}, listed_before=False, closed=False, rules=BJ).included


def test_publication_deadlines_and_status():
    assert NAT.publish_by[(2026, "power")] == dt.date(2025, 10, 31)
    assert NAT.publish_by[(2025, "steel")] == dt.date(2025, 5, 10)
    assert (2025, "power") not in NAT.publish_by
    d = dt.date(2025, 10, 31)
    assert publication_status(deadline=d, published_on=d, today=d) == "on_time"
    assert publication_status(deadline=d, published_on=dt.date(2025, 11, 1), today=d) == "late"
    assert publication_status(deadline=d, published_on=None, today=d) == "due"
    assert publication_status(deadline=d, published_on=None, today=dt.date(2025, 11, 1)) == "overdue"
    assert publication_status(deadline=None, published_on=None, today=dt.date(2030, 1, 1)) == "due"


def _xlsx(rows, header=LIST_COLUMNS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_round_trip_in_the_published_format():
    rows = [ListRow(2026, "37", "济南市", "power", "山东测试一电厂", SD_1, "山东省生态环境厅", dt.date(2025, 10, 20))]
    data = write_list_xlsx(rows, sector_names=NATIONAL_SECTOR_NAMES)
    ws = load_workbook(BytesIO(data)).active
    assert [c.value for c in ws[1]] == list(LIST_COLUMNS)
    assert [c.value for c in ws[2]] == [1, 2026, "山东省", "济南市", "发电", "山东测试一电厂", SD_1, "山东省生态环境厅", "2025-10-20"]
    back, problems = read_list_xlsx(data, file_name="l.xlsx", year=2026, province="37", sector_names=NATIONAL_SECTOR_NAMES)
    assert problems == []
    assert [(r.uscc, r.sector, r.row) for r in back] == [(SD_1, "power", 2)]


def test_import_reports_every_bad_row():
    data = _xlsx([
        (1, 2026, "山东省", "济南市", "发电", "好", SD_1, "", "2025-10-20"),
        (2, 2025, "浙江省", "", "造纸", "", "91330800586289189X", "", "20-10-2025"),   # row 3: five bad cells
        (3, 2026, "山东省", "", "发电", "浙江的", "91330800586289189R", "", ""),       # row 4: code of Zhejiang
        (4, 2026, "山东省", "", "发电", "重复", SD_1, "", ""),                          # row 5: duplicate of row 2
    ])
    rows, problems = read_list_xlsx(data, file_name="l.xlsx", year=2026, province="37", sector_names=NATIONAL_SECTOR_NAMES)
    got = {(p.row, p.field) for p in problems}
    assert {(3, "年度"), (3, "省份"), (3, "行业"), (3, "单位名称"), (3, "统一社会信用代码"), (3, "公布日期")} <= got
    assert (4, "统一社会信用代码") in got
    assert (5, "统一社会信用代码") in got
    assert [r.row for r in rows] == [2]
    _, problems = read_list_xlsx(_xlsx([], header=("序号", "年度")), file_name="l.xlsx", year=2026, province="37", sector_names={})
    assert problems[0].row == 1
    assert "missing columns" in problems[0].en
    _, problems = read_list_xlsx(b"not a workbook", file_name="l.xlsx", year=2026, province="37", sector_names={})
    assert problems[0].en.startswith("S0205 ")  # cets.core.uploads: not an XLSX


@pytest.fixture
def emissions(world):
    """SD_1 emitted 30,000 t in 2024; SD_2 25,000 t in 2023 and 2024 (both below)."""
    from cets.mrv.models import UnitYearData
    from cets.mrv.services import unit_year_data_upsert
    from cets.parties.models import GeneratingUnit
    from cets.parties.services import units_upsert

    units_upsert(units=[GeneratingUnit(entity=o, code="#1", category="I", rated_capacity_mw=Decimal(600)) for o in (world.sd1, world.sd2)])
    u = {g.entity_id: g for g in GeneratingUnit.objects.all()}
    unit_year_data_upsert(rows=[UnitYearData(unit=u[e.pk], year=y, generation_mwh=Decimal(1), heat_supplied_gj=Decimal(0), load_factor=Decimal("0.5"),
                                             verified_emissions_t=t)
                                for e, y, t in ((world.sd1, 2024, 30_000), (world.sd2, 2023, 25_000), (world.sd2, 2024, 25_000))])
    return world


def test_compile_publish_and_export(emissions):
    from cets.mrv.services import emitter_list_compile
    from cets.parties.models import EmitterListEntry
    from cets.parties.selectors import emitter_list_rows
    from cets.parties.services import emitter_list_publish

    w = emissions
    EmitterListEntry.objects.create(year=2025, sector="power", entity=w.sd2, province="37")  # SD_2 was on the 2025 list
    with pytest.raises(CetsError) as e:
        emitter_list_compile(market="national", year=2026, sector="power", province="37", actor=w.province_zj, entities=[w.sd1])
    assert e.value.code == "R0502"
    counts = emitter_list_compile(market="national", year=2026, sector="power", province="37", actor=w.province_sd, entities=[w.sd1, w.sd2])
    assert counts == {"threshold": 1, "below_consecutive": 1}
    assert set(EmitterListEntry.objects.filter(year=2026, included=True).values_list("entity__uscc", flat=True)) == {SD_1}
    with pytest.raises(CetsError) as e:
        emitter_list_publish(market="national", year=2026, sector="steel", province="37", actor=w.province_sd, on=dt.date(2025, 10, 1))
    assert e.value.code == "L0104"
    # published 2025-11-03 against the 2025-10-31 deadline: late, and kept so
    p = emitter_list_publish(market="national", year=2026, sector="power", province="37", actor=w.province_sd, on=dt.date(2025, 11, 3))
    assert p.deadline == dt.date(2025, 10, 31)
    assert publication_status(deadline=p.deadline, published_on=p.published_on, today=p.published_on) == "late"
    with pytest.raises(CetsError) as e:
        emitter_list_compile(market="national", year=2026, sector="power", province="37", actor=w.province_sd, entities=[w.sd1])
    assert e.value.code == "L0101"
    rows = emitter_list_rows(user=w.province_sd, market="national", year=2026)
    assert [(r.uscc, r.authority, r.published_on) for r in rows] == [(SD_1, "山东省生态环境厅", dt.date(2025, 11, 3))]
    assert emitter_list_rows(user=w.province_zj, market="national", year=2026) == []


def test_pilot_may_not_manage_a_national_market_entity(emissions):
    from cets.parties.models import EmitterListEntry, Organisation, Role
    from cets.parties.services import emitter_list_import, member_create

    bj_auth = member_create(username="pbj", role=Role.PROVINCIAL_AUTHORITY, province="11",
                            organisation=Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="北京市生态环境局", province="11"))
    national = Organisation.objects.create(uscc="91110105MA00ABCD1G", name="北京国家市场电厂", kind="entity", region_code="110105", province="11")
    EmitterListEntry.objects.create(year=2024, sector="power", entity=national, province="11")
    data = _xlsx([(1, 2024, "北京市", "朝阳区", "电力生产业", "北京国家市场电厂", "91110105MA00ABCD1G", "北京市生态环境局", "2024-03-01"),
                  (2, 2024, "北京市", "朝阳区", "服务业", "北京国家市场电厂", "91110105MA00ABCD1G", "北京市生态环境局", "2024-03-01")])
    with pytest.raises(InputError) as e:
        emitter_list_import(market="beijing", year=2024, province="11", file_name="bj.xlsx", data=data, actor=bj_auth)
    [p] = e.value.problems
    assert p.row == 2
    assert "national market" in p.en
    assert not EmitterListEntry.objects.filter(market="beijing").exists()  # nothing written
    # the same entity for another sector (服务业) is the pilot's to manage
    data = _xlsx([(1, 2024, "北京市", "朝阳区", "服务业", "北京国家市场电厂", "91110105MA00ABCD1G", "北京市生态环境局", "2024-03-01"),
                  (2, 2024, "北京市", "海淀区", "服务业", "北京新数据中心", "91110108MA01R1234G", "北京市生态环境局", "2024-03-01")])
    assert emitter_list_import(market="beijing", year=2024, province="11", file_name="bj.xlsx", data=data, actor=bj_auth)["rows"] == 2
    assert Organisation.objects.filter(uscc="91110108MA01R1234G", province="11").exists()
    assert not EmitterListEntry.objects.filter(market="national", year=2024, sector="services").exists()  # a pilot list is not the national list


def test_api_export_and_import_in_scope(emissions):
    from tests.conftest import client_for

    w = emissions
    sd = client_for(w.province_sd)
    bad = _xlsx([(1, 2026, "山东省", "", "发电", "", SD_1, "", "")])
    r = sd.post("/api/v1/mrv/lists/national/2026/import?province=37", {"file": _upload(bad)})
    assert r.status_code == 422
    assert r.json()["problems"][0]["field"] == "单位名称"
    good = _xlsx([(1, 2026, "山东省", "济南市", "发电", "山东测试一电厂", SD_1, "山东省生态环境厅", "2025-10-20")])
    r = sd.post("/api/v1/mrv/lists/national/2026/import?province=37", {"file": _upload(good)})
    assert r.status_code == 200
    assert r.json()["rows"] == 1
    assert client_for(w.province_zj).post("/api/v1/mrv/lists/national/2026/import?province=37", {"file": _upload(good)}).status_code == 403
    x = sd.get("/api/v1/mrv/lists/national/2026.xlsx")
    assert x.status_code == 200
    assert x["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(BytesIO(x.content)).active
    assert [c.value for c in ws[2]][4:7] == ["发电", "山东测试一电厂", SD_1]
    assert load_workbook(BytesIO(client_for(w.province_zj).get("/api/v1/mrv/lists/national/2026.xlsx").content)).active.max_row == 1


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("list.xlsx", data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
