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
from cets.rules.markets import PRIMARY_MARKET
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
    C0911,
    C0913,
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
    ``[borrowing]`` (2023–2024: no borrowing); C0906 entity flagged at compliance risk for ``year``, C0911
    flagged with another treatment the pack's ``special_treatment.no_borrowing`` lists (2021–2022: all units shut);
    C0907 after the deadline; C0908 no documents; C0910 no allocation; C0904 not eligible; C0905 above
    the limit or not positive; C0804 already submitted. Nothing is written on a refusal.
    """
    from cets.allocation.models import AllocationAdjustment
    from cets.allocation.selectors import treatments_of
    from cets.allocation.services import allocation_adjustment_record

    from ..borrowing import borrowing_limit
    from ..selectors import special_kinds

    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=entity.province)
    at = at or timezone.now()
    ob = Obligation.objects.filter(entity=entity, market=PRIMARY_MARKET, year=year).first()
    if ob is None:
        raise CetsError(R0606, f"{entity.uscc} {year}")
    pack = load_pack(ob.pack_id)
    if "borrowing" not in pack.data:
        raise CetsError(C0903, pack.id)
    barred = special_kinds(pack.id, "no_borrowing") & set(treatments_of(entity=entity, year=year))
    if barred:  # notice of 2023-07-14 §一: "对符合上述情形的重点排放单位，不可预支2023年度配额"
        raise CetsError(C0906 if "compliance_risk" in barred else C0911, f"{entity.uscc} {year}: {', '.join(sorted(barred))}")
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
def borrowing_issue_propose(*, borrowing_id: int, unit_type, actor, effective_at: dt.datetime | None = None):
    """Propose issuing the ``quantity_t`` borrowed allowances of ``from_vintage`` (2023) to the entity's account,
    four eyes (a second registry operator approves): "申报预支2023年度配额…审核确定其预支配额量" (notice of
    2023-07-14 §三). They may then be surrendered for the borrowing's year (``surrender_submit``, up to the
    borrowed quantity) and are repaid out of the ``from_vintage`` issuance (the ``borrowing_repayment``
    adjustment recorded by :func:`borrowing_submit`). Idempotent on the key ``compliance-borrowing-<id>``.
    Raises R0606 no such borrowing, C0913 ``unit_type`` not CEA of ``from_vintage``, R0502 unless a registry
    operator, R0101 the entity has no account."""
    from cets.registry.checks import R0101
    from cets.registry.models import Instrument
    from cets.registry.selectors import account_of
    from cets.registry.services import IssuanceLine, issuance_propose

    b = Borrowing.objects.select_related("entity").filter(pk=borrowing_id).first()
    if b is None:
        raise CetsError(R0606, f"borrowing {borrowing_id}")
    if unit_type.instrument != Instrument.CEA or unit_type.vintage != b.from_vintage:
        raise CetsError(C0913, f"{unit_type.code} ≠ CEA-{b.from_vintage}")
    acc = account_of(holder_id=b.entity_id)
    if acc is None:
        raise CetsError(R0101, b.entity.uscc)
    return issuance_propose(key=f"compliance-borrowing-{b.pk}", unit_type=unit_type, actor=actor, effective_at=effective_at,
                            note=f"预支{b.from_vintage}年度配额 borrowed for {b.year}",
                            lines=[IssuanceLine(account=acc.number, quantity=int(b.quantity_t),
                                                reference=f"预支{b.from_vintage}年度配额用于{b.year}年度清缴 {b.entity.uscc}")])


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
