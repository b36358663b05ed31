"""General reporting units (一般报告单位) of the Beijing pilot, 京环发〔2024〕8号 三(一)2: "一般报告单位须于2024年7月15日前，
通过管理平台向区生态环境部门报送2023年度碳排放报告。各区生态环境部门须在报送截止日起30个自然日内完成数据质量检查工作。"

Golden dates (by hand from the text and the cycle pack beijing/cycle-2023-2024): filing due 2024-07-15 ("…前" taken
as the last day allowed, as the pack's header says), so a report filed 07-15 is on time and one filed 07-16 late; the
check is due 07-15 + 30 days = 2024-08-14. Only the district whose GB/T 2260 code is the unit's ``region_code`` checks
(朝阳区 110105 here; 海淀区 110108 is refused R0502, so is the city bureau). A general reporting unit is on the list but
takes no allowance and owes nothing: the key-emitter reads skip it, the approval basis refuses it, the cycle counts it
only in its two steps.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from cets.core.errors import CetsError, InputError
from cets.mrv.general_reports import general_report_check, general_report_dates, general_report_submit
from cets.mrv.models import GeneralReport
from cets.parties.models import EmitterListEntry, Organisation, Role
from cets.parties.services import member_create
from tests.allocation.test_beijing_db import PACK, bj  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
PW = "test-password-123"
D = dt.date
PDF = b"%PDF-1.4\n% report\n%%EOF\n"
GENERAL, KEY = "91110105MA00BJG01X", "91110105MA00BJK01Y"


@pytest.fixture
def gbj():
    """The Beijing list of 2023: one general reporting unit and one key emitter in 朝阳区 (110105); the 朝阳 and 海淀
    district users, the city bureau, the units' users."""
    from cets.core.uscc import check_character

    def code(first17):
        return first17 + check_character(first17)

    authority = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="北京市生态环境局", province="11")
    ns = type("NS", (), {})()
    ns.bureau = member_create(username="pbj", organisation=authority, role=Role.PROVINCIAL_AUTHORITY, province="11", password=PW)
    ns.chaoyang = member_create(username="cy", role=Role.DISTRICT_AUTHORITY, province="11", district="110105", password=PW,
                                organisation=Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="北京市朝阳区生态环境局", province="11"))
    ns.haidian = member_create(username="hd", role=Role.DISTRICT_AUTHORITY, province="11", district="110108", password=PW,
                               organisation=Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="北京市海淀区生态环境局", province="11"))
    ns.general = Organisation.objects.create(uscc=code(GENERAL[:17]), name="朝阳测试供热站", kind=Organisation.Kind.ENTITY, province="11",
                                             region_code="110105")
    ns.key = Organisation.objects.create(uscc=code(KEY[:17]), name="朝阳测试热电", kind=Organisation.Kind.ENTITY, province="11", region_code="110105")
    for org, cat in ((ns.general, EmitterListEntry.GENERAL_REPORTING), (ns.key, EmitterListEntry.KEY_EMITTER)):
        EmitterListEntry.objects.create(market="beijing", year=2023, sector="power", entity=org, province="11", reason="imported", category=cat)
    ns.g_user = member_create(username="eg", organisation=ns.general, role=Role.ENTITY, password=PW)
    ns.k_user = member_create(username="ek", organisation=ns.key, role=Role.ENTITY, password=PW)
    return ns


def _submit(ns, on, t=18_600, **kw):
    args = {"entity": ns.general, "market": "beijing", "year": 2023, "emissions_t": t, "evidence_name": "report.pdf", "evidence": PDF,
            "actor": ns.g_user, "on": on}
    args.update(kw)
    return general_report_submit(**args)


def test_dates_from_the_notice():
    assert general_report_dates(market="beijing", year=2023) == (D(2024, 7, 15), D(2024, 8, 14))


def test_filed_on_the_day_is_on_time_the_next_day_late(gbj):
    r = _submit(gbj, D(2024, 7, 15))
    assert (r.due_on, r.check_due_on, r.late, r.status) == (D(2024, 7, 15), D(2024, 8, 14), False, "submitted")
    assert r.evidence_sha256 == hashlib.sha256(PDF).hexdigest() and r.evidence_name == "report.pdf"
    general_report_check(report_id=r.pk, accept=False, comment="燃气用量与发票不符", actor=gbj.chaoyang, on=D(2024, 7, 20))
    r = _submit(gbj, D(2024, 7, 16), t=19_000)  # filed again after the return: a day after the date, so late
    assert (r.late, r.status, r.emissions_t, r.checked_on) == (True, "submitted", 19_000, None)
    assert GeneralReport.objects.count() == 1


def test_only_the_units_district_checks(gbj):
    r = _submit(gbj, D(2024, 7, 10))
    for other in (gbj.haidian, gbj.bureau, gbj.g_user):
        with pytest.raises(CetsError) as e:
            general_report_check(report_id=r.pk, accept=True, actor=other, on=D(2024, 7, 20))
        assert e.value.check.code == "R0502"
    assert GeneralReport.objects.get(pk=r.pk).status == "submitted"  # nothing changed
    with pytest.raises(CetsError) as e:
        general_report_check(report_id=r.pk, accept=False, comment="  ", actor=gbj.chaoyang)
    assert e.value.check.code == "M0506"
    r = general_report_check(report_id=r.pk, accept=True, actor=gbj.chaoyang, on=D(2024, 8, 14))
    assert (r.status, r.checked_on, r.checked_by) == ("accepted", D(2024, 8, 14), gbj.chaoyang)
    for call, code in ((lambda: general_report_check(report_id=r.pk, accept=True, actor=gbj.chaoyang), "M0505"),
                       (lambda: general_report_check(report_id=999_999, accept=True, actor=gbj.chaoyang), "M0505"),
                       (lambda: _submit(gbj, D(2024, 8, 20)), "M0504")):
        with pytest.raises(CetsError) as e:
            call()
        assert e.value.check.code == code
    from cets.mrv.general_reports import general_reports_for

    assert list(general_reports_for(user=gbj.chaoyang, market="beijing")) == [r]
    assert list(general_reports_for(user=gbj.haidian, market="beijing")) == []


@pytest.mark.parametrize(("kw", "code"), [
    ({"emissions_t": True}, "M0502"), ({"emissions_t": 1.0}, "M0502"), ({"emissions_t": "100"}, "M0502"), ({"emissions_t": -1}, "M0502"),
    ({"evidence": b"MZ\x90\x00"}, "M0503"), ({"evidence": b""}, "M0503"), ({"evidence_name": " "}, "M0503"),
    ({"year": 2022}, "M0501"),
])
def test_refusals(gbj, kw, code):
    kw = {"t": kw.pop("emissions_t")} if "emissions_t" in kw else kw
    with pytest.raises(CetsError) as e:
        _submit(gbj, D(2024, 7, 1), **kw)
    assert e.value.check.code == code
    assert not GeneralReport.objects.exists()


def test_a_key_emitter_or_another_units_user_is_refused(gbj):
    with pytest.raises(CetsError) as e:
        _submit(gbj, D(2024, 7, 1), entity=gbj.key, actor=gbj.k_user)
    assert e.value.check.code == "M0501"
    with pytest.raises(CetsError) as e:
        _submit(gbj, D(2024, 7, 1), actor=gbj.k_user)
    assert e.value.check.code == "R0502"


def test_key_emitter_reads_skip_the_general_reporting_unit(gbj):
    from cets.compliance.cycle import listed_entities
    from cets.parties.selectors import general_reporting_entries, listed_entity_ids

    assert listed_entity_ids(market="beijing", year=2023, sector="power") == {gbj.key.pk}
    assert listed_entities(market="beijing", year=2023) == {"power": {gbj.key.pk: "11"}}
    assert [e.entity for e in general_reporting_entries(market="beijing", year=2023)] == [gbj.general]
    from cets.parties.selectors import public_list_entries

    assert [e.entity for e in public_list_entries(market="beijing")] == [gbj.key]  # the public key-emitter list


def test_the_cycle_observes_both_steps(gbj, capsys):
    from cets.compliance.cycle import cycle_status

    def st(today):
        states, _ = cycle_status(market="beijing", year=2023, today=today, figures=False)
        return {s.step.step: s.status for s in states if s.step.step.startswith("general_reports")}

    assert st(D(2024, 7, 1)) == {"general_reports": "due", "general_reports_check": "upcoming"}
    assert st(D(2024, 10, 1)) == {"general_reports": "overdue", "general_reports_check": "overdue"}
    r = _submit(gbj, D(2024, 7, 16))
    general_report_check(report_id=r.pk, accept=True, actor=gbj.chaoyang, on=D(2024, 8, 14))
    assert st(D(2024, 8, 1)) == {"general_reports": "done_late", "general_reports_check": "due"}
    assert st(D(2024, 10, 1)) == {"general_reports": "done_late", "general_reports_check": "done"}
    from cets.cli import main

    assert main(["cycle", "status", "--market", "beijing", "--year", "2023", "--format", "json", "--today", "2024-10-01"]) == 0
    j = {x["step"]: x["status"] for x in json.loads(capsys.readouterr().out)["steps"]}
    assert (j["general_reports"], j["general_reports_check"]) == ("done_late", "done")


def test_list_file_carries_the_category(gbj):
    """The bureau's XLSX names the unit's category (optional column 单位类别); the export gives it back."""
    from cets.parties.list_files import CATEGORY_COLUMN, LIST_COLUMNS, ListRow, read_list_xlsx, write_list_xlsx
    from cets.parties.selectors import emitter_list_rows, list_rules, sector_names_for_list
    from cets.parties.services import emitter_list_import

    EmitterListEntry.objects.all().delete()
    names = sector_names_for_list("beijing", list_rules("beijing", 2023))
    rows = [ListRow(year=2023, province="11", city="北京市", sector="power", name=o.name, uscc=o.uscc, authority="北京市生态环境局",
                    published_on=D(2024, 5, 20), category=c) for o, c in ((gbj.key, "key_emitter"), (gbj.general, "general_reporting"))]
    data = write_list_xlsx(rows, sector_names=names)
    got, problems = read_list_xlsx(data, file_name="l.xlsx", year=2023, province="11", sector_names=names)
    assert problems == [] and [r.category for r in got] == ["key_emitter", "general_reporting"]
    emitter_list_import(market="beijing", year=2023, province="11", file_name="l.xlsx", data=data, actor=gbj.bureau)
    want = {gbj.key.uscc: "key_emitter", gbj.general.uscc: "general_reporting"}
    assert dict(EmitterListEntry.objects.values_list("entity__uscc", "category")) == want
    assert {r.uscc: r.category for r in emitter_list_rows(user=gbj.bureau, market="beijing", year=2023)} == want
    from io import BytesIO

    from openpyxl import load_workbook

    ws = load_workbook(BytesIO(data)).worksheets[0]
    assert [c.value for c in ws[1]] == [*LIST_COLUMNS, CATEGORY_COLUMN] and ws.cell(3, 10).value == "一般报告单位"
    bad = BytesIO(data)
    wb = load_workbook(bad)
    wb.worksheets[0].cell(3, 10).value = "其他"
    out = BytesIO()
    wb.save(out)
    _, problems = read_list_xlsx(out.getvalue(), file_name="l.xlsx", year=2023, province="11", sector_names=names)
    assert [(p.row, p.field) for p in problems] == [(3, CATEGORY_COLUMN)]


def test_api_submit_list_and_check(gbj, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(gbj.g_user)
    bad = client.post("/api/v1/mrv/general-reports/beijing/2023", {"emissions_t": "1.5", "file": SimpleUploadedFile("r.pdf", PDF)})
    assert bad.status_code in (400, 409, 422) and bad.json()["code"] == "M0502"
    ok = client.post("/api/v1/mrv/general-reports/beijing/2023", {"emissions_t": "18600", "file": SimpleUploadedFile("r.pdf", PDF)})
    assert ok.status_code == 200, ok.content
    rid = ok.json()["id"]
    assert ok.json()["evidence_sha256"] == hashlib.sha256(PDF).hexdigest()
    client.force_login(gbj.haidian)
    assert client.get("/api/v1/mrv/general-reports/beijing/2023").json() == []
    refused = client.post(f"/api/v1/mrv/general-report-checks/{rid}", {"accept": True}, content_type="application/json")
    assert refused.json()["code"] == "R0502", refused.content
    client.force_login(gbj.chaoyang)
    assert [r["id"] for r in client.get("/api/v1/mrv/general-reports/beijing/2023").json()] == [rid]
    assert client.post(f"/api/v1/mrv/general-report-checks/{rid}", {"accept": "yes"}, content_type="application/json").status_code == 422
    done = client.post(f"/api/v1/mrv/general-report-checks/{rid}", {"accept": True}, content_type="application/json")
    assert done.status_code == 200 and done.json()["status"] == "accepted"


def test_obligations_and_allocation_ignore_a_general_reporting_unit(world, bj, tmp_path):  # noqa: F811
    """The Beijing allocation of tests/allocation/test_beijing_db.py with a general reporting unit on the list: the
    approval basis refuses it, the computation and the obligations are the three key emitters' as computed there."""
    from cets.allocation.models import AllocationBasis, EntityAllocation
    from cets.allocation.services import allocation_basis_import, allocation_compute
    from cets.compliance.models import Obligation
    from cets.compliance.services import obligations_create
    from cets.core.uscc import check_character

    bureau, ents, f = bj
    general = Organisation.objects.create(uscc="91110105MA00BJG01" + check_character("91110105MA00BJG01"), name="北京测试一般报告单位",
                                          kind=Organisation.Kind.ENTITY, province="11", region_code="110105")
    for o in [*ents.values(), general]:
        EmitterListEntry.objects.create(market="beijing", year=2023, sector="power", entity=o, province="11", reason="imported",
                                        category="general_reporting" if o == general else "key_emitter")
    with_general = tmp_path / "basis-g.csv"
    with_general.write_text(f.read_text(encoding="utf-8") + f"{general.uscc},historical_total,1000,,1,0,no\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        allocation_basis_import(pack_id=PACK, year=2023, path=with_general, actor=bureau)
    assert [p.value for p in e.value.problems] == [general.uscc]
    assert not AllocationBasis.objects.exists()
    assert allocation_basis_import(pack_id=PACK, year=2023, path=f, actor=bureau) == 4
    assert allocation_compute(year=2023, pack_id=PACK, actor=bureau)["entities"] == 3
    obligations_create(year=2023, pack_id="beijing/compliance-2023-2024")
    assert set(Obligation.objects.values_list("obligation_t", flat=True)) == {100_000, 50_000}
    assert Obligation.objects.count() == 3
    assert not Obligation.objects.filter(entity=general).exists() and not EntityAllocation.objects.filter(entity=general).exists()
