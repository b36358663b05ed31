"""Compliance notices (履约通知书) and certificates (履约完成证明): issuance with the final allocation,
delivery to the entity or through the province, access, bilingual PDF with embedded CJK fonts."""

import os

import pytest

from cets.allocation.models import EntityAllocation
from cets.allocation.services import special_treatment_set
from cets.compliance import documents
from cets.compliance.models import ComplianceNotice, Obligation
from cets.compliance.services import compliance_certificate_issue, compliance_notice_forward, compliance_notices_issue, obligations_create
from cets.core.errors import CetsError
from cets.registry.reports import pdf_available
from tests.compliance.helpers import issue, surrender
from tests.conftest import SD_1, SD_2, ZJ_1, client_for, when


def allocate(entity, emissions, stage=EntityAllocation.Stage.FINAL_ISSUED):
    # final = initial + top-up; delta = final − pre (model constraints)
    EntityAllocation.objects.create(entity=entity, year=2023, pack_id="national/power-2023-2024", verified_emissions_t=emissions, obligation_t=emissions,
                                    pre_allocation_t=emissions // 2, initial_allocation_t=emissions, shortfall_topup_t=0,
                                    final_allocation_t=emissions, issue_delta_t=emissions - emissions // 2, stage=stage)


@pytest.fixture
def notices(world):
    allocate(world.sd1, 100_000)
    allocate(world.sd2, 40_001)
    allocate(world.zj1, 7_000, stage=EntityAllocation.Stage.PRE_ISSUED)  # final allocation not issued yet: no notice
    special_treatment_set(entity=world.sd2, year=2023, kind="compliance_risk", reason="司法冻结 judicial freeze", actor=world.province_sd)
    obligations_create(year=2023, pack_id="national/power-2023-2024")
    with pytest.raises(CetsError) as e:
        compliance_notices_issue(year=2023, actor=world.province_sd, at=when("2024-11-01"))
    assert e.value.code == "R0502"
    assert ComplianceNotice.objects.count() == 0
    assert compliance_notices_issue(year=2023, actor=world.registry_a, at=when("2024-11-01")) == 2
    assert compliance_notices_issue(year=2023, actor=world.registry_a, at=when("2024-11-02")) == 0  # idempotent
    return {n.obligation.entity.uscc: n for n in ComplianceNotice.objects.select_related("obligation__entity")}


def test_notice_content_and_delivery(world, notices):
    n1, n2 = notices[SD_1], notices[SD_2]
    assert ZJ_1 not in notices
    # 40,001 t × 5% = 2,000.05 → floor → 2,000 t offset cap (Measures Art. 29; pack offset_rounding = floor)
    assert (n2.obligation_t, n2.offset_cap_t, str(n2.deadline)) == (40_001, 2_000, "2024-12-31")
    assert n1.delivered_to == "entity"
    assert n2.delivered_to == "province"  # risk-flagged: allowances held by the province
    entity2 = client_for_entity(world, world.sd2)
    assert entity2.get(f"/compliance/notices/{n2.pk}/").status_code == 404  # not yet forwarded
    with pytest.raises(CetsError) as e:
        compliance_notice_forward(notice_id=n1.pk, actor=world.province_sd)
    assert e.value.code == "C0902"
    with pytest.raises(CetsError) as e:
        compliance_notice_forward(notice_id=n2.pk, actor=world.province_zj)
    assert e.value.code == "R0502"
    compliance_notice_forward(notice_id=n2.pk, actor=world.province_sd, at=when("2024-11-03"))
    page = entity2.get(f"/compliance/notices/{n2.pk}/").content.decode()
    assert "40,001" in page
    assert "2024-12-31" in page
    assert "2,000" in page
    assert client_for(world.entity_zj1_user).get(f"/compliance/notices/{n1.pk}/").status_code == 404  # another entity
    assert client_for(world.province_zj).get(f"/compliance/notices/{n1.pk}/").status_code == 404  # another province
    assert client_for(world.province_sd).get(f"/compliance/notices/{n1.pk}/").status_code == 200
    html = documents.notice_html(n1)
    for text in ("履约通知书", "Compliance notice", "100,000", "2024-12-31", "5%", "5,000", "2017-03-14", "2024-01-22", "2019-2020、2021、2022、2023"):
        assert text in html, text


def client_for_entity(world, entity):
    from cets.parties.models import Role
    from cets.parties.services import member_create

    return client_for(member_create(username=f"u{entity.pk}", organisation=entity, role=Role.ENTITY, password="test-password-123"))


def _pdf_or_skip():
    if not pdf_available() and os.environ.get("CETS_TEST_PDF") != "required":
        pytest.skip("WeasyPrint not available")


def test_notice_pdf_embeds_chinese_fonts(world, notices):
    _pdf_or_skip()
    from weasyprint import HTML

    r = client_for(world.entity_sd1_user).get(f"/compliance/notices/{notices[SD_1].pk}/pdf/")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    raw = HTML(string=documents.notice_html(notices[SD_1])).write_pdf(uncompressed_pdf=True)
    assert b"/FontFile" in raw
    assert b"CJK" in raw  # a Noto CJK subset is embedded, not referenced


def test_certificate_once_surrendered_in_full(world, notices):
    ob = Obligation.objects.get(entity=world.sd1, year=2023)
    issue(world, SD_1, world.cea, 100_000)
    surrender(world, world.sd1, world.entity_sd1_user, 2023, "CEA-2023", 60_000, "2024-12-10", "c1")
    with pytest.raises(CetsError) as e:
        compliance_certificate_issue(obligation_id=ob.pk, actor=world.registry_a, at=when("2024-12-11"))
    assert e.value.code == "C0901"  # 40,000 t outstanding
    surrender(world, world.sd1, world.entity_sd1_user, 2023, "CEA-2023", 40_000, "2025-01-08", "c2")  # late
    with pytest.raises(CetsError) as e:
        compliance_certificate_issue(obligation_id=ob.pk, actor=world.province_sd)
    assert e.value.code == "R0502"
    c = compliance_certificate_issue(obligation_id=ob.pk, actor=world.registry_a, at=when("2025-01-09"))
    assert (c.outcome, c.surrendered_t, c.number) == ("late", 100_000, f"LYZM-2023-{SD_1}")
    assert compliance_certificate_issue(obligation_id=ob.pk, actor=world.registry_b).pk == c.pk
    html = documents.certificate_html(c)
    assert "履约完成证明" in html
    assert "逾期足额履约" in html
    assert "late in full" in html
    assert client_for(world.entity_zj1_user).get(f"/compliance/certificates/{c.pk}/pdf/").status_code == 404
    if pdf_available():
        r = client_for(world.entity_sd1_user).get(f"/compliance/certificates/{c.pk}/pdf/")
        assert r.status_code == 200
        assert r.content.startswith(b"%PDF")
    page = client_for(world.province_sd).get("/compliance/2023/").content.decode()
    assert f"LYZM-2023-{SD_1}" in page
    assert ZJ_1 not in page
