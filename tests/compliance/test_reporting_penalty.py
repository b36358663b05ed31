"""Units that do not report (京环发〔2024〕8号 五(二) "对未按规定报送碳排放报告、核查报告…的碳排放单位，将依法处理"; the
Beijing rule of cn-ets-rules.md §7.2: order to correct within a deadline, then a fine of at most CNY 50,000 =
5,000,000 fen, pack beijing/compliance-2023-2024 [reporting_penalty]). Key emitting units owe the verified report by
2024-07-15 (cycle event ``verification``); general reporting units their report by 2024-07-15 (``general_reports``).

Cases by hand: BJ1 (key emitter, 朝阳 110105) has no verification → missing; BJ2 (general, 朝阳) filed 2024-07-10 →
not missing; BJ3 (general, 海淀 110108) filed nothing → missing. The 朝阳 district sees BJ1 only; the bureau both."""

import datetime as dt

import pytest

from cets.compliance.models import ReportingEnforcement
from cets.compliance.services.reporting import reporting_fine_decide, reporting_missing, reporting_order
from cets.core.errors import CetsError
from cets.mrv.general_reports import general_report_submit
from cets.parties.models import EmitterListEntry, Organisation, Role
from cets.parties.services import member_create
from tests.compliance.test_beijing import bj  # noqa: F401  (fixture)
from tests.conftest import client_for

D = dt.date.fromisoformat
MAX_FEN = 5_000_000


@pytest.fixture
def rp(bj):  # noqa: F811
    for o, district in zip(bj.orgs, ("110105", "110105", "110108"), strict=True):
        Organisation.objects.filter(pk=o.pk).update(region_code=district)
        o.refresh_from_db()
    for o, cat in zip(bj.orgs, ("key_emitter", "general_reporting", "general_reporting"), strict=True):
        EmitterListEntry.objects.create(market="beijing", year=2023, sector="power", entity=o, province="11", category=cat)
    general_report_submit(entity=bj.orgs[1], market="beijing", year=2023, emissions_t=9_000, evidence_name="r.pdf", evidence=b"%PDF-1.4\n%%EOF\n",
                          actor=bj.users[1], on=D("2024-07-10"))
    district = Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="朝阳区生态环境局", province="11", region_code="110105")
    bj.chaoyang = member_create(username="bj-cy", organisation=district, role=Role.DISTRICT_AUTHORITY, province="11", district="110105",
                                password="test-password-123")
    return bj


def _codes(user, day):
    return sorted((m.entity.name, m.duty) for m in reporting_missing(user=user, market="beijing", year=2023, today=D(day)))


@pytest.mark.django_db
def test_missing_reports_by_category_and_jurisdiction(rp):
    assert _codes(rp.bureau, "2024-07-15") == []                              # not yet late on the due day
    assert _codes(rp.bureau, "2024-07-16") == [("北京测试单位1", "verification"), ("北京测试单位3", "general_reports")]
    assert _codes(rp.chaoyang, "2024-07-16") == [("北京测试单位1", "verification")]
    assert _codes(rp.users[1], "2024-07-16") == []                            # a unit sees its own only (BJ2 filed)
    assert _codes(rp.users[2], "2024-07-16") == [("北京测试单位3", "general_reports")]


@pytest.mark.django_db
def test_order_then_fine_within_the_range(rp):
    bj1, bj2, bj3 = (o.pk for o in rp.orgs)
    args = {"market": "beijing", "year": 2023, "reference": "京环责改〔2024〕1号", "actor": rp.bureau}
    for kw, code in (({"entity_id": bj2, "duty": "general_reports"}, "C1202"),          # filed on time
                     ({"entity_id": bj3, "duty": "verification"}, "C1201"),             # a general reporting unit owes no verification
                     ({"entity_id": bj1, "duty": "general_reports"}, "C1201")):
        with pytest.raises(CetsError) as e:
            reporting_order(**kw, correct_by=D("2024-08-20"), on=D("2024-07-20"), **args)
        assert e.value.code == code
    with pytest.raises(CetsError) as e:
        reporting_order(entity_id=bj3, duty="general_reports", correct_by=D("2024-08-20"), on=D("2024-07-15"), **args)   # due day itself
    assert e.value.code == "C1202"
    with pytest.raises(CetsError) as e:
        reporting_order(entity_id=bj3, duty="general_reports", correct_by=D("2024-07-20"), on=D("2024-07-20"), **args)
    assert e.value.code == "C1204"
    with pytest.raises(CetsError) as e:     # 朝阳 cannot act on a 海淀 unit
        reporting_order(entity_id=bj3, duty="general_reports", correct_by=D("2024-08-20"), on=D("2024-07-20"), **{**args, "actor": rp.chaoyang})
    assert e.value.code == "R0502"
    assert ReportingEnforcement.objects.count() == 0
    r = reporting_order(entity_id=bj3, duty="general_reports", correct_by=D("2024-08-20"), on=D("2024-07-20"), **args)
    assert (r.due_on, r.status) == (D("2024-07-15"), "ordered")
    with pytest.raises(CetsError) as e:
        reporting_order(entity_id=bj3, duty="general_reports", correct_by=D("2024-08-20"), on=D("2024-07-21"), **args)
    assert e.value.code == "C1203"
    fine = {"reference": "京环罚〔2024〕9号", "actor": rp.bureau}
    for fen, day, code in ((3_000_000, "2024-08-20", "C1205"),        # on the correction deadline: not over yet
                           (MAX_FEN + 1, "2024-08-21", "C1207"),      # CNY 50,000.01
                           (0, "2024-08-21", "C1207"), (True, "2024-08-21", "C1207"), (1.0, "2024-08-21", "C1207")):
        with pytest.raises(CetsError) as e:
            reporting_fine_decide(enforcement_id=r.pk, fine_fen=fen, on=D(day), **fine)
        assert e.value.code == code
    assert ReportingEnforcement.objects.get().status == "ordered"
    r = reporting_fine_decide(enforcement_id=r.pk, fine_fen=MAX_FEN, on=D("2024-08-21"), **fine)
    assert (r.status, r.fine_fen) == ("fined", 5_000_000)
    with pytest.raises(CetsError) as e:
        reporting_fine_decide(enforcement_id=r.pk, fine_fen=1, on=D("2024-08-22"), **fine)
    assert e.value.code == "C1208"


@pytest.mark.django_db
def test_a_unit_that_reports_within_the_correction_period_is_not_fined(rp):
    bj3 = rp.orgs[2]
    r = reporting_order(entity_id=bj3.pk, market="beijing", year=2023, duty="general_reports", correct_by=D("2024-08-20"), reference="令1",
                        actor=rp.bureau, on=D("2024-07-20"))
    general_report_submit(entity=bj3, market="beijing", year=2023, emissions_t=3_000, evidence_name="r.pdf", evidence=b"%PDF-1.4\n%%EOF\n",
                          actor=rp.users[2], on=D("2024-08-01"))
    with pytest.raises(CetsError) as e:
        reporting_fine_decide(enforcement_id=r.pk, fine_fen=100, reference="罚1", actor=rp.bureau, on=D("2024-08-21"))
    assert e.value.code == "C1206"


@pytest.mark.django_db
def test_api_and_page(rp):
    from django.utils import timezone

    bj1 = rp.orgs[0]
    c = client_for(rp.chaoyang, verified=True)
    r = c.get("/api/v1/compliance/reporting/beijing/2023")
    assert r.status_code == 200, r.content
    assert [(x["entity_uscc"], x["duty"]) for x in r.json()] == [(bj1.uscc, "verification")]
    today = timezone.localdate()
    body = {"entity_uscc": bj1.uscc, "duty": "verification", "correct_by": (today + dt.timedelta(days=30)).isoformat(), "reference": "朝环责改1号"}
    r = c.post("/api/v1/compliance/reporting/beijing/2023/orders", body, content_type="application/json")
    assert r.status_code == 200, r.content
    rid = r.json()["id"]
    r = c.post(f"/api/v1/compliance/reporting-enforcements/{rid}/fine", {"fine_fen": 100_000, "reference": "罚"}, content_type="application/json")
    assert r.json()["code"] == "C1205"
    r = c.post(f"/api/v1/compliance/reporting-enforcements/{rid}/fine", {"fine_fen": "100000", "reference": "罚"}, content_type="application/json")
    assert r.status_code == 422
    page = c.get("/compliance/reporting/?market=beijing&year=2023").content.decode()
    assert bj1.name in page and "朝环责改1号" in page and rp.orgs[2].name not in page
    r = c.post("/compliance/reporting/", {"market": "beijing", "year": "2023", "order": "1", "entity": "x", "duty": "verification",
                                          "correct_by": "2099-01-01", "reference": "r"}, follow=True)
    assert r.status_code in (200, 404)


@pytest.mark.django_db
def test_page_fine_in_yuan_to_the_fen(rp):
    from django.utils import timezone

    today = timezone.localdate()
    r = reporting_order(entity_id=rp.orgs[2].pk, market="beijing", year=2023, duty="general_reports", correct_by=today - dt.timedelta(days=10),
                        reference="京环责改〔2024〕2号", actor=rp.bureau, on=today - dt.timedelta(days=40))
    c = client_for(rp.bureau, verified=True)
    page = c.get("/compliance/reporting/?market=beijing&year=2023").content.decode()
    assert "京环责改〔2024〕2号" in page and 'name="fine"' in page
    post = {"market": "beijing", "year": "2023", "enforcement": str(r.pk), "fine": "1", "reference": "京环罚〔2024〕3号"}
    for cny, code in (("50000.01", "C1207"), ("5e4", "C1207"), ("-1", "C1207")):
        assert code in c.post("/compliance/reporting/", {**post, "fine_cny": cny}, follow=True).content.decode()
    assert ReportingEnforcement.objects.get().status == "ordered"
    c.post("/compliance/reporting/", {**post, "fine_cny": "49999.5"}, follow=True)
    assert ReportingEnforcement.objects.get().fine_fen == 4_999_950
    assert "CNY 49,999.50" in c.get("/compliance/reporting/?market=beijing&year=2023").content.decode()
    assert client_for(rp.users[0]).get("/compliance/reporting/?market=beijing&year=2023").status_code == 404
    assert c.post("/compliance/reporting/", {**post, "enforcement": "999999", "fine_cny": "1"}).status_code == 404


@pytest.mark.django_db
def test_inbox_counts_what_waits_on_the_authority(rp):
    from cets.web.selectors import inbox

    def count(user, day):
        return {i.en: i.count for i in inbox(user=user, year=2023, today=D(day))}.get("units that did not report (order to correct, or fine)", 0)

    assert count(rp.bureau, "2024-07-15") == 0
    assert (count(rp.bureau, "2024-07-16"), count(rp.chaoyang, "2024-07-16")) == (2, 1)
    reporting_order(entity_id=rp.orgs[2].pk, market="beijing", year=2023, duty="general_reports", correct_by=D("2024-08-20"), reference="令",
                    actor=rp.bureau, on=D("2024-07-20"))
    assert count(rp.bureau, "2024-08-20") == 1        # BJ1 still to order; BJ3's correction period runs
    assert count(rp.bureau, "2024-08-21") == 2        # BJ3's fine is now due
