"""The facility duty pages through the test client: the monthly filing form's validation with numbered refusals in both
languages, the plan, report and sign actions, the verifier's form and the province's review and overdue list."""

import datetime as dt

import pytest

from cets.core.errors import CetsError
from tests.conftest import client_for
from tests.mrv.test_facility_duties import STEEL, YEAR, _file_year


def _form(lines):
    data = {"rows": str(len(lines))}
    for i, ln in enumerate(lines):
        for k, v in ln.items():
            data[f"{k}-{i}"] = v
    return data


def test_month_form_refuses_with_codes_in_both_languages_and_files(industry):
    from cets.mrv.models import FacilityMonthlyFiling

    fac = industry.facilities["steel"]
    c = client_for(industry.users["steel"])
    url = f"/mrv/facilities/{fac.pk}/{YEAR}/3/"
    assert c.get(url).status_code == 200
    bad = _form([{"source": "fuel", "material": "焦炭", "quantity": "1e3"}, {"source": "fuel", "material": "焦炭", "quantity": "-5"},
                 {"source": "process_input", "part": "nowhere", "material": "焦炭", "quantity": "1"}])
    r = c.post(url, bad, HTTP_ACCEPT_LANGUAGE="en")
    page = r.content.decode()
    assert r.status_code == 200 and "M0407" in page  # '1e3' and '-5' are not plain decimals: no coercion
    c.cookies["django_language"] = "zh-hans"
    r = c.post(url, _form([{"source": "fuel", "material": "焦炭", "quantity": "5", "ncv": "30"},
                           {"source": "process_input", "part": "nowhere", "material": "焦炭", "quantity": "1"}]))
    page = r.content.decode()
    assert "M0402" in page and "工序或机组填写有误" in page
    r = c.post(url, _form([{"source": "fuel", "material": "焦炭", "quantity": "5", "ncv": "30"}]))
    assert "M0104" in r.content.decode() and "6.2.2.2" in r.content.decode()
    assert not FacilityMonthlyFiling.objects.exists()
    ok = _form([{"source": "fuel", "material": "焦炭", "quantity": "1000"}, {"source": "product", "part": "ironmaking", "material": "生铁", "quantity": "900"}])
    r = c.post(url, ok)
    assert r.status_code == 302
    f = FacilityMonthlyFiling.objects.get(facility=fac, month=3)
    assert [(ln.source, ln.quantity) for ln in f.lines.all()] == [("fuel", 1000), ("product", 900)]
    # another entity's user cannot open the facility's month
    assert client_for(industry.users["cement"]).get(url).status_code == 404
    assert c.get(f"/mrv/facilities/{fac.pk}/{YEAR}/13/").status_code == 404


def test_pages_walk_plan_report_verification_review(industry):
    from cets.mrv.models import AnnualReport, DataQualityPlan, FacilityYearData
    from cets.mrv.services import verification_assign

    ns, w = industry, industry.world
    ent = client_for(ns.users["steel"])
    assert ent.get(f"/mrv/facilities/?year={YEAR}").status_code == 200
    ent.post("/mrv/facilities/action/plan/", {"year": "2025", "facility_id": str(ns.facilities["steel"].pk), "summary": "焦炭入厂检测"})
    plan = DataQualityPlan.objects.get(facility=ns.facilities["steel"])
    prov = client_for(w.province_sd)
    assert "焦炭入厂检测" in prov.get("/mrv/facilities/review/?year=2025").content.decode()
    from cets.web.selectors import inbox

    assert [i.count for i in inbox(user=w.province_sd, year=2025) if i.en.startswith("facility plans")] == [1]
    prov.post("/mrv/facilities/action/plan_review/", {"year": "2025", "plan_id": str(plan.pk), "approve": "1"})
    plan.refresh_from_db()
    assert plan.status == "approved"
    _file_year(ns, "steel")
    ent.post("/mrv/facilities/action/report/", {"year": str(YEAR), "sector": "steel"})
    rep = AnnualReport.objects.get(entity=ns.entities["steel"], year=YEAR, sector="steel")
    assert rep.emissions_t == STEEL[0]
    ent.post("/mrv/facilities/action/sign/", {"year": str(YEAR), "report_id": str(rep.pk)})
    rep.refresh_from_db()
    assert rep.signed_on is not None
    [a] = verification_assign(year=YEAR, province="37", entities=[ns.entities["steel"]], bodies=[ns.body], seed="p", actor=w.province_sd)
    ver = client_for(ns.verifier)
    assert str(STEEL[0]) in ver.get("/mrv/facilities/verify/").content.decode()
    assert [i.count for i in inbox(user=ns.verifier, year=YEAR) if i.en.startswith("facility annual reports")] == [1]
    r = ver.post("/mrv/facilities/action/verify/", {"assignment_id": str(a.pk), "year": str(YEAR), "facility": "W1", "emissions-W1": "1.5",
                                                   "intensity-W1": "1", "output-W1": "1", "conforming": "1", "completed_on": "2025-08-01"}, follow=True)
    assert "V0402" in r.content.decode()
    ver.post("/mrv/facilities/action/verify/", {"assignment_id": str(a.pk), "year": str(YEAR), "facility": "W1", "emissions-W1": str(STEEL[0]),
                                               "intensity-W1": str(STEEL[1]), "output-W1": str(STEEL[2]), "conforming": "1", "completed_on": "2025-08-01"})
    a.refresh_from_db()
    assert a.verified_emissions_t == STEEL[0] and a.conforming
    prov.post("/mrv/facilities/action/handover/", {"year": str(YEAR), "assignment_id": str(a.pk)})
    assert FacilityYearData.objects.get(facility=ns.facilities["steel"], year=YEAR).assignment_id == a.pk
    # a province outside the jurisdiction is refused with its code, nothing changes
    r = client_for(w.province_zj).post("/mrv/facilities/action/plan_review/", {"year": "2025", "plan_id": str(plan.pk), "approve": "0"}, follow=True)
    assert "R0502" in r.content.decode()
    assert client_for(w.province_sd).post("/mrv/facilities/action/bogus/", {}).status_code == 404
    assert prov.post("/mrv/facilities/action/sign/", {"report_id": "x"}).status_code == 404


def test_overdue_list(industry, world):
    from cets.mrv.selectors import facility_review

    # 2024, seen on 2025-09-01: no month filed (due 2025-06-30), no report (2025-06-30), no verification (2025-08-31)
    r = facility_review(user=world.province_sd, year=YEAR, today=dt.date(2025, 9, 1))
    duties = {(o["entity"].pk, o["duty"]) for o in r["overdue"]}
    for sector, e in industry.entities.items():
        assert {(e.pk, "monthly_filing"), (e.pk, "annual_report"), (e.pk, "verification")} <= duties
    assert sum(1 for o in r["overdue"] if o["duty"] == "monthly_filing") == 36
    assert not [o for o in r["overdue"] if o["duty"] == "dq_plan"]  # 2024 plans: 无需补报 (seed 003 §二(四))
    page = client_for(world.province_sd).get(f"/mrv/facilities/review/?year={YEAR}").content.decode()
    assert "W1" in page
    with pytest.raises(CetsError):
        facility_review(user=industry.users["steel"], year=YEAR, today=dt.date(2025, 9, 1))
    assert client_for(world.province_zj).get(f"/mrv/facilities/review/?year={YEAR}").status_code == 200


def test_api_month_report_outcome_handover(industry):
    from cets.mrv.models import FacilityYearData
    from cets.mrv.services import verification_assign

    ns, w = industry, industry.world
    fac = ns.facilities["aluminium"]
    c = client_for(ns.users["aluminium"])
    url = f"/api/v1/mrv/facilities/{fac.pk}/months/{YEAR}/1"
    r = c.post(url, {"lines": [{"source": "anode", "material": "炭阳极", "quantity": 400}]}, content_type="application/json")
    assert r.status_code == 422  # a number is decimal text, never a JSON number (no coercion)
    r = c.post(url, {"lines": [{"source": "anode", "material": "石墨", "quantity": "400"}]}, content_type="application/json")
    assert r.status_code == 422 and r.json()["problems"][0]["en"].startswith("M0106")
    for m in range(1, 13):
        r = c.post(f"/api/v1/mrv/facilities/{fac.pk}/months/{YEAR}/{m}", {"lines": [
            {"source": "anode", "material": "炭阳极", "quantity": "400"}, {"source": "product", "material": "原铝液", "quantity": "1000"}]},
            content_type="application/json")
        assert r.status_code == 200, r.content
    assert client_for(ns.users["steel"]).post(url, {"lines": []}, content_type="application/json").status_code == 404  # not its facility
    r = c.post(f"/api/v1/mrv/facility-reports/{ns.entities['aluminium'].uscc}/{YEAR}", {}, content_type="application/json")
    assert r.status_code == 200 and r.json()["emissions_t"] == 20336 and r.json()["sector"] == "aluminium"
    assert c.post(f"/api/v1/mrv/reports/{r.json()['id']}/sign", content_type="application/json").status_code == 200
    [a] = verification_assign(year=YEAR, province="37", entities=[ns.entities["aluminium"]], bodies=[ns.body], seed="api", actor=w.province_sd)
    v = client_for(ns.verifier)
    body = {"figures": [{"facility_id": "E1", "verified_emissions_t": 20336, "intensity_emissions_t": 20336, "output_t": "12000"}],
            "conforming": True, "completed_on": "2025-08-01"}
    assert v.post(f"/api/v1/mrv/assignments/{a.pk}/facility-outcome", body, content_type="application/json").status_code == 422  # strict int
    body["figures"][0]["output_t"] = 12000
    assert v.post(f"/api/v1/mrv/assignments/{a.pk}/facility-outcome", body, content_type="application/json").status_code == 200
    p = client_for(w.province_sd)
    assert p.post(f"/api/v1/mrv/assignments/{a.pk}/facility-year-data").json() == {"created": 1}
    assert FacilityYearData.objects.get(facility=fac, year=YEAR).output_t == 12000
    r = p.get("/api/v1/mrv/facility-overdue/2024")
    assert r.status_code == 200 and all(o["entity_uscc"] != ns.entities["aluminium"].uscc or o["duty"] != "verification" for o in r.json())


def test_odd_input_never_reaches_a_500(industry):
    from cets.mrv.models import FacilityMonthlyFiling

    fac = industry.facilities["steel"]
    c = client_for(industry.users["steel"])
    url = f"/mrv/facilities/{fac.pk}/{YEAR}/2/"
    for data in ({"rows": "99999999999"}, {"rows": "abc"}, _form([{"source": "fuel", "material": "焦炭", "quantity": "1" * 40}]),
                 _form([{"source": "fuel", "material": "焦炭", "quantity": "1.1234567"}]),
                 _form([{"source": "fuel", "material": "焦炭" * 30, "quantity": "1"}])):
        assert c.post(url, data).status_code == 200
    r = c.post(url, _form([{"source": "fuel", "material": "焦炭", "quantity": "1.1234567"}]))
    assert "M0407" in r.content.decode()
    api = f"/api/v1/mrv/facilities/{fac.pk}/months/{YEAR}/2"
    r = c.post(api, {"lines": [{"source": "fuel", "material": "焦炭", "quantity": "1", "ncv": "999999999999999"}]}, content_type="application/json")
    assert r.status_code == 422 and r.json()["problems"][0]["en"].startswith("M0407")
    assert c.post(f"/api/v1/mrv/facilities/{fac.pk}/months/{YEAR}/0", {"lines": [{"source": "fuel", "material": "焦炭", "quantity": "1"}]},
                  content_type="application/json").status_code == 422
    for name in ("plan", "report", "sign", "verify", "plan_review", "month_review", "handover"):
        assert c.post(f"/mrv/facilities/action/{name}/", {"year": "abc", "facility_id": "x", "report_id": "1" * 30}).status_code in (302, 404)
    assert not FacilityMonthlyFiling.objects.exists()
