"""Compute, adjust and issue a year through the registry's four eyes, on the real database.

Pack national/power-2023-2024, year 2023; figures worked by hand (benchmarks: plan 附2; formulas 附3/附4/§三).
"""

import pytest

from cets.allocation.models import EntityAllocation
from cets.allocation.selectors import adjustments_total_t, has_compliance_risk, treatments_of
from cets.allocation.services import allocation_adjustment_record, allocation_compute, allocation_issue_confirm, allocation_issue_propose, special_treatment_set
from cets.core.errors import CetsError
from cets.registry.models import AccountKind, Transfer
from cets.registry.selectors import available
from cets.registry.services import proposal_approve, system_account

PACK = "national/power-2023-2024"


def _issue(world, stage):
    p = allocation_issue_propose(year=2023, stage=stage, unit_type=world.cea, actor=world.registry_a)
    proposal_approve(proposal_id=p.pk, approver=world.registry_b)
    allocation_issue_confirm(year=2023, stage=stage)
    return p


def test_every_table_figure_and_differentiated_issuance(fleet):
    w = fleet
    allocation_adjustment_record(entity=w.sd1, year=2023, kind="arrears_deduction", quantity_t=5_000, reason="2022年度未足额清缴",
                                 source="compliance.arrears:1", actor=w.province_sd)
    special_treatment_set(entity=w.sd2, year=2023, kind="compliance_risk", reason="司法冻结", actor=w.province_sd)
    special_treatment_set(entity=w.zj1, year=2023, kind="all_shut", reason="机组全部关停", actor=w.province_zj)
    assert adjustments_total_t(entity=w.sd1, year=2023) == 5_000
    assert has_compliance_risk(entity=w.sd2, year=2023)
    assert treatments_of(entity=w.zj1, year=2023) == ["all_shut"]

    allocation_compute(year=2023, pack_id=PACK)
    a = {x.entity.uscc: x for x in EntityAllocation.objects.select_related("entity")}
    s1, s2, z1 = a[w.sd1.uscc], a[w.sd2.uscc], a[w.zj1.uscc]
    assert (s1.initial_allocation_t, s1.shortfall_topup_t, s1.final_allocation_t, s1.obligation_t) == (119_250, 16_750, 136_000, 170_000)
    # 预分配 105,000, 配额总调整量 5,000, 预分配实发 100,000; 实发 136,000 − 5,000 − 100,000 = 31,000
    assert (s1.pre_allocation_t, s1.pre_adjustment_t, s1.pre_issue_t, s1.adjustments_total_t, s1.final_issue_t) == (105_000, 5_000, 100_000, 5_000, 31_000)
    # compliance risk: no pre-allocation (plan §五(四) "仅在核定阶段"), 应发 80,900 all at the final stage, to the province
    assert (s2.pre_allocation_computed_t, s2.pre_allocation_t, s2.final_allocation_t, s2.final_issue_t) == (56_000, 0, 80_900, 80_900)
    assert s2.to_provincial_account
    assert "履约风险" in s2.special_note
    # all shut: no pre-allocation; 应发 40,000 (gas top-up 6,414)
    assert (z1.pre_allocation_t, z1.final_allocation_t, z1.final_issue_t) == (0, 40_000, 40_000)
    assert "关停" in z1.special_note

    _issue(w, "pre")
    cea = w.cea
    assert available(account=w.accounts[w.sd1.uscc], unit_type=cea) == 100_000
    assert available(account=w.accounts[w.sd2.uscc], unit_type=cea) == 0
    assert available(account=w.accounts[w.zj1.uscc], unit_type=cea) == 0

    _issue(w, "final")
    prov = system_account("national", AccountKind.PROVINCIAL, "37")
    assert available(account=w.accounts[w.sd1.uscc], unit_type=cea) == 131_000  # 136,000 − 5,000
    assert available(account=prov, unit_type=cea) == 80_900
    assert Transfer.objects.get(credit_account=prov, unit_type=cea).beneficiary == w.sd2
    assert available(account=w.accounts[w.zj1.uscc], unit_type=cea) == 40_000
    s1.refresh_from_db()
    assert (s1.stage, s1.issued_t) == (EntityAllocation.Stage.FINAL_ISSUED, 131_000)
    with pytest.raises(CetsError) as e:
        allocation_compute(year=2023, pack_id=PACK)
    assert e.value.check.code == "A0101"


def test_adjustment_after_pre_issuance_and_deregistration_claw_back(fleet):
    w = fleet
    allocation_compute(year=2023, pack_id=PACK)
    _issue(w, "pre")  # SD_1 105,000, SD_2 56,000, ZJ_1 21,000
    # decided after the pre-allocation: it is taken at the final stage
    allocation_adjustment_record(entity=w.sd1, year=2023, kind="violation_deduction", quantity_t=1_000, reason="数据弄虚作假",
                                 source="enforcement:7", actor=w.province_sd)
    special_treatment_set(entity=w.zj1, year=2023, kind="deregistered", reason="已注销", actor=w.province_zj)
    _issue(w, "final")
    cea = w.cea
    assert available(account=w.accounts[w.sd1.uscc], unit_type=cea) == 135_000  # 105,000 + (136,000 − 1,000 − 105,000)
    assert available(account=w.accounts[w.sd2.uscc], unit_type=cea) == 80_900  # 56,000 + 24,900
    assert available(account=w.accounts[w.zj1.uscc], unit_type=cea) == 0  # 21,000 clawed back
    z1 = EntityAllocation.objects.get(entity=w.zj1)
    assert (z1.final_issue_t, z1.issued_t, z1.final_allocation_t) == (-21_000, 0, 40_000)


def test_issuance_is_four_eyes_and_in_order(fleet):
    w = fleet
    allocation_compute(year=2023, pack_id=PACK)
    with pytest.raises(CetsError) as e:
        allocation_issue_propose(year=2023, stage="final", unit_type=w.cea, actor=w.registry_a)
    assert e.value.check.code == "A0103"
    p = allocation_issue_propose(year=2023, stage="pre", unit_type=w.cea, actor=w.registry_a)
    with pytest.raises(CetsError):
        proposal_approve(proposal_id=p.pk, approver=w.registry_a)  # the proposer cannot approve
    with pytest.raises(CetsError) as e:
        allocation_issue_confirm(year=2023, stage="pre")
    assert e.value.check.code == "A0104"
    with pytest.raises(CetsError) as e:
        allocation_compute(year=2023, pack_id=PACK)  # a proposal exists: no silent recomputation
    assert e.value.check.code == "A0101"


def test_adjustment_and_treatment_interface(world):
    with pytest.raises(CetsError) as e:
        allocation_adjustment_record(entity=world.sd1, year=2023, kind="arrears_deduction", quantity_t=0, reason="x", source="s:1",
                                     actor=world.province_sd)
    assert e.value.check.code == "A0105"
    with pytest.raises(CetsError):  # Zhejiang authority cannot decide for a Shandong entity
        allocation_adjustment_record(entity=world.sd1, year=2023, kind="arrears_deduction", quantity_t=10, reason="x", source="s:1",
                                     actor=world.province_zj)
    a1 = allocation_adjustment_record(entity=world.sd1, year=2023, kind="arrears_deduction", quantity_t=10, reason="x", source="s:1",
                                      actor=world.province_sd)
    a2 = allocation_adjustment_record(entity=world.sd1, year=2023, kind="arrears_deduction", quantity_t=10, reason="x", source="s:1",
                                      actor=world.province_sd)
    assert a1.pk == a2.pk
    assert adjustments_total_t(entity=world.sd1, year=2023) == 10
    t1 = special_treatment_set(entity=world.sd1, year=2023, kind="compliance_risk", reason="诉讼", actor=world.mee)
    assert special_treatment_set(entity=world.sd1, year=2023, kind="compliance_risk", reason="诉讼", actor=world.mee).pk == t1.pk
    with pytest.raises(CetsError):
        special_treatment_set(entity=world.sd1, year=2023, kind="all_shut", reason="x", actor=world.entity_sd1_user)


def test_early_packs_need_their_inputs_in_the_verified_data(fleet):
    # the fleet's units have no 2021 data: nothing to compute, and none of the 2019–2022 inputs
    from decimal import Decimal

    from cets.mrv.models import UnitYearData
    from cets.mrv.services import unit_year_data_upsert
    from cets.parties.models import GeneratingUnit

    u = GeneratingUnit.objects.create(entity=fleet.sd2, code="E21", category="II", rated_capacity_mw=Decimal(300))
    unit_year_data_upsert(rows=[UnitYearData(unit=u, year=2021, generation_mwh=Decimal(1_050_000), heat_supplied_gj=Decimal(0),
                                             load_factor=Decimal("0.90"), verified_emissions_t=1_050_000)])
    with pytest.raises(CetsError) as e:
        allocation_compute(year=2021, pack_id="national/power-2021-2022")
    assert e.value.check.code == "A0102"
    assert "supplied_mwh" in e.value.en
    assert "cooling" in e.value.en
    assert "heat_ratio" in e.value.en


def test_early_packs_on_the_database(fleet):
    """2021 plan on the database path with the inputs it needs (供电量 basis, cooling, 供热比): class II,
    1,000,000 MWh supplied × 0.8773 (2021 benchmark) × cooling 1.00 (water) × heat factor 1 (no heat) = 877,300 t;
    E 1,050,000: 0.8 × E = 840,000 < 877,300 → no top-up (the pure golden case of test_formulas_early_periods)."""
    from decimal import Decimal

    from cets.mrv.models import UnitYearData
    from cets.mrv.services import unit_year_data_upsert
    from cets.parties.models import GeneratingUnit

    u = GeneratingUnit.objects.create(entity=fleet.sd2, code="E21", category="II", rated_capacity_mw=Decimal(300), cooling="water")
    unit_year_data_upsert(rows=[
        UnitYearData(unit=u, year=2021, generation_mwh=Decimal(1_050_000), heat_supplied_gj=Decimal(0), load_factor=Decimal("0.90"),
                     verified_emissions_t=1_050_000, supplied_mwh=Decimal(1_000_000), heat_ratio=Decimal(0)),
        UnitYearData(unit=u, year=2020, generation_mwh=Decimal(950_000), heat_supplied_gj=Decimal(0), load_factor=Decimal("0.88"),
                     verified_emissions_t=1_000_000, supplied_mwh=Decimal(900_000), heat_ratio=Decimal(0)),
    ])
    out = allocation_compute(year=2021, pack_id="national/power-2021-2022")
    assert out["final_allocation_t"] == 877_300
    a = EntityAllocation.objects.get(entity=fleet.sd2, year=2021)
    assert (a.initial_allocation_t, a.shortfall_topup_t, a.obligation_t) == (877_300, 0, 1_050_000)
