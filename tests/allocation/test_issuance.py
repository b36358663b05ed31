"""Issuance figures of the seed notices' tables (国环规气候〔2024〕1号 一(一), 二(一); plan §五(四), §五(五)).
Every expected figure is worked by hand in the comment beside it."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cets.allocation.issuance import ALL_SHUT, COMPLIANCE_RISK, DEREGISTERED, final_issue, pre_issue, special_note


def test_pre_allocation_less_adjustment():
    # 预分配配额量 2,450,000; 配额调整总量 30,000 → 配额总调整量 30,000; 预分配实发 2,450,000 − 30,000 = 2,420,000
    p = pre_issue(pre_allocation_t=2_450_000, adjustments_total_t=30_000)
    assert (p.pre_allocation_t, p.pre_adjustment_t, p.pre_issue_t) == (2_450_000, 30_000, 2_420_000)
    assert not p.to_provincial_account
    assert p.special_note == ""


def test_adjustment_larger_than_pre_allocation_is_deducted_as_far_as_it_reaches():
    # pre 100; adjustment 150 → 100 deducted now (实发 0), the rest at the final stage
    p = pre_issue(pre_allocation_t=100, adjustments_total_t=150)
    assert (p.pre_adjustment_t, p.pre_issue_t) == (100, 0)
    # final 1,000; 配额调整总量 150; issued before 0 → 实发 1,000 − 150 − 0 = 850 (total issued over both stages 850)
    f = final_issue(final_allocation_t=1_000, obligation_t=1_200, adjustments_total_t=150, issued_before_t=p.pre_issue_t)
    assert f.final_issue_t == 850


def test_final_true_up_and_claw_back():
    # §1.8 worked example: 应发 2,880,000, pre issued 2,450,000 → 实发 +430,000
    f = final_issue(final_allocation_t=2_880_000, obligation_t=3_600_000, adjustments_total_t=0, issued_before_t=2_450_000)
    assert (f.final_issue_t, f.obligation_t) == (430_000, 3_600_000)
    # pre issued 3,000,000 > final 2,880,000 with 20,000 adjustment → 2,880,000 − 20,000 − 3,000,000 = −140,000 (claw back)
    f = final_issue(final_allocation_t=2_880_000, obligation_t=3_600_000, adjustments_total_t=20_000, issued_before_t=3_000_000)
    assert f.final_issue_t == -140_000


@pytest.mark.parametrize("kind", [ALL_SHUT, COMPLIANCE_RISK, DEREGISTERED])
def test_treated_entities_get_no_pre_allocation(kind):
    p = pre_issue(pre_allocation_t=500_000, adjustments_total_t=10_000, treatments=[kind])
    assert (p.pre_allocation_t, p.pre_adjustment_t, p.pre_issue_t) == (0, 0, 0)
    assert p.special_note  # 特别说明 is shown
    assert p.to_provincial_account is (kind == COMPLIANCE_RISK)


def test_all_shut_gets_its_final_allocation_to_its_own_account():
    # no pre-allocation, so the whole 应发 800 less adjustment 50 is issued at the final stage: 750
    f = final_issue(final_allocation_t=800, obligation_t=900, adjustments_total_t=50, issued_before_t=0, treatments=[ALL_SHUT])
    assert f.final_issue_t == 750
    assert not f.to_provincial_account
    assert "关停" in f.special_note


def test_compliance_risk_goes_to_the_provincial_account():
    f = final_issue(final_allocation_t=800, obligation_t=900, adjustments_total_t=0, issued_before_t=0, treatments=[COMPLIANCE_RISK])
    assert f.final_issue_t == 800
    assert f.to_provincial_account
    assert "履约风险" in f.special_note


def test_deregistered_gets_nothing_and_issued_units_come_back():
    f = final_issue(final_allocation_t=800, obligation_t=900, adjustments_total_t=50, issued_before_t=300, treatments=[DEREGISTERED])
    assert f.final_allocation_t == 800  # kept on record
    assert f.final_issue_t == -300  # what was issued is clawed back, nothing more


def test_refusals():
    with pytest.raises(ValueError):
        pre_issue(pre_allocation_t=-1, adjustments_total_t=0)
    with pytest.raises(ValueError):
        final_issue(final_allocation_t=1, obligation_t=1, adjustments_total_t=-1, issued_before_t=0)
    with pytest.raises(ValueError):
        special_note(["bankrupt"])


@given(pre=st.integers(0, 10**9), final=st.integers(0, 10**9), adj=st.integers(0, 10**9))
def test_two_stages_issue_exactly_final_less_adjustments(pre, final, adj):
    # Invariant: pre-allocation issued + final 实发 = 应发 − 配额调整总量, whatever the split.
    p = pre_issue(pre_allocation_t=pre, adjustments_total_t=adj)
    f = final_issue(final_allocation_t=final, obligation_t=final, adjustments_total_t=adj, issued_before_t=p.pre_issue_t)
    assert p.pre_issue_t + f.final_issue_t == final - adj
    assert 0 <= p.pre_issue_t <= pre
