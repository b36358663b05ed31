"""Compliance writes, by noun: obligations, surrender, forced surrender, enforcement (rectification, fines,
deduction), documents (notices, certificates), borrowing and relief, carry-over, and the Beijing pilot.
Each service is one transaction with authorisation inside; a refusal (CetsError with its check code) writes
nothing. Importing the package registers the four-eyes executors (forced surrender, Beijing collection)."""

from .beijing import BeijingObligationRow, beijing_obligations_create, collection_propose
from .borrowing_relief import borrowing_issue_propose, borrowing_submit, relief_apply, relief_decide
from .carryover import CarryOverPosition, carry_over_apply, carry_over_position, carry_over_process
from .documents import compliance_certificate_issue, compliance_notice_forward, compliance_notices_issue
from .enforcement import arrears_deduction_decide, penalty_decide, penalty_publish, penalty_range, rectification_order_issue
from .forced_surrender import forced_surrender_order, forced_surrender_propose
from .obligations import obligations_create
from .surrender import _arrears_deducted, _decide, ccer_eligible, surrender_approve, surrender_reject, surrender_submit

__all__ = [
    "CarryOverPosition",
    "carry_over_apply",
    "carry_over_position",
    "carry_over_process",
    "obligations_create",
    "_arrears_deducted",
    "_decide",
    "ccer_eligible",
    "surrender_approve",
    "surrender_reject",
    "surrender_submit",
    "forced_surrender_order",
    "forced_surrender_propose",
    "arrears_deduction_decide",
    "penalty_decide",
    "penalty_publish",
    "penalty_range",
    "rectification_order_issue",
    "compliance_certificate_issue",
    "compliance_notice_forward",
    "compliance_notices_issue",
    "borrowing_issue_propose",
    "borrowing_submit",
    "relief_apply",
    "relief_decide",
    "BeijingObligationRow",
    "beijing_obligations_create",
    "collection_propose",
]
