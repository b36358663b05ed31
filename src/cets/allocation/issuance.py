"""What is actually issued: adjustments, differentiated treatment and the quantity to issue or claw back.
Pure: no Django, no I/O. Quantities are tonnes CO2e (int).

The seed notice 国环规气候〔2024〕1号 (一)(一) and 二(一) names the figures of the two data tables, and
the 2023–2024 plan (国环规气候〔2024〕1号 附件1) §五(四) differentiated treatment and §五(五) adjustments:

Pre-allocation table (表2-1…2-6 / 3-1…3-7):
    预分配配额量      ``pre_allocation_t``    = Σ units' ratio × previous-year verified emissions (0 if all units shut)
    配额总调整量      ``pre_adjustment_t``    = min(配额调整总量, 预分配配额量): deducted at issuance (§五(五))
    预分配实发配额量  ``pre_issue_t``         = 预分配配额量 − 配额总调整量

Final allocation table (表2-7…2-11 / 3-8…3-12):
    应发配额量        ``final_allocation_t``  = entity final (核定) allocation after the gas and 20% exemptions (§五(三))
    应清缴配额量      ``obligation_t``        = verified emissions (§六)
    配额调整总量      ``adjustments_total_t`` = Σ adjustments in force (earlier arrears, violations, borrowing repaid)
    实发配额量        ``final_issue_t``       = 应发 − 配额调整总量 − already issued (negative = claw-back, 多退少补)

Differentiated treatment (§五(四) and the seed notices of 2023 and 2024):
    ``all_shut``        no pre-allocation; the final allocation is computed from the verified data as usual;
    ``compliance_risk`` issued "only at the final stage" (仅在核定阶段) into the provincial authority's account
                        with the entity as beneficiary — so no pre-allocation either;
    ``deregistered``    nothing is issued; anything already issued is clawed back (应发 kept on record).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ALL_SHUT = "all_shut"
COMPLIANCE_RISK = "compliance_risk"
DEREGISTERED = "deregistered"
TREATMENTS = (ALL_SHUT, COMPLIANCE_RISK, DEREGISTERED)

# 特别说明 (special note) shown in the tables for a flagged entity, zh and en.
NOTES = {
    ALL_SHUT: ("机组全部关停但法人主体存续，不予预分配", "all units shut but the entity exists: no pre-allocation"),
    COMPLIANCE_RISK: (
        "存在明显履约风险，核定配额发放至省级生态环境主管部门账户",
        "compliance risk: final allocation issued into the provincial authority account",
    ),
    DEREGISTERED: ("法人主体已注销，不予发放配额", "entity deregistered: nothing is issued"),
}


@dataclass(frozen=True)
class PreIssue:
    """The pre-allocation table's figures for one entity (tonnes CO2e, int)."""

    pre_allocation_t: int  # 预分配配额量
    pre_adjustment_t: int  # 配额总调整量
    pre_issue_t: int  # 预分配实发配额量
    to_provincial_account: bool
    special_note: str


@dataclass(frozen=True)
class FinalIssue:
    """The final allocation table's figures for one entity (tonnes CO2e, int)."""

    final_allocation_t: int  # 应发配额量
    obligation_t: int  # 应清缴配额量
    adjustments_total_t: int  # 配额调整总量
    issued_before_t: int  # already issued for the year (pre-allocation actually issued, earlier true-ups)
    final_issue_t: int  # 实发配额量: > 0 issue, < 0 claw back
    to_provincial_account: bool
    special_note: str


def _check(treatments: Iterable[str]) -> frozenset[str]:
    t = frozenset(treatments)
    unknown = t - set(TREATMENTS)
    if unknown:
        raise ValueError(f"unknown special treatment {sorted(unknown)}")
    return t


def special_note(treatments: Iterable[str]) -> str:
    """特别说明: the notes of every treatment in force, ``"中文 / English"`` joined by ``"; "``, or ``""``."""
    t = _check(treatments)
    return "; ".join(f"{NOTES[k][0]} / {NOTES[k][1]}" for k in TREATMENTS if k in t)


def pre_issue(*, pre_allocation_t: int, adjustments_total_t: int, treatments: Iterable[str] = (),
              provincial: Iterable[str] = (COMPLIANCE_RISK,)) -> PreIssue:
    """Pre-allocation stage (2023–2024 plan §五(二), §五(四), §五(五)).

    ``pre_allocation_t`` is the computed Σ of unit pre-allocations, ``adjustments_total_t`` ≥ 0 the
    adjustments in force (tonnes CO2e, int). Treatments ``all_shut``, ``compliance_risk`` and
    ``deregistered`` each give a pre-allocation of 0. The adjustment is deducted as far as the
    pre-allocation reaches; the remainder is deducted at the final stage. Raises ValueError for a
    negative input or an unknown treatment.
    """
    t = _check(treatments)
    if pre_allocation_t < 0 or adjustments_total_t < 0:
        raise ValueError("pre-allocation and adjustments must be ≥ 0")
    pre = 0 if t & {ALL_SHUT, COMPLIANCE_RISK, DEREGISTERED} else pre_allocation_t
    adj = min(adjustments_total_t, pre)
    return PreIssue(pre_allocation_t=pre, pre_adjustment_t=adj, pre_issue_t=pre - adj, to_provincial_account=bool(t & set(provincial)),
                    special_note=special_note(t))


def final_issue(*, final_allocation_t: int, obligation_t: int, adjustments_total_t: int, issued_before_t: int, treatments: Iterable[str] = (),
                provincial: Iterable[str] = (COMPLIANCE_RISK,)) -> FinalIssue:
    """Final (核定) stage: 实发配额量 = 应发配额量 − 配额调整总量 − already issued (seed notice 二(一);
    plan §五(五) "在配额发放时予以调整"; 多退少补 §五(二)).

    A deregistered entity keeps its computed 应发配额量 on record but nothing is issued: 实发配额量 is
    minus whatever was already issued (clawed back), and adjustments are not applied. The result may be
    negative (a claw-back), also when the adjustments exceed the final allocation: the withheld
    quantity then reduces what the entity already holds. Raises ValueError for negative inputs.

    ``provincial`` names the treatments whose allowances go to the provincial authority account (the pack's
    ``special_treatment.provincial_account``): ``compliance_risk`` by default (2023–2024 plan §五(四)); the
    2021–2022 notice §一 adds ``all_shut`` ("对以上重点排放单位，在核定阶段，其配额发放至省级生态环境主管部门账户").
    """
    t = _check(treatments)
    if min(final_allocation_t, obligation_t, adjustments_total_t, issued_before_t) < 0:
        raise ValueError("final allocation, obligation, adjustments and issued quantity must be ≥ 0")
    issue = -issued_before_t if DEREGISTERED in t else final_allocation_t - adjustments_total_t - issued_before_t
    return FinalIssue(
        final_allocation_t=final_allocation_t,
        obligation_t=obligation_t,
        adjustments_total_t=adjustments_total_t,
        issued_before_t=issued_before_t,
        final_issue_t=issue,
        to_provincial_account=bool(t & set(provincial)),
        special_note=special_note(t),
    )
