"""Beijing carbon inclusion (碳普惠, PCER) through the API and the page (京环发〔2024〕8号 三(三)): the owner registers
and submits, the Beijing bureau approves and confirms, registry operators create and issue by four eyes — each step
refused to the wrong role or in the wrong order with its check code, refusals changing nothing; the inbox shows each
role its next step. Golden values from the pack's placeholders (beijing/pcer-2023-2026, all unconfirmed):
ev_conversion 100,000 vkm × 8 L/100 km ÷ 100 × 2.3 kg/L ÷ 1000 = 18.4 t; 15,000 kWh × 0.604 t/MWh ÷ 1000 = 9.06 t → 9 t."""

import pytest

from cets.mrv.models import PcerPeriod, PcerProject
from cets.registry.models import Holding, Position, Proposal
from cets.registry.services import proposal_approve
from tests.compliance.test_beijing import bj  # noqa: F401  (fixture)
from tests.conftest import client_for

ACT = {"vehicle_km": 100_000, "electricity_kwh": 15_000}


def _post(c, url, body=None):
    return c.post(url, body or {}, content_type="application/json")


def _inbox(user):
    from django.utils import timezone

    from cets.web.selectors import inbox

    return {i.en: i.count for i in inbox(user=user, year=timezone.localdate().year)}


@pytest.mark.django_db
def test_api_walk_owner_bureau_registry(bj):  # noqa: F811
    owner, bureau = client_for(bj.users[2]), client_for(bj.bureau)
    ra, rb = client_for(bj.w.registry_a, verified=True), client_for(bj.w.registry_b, verified=True)
    r = _post(owner, "/api/v1/mrv/pcer/projects", {"name": "油改电网约车", "methodology": "solar", "location": "北京市朝阳区"})
    assert r.status_code == 422 and r.json()["code"] == "P0101"
    r = _post(owner, "/api/v1/mrv/pcer/projects", {"name": "油改电网约车", "methodology": "ev_conversion", "location": "  "})
    assert r.status_code == 422 and r.json()["code"] == "P0205"
    assert PcerProject.objects.count() == 0
    r = _post(owner, "/api/v1/mrv/pcer/projects", {"name": "油改电网约车", "methodology": "ev_conversion", "location": "北京市朝阳区"})
    assert r.status_code == 200, r.content
    pid = r.json()["id"]
    assert _inbox(bj.bureau)["carbon-inclusion projects to approve"] == 1
    period = {"start": "2024-01-01", "end": "2024-06-30", "activity": ACT}
    r = _post(owner, f"/api/v1/mrv/pcer/projects/{pid}/periods", period)
    assert r.status_code == 422 and r.json()["code"] == "P0105"
    r = _post(owner, f"/api/v1/mrv/pcer/projects/{pid}/approve")
    assert r.status_code == 403 and r.json()["code"] == "R0502"
    assert _post(bureau, f"/api/v1/mrv/pcer/projects/{pid}/approve").json()["status"] == "approved"
    assert _post(bureau, f"/api/v1/mrv/pcer/projects/{pid}/approve").json()["code"] == "P0106"
    assert _inbox(bj.users[2])["approved carbon-inclusion projects without a monitoring period"] == 1
    r = _post(owner, f"/api/v1/mrv/pcer/projects/{pid}/periods", {**period, "activity": {"vehicle_km": "100000", "electricity_kwh": 1}})
    assert r.status_code == 422 and PcerPeriod.objects.count() == 0
    r = _post(owner, f"/api/v1/mrv/pcer/projects/{pid}/periods", {**period, "end": "2023-12-31"})
    assert r.json()["code"] == "P0107"
    r = _post(owner, f"/api/v1/mrv/pcer/projects/{pid}/periods", period)
    assert r.status_code == 200, r.content
    q = r.json()
    assert (q["reduction_t"], q["status"]) == (9, "submitted")
    assert q["lines"] == [["baseline", "100000 km × 8 L/100 km ÷ 100 × 2.3 kg CO2/L ÷ 1000 = 18.4 t"],
                          ["project", "15000 kWh × 0.604 t CO2/MWh ÷ 1000 = 9.06 t"],
                          ["reduction", "max(0, floor(18.4 t − 9.06 t)) = 9 t"]]
    # the registry cannot issue what the bureau has not confirmed
    r = _post(ra, f"/api/v1/mrv/pcer/periods/{q['id']}/issuance")
    assert r.json()["code"] == "P0201"
    assert _inbox(bj.bureau)["carbon-inclusion monitoring periods to confirm"] == 1
    assert _post(owner, f"/api/v1/mrv/pcer/periods/{q['id']}/confirm").json()["code"] == "R0502"
    assert _post(bureau, f"/api/v1/mrv/pcer/periods/{q['id']}/confirm").json()["status"] == "confirmed"
    assert _inbox(bj.w.registry_a)["confirmed carbon-inclusion reductions to issue"] == 1
    assert _post(bureau, f"/api/v1/mrv/pcer/periods/{q['id']}/issuance").json()["code"] == "R0502"
    # step 1: creation of PCER-2024 (the period ends in 2024), four eyes
    p1 = _post(ra, f"/api/v1/mrv/pcer/periods/{q['id']}/issuance").json()
    assert (p1["kind"], p1["status"]) == ("vintage_create", "proposed")
    assert "confirmed carbon-inclusion reductions to issue" not in _inbox(bj.w.registry_a)
    assert _post(ra, f"/api/v1/mrv/pcer/periods/{q['id']}/issuance").json()["code"] == "P0202"  # creation awaits approval
    assert Proposal.objects.get(pk=p1["id"]).payload["cap_t"] == 9
    proposal_approve(proposal_id=p1["id"], approver=bj.w.registry_b)
    # step 2: issuance to the owner's Beijing account, four eyes
    p2 = _post(rb, f"/api/v1/mrv/pcer/periods/{q['id']}/issuance").json()
    assert p2["kind"] == "issue"
    assert _post(ra, f"/api/v1/mrv/pcer/periods/{q['id']}/issuance").json()["code"] == "P0202"
    proposal_approve(proposal_id=p2["id"], approver=bj.w.registry_a)
    assert Holding.objects.get(account=bj.acc[2], unit_type__code="PCER-2024", position=Position.REGISTRY).quantity == 9
    assert _post(ra, f"/api/v1/mrv/pcer/periods/{q['id']}/issuance").json()["code"] == "P0202"  # already issued
    listed = owner.get("/api/v1/mrv/pcer/projects").json()
    assert [(x["id"], x["periods"][0]["issued"]) for x in listed] == [(pid, True)]
    assert client_for(bj.users[0]).get("/api/v1/mrv/pcer/projects").json() == []  # another entity sees none
    assert len(client_for(bj.bureau).get("/api/v1/mrv/pcer/projects").json()) == 1


@pytest.mark.django_db
def test_a_rejected_step_may_be_proposed_again_and_zero_is_not_issued(bj):  # noqa: F811
    import datetime as dt

    from cets.mrv.pcer_services import pcer_issuance_propose, pcer_period_confirm, pcer_period_submit, pcer_project_approve, pcer_project_register
    from cets.registry.services import proposal_reject

    D = dt.date.fromisoformat
    p = pcer_project_register(owner=bj.orgs[2], name="氢能物流", methodology="hydrogen_fcv", location="北京市大兴区", actor=bj.users[2])
    pcer_project_approve(project_id=p.pk, actor=bj.bureau)
    zero = pcer_period_submit(project_id=p.pk, start=D("2024-01-01"), end=D("2024-03-31"), activity={"vehicle_km": 1_000_000, "hydrogen_kg": 80_000},
                              actor=bj.users[2])
    pcer_period_confirm(period_id=zero.pk, actor=bj.bureau)
    with pytest.raises(Exception) as e:
        pcer_issuance_propose(period_id=zero.pk, actor=bj.w.registry_a)
    assert e.value.code == "P0204"
    q = pcer_period_submit(project_id=p.pk, start=D("2024-04-01"), end=D("2024-06-30"), activity={"vehicle_km": 1_000_000, "hydrogen_kg": 60_000},
                           actor=bj.users[2])
    pcer_period_confirm(period_id=q.pk, actor=bj.bureau)
    first = pcer_issuance_propose(period_id=q.pk, actor=bj.w.registry_a)
    proposal_reject(proposal_id=first.pk, approver=bj.w.registry_b, reason="cap to be checked")
    again = pcer_issuance_propose(period_id=q.pk, actor=bj.w.registry_a)
    assert again.pk != first.pk and again.payload["cap_t"] == 50 and again.key == f"pcer-create-{q.pk}-after-{first.pk}"


@pytest.mark.django_db
def test_page_by_role(bj):  # noqa: F811
    owner = client_for(bj.users[2])
    r = owner.post("/mrv/pcer/", {"register": "1", "name": "公交地铁出行激励", "methodology": "low_carbon_travel", "location": "北京市"}, follow=True)
    assert r.status_code == 200
    p = PcerProject.objects.get()
    client_for(bj.bureau).post("/mrv/pcer/", {"approve": "1", "id": str(p.pk)}, follow=True)
    assert PcerProject.objects.get().status == "approved"
    form = {"submit": "1", "id": str(p.pk), "start": "2024-01-01", "end": "2024-06-30", "a_bus_pkm": "1000000", "a_metro_pkm": "2000000",
            "a_cycling_pkm": "100000", "a_walking_pkm": "1.5"}
    r = owner.post("/mrv/pcer/", form, follow=True)
    assert "P0102" in r.content.decode() and PcerPeriod.objects.count() == 0
    r = owner.post("/mrv/pcer/", {**form, "start": "2024-13-01", "a_walking_pkm": "10000"}, follow=True)
    assert "P0205" in r.content.decode() and PcerPeriod.objects.count() == 0
    r = owner.post("/mrv/pcer/", {**form, "a_walking_pkm": "10000"}, follow=True)
    page = r.content.decode()
    assert PcerPeriod.objects.get().reduction_t == 314
    assert "3110000 pkm × 135 g/pkm ÷ 10⁶ = 419.85 t" in page and "max(0, floor(419.85 t − 105 t)) = 314 t" in page
    # another entity neither sees nor acts on it; a junk id is a 404, never a 500
    other = client_for(bj.users[0])
    assert "公交地铁出行激励" not in other.get("/mrv/pcer/").content.decode()
    assert other.post("/mrv/pcer/", {"approve": "1", "id": str(p.pk)}).status_code == 404
    assert owner.post("/mrv/pcer/", {"confirm": "1", "id": "x" * 40}).status_code == 404
    assert owner.put("/mrv/pcer/").status_code == 405
