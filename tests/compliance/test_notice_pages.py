"""Compliance notices and certificates on pages (issue 15): the province forwards a notice delivered to it, the
registry issues the certificate of an obligation surrendered in full, each with a POST button (CSRF) and numbered
refusals; the entity reaches its notice and certificate PDFs from its own pages."""

from __future__ import annotations

import pytest

from cets.compliance.models import ComplianceCertificate, ComplianceNotice, Obligation
from tests.compliance.helpers import issue, surrender
from tests.compliance.test_documents import client_for_entity, notices  # noqa: F401 (the fixture)
from tests.conftest import SD_1, client_for


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


@pytest.mark.django_db
def test_the_province_forwards_a_notice_delivered_to_it(world, notices):  # noqa: F811
    n1, n2 = notices[SD_1], next(n for n in notices.values() if n.delivered_to == "province")
    url = f"/compliance/notices/{n2.pk}/forward/"
    province = client_for(world.province_sd, verified=True)
    assert "待转送重点排放单位的履约通知书" in province.get("/?year=2023").content.decode()  # in the province's inbox
    page = province.get(f"/compliance/notices/{n2.pk}/").content.decode()
    assert 'id="forward-form"' in page and url in page
    assert 'id="forward-form"' not in province.get(f"/compliance/notices/{n1.pk}/").content.decode()  # delivered to the entity
    entity = client_for_entity(world, n2.obligation.entity)
    assert entity.get(f"/compliance/notices/{n2.pk}/").status_code == 404
    assert province.get(url).status_code == 404  # POST only
    assert client_for(world.province_zj, verified=True).post(url).status_code == 404  # another province: not even seen
    assert entity.post(url).status_code == 404
    r = client_for(world.province_sd).post(url, follow=True)  # a session without the dynamic code
    assert "L0201" in messages_of(r)
    assert ComplianceNotice.objects.get(pk=n2.pk).forwarded_at is None
    r = province.post(f"/compliance/notices/{n1.pk}/forward/", follow=True)
    assert "C0902" in messages_of(r)
    r = province.post(url, follow=True)
    assert r.redirect_chain[-1][0] == f"/compliance/notices/{n2.pk}/"
    assert n2.number in messages_of(r)
    assert ComplianceNotice.objects.get(pk=n2.pk).forwarded_at is not None
    assert 'id="forward-form"' not in r.content.decode()  # done: no button any more
    assert entity.get(f"/compliance/notices/{n2.pk}/").status_code == 200
    assert "待转送重点排放单位的履约通知书" not in province.get("/?year=2023").content.decode()
    assert f"/compliance/notices/{n2.pk}/" in entity.get("/?year=2023").content.decode()  # the entity's inbox: notice received
    overview = entity.get("/compliance/2023/").content.decode()
    assert f"/compliance/notices/{n2.pk}/pdf/" in overview


@pytest.mark.django_db
def test_the_registry_issues_the_certificate_and_the_entity_reaches_its_pdf(world, notices):  # noqa: F811
    ob = Obligation.objects.get(entity=world.sd1, year=2023)
    url = f"/compliance/obligations/{ob.pk}/certificate/"
    registry = client_for(world.registry_a, verified=True)
    issue(world, SD_1, world.cea, 100_000)
    surrender(world, world.sd1, world.entity_sd1_user, 2023, "CEA-2023", 60_000, "2024-12-10", "p1")
    assert url not in registry.get("/compliance/2023/").content.decode()  # 40,000 t still outstanding: no button
    r = registry.post(url, follow=True)
    assert "C0901" in messages_of(r)
    assert not ComplianceCertificate.objects.exists()
    surrender(world, world.sd1, world.entity_sd1_user, 2023, "CEA-2023", 40_000, "2024-12-11", "p2")
    assert url in registry.get("/compliance/2023/").content.decode()
    assert "待出具的履约完成证明" in registry.get("/?year=2023").content.decode()
    assert 'id="certificate-form"' in registry.get(f"/compliance/notices/{notices[SD_1].pk}/").content.decode()
    assert client_for(world.province_sd, verified=True).post(url).status_code == 404  # not the registry
    assert client_for(world.entity_sd1_user, verified=True).post(url).status_code == 404
    assert client_for(world.registry_a).post(url, follow=True).status_code == 200 and not ComplianceCertificate.objects.exists()  # L0201
    r = registry.post(url, follow=True)
    assert r.redirect_chain[-1][0] == "/compliance/2023/"
    c = ComplianceCertificate.objects.get(obligation=ob)
    assert c.number in messages_of(r)
    assert registry.post(url).status_code == 302 and ComplianceCertificate.objects.count() == 1  # idempotent
    assert "待出具的履约完成证明" not in registry.get("/?year=2023").content.decode()
    entity = client_for(world.entity_sd1_user)
    for page in ("/?year=2023", f"/entities/{SD_1}/?year=2023"):
        html = entity.get(page).content.decode()
        assert f"/compliance/certificates/{c.pk}/pdf/" in html, page
        assert f"/compliance/notices/{notices[SD_1].pk}/pdf/" in html, page


@pytest.mark.django_db
def test_forward_and_certificate_over_the_api(world, notices):  # noqa: F811
    n1, n2 = notices[SD_1], next(n for n in notices.values() if n.delivered_to == "province")
    r = client_for(world.province_zj, verified=True).post(f"/api/v1/compliance/notices/{n2.pk}/forward")
    assert (r.status_code, r.json()["code"]) == (403, "R0502")
    assert client_for(world.province_sd).post(f"/api/v1/compliance/notices/{n2.pk}/forward").json()["code"] == "L0201"
    assert client_for(world.province_sd, verified=True).post(f"/api/v1/compliance/notices/{n1.pk}/forward").json()["code"] == "C0902"
    r = client_for(world.province_sd, verified=True).post(f"/api/v1/compliance/notices/{n2.pk}/forward")
    assert r.status_code == 200 and r.json()["forwarded_at"] and r.json()["number"] == n2.number
    ob = n1.obligation
    registry = client_for(world.registry_a, verified=True)
    assert registry.post(f"/api/v1/compliance/obligations/{ob.pk}/certificate").json()["code"] == "C0901"
    issue(world, SD_1, world.cea, 100_000)
    surrender(world, world.sd1, world.entity_sd1_user, 2023, "CEA-2023", 100_000, "2024-12-10", "api-full")
    assert client_for(world.province_sd, verified=True).post(f"/api/v1/compliance/obligations/{ob.pk}/certificate").json()["code"] == "R0502"
    r = registry.post(f"/api/v1/compliance/obligations/{ob.pk}/certificate")
    assert r.status_code == 200
    assert (r.json()["number"], r.json()["outcome"], r.json()["surrendered_t"]) == (f"LYZM-2023-{SD_1}", "on_time", 100_000)
    assert registry.post("/api/v1/compliance/obligations/999999/certificate").json()["code"] == "R0606"
