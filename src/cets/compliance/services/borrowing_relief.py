"""Borrowing (预支, 2021–2022 plan) and hardship relief (个性化纾困)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from cets.allocation.selectors import allocated_t
from cets.core.errors import CetsError
from cets.parties.access import require_role
from cets.parties.models import Organisation, Role
from cets.registry.checks import R0605, R0606
from cets.rules.packs import load_pack

from ..checks import (
    C0804,
    C0808,
    C0903,
    C0904,
    C0905,
    C0906,
    C0907,
    C0908,
    C0909,
    C0910,
)
from ..models import (
    Borrowing,
    Obligation,
    ReliefApplication,
)


def _documents(documents: list[str]) -> list[str]:
    docs = [d.strip() for d in documents if isinstance(d, str) and d.strip()]
    if not docs:
        raise CetsError(C0908, "documents")
    return docs


@transaction.atomic
def borrowing_submit(*, entity: Organisation, year: int, quantity_t: int, documents: list[str], actor,
                     at: dt.datetime | None = None) -> Borrowing:
    """The province submits that ``entity`` borrows ``quantity_t`` tonnes CO2e of the pack's
    ``borrowing.from_vintage`` (2023) allowances for its ``year`` obligation (预支, notice of 2023-07-17 §三),
    with ``documents`` (references of the formal letter and the entity's filing), by the pack's
    ``borrowing.submission_due`` (2023-08-04). The gap is obligation − final allocation of ``year``;
    eligible when gap > ``gap_threshold`` × allocation, at most ``share_of_gap`` × gap (pure rule:
    :func:`cets.compliance.borrowing.borrowing_limit`). The borrowed quantity is recorded as a
    ``borrowing_repayment`` adjustment of the ``from_vintage`` year's issuance.

    Raises R0502 unless the entity's provincial authority; R0606 no obligation; C0903 the pack has no
    ``[borrowing]`` (2023–2024: no borrowing); C0906 entity flagged at compliance risk for ``year``;
    C0907 after the deadline; C0908 no documents; C0910 no allocation; C0904 not eligible; C0905 above
    the limit or not positive; C0804 already submitted. Nothing is written on a refusal.
    """
    from cets.allocation.models import AllocationAdjustment
    from cets.allocation.selectors import has_compliance_risk
    from cets.allocation.services import allocation_adjustment_record

    from ..borrowing import borrowing_limit

    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=entity.province)
    at = at or timezone.now()
    ob = Obligation.objects.filter(entity=entity, market="national", year=year).first()
    if ob is None:
        raise CetsError(R0606, f"{entity.uscc} {year}")
    pack = load_pack(ob.pack_id)
    if "borrowing" not in pack.data:
        raise CetsError(C0903, pack.id)
    if has_compliance_risk(entity=entity, year=year):
        raise CetsError(C0906, f"{entity.uscc} {year}")
    if timezone.localdate(at) > pack.date("borrowing.submission_due"):
        raise CetsError(C0907, pack.text("borrowing.submission_due"))
    docs = _documents(documents)
    allocation_t = allocated_t(entity=entity, year=year, market=ob.market)
    if allocation_t is None:
        raise CetsError(C0910, f"{entity.uscc} {year}")
    lim = borrowing_limit(obligation_t=ob.obligation_t, allocation_t=allocation_t, threshold=pack.decimal("borrowing.gap_threshold"),
                          share=pack.decimal("borrowing.share_of_gap"), rounding=pack.text("borrowing.rounding"))
    if not lim.eligible:
        raise CetsError(C0904, f"gap {lim.gap_t} t ≤ {pack.text('borrowing.gap_threshold')} × {allocation_t} t")
    if not isinstance(quantity_t, int) or not 0 < quantity_t <= lim.limit_t:
        raise CetsError(C0905, f"{quantity_t} > {lim.limit_t}")
    if Borrowing.objects.filter(entity=entity, year=year).exists():
        raise CetsError(C0804, f"borrowing {entity.uscc} {year}")
    b = Borrowing.objects.create(entity=entity, year=year, pack_id=pack.id, from_vintage=pack.text("borrowing.from_vintage"),
                                 allocation_t=allocation_t, obligation_t=ob.obligation_t, gap_t=lim.gap_t, limit_t=lim.limit_t,
                                 quantity_t=quantity_t, documents=docs, submitted_by=actor, submitted_at=at)
    allocation_adjustment_record(entity=entity, year=int(b.from_vintage), kind=AllocationAdjustment.Kind.BORROWING_REPAYMENT, quantity_t=quantity_t,
                                 reason=f"预支{b.from_vintage}年度配额用于{year}年度清缴 borrowed for {year}", source=f"compliance.borrowing:{b.pk}",
                                 actor=actor, at=at)
    return b


@transaction.atomic
def relief_apply(*, obligation_id: int, grounds: str, documents: list[str], effect: str, actor, new_deadline: dt.date | None = None,
                 quantity_t: int | None = None, deferred_source: str = "", at: dt.datetime | None = None) -> ReliefApplication:
    """The province applies for hardship relief (个性化纾困) for an entity with major public-service duties
    that cannot comply (notice of 2023-07-17 §三), with ``grounds`` and ``documents``, by the pack's
    ``borrowing.relief_submission_due`` when the pack has one. ``effect`` (ReliefApplication.Effect) needs
    ``new_deadline`` (later than the obligation's), ``quantity_t`` (> 0) or ``deferred_source`` (the
    deduction's source) respectively. Raises R0502 unless the entity's provincial authority; R0606;
    C0907 late; C0908 no documents or grounds; C0909 effect incomplete."""
    ob = Obligation.objects.select_related("entity").filter(pk=obligation_id).first()
    if ob is None:
        raise CetsError(R0606, str(obligation_id))
    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=ob.entity.province)
    at = at or timezone.now()
    pack = load_pack(ob.pack_id)
    due = pack.data.get("borrowing", {}).get("relief_submission_due")
    if due and timezone.localdate(at) > pack.date("borrowing.relief_submission_due"):
        raise CetsError(C0907, due)
    docs = _documents(documents)
    if not grounds.strip():
        raise CetsError(C0908, "grounds")
    E = ReliefApplication.Effect
    ok = {E.DEADLINE_EXTENSION: new_deadline is not None and new_deadline > ob.deadline,
          E.ADDITIONAL_ISSUANCE: isinstance(quantity_t, int) and quantity_t > 0,
          E.DEDUCTION_DEFERRAL: bool(deferred_source.strip())}.get(effect, False)
    if not ok:
        raise CetsError(C0909, effect)
    return ReliefApplication.objects.create(
        obligation=ob, grounds=grounds.strip(), documents=docs, effect=effect, submitted_by=actor, submitted_at=at,
        new_deadline=new_deadline if effect == E.DEADLINE_EXTENSION else None,
        quantity_t=quantity_t if effect == E.ADDITIONAL_ISSUANCE else None,
        deferred_source=deferred_source.strip() if effect == E.DEDUCTION_DEFERRAL else "")


@transaction.atomic
def relief_decide(*, application_id: int, approve: bool, decision: str, actor, at: dt.datetime | None = None) -> ReliefApplication:
    """The national authority decides a relief application (notice of 2023-07-17 §三: "我部将统筹考虑纾困措施").
    An approved ``deadline_extension`` takes effect in the compliance status at once (selectors use the
    later deadline); ``additional_issuance`` and ``deduction_deferral`` are recorded for the allocation
    context to carry out. R0502 unless the national authority; R0605 not pending; C0808 no decision text."""
    app = ReliefApplication.objects.select_for_update().filter(pk=application_id).first()
    if app is None:
        raise CetsError(R0606, f"relief {application_id}")
    require_role(actor, Role.NATIONAL_AUTHORITY)
    if app.status != ReliefApplication.Status.SUBMITTED:
        raise CetsError(R0605, app.status)
    if not decision.strip():
        raise CetsError(C0808, "decision")
    app.status = ReliefApplication.Status.APPROVED if approve else ReliefApplication.Status.REJECTED
    app.decided_by, app.decided_at, app.decision = actor, at or timezone.now(), decision.strip()
    app.save(update_fields=["status", "decided_by", "decided_at", "decision"])
    return app
