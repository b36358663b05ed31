"""A 不符合 verification conclusion blocks final allocation until resolved; the real conclusions
(data/cets-verification-entities) are shown to the authorities in scope as blocked cases."""

from decimal import Decimal

import pytest

from cets.core.errors import CetsError
from tests.conftest import DATA, SD_1, SD_2, ZJ_1, client_for, when

TARGETS = DATA / "cets-verification-entities" / "verification_targets.csv"


def test_real_non_conforming_conclusions_are_blocked_cases_in_scope(db):
    """All 14,613 real verification relations 2022–2024 through the platform's importer."""
    from cets.mrv.models import VerificationRecord
    from cets.mrv.selectors import blocked_cases, verification_blocks
    from cets.mrv.services import disclosures_import as entities_import
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create

    entities_import(path=TARGETS)
    sd = member_create(username="psd", organisation=Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="山东省生态环境厅",
                                                                                province="37"), role=Role.PROVINCIAL_AUTHORITY, province="37")
    mee = member_create(username="mee", organisation=Organisation.objects.create(kind=Organisation.Kind.AUTHORITY, name="生态环境部"),
                        role=Role.NATIONAL_AUTHORITY)
    # The disclosure file: 182 不符合 = power 52 (2022) + 97 (2023) + 24 (2024) + 9 other sectors in 2024
    assert VerificationRecord.objects.filter(conforming=False).count() == 182
    assert blocked_cases(user=mee).count() == 182
    assert blocked_cases(user=mee, year=2023, sector="power").count() == 97
    assert blocked_cases(user=mee, sector="power").count() == 52 + 97 + 24
    in_sd = list(blocked_cases(user=sd, year=2023))
    assert in_sd
    assert all(r.entity.province == "37" for r in in_sd)
    assert len(in_sd) < 97
    first = in_sd[0]
    assert verification_blocks(entity_id=first.entity_id, year=2023)
    assert blocked_cases(user=None).count() == 0


@pytest.fixture
def issued_pre(world):
    """Three entities with computed allocations and the pre-allocation issued (four eyes)."""
    from cets.allocation.services import allocation_compute, allocation_issue_confirm, allocation_issue_propose
    from cets.mrv.models import UnitYearData
    from cets.mrv.services import unit_year_data_upsert
    from cets.parties.models import GeneratingUnit, Organisation
    from cets.parties.services import units_upsert
    from cets.registry.services import proposal_approve

    units_upsert(units=[GeneratingUnit(entity=o, code="#1", category="I", rated_capacity_mw=Decimal(600)) for o in (world.sd1, world.sd2, world.zj1)])
    rows = []
    for u in GeneratingUnit.objects.all():
        for y in (2022, 2023):
            rows.append(UnitYearData(unit=u, year=y, generation_mwh=Decimal(1_000_000), heat_supplied_gj=Decimal(0), load_factor=Decimal("0.7"),
                                     verified_emissions_t=800_000))
    unit_year_data_upsert(rows=rows)
    allocation_compute(year=2023, pack_id="national/power-2023-2024")
    p = allocation_issue_propose(year=2023, stage="pre", unit_type=world.cea, actor=world.registry_a, effective_at=when("2024-11-15"))
    proposal_approve(proposal_id=p.pk, approver=world.registry_b)
    allocation_issue_confirm(year=2023, stage="pre")
    world.verifier = Organisation.objects.create(uscc="91110108MA01R1234X", name="测试核查机构", kind=Organisation.Kind.VERIFIER)
    return world


def _record(w, entity, conforming, list_id="VER-T1", year=2023):
    from cets.mrv.models import VerificationRecord
    from cets.mrv.services import verification_records_upsert

    verification_records_upsert(records=[(year, "power", entity.pk, w.verifier.pk, list_id, True, conforming)], source="test")
    return VerificationRecord.objects.get(entity=entity, list_id=list_id)


def _referenced(p) -> str:
    return " ".join(ln["reference"] for ln in p.payload["lines"])


def test_non_conforming_blocks_final_allocation_until_resolved(issued_pre):
    """An unresolved 不符合 conclusion holds back only the entity concerned: the others are issued, and the
    entity follows in a later batch once its case is resolved (issue 11)."""
    from cets.allocation.models import EntityAllocation
    from cets.allocation.services import allocation_issue_confirm, allocation_issue_propose
    from cets.mrv.selectors import verification_blocks
    from cets.mrv.services import verification_resolve
    from cets.registry.services import proposal_approve

    w = issued_pre
    _record(w, w.sd1, True, "VER-OK")
    _record(w, w.zj1, False, "VER-NO", year=2022)  # another year: does not block 2023
    rec = _record(w, w.sd2, False)
    assert [r.pk for r in verification_blocks(entity_id=w.sd2.pk, year=2023)] == [rec.pk]
    assert verification_blocks(entity_id=w.sd1.pk, year=2023) == []
    first = allocation_issue_propose(year=2023, stage="final", unit_type=w.cea, actor=w.registry_a)
    assert SD_2 not in _referenced(first)
    assert SD_1 in _referenced(first)
    proposal_approve(proposal_id=first.pk, approver=w.registry_b)
    assert allocation_issue_confirm(year=2023, stage="final") == 2
    stages = dict(EntityAllocation.objects.values_list("entity__uscc", "stage"))
    assert stages[SD_1] == EntityAllocation.Stage.FINAL_ISSUED
    assert stages[SD_2] == EntityAllocation.Stage.PRE_ISSUED
    with pytest.raises(CetsError) as e:  # only the blocked entity is left
        allocation_issue_propose(year=2023, stage="final", unit_type=w.cea, actor=w.registry_a)
    assert e.value.code == "A0130"
    assert SD_2 in e.value.en
    # A Zhejiang authority cannot resolve a Shandong case; an entity cannot either
    for who in (w.province_zj, w.entity_sd1_user):
        with pytest.raises(CetsError) as e:
            verification_resolve(record_id=rec.pk, actor=who, resolution="reverified")
        assert e.value.code == "R0502"
    with pytest.raises(CetsError) as e:
        verification_resolve(record_id=rec.pk, actor=w.province_sd, resolution="forgiven")
    assert e.value.code == "V0203"
    verification_resolve(record_id=rec.pk, actor=w.province_sd, resolution="reverified", note="整改后复核", at=when("2024-12-02"))
    with pytest.raises(CetsError) as e:
        verification_resolve(record_id=rec.pk, actor=w.province_sd, resolution="reverified")
    assert e.value.code == "V0202"
    assert verification_blocks(entity_id=w.sd2.pk, year=2023) == []
    second = allocation_issue_propose(year=2023, stage="final", unit_type=w.cea, actor=w.registry_a)
    assert second.key == "allocation-national-power-2023-final-b2"
    assert SD_2 in _referenced(second)


def test_conforming_conclusion_cannot_be_resolved_and_db_refuses_inconsistent_resolution(issued_pre):
    from django.db import IntegrityError, transaction

    from cets.mrv.models import VerificationRecord
    from cets.mrv.services import verification_resolve

    w = issued_pre
    ok = _record(w, w.sd1, True)
    with pytest.raises(CetsError) as e:
        verification_resolve(record_id=ok.pk, actor=w.province_sd, resolution="reverified")
    assert e.value.code == "V0201"
    with pytest.raises(IntegrityError), transaction.atomic():
        VerificationRecord.objects.filter(pk=ok.pk).update(resolution="reverified", resolved_at=when("2024-12-01"), resolved_by=w.province_sd)


def test_blocked_cases_page_and_api_are_scoped(issued_pre):
    w = issued_pre
    _record(w, w.sd2, False, "VER-SD")
    _record(w, w.zj1, False, "VER-ZJ")
    sd = client_for(w.province_sd)
    page = sd.get("/mrv/blocked/?year=2023")
    assert page.status_code == 200
    html = page.content.decode()
    assert SD_2 in html
    assert ZJ_1 not in html
    api = sd.get("/api/v1/mrv/blocked-cases?year=2023").json()
    assert [c["entity_uscc"] for c in api] == [SD_2]
    assert api[0]["blocked"] is True
    assert {c["entity_uscc"] for c in client_for(w.mee).get("/api/v1/mrv/blocked-cases").json()} == {SD_2, ZJ_1}
    ent = client_for(w.entity_sd1_user).get("/api/v1/mrv/blocked-cases").json()
    assert ent == []
    zj_case = next(c for c in client_for(w.mee).get("/api/v1/mrv/blocked-cases").json() if c["entity_uscc"] == ZJ_1)
    assert sd.post(f"/api/v1/mrv/blocked-cases/{zj_case['id']}/resolve", {"resolution": "determined"},
                   content_type="application/json").status_code == 404  # outside Shandong's scope: not revealed
    done = sd.post(f"/api/v1/mrv/blocked-cases/{api[0]['id']}/resolve", {"resolution": "determined", "note": "核定"}, content_type="application/json")
    assert done.status_code == 200
    assert done.json()["blocked"] is False
    assert done.json()["resolution"] == "determined"
