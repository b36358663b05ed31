"""Borrowing (预支, 2021–2022) and hardship relief (个性化纾困), notice of 2023-07-17 §三."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cets.allocation.models import AllocationAdjustment, EntityAllocation
from cets.allocation.services import special_treatment_set
from cets.compliance.borrowing import borrowing_limit
from cets.compliance.models import Borrowing, Obligation, ReliefApplication
from cets.compliance.selectors import status_of
from cets.compliance.services import borrowing_submit, relief_apply, relief_decide
from cets.core.errors import CetsError
from tests.conftest import when

PACK = "national/power-2021-2022"


def test_limit_golden_and_threshold_boundary():
    # allocation 100,000, obligation 115,000: gap 15,000 > 10% × 100,000 = 10,000 → limit floor(0.5 × 15,000) = 7,500
    assert borrowing_limit(obligation_t=115_000, allocation_t=100_000, threshold=Decimal("0.10"), share=Decimal("0.50"), rounding="floor") \
        .limit_t == 7_500
    # gap exactly 10,000 = 10%: not "超过" → not eligible; 10,001 → eligible, floor(5,000.5) = 5,000
    lim = borrowing_limit(obligation_t=110_000, allocation_t=100_000, threshold=Decimal("0.10"), share=Decimal("0.50"), rounding="floor")
    assert (lim.gap_t, lim.eligible, lim.limit_t) == (10_000, False, 0)
    assert borrowing_limit(obligation_t=110_001, allocation_t=100_000, threshold=Decimal("0.10"), share=Decimal("0.50"), rounding="floor") \
        .limit_t == 5_000
    assert borrowing_limit(obligation_t=90_000, allocation_t=100_000, threshold=Decimal("0.10"), share=Decimal("0.50"), rounding="floor").gap_t == 0


@given(ob=st.integers(0, 10**8), al=st.integers(0, 10**8))
def test_limit_never_exceeds_half_the_gap(ob, al):
    lim = borrowing_limit(obligation_t=ob, allocation_t=al, threshold=Decimal("0.10"), share=Decimal("0.50"), rounding="floor")
    assert 0 <= 2 * lim.limit_t <= lim.gap_t
    assert lim.limit_t == 0 or lim.eligible


def _setup(world, entity, obligation, allocation, year=2022):
    EntityAllocation.objects.create(entity=entity, year=year, pack_id=PACK, verified_emissions_t=obligation, obligation_t=obligation, pre_allocation_t=0,
                                    initial_allocation_t=allocation, shortfall_topup_t=0, final_allocation_t=allocation, issue_delta_t=allocation,
                                    stage=EntityAllocation.Stage.FINAL_ISSUED)
    return Obligation.objects.create(entity=entity, year=year, pack_id=PACK, obligation_t=obligation, offset_cap_t=obligation // 20,
                                     deadline=dt.date(2023, 12, 31))


def refused(code, **kw):
    before = (Borrowing.objects.count(), AllocationAdjustment.objects.count())
    with pytest.raises(CetsError) as e:
        borrowing_submit(**kw)
    assert e.value.code == code, e.value
    assert (Borrowing.objects.count(), AllocationAdjustment.objects.count()) == before


def test_borrowing_submitted_by_the_province(world):
    _setup(world, world.sd1, 115_000, 100_000)
    _setup(world, world.sd2, 150_000, 100_000)
    special_treatment_set(entity=world.sd2, year=2022, kind="compliance_risk", reason="涉诉 litigation", actor=world.province_sd)
    kw = dict(entity=world.sd1, year=2022, quantity_t=7_500, documents=["鲁环函〔2023〕88号", "申报材料.pdf"], actor=world.province_sd,
              at=when("2023-08-01"))
    refused("R0502", **dict(kw, actor=world.entity_sd1_user))
    refused("R0502", **dict(kw, actor=world.province_zj))
    refused("C0907", **dict(kw, at=when("2023-08-05")))  # after 2023-08-04
    refused("C0908", **dict(kw, documents=[" "]))
    refused("C0905", **dict(kw, quantity_t=7_501))  # limit 7,500 (see the golden case above)
    refused("C0906", **dict(kw, entity=world.sd2))  # at compliance risk: no borrowing whatever the gap
    b = borrowing_submit(**kw)
    assert (b.gap_t, b.limit_t, b.quantity_t, b.from_vintage) == (15_000, 7_500, 7_500, "2023")
    a = AllocationAdjustment.objects.get(source=f"compliance.borrowing:{b.pk}")
    assert (a.entity_id, a.year, a.kind, a.quantity_t) == (world.sd1.pk, 2023, "borrowing_repayment", 7_500)
    refused("C0804", **kw)


def test_no_borrowing_under_the_2023_2024_rules_or_below_the_threshold(world):
    _setup(world, world.sd1, 110_000, 100_000)  # gap exactly 10%
    refused("C0904", entity=world.sd1, year=2022, quantity_t=1, documents=["d"], actor=world.province_sd, at=when("2023-08-01"))
    Obligation.objects.create(entity=world.sd2, year=2023, pack_id="national/power-2023-2024", obligation_t=10, offset_cap_t=0,
                              deadline=dt.date(2024, 12, 31))
    refused("C0903", entity=world.sd2, year=2023, quantity_t=1, documents=["d"], actor=world.province_sd, at=when("2024-08-01"))


def test_relief_extends_the_deadline_once_approved(world):
    ob = _setup(world, world.sd1, 115_000, 100_000)
    kw = dict(obligation_id=ob.pk, grounds="承担城市集中供热 district heating for the city", documents=["鲁环函〔2023〕90号"],
              effect="deadline_extension", actor=world.province_sd, at=when("2023-08-02"))
    for bad, code in ((dict(new_deadline=dt.date(2023, 12, 31)), "C0909"), (dict(new_deadline=dt.date(2024, 3, 31), documents=[]), "C0908"),
                      (dict(new_deadline=dt.date(2024, 3, 31), at=when("2023-08-05")), "C0907"),
                      (dict(new_deadline=dt.date(2024, 3, 31), actor=world.mee), "R0502")):
        with pytest.raises(CetsError) as e:
            relief_apply(**dict(kw, **bad))
        assert e.value.code == code
    assert ReliefApplication.objects.count() == 0
    app = relief_apply(new_deadline=dt.date(2024, 3, 31), **kw)
    assert status_of(obligation=ob, today=dt.date(2024, 1, 15)).status == "incomplete"  # not decided yet
    with pytest.raises(CetsError) as e:
        relief_decide(application_id=app.pk, approve=True, decision="同意 approved", actor=world.province_sd)
    assert e.value.code == "R0502"  # the national authority decides
    relief_decide(application_id=app.pk, approve=True, decision="同意延期至2024-03-31", actor=world.mee, at=when("2023-09-01"))
    assert status_of(obligation=ob, today=dt.date(2024, 1, 15)).status == "open"
    assert status_of(obligation=ob, today=dt.date(2024, 4, 1)).status == "incomplete"
    with pytest.raises(CetsError) as e:
        relief_decide(application_id=app.pk, approve=False, decision="x", actor=world.mee)
    assert e.value.code == "R0605"
