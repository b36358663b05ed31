"""Data-quality control plans, monthly filings (40 calendar days national / 20 Beijing, review,
late and back-filled flags, XLSX template and upload) and the annual report generated from them."""

import datetime as dt
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from cets.core.errors import CetsError, InputError
from cets.mrv.deadlines import monthly_filing_due, review_due, state
from tests.conftest import SD_1, SD_2


def test_due_dates_by_hand():
    # 2023-01-31 + 40 days = 2023-03-12; 2023-02-28 + 40 = 2023-04-09; 2024-02-29 (leap) + 40 = 2024-04-09
    assert monthly_filing_due(2023, 1, 40) == dt.date(2023, 3, 12)
    assert monthly_filing_due(2023, 2, 40) == dt.date(2023, 4, 9)
    assert monthly_filing_due(2024, 2, 40) == dt.date(2024, 4, 9)
    # Beijing: 2023-02-28 + 20 = 2023-03-20; review within 10 more days = 2023-03-30
    assert monthly_filing_due(2023, 2, 20) == dt.date(2023, 3, 20)
    assert review_due(dt.date(2023, 3, 20), 10) == dt.date(2023, 3, 30)
    assert review_due(dt.date(2023, 3, 20), None) is None
    d = dt.date(2023, 3, 12)
    assert state(due=d, done_on=d, today=d) == "on_time"
    assert state(due=d, done_on=d + dt.timedelta(1), today=d) == "late"
    assert state(due=d, done_on=None, today=d) == "due"
    assert state(due=d, done_on=None, today=d + dt.timedelta(1)) == "missing"


@pytest.fixture
def plant(world):
    from cets.parties.models import GeneratingUnit
    from cets.parties.services import units_upsert

    units_upsert(units=[GeneratingUnit(entity=world.sd1, code="#1", category="I", rated_capacity_mw=Decimal(600))])
    return world


def test_plan_versions_review_with_comments(plant):
    from cets.mrv.models import PlanComment
    from cets.mrv.services import dq_plan_review, dq_plan_submit

    w = plant
    with pytest.raises(CetsError):
        dq_plan_submit(entity=w.sd2, year=2023, summary="x", actor=w.entity_sd1_user, on=dt.date(2022, 12, 1))
    v1 = dq_plan_submit(entity=w.sd1, year=2023, summary="入厂煤每批次采样", actor=w.entity_sd1_user, on=dt.date(2022, 12, 1))
    assert v1.version == 1
    assert v1.due_on == dt.date(2022, 12, 31)
    with pytest.raises(CetsError) as e:
        dq_plan_review(plan_id=v1.pk, actor=w.province_zj, approve=True, comment="", on=dt.date(2022, 12, 5))
    assert e.value.code == "R0502"
    dq_plan_review(plan_id=v1.pk, actor=w.province_sd, approve=False, comment="缺少元素碳检测频次", on=dt.date(2022, 12, 5))
    assert PlanComment.objects.get(plan=v1).text == "缺少元素碳检测频次"
    with pytest.raises(CetsError) as e:
        dq_plan_review(plan_id=v1.pk, actor=w.province_sd, approve=True, comment="", on=dt.date(2022, 12, 6))
    assert e.value.code == "M0201"
    v2 = dq_plan_submit(entity=w.sd1, year=2023, summary="入厂煤每批次采样，元素碳每月检测", actor=w.entity_sd1_user, on=dt.date(2023, 1, 3))
    assert v2.version == 2
    assert v2.submitted_on > v2.due_on  # late, and kept so
    assert dq_plan_review(plan_id=v2.pk, actor=w.province_sd, approve=True, comment="", on=dt.date(2023, 1, 5)).status == "approved"


def _filled(user, entity, year, fill):
    """The platform's template, filled row by row by ``fill(month) -> dict`` (None leaves the row empty)."""
    from cets.mrv.monthly_files import TEMPLATE_COLUMNS
    from cets.mrv.selectors import monthly_template

    wb = load_workbook(BytesIO(monthly_template(user=user, entity=entity, year=year)))
    ws = wb.active
    assert [c.value for c in ws[1]] == list(TEMPLATE_COLUMNS)
    for row in ws.iter_rows(min_row=2):
        month = int(row[2].value[5:])
        values = fill(month)
        if values:
            for c in row:
                col = TEMPLATE_COLUMNS[c.column - 1]
                if col in values:
                    c.value = values[col]
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


COAL = {"fuel": "烟煤", "fuel_consumed": 10000, "ncv_gj_per_unit": 20, "carbon_content_tc_per_gj": 0.0275, "generation_mwh": 30000,
        "supplied_mwh": 28000, "heat_supplied_gj": 1000, "operating_hours": 500}


def test_monthly_filings_to_signed_annual_report(plant):
    from cets.mrv.models import MonthlyFiling
    from cets.mrv.services import annual_report_generate, annual_report_sign, monthly_filing_review, monthly_filings_upload

    w = plant
    # January to November filed together on 2023-12-20: January (due 2023-03-12) … October (due 2023-12-10) are back-filled late;
    # November (due 2024-01-09) is on time. December is missing.
    data = _filled(w.entity_sd1_user, w.sd1, 2023, lambda m: COAL if m <= 11 else None)
    counts = monthly_filings_upload(entity=w.sd1, year=2023, file_name="m.xlsx", data=data, actor=w.entity_sd1_user, on=dt.date(2023, 12, 20),
                                    evidence=[("煤质化验报告.pdf", "ab" * 32)])
    assert counts == {"filings": 11, "late": 10}
    jan = MonthlyFiling.objects.get(unit__code="#1", month=1)
    assert jan.due_on == dt.date(2023, 3, 12)
    assert jan.review_due is None
    assert jan.evidence[0]["name"] == "煤质化验报告.pdf"
    rep = annual_report_generate(entity=w.sd1, year=2023, actor=w.entity_sd1_user)
    assert rep.missing == ["#1 2023-12"]
    assert rep.due_on == dt.date(2024, 3, 31)
    with pytest.raises(CetsError) as e:
        annual_report_sign(report_id=rep.pk, actor=w.entity_sd1_user, on=dt.date(2024, 3, 1))
    assert e.value.code == "M0205"
    monthly_filing_review(filing_id=jan.pk, actor=w.province_sd, accept=True, comment="", on=dt.date(2023, 12, 22))
    # December filed; January cannot be overwritten once accepted
    with pytest.raises(InputError) as e:
        monthly_filings_upload(
            entity=w.sd1,
            year=2023,
            file_name="m2.xlsx",
            data=_filled(w.entity_sd1_user, w.sd1, 2023, lambda m: COAL if m in (1, 12) else None),
            actor=w.entity_sd1_user,
            on=dt.date(2024, 1, 5),
        )
    assert [(p.row, p.field) for p in e.value.problems] == [(2, "month")]
    monthly_filings_upload(
        entity=w.sd1,
        year=2023,
        file_name="m3.xlsx",
        data=_filled(w.entity_sd1_user, w.sd1, 2023, lambda m: COAL if m == 12 else None),
        actor=w.entity_sd1_user,
        on=dt.date(2024, 1, 5),
    )
    rep = annual_report_generate(entity=w.sd1, year=2023, actor=w.entity_sd1_user)
    # 12 × (10,000 t × 20 GJ/t × 0.0275 tC/GJ × 0.99 × 44/12 = 19,965 t) = 239,580 t; LF 360,000 / (600 × 6,000) = 0.1
    assert rep.missing == []
    assert rep.emissions_t == 239_580
    assert rep.units == [
        {"unit_id": "#1", "emissions_t": 239_580, "generation_mwh": "360000", "supplied_mwh": "336000", "heat_supplied_gj": "12000", "load_factor": "0.100000"}
    ]
    rep = annual_report_sign(report_id=rep.pk, actor=w.entity_sd1_user, on=dt.date(2024, 3, 29))
    with pytest.raises(CetsError) as e:
        annual_report_generate(entity=w.sd1, year=2023, actor=w.entity_sd1_user)
    assert e.value.code == "M0206"


def test_upload_rows_errors_and_scope(plant):
    from cets.mrv.models import MonthlyFiling
    from cets.mrv.services import monthly_filings_upload

    w = plant

    def fill(m):
        if m == 1:
            return {**COAL, "fuel": "泥煤"}  # row 2: unknown fuel
        if m == 2:
            return {**COAL, "operating_hours": 673}  # row 3: February has 672 h
        if m == 3:
            return {**COAL, "entity_uscc": SD_2}  # row 4: another entity's code
        if m == 4:
            return {**COAL, "unit_id": "#9"}  # row 5: no such unit
        return None

    with pytest.raises(InputError) as e:
        monthly_filings_upload(
            entity=w.sd1, year=2023, file_name="m.xlsx", data=_filled(w.entity_sd1_user, w.sd1, 2023, fill), actor=w.entity_sd1_user, on=dt.date(2023, 6, 1)
        )
    assert sorted((p.row, p.field) for p in e.value.problems) == [(2, "fuel"), (3, "operating_hours"), (4, "entity_uscc"), (5, "unit_id")]
    assert not MonthlyFiling.objects.exists()
    with pytest.raises(CetsError) as e:
        monthly_filings_upload(entity=w.sd1, year=2023, file_name="m.xlsx", data=b"", actor=w.entity_zj1_user, on=dt.date(2023, 6, 1))
    assert e.value.code == "R0502"
    from cets.mrv.selectors import monthly_template

    with pytest.raises(CetsError):
        monthly_template(user=w.entity_zj1_user, entity=w.sd1, year=2023)
    assert SD_1 in str(load_workbook(BytesIO(monthly_template(user=w.province_sd, entity=w.sd1, year=2023))).active["A2"].value)


def test_api_template_upload_report(plant):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.conftest import client_for

    w = plant
    c = client_for(w.entity_sd1_user)
    t = c.get(f"/api/v1/mrv/monthly/{SD_1}/2023/template.xlsx")
    assert t.status_code == 200
    assert load_workbook(BytesIO(t.content)).active.max_row == 13  # header + 12 months of unit #1
    assert client_for(w.entity_zj1_user).get(f"/api/v1/mrv/monthly/{SD_1}/2023/template.xlsx").status_code == 404
    bad = _filled(w.entity_sd1_user, w.sd1, 2023, lambda m: {**COAL, "fuel_consumed": -1} if m == 1 else None)
    r = c.post(f"/api/v1/mrv/monthly/{SD_1}/2023/upload", {"file": SimpleUploadedFile("m.xlsx", bad)})
    assert r.status_code == 422
    assert r.json()["problems"][0]["row"] == 2
    assert r.json()["problems"][0]["field"] == "fuel_consumed"
    good = _filled(w.entity_sd1_user, w.sd1, 2023, lambda m: COAL)
    assert c.post(f"/api/v1/mrv/monthly/{SD_1}/2023/upload", {"file": SimpleUploadedFile("m.xlsx", good)}).json()["filings"] == 12
    rep = c.post(f"/api/v1/mrv/reports/{SD_1}/2023/generate").json()
    assert rep["emissions_t"] == 239_580
    assert rep["missing"] == []
    assert client_for(w.province_sd).post(f"/api/v1/mrv/reports/{rep['id']}/sign").status_code == 403
    assert c.post(f"/api/v1/mrv/reports/{rep['id']}/sign").json()["signed_on"]


def test_verified_year_reaches_allocation_by_unit(plant):
    from cets.mrv.models import UnitYearData
    from cets.mrv.services import (
        annual_report_generate,
        annual_report_sign,
        monthly_filings_upload,
        unit_year_data_from_verification,
        verification_assign,
        verification_outcome_record,
    )
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create

    w = plant
    monthly_filings_upload(
        entity=w.sd1,
        year=2023,
        file_name="m.xlsx",
        data=_filled(w.entity_sd1_user, w.sd1, 2023, lambda m: COAL),
        actor=w.entity_sd1_user,
        on=dt.date(2024, 1, 5),
    )
    rep = annual_report_generate(entity=w.sd1, year=2023, actor=w.entity_sd1_user)
    body = Organisation.objects.create(uscc="91110108MA01R1234G", name="核查机构", kind=Organisation.Kind.VERIFIER)
    vuser = member_create(username="v", organisation=body, role=Role.VERIFIER)
    [a] = verification_assign(year=2023, province="37", entities=[w.sd1], bodies=[body], seed="s", sector="power", actor=w.province_sd)
    with pytest.raises(CetsError) as e:
        unit_year_data_from_verification(assignment_id=a.pk, actor=w.province_sd)
    assert e.value.code == "M0208"  # not verified, report not signed
    annual_report_sign(report_id=rep.pk, actor=w.entity_sd1_user, on=dt.date(2024, 3, 20))
    verification_outcome_record(
        assignment_id=a.pk,
        actor=vuser,
        verified_emissions_t=239_581,
        generation_mwh=None,
        heat_supplied_gj=None,
        conforming=True,
        completed_on=dt.date(2024, 5, 10),
    )
    with pytest.raises(CetsError) as e:
        unit_year_data_from_verification(assignment_id=a.pk, actor=w.province_sd)
    assert e.value.code == "M0207"  # 239,581 verified ≠ 239,580 reported
    # set-up shortcut: the verifier's corrected figure (a re-verification flow is not what this test is about)
    from cets.mrv.models import VerificationAssignment

    VerificationAssignment.objects.filter(pk=a.pk).update(verified_emissions_t=239_580)
    assert unit_year_data_from_verification(assignment_id=a.pk, actor=w.province_sd) == 1
    d = UnitYearData.objects.get(unit__entity=w.sd1, year=2023)
    assert (d.verified_emissions_t, d.generation_mwh, d.heat_supplied_gj, d.load_factor) == (239_580, 360_000, 12_000, Decimal("0.1"))


def test_plan_api(plant):
    from tests.conftest import client_for

    w = plant
    p = client_for(w.entity_sd1_user).post(f"/api/v1/mrv/plans/{SD_1}/2023", {"summary": "方案"}, content_type="application/json").json()
    assert p["version"] == 1
    assert p["due_on"] == "2022-12-31"
    z = client_for(w.province_zj).post(f"/api/v1/mrv/plan-reviews/{p['id']}", {"approve": True}, content_type="application/json")
    assert z.status_code == 403, z.json()
    r = (
        client_for(w.province_sd)
        .post(f"/api/v1/mrv/plan-reviews/{p['id']}", {"approve": False, "comment": "补充检测频次"}, content_type="application/json")
        .json()
    )
    assert r["status"] == "returned"
    assert r["comments"] == ["补充检测频次"]
