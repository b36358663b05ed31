"""Dynamic adjustment (seed notice 国环规气候〔2024〕1号 二(三), 3 working days) and objections (Measures (trial)
Art. 16: 7 working days to object, 10 to decide), on the real database and the working-day calendar.

2024 National Day: 10-01…10-07 off; Sunday 09-29 and Saturday 10-12 are make-up working days."""

import datetime as dt

import pytest

from cets.allocation.models import AllocationObjection, DynamicAdjustment, EntityAllocation
from cets.allocation.services import (
    allocation_compute,
    allocation_issue_confirm,
    allocation_issue_propose,
    dynamic_adjustment_confirm,
    dynamic_adjustment_propose,
    dynamic_adjustment_record,
    objection_decide,
    objection_file,
    tables_publication_record,
)
from cets.core.errors import CetsError
from cets.mrv.models import UnitYearData
from cets.registry.selectors import available
from cets.registry.services import proposal_approve

PACK = "national/power-2023-2024"
D = dt.date.fromisoformat


def issue_year(w):
    allocation_compute(year=2023, pack_id=PACK)
    for stage in ("pre", "final"):
        p = allocation_issue_propose(year=2023, stage=stage, unit_type=w.cea, actor=w.registry_a)
        proposal_approve(proposal_id=p.pk, approver=w.registry_b)
        allocation_issue_confirm(year=2023, stage=stage)


def redetermine(entity, code, e):
    # stands for the MRV context re-determining the verification result of one unit
    UnitYearData.objects.filter(unit__entity=entity, unit__code=code, year=2023).update(verified_emissions_t=e)


def test_more_emissions_after_enforcement_issue_the_difference(fleet):
    w = fleet
    issue_year(w)
    assert available(account=w.accounts[w.sd1.uscc], unit_type=w.cea) == 136_000
    # SD_1 unit A: 110,000 → 120,000. E = 180,000; initial still 119,250; 0.8 × 180,000 = 144,000 → top-up 24,750;
    # 应发 144,000 (was 136,000) → issue +8,000
    redetermine(w.sd1, "A", 120_000)
    d = dynamic_adjustment_record(entity=w.sd1, year=2023, reason="执法检查发现少报", source="enforcement:1", redetermined_on=D("2024-09-27"),
                                  actor=w.province_sd, on=D("2024-10-08"))
    # 3 working days after Fri 09-27: Sun 09-29 (make-up), Mon 09-30, Tue 10-08
    assert (d.deadline, d.late) == (D("2024-10-08"), False)
    assert (d.old_final_allocation_t, d.new_final_allocation_t, d.delta_t, d.status) == (136_000, 144_000, 8_000, "recorded")
    a = EntityAllocation.objects.get(entity=w.sd1)
    assert (a.obligation_t, a.shortfall_topup_t, a.final_issue_t) == (180_000, 24_750, 144_000 - 105_000)
    assert dynamic_adjustment_record(entity=w.sd1, year=2023, reason="x", source="enforcement:1", redetermined_on=D("2024-09-27"),
                                     actor=w.province_sd).pk == d.pk  # idempotent on the source
    with pytest.raises(CetsError):
        dynamic_adjustment_propose(adjustment_id=d.pk, unit_type=w.cea, actor=w.province_sd)  # registry operators propose
    p = dynamic_adjustment_propose(adjustment_id=d.pk, unit_type=w.cea, actor=w.registry_a)
    with pytest.raises(CetsError) as e:
        dynamic_adjustment_confirm(adjustment_id=d.pk)
    assert e.value.check.code == "A0104"
    proposal_approve(proposal_id=p.pk, approver=w.registry_b)
    dynamic_adjustment_confirm(adjustment_id=d.pk)
    assert available(account=w.accounts[w.sd1.uscc], unit_type=w.cea) == 144_000
    a.refresh_from_db()
    assert a.issued_t == 144_000


def test_fewer_emissions_claw_back_and_a_late_record(fleet):
    w = fleet
    issue_year(w)
    # ZJ_1 gas unit: 40,000 → 35,000; A = 33,586 < 35,000 → gas top-up 1,414 → 应发 35,000 (was 40,000) → claw back 5,000
    redetermine(w.zj1, "G1", 35_000)
    d = dynamic_adjustment_record(entity=w.zj1, year=2023, reason="核查结果更正", source="mrv:9", redetermined_on=D("2024-09-27"),
                                  actor=w.province_zj, on=D("2024-10-09"))
    assert (d.delta_t, d.late) == (-5_000, True)  # recorded the 4th working day
    p = dynamic_adjustment_propose(adjustment_id=d.pk, unit_type=w.cea, actor=w.registry_a)
    proposal_approve(proposal_id=p.pk, approver=w.registry_b)
    dynamic_adjustment_confirm(adjustment_id=d.pk)
    assert available(account=w.accounts[w.zj1.uscc], unit_type=w.cea) == 35_000
    with pytest.raises(CetsError) as e:
        dynamic_adjustment_propose(adjustment_id=d.pk, unit_type=w.cea, actor=w.registry_a)
    assert e.value.check.code == "A0115"
    with pytest.raises(CetsError):  # another province's authority
        dynamic_adjustment_record(entity=w.zj1, year=2023, reason="x", source="mrv:10", redetermined_on=D("2024-09-27"), actor=w.province_sd)


def test_before_final_issuance_the_change_carries_and_unchanged_data_is_no_change(fleet):
    w = fleet
    allocation_compute(year=2023, pack_id=PACK)
    d = dynamic_adjustment_record(entity=w.sd2, year=2023, reason="复核", source="mrv:1", redetermined_on=D("2024-09-27"), actor=w.mee,
                                  on=D("2024-09-30"))
    assert (d.status, d.delta_t) == (DynamicAdjustment.Status.NO_CHANGE, 0)
    # SD_2: 90,000 → 110,000: 0.8 × 110,000 = 88,000 > 80,900 → top-up 7,100 → 应发 88,000 (was 80,900): carried, +7,100
    redetermine(w.sd2, "1", 110_000)
    d = dynamic_adjustment_record(entity=w.sd2, year=2023, reason="复核", source="mrv:2", redetermined_on=D("2024-09-27"), actor=w.mee,
                                  on=D("2024-09-30"))
    assert (d.status, d.delta_t, d.new_final_allocation_t) == (DynamicAdjustment.Status.CARRIED, 7_100, 88_000)


def test_objection_periods_on_the_working_day_calendar(fleet):
    w = fleet
    with pytest.raises(CetsError) as e:
        objection_file(entity=w.sd1, year=2023, stage="final", grounds="负荷系数有误", actor=w.entity_sd1_user, on=D("2024-09-30"))
    assert e.value.check.code == "A0120"  # not published yet
    tables_publication_record(year=2023, province="37", stage="final", actor=w.province_sd, on=D("2024-09-27"))
    # 7 working days after 09-27: 09-29, 09-30, 10-08, 10-09, 10-10, 10-11, 10-12 (Saturday make-up day)
    with pytest.raises(CetsError) as e:
        objection_file(entity=w.sd1, year=2023, stage="final", grounds="负荷系数有误", actor=w.entity_sd1_user, on=D("2024-10-13"))
    assert e.value.check.code == "A0121"
    with pytest.raises(CetsError):  # only the entity itself may object
        objection_file(entity=w.sd1, year=2023, stage="final", grounds="x", actor=w.entity_zj1_user, on=D("2024-10-08"))
    o = objection_file(entity=w.sd1, year=2023, stage="final", grounds="机组B负荷系数有误", actor=w.entity_sd1_user, on=D("2024-10-12"))
    # decide within 10 working days of 10-12: 10-14 … 10-18 (5), 10-21 … 10-25 (10)
    assert (o.file_by, o.decide_by) == (D("2024-10-12"), D("2024-10-25"))
    with pytest.raises(CetsError):
        objection_decide(objection_id=o.pk, upheld=False, reason="x", actor=w.province_zj)
    o = objection_decide(objection_id=o.pk, upheld=False, reason="经复核，数据无误", actor=w.province_sd, on=D("2024-10-28"))
    assert (o.decision, o.decided_late) == ("rejected", True)
    with pytest.raises(CetsError) as e:
        objection_decide(objection_id=o.pk, upheld=True, reason="改判", actor=w.province_sd)
    assert e.value.check.code == "A0122"
    assert AllocationObjection.objects.get(pk=o.pk).decision_reason == "经复核，数据无误"  # the record stays


def test_objections_through_the_api(fleet):
    import json

    from django.test import Client
    from django.utils import timezone

    w = fleet
    tables_publication_record(year=2023, province="37", stage="final", actor=w.province_sd, on=timezone.localdate())

    def client(user):
        c = Client()
        c.force_login(user)
        return c

    r = client(w.entity_sd1_user).post("/api/v1/allocation/2023/objections", json.dumps({"stage": "final", "grounds": "机组B负荷系数有误"}),
                                       content_type="application/json")
    assert r.status_code == 200
    assert r.json()["decision"] == "pending"
    oid = r.json()["id"]
    assert [o["id"] for o in client(w.province_sd).get("/api/v1/allocation/2023/objections").json()] == [oid]
    assert client(w.province_zj).get("/api/v1/allocation/2023/objections").json() == []
    body = json.dumps({"upheld": True, "reason": "负荷系数更正"})
    assert client(w.province_zj).post(f"/api/v1/allocation/objections/{oid}/decision", body, content_type="application/json").status_code == 404
    r = client(w.province_sd).post(f"/api/v1/allocation/objections/{oid}/decision", body, content_type="application/json")
    assert r.status_code == 200
    assert r.json()["decision"] == "upheld"
    r = client(w.province_sd).post(f"/api/v1/allocation/objections/{oid}/decision", body, content_type="application/json")
    assert r.status_code == 422
    assert r.json()["code"] == "A0122"
    # Zhejiang's tables are not published: its entity's objection is refused with the check code
    r = client(w.entity_zj1_user).post("/api/v1/allocation/2023/objections", json.dumps({"stage": "final", "grounds": "x"}),
                                       content_type="application/json")
    assert r.status_code == 422
    assert r.json()["code"] == "A0120"
