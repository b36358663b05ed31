"""The 2021–2022 special cases of seed 001 (《关于全国碳排放权交易市场2021、2022年度碳排放配额清缴相关工作的通知》,
MEE, 2023-07-14), each with figures worked by hand, through the platform's services on the real test database.

Pack ``national/power-2021-2022`` (its ``[special_treatment]``, ``[borrowing]`` and ``compliance.<year>`` keys). The
2021/2022 allocations are computed with the command line (the 供电量 inputs are not in the verified data, A0107), so
their entity rows are written here as that computation (or the province's data tables) would store them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from cets.allocation.formulas import PowerRules, entity_allocation
from cets.allocation.models import AllocationAdjustment, EntityAllocation
from cets.allocation.services import (
    allocation_compute,
    allocation_issue_confirm,
    allocation_issue_propose,
    special_treatment_set,
)
from cets.compliance.models import Borrowing, ComplianceNotice, Obligation, SurrenderApplication
from cets.compliance.selectors import outcome_counts, status_of, statuses
from cets.compliance.services import (
    borrowing_issue_propose,
    borrowing_submit,
    ccer_eligible,
    compliance_notices_issue,
    forced_surrender_propose,
    obligations_create,
    surrender_submit,
)
from cets.compliance.services.forced_surrender import forced_surrender_plan
from cets.core.errors import CetsError
from cets.registry.models import AccountKind, CcerProject, Holding, Instrument, Proposal, Transfer, UnitType
from cets.registry.selectors import available
from cets.registry.services import IssuanceLine, issuance_propose, proposal_approve, system_account, vintage_create
from cets.rules.packs import load_pack
from cets.supervision.selectors import risk_rows
from tests.compliance.helpers import surrender
from tests.conftest import SD_1, when

PACK = "national/power-2021-2022"
USABLE = ["2019-2020", "2021", "2022"]  # compliance.<year>.usable_vintages (notice §四)


def _cea(vintage: str) -> UnitType:
    return vintage_create(instrument=Instrument.CEA, vintage=vintage, cap_t=10_000_000, key=f"cap-{vintage}")


def _hold_for(world, entity, ut: UnitType, q: int) -> None:
    """Issue ``q`` t of ``ut`` into the entity's provincial authority account with the entity as beneficiary."""
    prov = system_account("national", AccountKind.PROVINCIAL, entity.province)
    p = issuance_propose(key=f"held-{entity.uscc}-{ut.code}", unit_type=ut, actor=world.registry_a,
                         lines=[IssuanceLine(prov.number, q, "核定配额发放至省级账户", beneficiary=entity.uscc)])
    proposal_approve(proposal_id=p.pk, approver=world.registry_b)


def _obligation(entity, year: int, t: int) -> Obligation:
    return Obligation.objects.create(entity=entity, year=year, pack_id=PACK, obligation_t=t, offset_cap_t=t // 20, deadline=dt.date(2023, 12, 31))


def _allocation(entity, year: int, *, emissions: int, final: int, pre: int = 0, stage=EntityAllocation.Stage.COMPUTED) -> EntityAllocation:
    return EntityAllocation.objects.create(entity=entity, year=year, pack_id=PACK, verified_emissions_t=emissions, obligation_t=emissions,
                                           pre_allocation_computed_t=pre, pre_allocation_t=pre, initial_allocation_t=final, shortfall_topup_t=0,
                                           final_allocation_t=final, issue_delta_t=final - pre, stage=stage)


def _approve(world, p: Proposal) -> dict:
    proposal_approve(proposal_id=p.pk, approver=world.registry_b)
    return Proposal.objects.get(pk=p.pk).result


# ---------------------------------------------------------------- 1. forced surrender across 2021 and 2022

def test_forced_surrender_plan_own_vintage_then_the_other_year_then_release():
    """Notice §一: "优先使用当年度配额，剩余部分优先用于另一年度的强制履约，完成履约后剩余部分配额发放至重点排放单位账户".

    Owed 2021 100,000, 2022 90,000; held CEA-2021 110,000, CEA-2022 85,000:
      (1) own vintage: 2021 ← 100,000 CEA-2021 (10,000 left); 2022 ← 85,000 CEA-2022 (2022 still owes 5,000)
      (2) the rest of CEA-2021 to the other year: 2022 ← 5,000 CEA-2021 (5,000 left)
      (3) released: 5,000 CEA-2021.
    """
    steps, released = forced_surrender_plan({2021: 100_000, 2022: 90_000}, {2021: USABLE, 2022: USABLE}, {"2021": 110_000, "2022": 85_000})
    assert steps == [(2021, "2021", 100_000), (2022, "2022", 85_000), (2022, "2021", 5_000)]
    assert released == {"2021": 5_000}
    # one year alone is the single-year order: own vintage, then the other usable ones latest first
    steps, released = forced_surrender_plan({2023: 800}, {2023: ["2021", "2022", "2023"]}, {"2023": 600, "2022": 300, "2024": 200})
    assert steps == [(2023, "2023", 600), (2023, "2022", 200)]
    assert released == {"2022": 100, "2024": 200}


def test_forced_surrender_of_an_entity_at_risk_in_both_years(world):
    """SD_1 at compliance risk in 2021 and 2022; its final allocations were issued to the Shandong account:
    CEA-2021 110,000 and CEA-2022 105,000; obligations 2021 100,000 and 2022 120,000.

    One proposal (asked for 2021) settles both years:
      2021 ← 100,000 CEA-2021 (own vintage; 10,000 left)
      2022 ← 105,000 CEA-2022 (own vintage; 15,000 still owed)
      2022 ← 10,000 CEA-2021 (the remainder "用于另一年度"); 2022 still owes 120,000 − 115,000 = 5,000
      released: nothing. Before this fix the 2021 execution released 10,000 CEA-2021 and all 105,000 CEA-2022 to
      the entity. The 5,000 t gap is the entity's to make up ("未足额完成履约的应及时督促重点排放单位补足差额").
    """
    w = world
    cea21, cea22 = _cea("2021"), _cea("2022")
    for y in (2021, 2022):
        special_treatment_set(entity=w.sd1, year=y, kind="compliance_risk", reason="司法冻结", actor=w.province_sd)
    _hold_for(w, w.sd1, cea21, 110_000)
    _hold_for(w, w.sd1, cea22, 105_000)
    ob21, ob22 = _obligation(w.sd1, 2021, 100_000), _obligation(w.sd1, 2022, 120_000)
    p = forced_surrender_propose(key="fs-2122", entity=w.sd1, year=2021, instruction_ref="鲁环函〔2023〕120号", actor=w.registry_a,
                                 effective_at=when("2023-12-20"))
    assert p.payload["years"] == [2021, 2022]
    res = _approve(w, p)
    assert res["surrendered"] == {"2021": {"CEA-2021": 100_000}, "2022": {"CEA-2022": 105_000, "CEA-2021": 10_000}}
    assert res["released"] == {}
    assert res["outstanding_t"] == {"2021": 0, "2022": 5_000}
    prov = system_account("national", AccountKind.PROVINCIAL, "37")
    assert not Holding.objects.filter(account=prov, quantity__gt=0).exists()
    assert available(account=w.accounts[SD_1], unit_type=cea21) == 0
    assert available(account=w.accounts[SD_1], unit_type=cea22) == 0
    day = dt.date(2023, 12, 21)
    assert status_of(obligation=ob21, today=day).outstanding_t == 0
    assert status_of(obligation=ob22, today=day).outstanding_t == 5_000
    assert SurrenderApplication.objects.filter(obligation=ob22).count() == 2


def test_forced_surrender_surplus_is_released_after_both_years(world):
    """Obligations 2021 100,000 and 2022 90,000; held CEA-2021 110,000 and CEA-2022 85,000 (the plan's example):
    2021 ← 100,000 CEA-2021; 2022 ← 85,000 CEA-2022 + 5,000 CEA-2021; 5,000 CEA-2021 released to SD_1's account."""
    w = world
    cea21, cea22 = _cea("2021"), _cea("2022")
    _hold_for(w, w.sd1, cea21, 110_000)
    _hold_for(w, w.sd1, cea22, 85_000)
    ob21, ob22 = _obligation(w.sd1, 2021, 100_000), _obligation(w.sd1, 2022, 90_000)
    res = _approve(w, forced_surrender_propose(key="fs-2", entity=w.sd1, year=2022, instruction_ref="鲁环函〔2023〕121号", actor=w.registry_a,
                                               effective_at=when("2023-12-20")))
    assert res["surrendered"] == {"2021": {"CEA-2021": 100_000}, "2022": {"CEA-2022": 85_000, "CEA-2021": 5_000}}
    assert res["released"] == {"CEA-2021": 5_000}
    assert available(account=w.accounts[SD_1], unit_type=cea21) == 5_000
    day = dt.date(2023, 12, 21)
    assert status_of(obligation=ob21, today=day).status == status_of(obligation=ob22, today=day).status == "on_time"


# ---------------------------------------------------------------- 2. deregistered entities

def test_deregistered_entity_has_no_allocation_no_obligation_and_is_never_incomplete(world):
    """Notice §一: "对全部排放设施关停或淘汰后不再存续的重点排放单位（以营业执照注销为准），不发放配额，不参与全国碳市场履约".

    2022 allocations: SD_1 (E 100,000, pre 60,000, 应发 90,000), SD_2 deregistered (E 50,000, pre 30,000, 应发 45,000).
    SD_2: 预分配 0, 实发 0 (nothing issued, 应发 kept on record) and no obligation; SD_1: 60,000 + 30,000 issued, one
    obligation of 100,000.
    ZJ_1 had an obligation recorded (10,000, nothing surrendered) before it was flagged deregistered: after the
    deadline it is not counted (not "incomplete"); only SD_1 is, with nothing surrendered.
    """
    w = world
    _allocation(w.sd1, 2022, emissions=100_000, final=90_000, pre=60_000)
    _allocation(w.sd2, 2022, emissions=50_000, final=45_000, pre=30_000)
    special_treatment_set(entity=w.sd2, year=2022, kind="deregistered", reason="营业执照注销", actor=w.province_sd)
    cea22 = _cea("2022")
    lines = {}
    for stage in ("pre", "final"):
        p = allocation_issue_propose(year=2022, stage=stage, unit_type=cea22, actor=w.registry_a)
        lines[stage] = [ln["quantity"] for ln in p.payload["lines"]]
        _approve(w, p)
        allocation_issue_confirm(year=2022, stage=stage)
    sd2 = EntityAllocation.objects.get(entity=w.sd2, year=2022)
    assert (sd2.pre_allocation_t, sd2.pre_issue_t, sd2.final_issue_t, sd2.issued_t, sd2.final_allocation_t) == (0, 0, 0, 0, 45_000)
    assert "已注销" in sd2.special_note
    assert lines == {"pre": [60_000], "final": [30_000]}  # SD_1 only: 60,000, then 90,000 − 60,000
    assert available(account=w.accounts[w.sd2.uscc], unit_type=cea22) == 0

    assert obligations_create(year=2022, pack_id=PACK) == 1
    assert list(Obligation.objects.filter(year=2022).values_list("entity_id", "obligation_t")) == [(w.sd1.pk, 100_000)]

    _obligation(w.zj1, 2022, 10_000)
    special_treatment_set(entity=w.zj1, year=2022, kind="deregistered", reason="营业执照注销", actor=w.province_zj)
    after = dt.date(2024, 1, 2)
    assert set(statuses(year=2022, today=after)) == {w.sd1.pk}
    assert outcome_counts(year=2022, today=after) == {"incomplete": 1}
    assert [r["entity"] for r in risk_rows(user=w.mee, year=2022, today=after)] == [w.sd1]  # nor in the risk index


# ---------------------------------------------------------------- 3. all units shut, entity still exists

def test_all_shut_entity_no_pre_allocation_final_to_the_province_notice_through_it_forced_surrender_no_borrowing(world):
    """Notice §一 for "全部排放设施关停或淘汰后仍存续的重点排放单位": "不予发放预分配配额，在核定阶段统一发放"; "其配额发放至省级
    生态环境主管部门账户，并由省级生态环境主管部门将履约通知书发放至重点排放单位"; forced surrender; "不可预支2023年度配额".

    2022: SD_1 normal (E 100,000, pre 63,000, 应发 90,000); ZJ_1 all shut (E 15,000, pre computed 7,000, 应发 12,000).
      pre stage: SD_1 63,000 to its account; ZJ_1 0 (no pre-allocation).
      final stage: SD_1 90,000 − 63,000 = 27,000; ZJ_1 12,000 into the Zhejiang account, beneficiary ZJ_1.
      notices: SD_1's to the entity, ZJ_1's to the province.
      borrowing: ZJ_1's gap 15,000 − 12,000 = 3,000 > 10% × 12,000 = 1,200 would qualify, but it is refused (C0911).
      forced surrender (2022 only; ZJ_1 has no 2021 obligation): 12,000 CEA-2022, 3,000 still owed, nothing released.
    """
    w = world
    _allocation(w.sd1, 2022, emissions=100_000, final=90_000, pre=63_000)
    _allocation(w.zj1, 2022, emissions=15_000, final=12_000, pre=7_000)
    special_treatment_set(entity=w.zj1, year=2022, kind="all_shut", reason="机组全部关停，主体存续", actor=w.province_zj)
    cea22 = _cea("2022")
    for stage in ("pre", "final"):
        _approve(w, allocation_issue_propose(year=2022, stage=stage, unit_type=cea22, actor=w.registry_a))
        allocation_issue_confirm(year=2022, stage=stage)
    z = EntityAllocation.objects.get(entity=w.zj1, year=2022)
    assert (z.pre_allocation_t, z.pre_issue_t, z.final_issue_t, z.issued_t, z.to_provincial_account) == (0, 0, 12_000, 12_000, True)
    prov = system_account("national", AccountKind.PROVINCIAL, "33")
    assert available(account=prov, unit_type=cea22) == 12_000
    assert available(account=w.accounts[w.zj1.uscc], unit_type=cea22) == 0
    assert Transfer.objects.get(credit_account=prov, unit_type=cea22).beneficiary == w.zj1
    assert available(account=w.accounts[SD_1], unit_type=cea22) == 90_000  # 63,000 + 27,000

    assert obligations_create(year=2022, pack_id=PACK) == 2
    assert compliance_notices_issue(year=2022, actor=w.registry_a) == 2
    via = dict(ComplianceNotice.objects.values_list("obligation__entity_id", "delivered_to"))
    assert via == {w.sd1.pk: ComplianceNotice.DeliveredTo.ENTITY, w.zj1.pk: ComplianceNotice.DeliveredTo.PROVINCE}

    with pytest.raises(CetsError) as e:
        borrowing_submit(entity=w.zj1, year=2022, quantity_t=1_000, documents=["浙环函〔2023〕50号"], actor=w.province_zj, at=when("2023-08-01"))
    assert e.value.code == "C0911"
    assert not Borrowing.objects.exists()
    assert not AllocationAdjustment.objects.exists()

    p = forced_surrender_propose(key="fs-zj", entity=w.zj1, year=2022, instruction_ref="浙环函〔2023〕99号", actor=w.registry_a,
                                 effective_at=when("2023-12-20"))
    assert p.payload["years"] == [2022]
    res = _approve(w, p)
    assert res == {"surrendered": {"CEA-2022": 12_000}, "released": {}, "outstanding_t": 3_000}


# ---------------------------------------------------------------- 4. borrowing (预支) of 2023 allowances

def test_borrowing_issued_surrendered_for_2022_and_repaid_from_the_2023_issuance(world):
    """Notice §三 "申报预支2023年度配额…审核确定其预支配额量"; pack [borrowing]: gap > 10% of the allocation, ≤ 50% of the gap.

    2022: SD_1 应发 100,000, obligation 115,000 → gap 15,000 > 10,000 → limit floor(0.5 × 15,000) = 7,500; borrowed 7,500.
    The 7,500 CEA-2023 are issued to SD_1 (four eyes) and surrendered for 2022 (more is refused, C0912; none for
    2021, R0601). 2023 (pack national/power-2023-2024), one class I unit: 100,000 MWh × 0.7950 × Ff 1 = 79,500 <
    0.8 × 110,000 = 88,000 → top-up 8,500, 应发 88,000; pre 0.7 × 100,000 = 70,000.
      pre stage: 70,000 − min(7,500, 70,000) = 62,500 issued
      final stage: 88,000 − 7,500 − 62,500 = 18,000 issued; in all 80,500 = 88,000 − 7,500 (the loan repaid).
    """
    from cets.mrv.models import UnitYearData
    from cets.mrv.services import unit_year_data_upsert
    from cets.parties.models import GeneratingUnit

    w = world
    _allocation(w.sd1, 2022, emissions=115_000, final=100_000, stage=EntityAllocation.Stage.FINAL_ISSUED)
    ob22 = _obligation(w.sd1, 2022, 115_000)
    _obligation(w.sd1, 2021, 1_000)
    b = borrowing_submit(entity=w.sd1, year=2022, quantity_t=7_500, documents=["鲁环函〔2023〕88号"], actor=w.province_sd, at=when("2023-08-01"))
    assert (b.gap_t, b.limit_t) == (15_000, 7_500)
    with pytest.raises(CetsError) as e:
        borrowing_issue_propose(borrowing_id=b.pk, unit_type=_cea("2022"), actor=w.registry_a)
    assert e.value.code == "C0913"
    _approve(w, borrowing_issue_propose(borrowing_id=b.pk, unit_type=w.cea, actor=w.registry_a, effective_at=when("2023-08-11")))
    assert available(account=w.accounts[SD_1], unit_type=w.cea) == 7_500

    for year, q, code in ((2021, 1, "R0601"), (2022, 7_501, "C0912")):
        with pytest.raises(CetsError) as e:
            surrender_submit(key=f"x-{year}", entity=w.sd1, year=year, unit_type_code="CEA-2023", quantity=q, actor=w.entity_sd1_user,
                             at=when("2023-09-01"))
        assert e.value.code == code
    surrender(w, w.sd1, w.entity_sd1_user, 2022, "CEA-2023", 7_500, "2023-09-01", "borrowed-2022")
    assert status_of(obligation=ob22, today=dt.date(2023, 9, 2)).surrendered_t == 7_500
    assert available(account=w.accounts[SD_1], unit_type=w.cea) == 0

    u = GeneratingUnit.objects.create(entity=w.sd1, code="A", category="I", rated_capacity_mw=Decimal("600"))
    unit_year_data_upsert(rows=[
        UnitYearData(unit=u, year=2023, generation_mwh=Decimal("100000"), heat_supplied_gj=Decimal(0), load_factor=Decimal("0.80"),
                     verified_emissions_t=110_000),
        UnitYearData(unit=u, year=2022, generation_mwh=Decimal(0), heat_supplied_gj=Decimal(0), load_factor=Decimal("0.8"), verified_emissions_t=100_000),
    ])
    allocation_compute(year=2023, pack_id="national/power-2023-2024")
    a = EntityAllocation.objects.get(entity=w.sd1, year=2023)
    assert (a.initial_allocation_t, a.shortfall_topup_t, a.final_allocation_t) == (79_500, 8_500, 88_000)
    assert (a.pre_allocation_t, a.pre_adjustment_t, a.pre_issue_t, a.adjustments_total_t, a.final_issue_t) == (70_000, 7_500, 62_500, 7_500, 18_000)
    for stage in ("pre", "final"):
        _approve(w, allocation_issue_propose(year=2023, stage=stage, unit_type=w.cea, actor=w.registry_a))
        allocation_issue_confirm(year=2023, stage=stage)
    a.refresh_from_db()
    assert a.issued_t == 80_500
    assert available(account=w.accounts[SD_1], unit_type=w.cea) == 80_500


# ---------------------------------------------------------------- 5. first-period CCER cancelled but not used

def test_first_period_cancelled_ccer_offsets_2021_and_2022():
    """Notice §二: "对第一个履约周期出于履约目的已注销但实际未用于抵销清缴的CCER，由重点排放单位申请，可用于抵销2021、2022年度
    配额清缴" — 2021 and 2022 only in this notice (pack compliance.<year>.first_cycle_cancelled_ccer). The 2023 case is
    seed 000's (国环规气候〔2024〕1号) and not in the 2023–2024 pack yet, so it is refused there."""
    ut = UnitType(code="CCER-X-2016", instrument="CCER", vintage="2016",
                  project=CcerProject(code="X", name="x", filed_on=dt.date(2016, 5, 1)))
    pack = load_pack(PACK)
    for year in (2021, 2022):
        assert ccer_eligible(pack, year, ut, dt.date(2024, 3, 1), first_cycle_cancelled=True) is None  # no date limit of its own
        assert ccer_eligible(pack, year, ut, dt.date(2023, 12, 31)) is None  # an ordinary old CCER, until 2023-12-31
    assert "not usable for 2023" in ccer_eligible(load_pack("national/power-2023-2024"), 2023, ut, dt.date(2024, 3, 1), first_cycle_cancelled=True)


# ---------------------------------------------------------------- 6. the 20% cap in whole tonnes

@pytest.mark.parametrize("pack_id,emissions,initial,final", [
    (PACK, 1_001, 700, 801),     # 0.8 × 1,001 = 800.8 → 801; gap 200/1,001 = 19.98% ≤ 20%
    (PACK, 1_000, 700, 800),     # 0.8 × 1,000 = 800 exactly
    (PACK, 1_001, 801, 801),     # initial ≥ 800.8: no top-up
    ("national/power-2023-2024", 1_001, 700, 800),  # that pack rounds the top-up down (2025–2026 draft notes): 20.08%
])
def test_shortfall_cap_leaves_no_gap_above_20_percent(pack_id, emissions, initial, final):
    """2023–2024 plan §三(二)2 (the cap kept for 2021–2022): "补发后重点排放单位核定配额量等于重点排放单位核查排放量的80%，
    使其配额履约缺口率不超过20%". E 1,001 t, initial 700 t: ⌈800.8⌉ = 801 t, top-up 101 t (pack
    allocation.shortfall_gap_at_most_cap)."""
    rules = PowerRules.from_pack(load_pack(pack_id), 2022 if pack_id == PACK else 2023)
    e = entity_allocation("X", [SimpleNamespace(unit_allowance_t=initial, pre_allocation_t=0)], emissions, rules)
    assert (e.final_allocation_t, e.shortfall_topup_t) == (final, final - initial)
    if pack_id == PACK:
        assert Decimal(emissions - e.final_allocation_t) / emissions <= Decimal("0.20")
