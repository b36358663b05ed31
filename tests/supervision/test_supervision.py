"""Every supervision action through its service, its API endpoint and its page, with each numbered refusal
and the jurisdiction rule (national all, a province its province, a municipal authority its city)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from cets.core.errors import CetsError
from tests.conftest import client_for

from .conftest import CONTACT, REPORTER


def refuses(code: str, fn, **kw):
    with pytest.raises(CetsError) as e:
        fn(**kw)
    assert e.value.code == code, e.value
    return e.value


# ---- credit records (Measures Art. 38)

def test_credit_record_service_codes_and_jurisdiction(sup):
    from cets.supervision.services import credit_record_create as create

    w = sup.web
    ok = dict(actor=w.province_sd, subject_id=w.sd1.pk, kind="late_report", reason="月度存证逾期", source_reference="鲁环〔2025〕2号")
    assert create(**ok).province == "37"
    refuses("G0101", create, **dict(ok, kind="rumour"))
    refuses("G0102", create, **dict(ok, reason=" "))
    refuses("G0103", create, **dict(ok, kind="verifier_warning"))  # an entity is no verification body
    refuses("G0104", create, **dict(ok, recorded_on=dt.date.today() + dt.timedelta(days=2)))
    refuses("R0502", create, **dict(ok, actor=w.province_zj))  # another province
    refuses("R0502", create, **dict(ok, actor=w.entity_sd1))  # not an authority
    # the verification body (no province) is the national authority's
    assert create(**dict(ok, actor=w.mee, subject_id=sup.verifier.pk, kind="verifier_warning")).kind == "verifier_warning"
    refuses("R0502", create, **dict(ok, subject_id=sup.verifier.pk, kind="verifier_warning"))
    # a municipal authority only in its city: sd2's region code starts 3701 (Jinan), sd1's 3700
    assert w.sd2.region_code.startswith("3701")
    assert not w.sd1.region_code.startswith("3701")
    assert create(**dict(ok, actor=sup.municipal, subject_id=w.sd2.pk)).subject == w.sd2
    refuses("R0502", create, **dict(ok, actor=sup.municipal))


def test_credit_record_api_and_page(sup):
    w = sup.web
    c = client_for(w.province_sd)
    body = {"uscc": w.sd1.uscc, "kind": "false_reporting", "reason": "虚报燃煤量", "source_reference": "鲁环罚〔2025〕3号"}
    r = c.post("/api/v1/supervision/credit-records", body, content_type="application/json")
    assert r.status_code == 200
    assert r.json()["kind"] == "false_reporting"
    r = c.post("/api/v1/supervision/credit-records", dict(body, kind="x"), content_type="application/json")
    assert r.status_code == 422
    assert r.json()["code"] == "G0101"
    r = client_for(w.province_zj).post("/api/v1/supervision/credit-records", body, content_type="application/json")
    assert r.status_code == 403
    assert r.json()["code"] == "R0502"
    listed = client_for(w.province_zj).get("/api/v1/supervision/credit-records").json()
    assert listed["count"] == 0  # Zhejiang sees none of Shandong's
    r = c.post("/supervision/credit/", dict(body, reason=""), follow=True)
    assert "G0102" in r.content.decode()
    r = c.post("/supervision/credit/", body, follow=True)
    assert r.status_code == 200
    assert "虚报燃煤量" in c.get("/supervision/").content.decode()


# ---- blacklist (Art. 49) and its effect on the verification draw

def test_blacklist_service_codes(sup):
    from cets.supervision.services import blacklist_decide as decide
    from cets.supervision.services import blacklist_lift as lift

    w = sup.web
    ok = dict(actor=w.mee, subject_id=w.sd1.pk, effect="trading", decision_reference="环气候〔2025〕10号", reason="操纵市场", starts_on=dt.date(2025, 2, 1))
    e = decide(**ok)
    refuses("G0201", decide, **dict(ok, effect="exile"))
    refuses("G0202", decide, **dict(ok, decision_reference=""))
    refuses("G0203", decide, **dict(ok, ends_on=dt.date(2025, 1, 1)))
    refuses("G0204", decide, **dict(ok, effect="verification"))  # an entity does no verification work
    refuses("R0502", decide, **dict(ok, actor=w.province_sd))  # only the national authority (Art. 49)
    assert lift(actor=w.mee, entry_id=e.pk).lifted_on is not None
    refuses("G0205", lift, actor=w.mee, entry_id=e.pk)


def test_blacklisted_body_is_left_out_of_the_draw(sup):
    from cets.parties.models import Organisation
    from cets.supervision.selectors import verification_pool
    from cets.supervision.services import blacklist_lift, verification_assign_screened

    w = sup.web
    other = Organisation.objects.create(uscc=_uscc(7), name="另一核查机构", kind=Organisation.Kind.VERIFIER)
    assert sup.verifier not in verification_pool()
    assert other in verification_pool()
    out = verification_assign_screened(sector="power", actor=w.province_sd, year=2024, province="37", entities=[w.sd1, w.sd2], bodies=[sup.verifier,
            other], seed="s1")
    assert {a.body_id for a in out} == {other.pk}
    refuses("G0501", verification_assign_screened, actor=w.province_sd, sector="power", year=2024, province="37", entities=[w.sd1], bodies=[sup.verifier],
            seed="s2", kind="regular", market="national")
    blacklist_lift(actor=w.mee, entry_id=sup.blacklist.pk, lifted_on=dt.date(2025, 6, 1))
    assert sup.verifier in verification_pool()


def _uscc(i: int) -> str:
    from tests.conftest import uscc_for

    return uscc_for(i, prefix="1210000")


def test_blacklist_api_and_page(sup):
    w = sup.web
    c = client_for(w.mee)
    body = {"uscc": w.zj1.uscc, "effect": "trading", "decision_reference": "环气候〔2025〕11号", "reason": "虚假交易", "starts_on": "2025-03-01"}
    r = c.post("/api/v1/supervision/blacklist", body, content_type="application/json")
    assert r.status_code == 200
    entry = r.json()["id"]
    assert c.post(f"/api/v1/supervision/blacklist/{entry}/lift", {}, content_type="application/json").json()["lifted_on"]
    r = c.post(f"/api/v1/supervision/blacklist/{entry}/lift", {}, content_type="application/json")
    assert r.status_code == 422
    assert r.json()["code"] == "G0205"
    r = client_for(w.province_sd).post("/api/v1/supervision/blacklist", body, content_type="application/json")
    assert r.json()["code"] == "R0502"
    r = c.post("/supervision/blacklist/", dict(body, ends_on="2025-01-01"), follow=True)
    assert "G0203" in r.content.decode()
    r = c.post("/supervision/lift/", {"entry_id": sup.blacklist.pk}, follow=True)
    assert r.status_code == 200
    r = c.post("/api/v1/supervision/assignments", {"year": 2024, "province": "37", "sector": "power", "entity_usccs": [w.sd1.uscc],
            "body_usccs": [sup.verifier.uscc],
                                                   "seed": "x"}, content_type="application/json")
    assert r.json()["code"] == "R0502"  # the draw is the province's


# ---- joint-punishment notices (Art. 46)

def test_joint_notice_service_api_page_and_export(sup):
    from openpyxl import load_workbook

    from cets.supervision.services import joint_notice_create, joint_notice_dispatch

    w = sup.web
    n = joint_notice_create(actor=w.province_sd, entity_id=w.sd2.pk, penalty_reference="鲁环罚〔2025〕1号", facts="未足额清缴，已处罚款")
    refuses("G0301", joint_notice_create, actor=w.province_sd, entity_id=sup.verifier.pk, penalty_reference="x", facts="y")
    refuses("R0502", joint_notice_create, actor=w.province_zj, entity_id=w.sd2.pk, penalty_reference="x", facts="y")
    joint_notice_dispatch(actor=w.province_sd, notice_id=n.pk, department="tax", letter_reference="鲁环函〔2025〕5号")
    refuses("G0302", joint_notice_dispatch, actor=w.province_sd, notice_id=n.pk, department="police")
    refuses("G0303", joint_notice_dispatch, actor=w.province_sd, notice_id=n.pk, department="tax")
    refuses("R0502", joint_notice_dispatch, actor=w.province_zj, notice_id=n.pk, department="finance")

    c = client_for(w.province_sd)
    r = c.post(f"/api/v1/supervision/joint-notices/{n.pk}/dispatches", {"department": "finance"}, content_type="application/json")
    assert r.status_code == 200
    assert {d["department"] for d in r.json()["dispatches"]} == {"tax", "finance"}
    r = c.post("/api/v1/supervision/joint-notices", {"uscc": w.sd1.uscc, "penalty_reference": "", "facts": ""}, content_type="application/json")
    assert r.json()["code"] == "G0301"
    r = c.post("/supervision/dispatch/", {"notice_id": n.pk, "department": "tax"}, follow=True)
    assert "G0303" in r.content.decode()
    c.post("/supervision/notice/", {"uscc": w.sd1.uscc, "penalty_reference": "鲁环罚〔2025〕4号", "facts": "虚报"})
    csv_text = c.get("/supervision/notices.csv").content.decode("utf-8-sig")
    assert "鲁环罚〔2025〕4号" in csv_text
    assert "鲁环函〔2025〕5号" in csv_text
    import io

    ws = load_workbook(io.BytesIO(c.get("/supervision/notices.xlsx").content)).active
    assert ws.max_row == 4  # header, notice 1 sent to tax and finance, notice 2 not yet sent
    assert client_for(w.province_zj).get("/api/v1/supervision/joint-notices").json() == []
    assert Client().get("/supervision/notices.csv").status_code == 302  # login


# ---- reports from the public (Art. 40)

@pytest.mark.django_db
def test_report_file_codes():
    from cets.supervision.services import REPORTS_PER_SESSION_HOUR, report_file

    session: dict = {}
    ok = dict(session=session, subject_name="某电厂", province="37", content="该企业篡改燃煤化验数据，存证与实际明显不符，请核查。")
    refuses("G0401", report_file, **dict(ok, content="太短"))
    refuses("G0403", report_file, **dict(ok, province="99"))
    refuses("G0406", report_file, **dict(ok, city="3301"))
    for _ in range(REPORTS_PER_SESSION_HOUR):
        r = report_file(**ok)
        assert r.receipt.startswith("JB-")
        assert (r.due_on - timezone.localdate(r.filed_at)).days == 60  # the filing day in Asia/Shanghai
    refuses("G0402", report_file, **ok)
    assert report_file(**dict(ok, session={})).pk  # another session


def test_report_page_api_identity_and_feedback(sup):
    w = sup.web
    anon = Client()
    r = anon.post("/public/reports/new/", {"subject_name": w.sd1.name, "province": "37", "city": "3700",
                                            "content": "该企业伪造检测报告，存证数据与实际不符，请依法查处。",
                                            "reporter_name": "李某", "reporter_contact": "li@example.cn"})
    assert r.status_code == 302
    assert "/public/reports/JB-" in r["Location"]
    page = anon.get(r["Location"]).content.decode()
    assert "李某" not in page
    assert "li@example.cn" not in page
    assert "伪造检测报告" not in page
    receipt = r["Location"].rstrip("/").rsplit("/", 1)[1]
    r = anon.post("/api/v1/public/reports", {"subject_name": "x", "province": "37", "content": "短"}, content_type="application/json")
    assert r.status_code == 422
    assert r.json()["code"] == "G0401"
    # only the handling authority sees the reporter: Shandong and the national authority, not Zhejiang, not Jinan (city 3700 ≠ 3701)
    assert "李某" in client_for(w.province_sd).get(f"/supervision/reports/{receipt}/").content.decode()
    assert any(x["reporter_name"] == REPORTER and x["reporter_contact"] == CONTACT
               for x in client_for(w.mee).get("/api/v1/supervision/reports").json()["items"])
    assert client_for(w.province_zj).get(f"/supervision/reports/{receipt}/").status_code == 404
    assert client_for(sup.municipal).get(f"/supervision/reports/{receipt}/").status_code == 404
    assert client_for(w.province_zj).get("/api/v1/supervision/reports").json()["count"] == 0
    assert client_for(sup.municipal).get("/api/v1/supervision/reports").json()["count"] == 1  # the Jinan report of the fixture
    r = client_for(w.province_zj).post(f"/api/v1/supervision/reports/{receipt}/close", {"feedback": "x"}, content_type="application/json")
    assert r.json()["code"] == "R0502"
    r = client_for(w.province_sd).post("/supervision/close/", {"receipt": receipt, "feedback": ""}, follow=True)
    assert "G0405" in r.content.decode()
    r = client_for(w.province_sd).post(f"/api/v1/supervision/reports/{receipt}/close", {"feedback": "经查属实，已立案处罚。"}, content_type="application/json")
    assert r.status_code == 200
    assert r.json()["status"] == "closed"
    r = client_for(w.province_sd).post(f"/api/v1/supervision/reports/{receipt}/close", {"feedback": "again"}, content_type="application/json")
    assert r.json()["code"] == "G0404"
    status = anon.get(f"/api/v1/public/reports/{receipt}").json()
    assert status["feedback"] == "经查属实，已立案处罚。"
    assert "reporter_name" not in status
    assert "经查属实" in anon.get(f"/public/reports/{receipt}/").content.decode()
    assert anon.get("/public/reports/?receipt=" + receipt).status_code == 302
    assert anon.get("/public/reports/JB-0000-NOPE/").status_code == 404


def test_municipal_closes_a_report_of_its_city(sup):
    r = client_for(sup.municipal).post(f"/api/v1/supervision/reports/{sup.report.receipt}/close", {"feedback": "已转交核查"}, content_type="application/json")
    assert r.status_code == 200


def test_dashboard_is_for_authorities(sup):
    assert client_for(sup.web.entity_sd1).get("/supervision/").status_code == 404
    page = client_for(sup.web.province_sd).get("/supervision/").content.decode()
    assert sup.report.receipt in page


def test_draw_page_leaves_out_the_blacklisted_body(sup):
    from cets.mrv.models import VerificationAssignment
    from cets.parties.models import Organisation

    w = sup.web
    other = Organisation.objects.create(uscc=_uscc(8), name="第三核查机构", kind=Organisation.Kind.VERIFIER)
    c = client_for(w.province_sd)
    r = c.post("/supervision/assign/", {"year": "2024", "province": "37", "sector": "power", "entity_usccs": f"{w.sd1.uscc},{w.sd2.uscc}",
                                        "body_usccs": f"{sup.verifier.uscc},{other.uscc}", "seed": "page"}, follow=True)
    assert "第三核查机构" in r.content.decode()
    assert set(VerificationAssignment.objects.filter(year=2024).values_list("body_id", flat=True)) == {other.pk}
    r = c.post("/supervision/assign/", {"year": "2024", "province": "37", "sector": "power", "entity_usccs": w.zj1.uscc,
            "body_usccs": sup.verifier.uscc, "seed": "z"},
               follow=True)
    assert r.status_code == 404  # an entity outside the province is not found for this user


def test_lists_paginate_and_csv_has_every_row(sup):
    from cets.parties.models import EmitterListEntry, Organisation
    from tests.conftest import uscc_for

    orgs = Organisation.objects.bulk_create([Organisation(uscc=uscc_for(500 + i), name=f"分页测试{i:03d}", kind=Organisation.Kind.ENTITY, province="37",
                                                         region_code="370100") for i in range(120)])
    EmitterListEntry.objects.bulk_create([EmitterListEntry(market="national", year=2024, sector="power", entity=o, province="37") for o in orgs])
    c = Client()
    import re

    pages = [c.get(f"/public/emitter-lists/?year=2024&page={n}").content.decode() for n in (1, 2, 3)]
    seen = [re.findall(r"分页测试\d{3}", p) for p in pages]
    assert [len(s) for s in seen] == [50, 50, 20]
    assert len(set(sum(seen, []))) == 120
    assert "page=2" in pages[0]
    assert "page=2" in pages[2]
    rows = c.get("/public/emitter-lists/download.csv?year=2024").content.decode("utf-8-sig").strip().splitlines()
    assert len(rows) == 121  # header + every row, no cap
    assert "分页测试007" in c.get("/public/emitter-lists/?q=分页测试007").content.decode()


def test_formula_cells_are_neutralised_in_csv(sup):
    from cets.supervision.services import credit_record_create

    credit_record_create(actor=sup.web.province_sd, subject_id=sup.web.sd1.pk, kind="late_report", reason="=HYPERLINK(\"http://x\")",
                         source_reference="+1")
    text = Client().get("/public/credit-records/download.csv").content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert ",'+1," in text


def test_receipt_lookup_refuses_odd_input(db):
    assert Client().get("/public/reports/?receipt=../../admin").status_code == 404


def test_draw_api_leaves_out_the_blacklisted_body(sup):
    w = sup.web
    c = client_for(w.province_sd)
    body = {"year": 2024, "province": "37", "sector": "power", "entity_usccs": [w.sd1.uscc], "body_usccs": [sup.verifier.uscc], "seed": "api"}
    r = c.post("/api/v1/supervision/assignments", body, content_type="application/json")
    assert r.status_code == 422
    assert r.json()["code"] == "G0501"
    from cets.parties.models import Organisation

    other = Organisation.objects.create(uscc=_uscc(9), name="第四核查机构", kind=Organisation.Kind.VERIFIER)
    r = c.post("/api/v1/supervision/assignments", dict(body, body_usccs=[sup.verifier.uscc, other.uscc]), content_type="application/json")
    assert r.status_code == 200
    assert len(r.json()) == 1
