"""Non-compliance (未按时足额清缴): rectification orders, fines (Regulations 2024 Art. 24; Measures Art. 40),
publication, and the deduction of arrears from next year's allocation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from cets.core.errors import CetsError
from cets.core.quantities import D
from cets.parties.access import district_of, require_role
from cets.parties.models import Role
from cets.registry.checks import R0606
from cets.rules.packs import Pack, PackError, load_pack

from .. import penalty
from ..checks import (
    C0801,
    C0802,
    C0803,
    C0804,
    C0805,
    C0806,
    C0807,
    C0808,
    C0809,
    C0810,
)
from ..models import (
    Obligation,
    PenaltyDecision,
    RectificationOrder,
)
from ..selectors import deadline_of, market_price, status_of, unsurrendered_for_penalty


def _obligation_for_authority(obligation_id: int, actor, *roles: str) -> tuple[Obligation, Pack, object]:
    ob = Obligation.objects.select_for_update().select_related("entity").filter(pk=obligation_id).first()
    if ob is None:
        raise CetsError(R0606, str(obligation_id))
    pack = load_pack(ob.pack_id)
    m = require_role(actor, *(roles or pack.raw("penalty.authorities")), province=ob.entity.province, region_code=district_of(ob.entity))
    return ob, pack, m


@transaction.atomic
def rectification_order_issue(*, obligation_id: int, reference: str, actor, deadline: dt.date | None = None,
                              at: dt.datetime | None = None) -> RectificationOrder:
    """责令限期改正 (Regulations 2024 Art. 24; Measures 2021 Art. 40): order the entity to surrender what
    is still outstanding by the deadline of the pack's ``compliance.<year>.rectification_deadline`` (notice
    国环规气候〔2024〕1号 §三(三): 2023 → 2025-02-28, 2024 → 2026-02-28); ``deadline`` is used only when the
    pack has none (then it is required).

    Raises R0502 unless ``actor`` is one of the pack's ``penalty.authorities`` (municipal or provincial)
    of the entity's province; R0606 no obligation; C0809 before the surrender deadline; C0801 nothing
    outstanding; C0804 an order already exists; C0810 no deadline.
    """
    ob, pack, m = _obligation_for_authority(obligation_id, actor)
    at = at or timezone.now()
    today = timezone.localdate(at)
    if today <= deadline_of(obligation=ob):
        raise CetsError(C0809, f"{deadline_of(obligation=ob)}")
    outstanding = status_of(obligation=ob, today=today).outstanding_t
    if outstanding <= 0:
        raise CetsError(C0801, f"{ob.entity.uscc} {ob.year}")
    if RectificationOrder.objects.filter(obligation=ob).exists():
        raise CetsError(C0804, f"rectification {ob.entity.uscc} {ob.year}")
    key = f"compliance.{ob.year}.rectification_deadline"
    try:
        deadline = pack.date(key)
    except PackError:
        if deadline is None:
            raise CetsError(C0810, key) from None
    if not reference.strip():
        raise CetsError(C0808, "reference")
    return RectificationOrder.objects.create(obligation=ob, reference=reference.strip(), deadline=deadline, unsurrendered_t=outstanding,
                                             authority=m.organisation, issued_by=actor, issued_at=at)


def penalty_range(*, obligation: Obligation, pack: Pack, today: dt.date | None = None) -> tuple[int, object, penalty.FineRange]:
    """(unsurrendered tonnes, market price or None, lawful fine range in fen) for ``obligation`` under
    ``pack``'s ``[penalty]`` (read-only helper of :func:`penalty_decide`). Raises C0801 when nothing was
    unsurrendered, C0803 when the price basis has no counted trade."""
    q = unsurrendered_for_penalty(obligation=obligation, pack=pack, today=today)
    if q <= 0:
        raise CetsError(C0801, f"{obligation.entity.uscc} {obligation.year}")
    if pack.text("penalty.basis") == penalty.FIXED_RANGE:
        return q, None, penalty.FineRange(penalty.FIXED_RANGE, int(pack.decimal("penalty.fine_min_fen")), int(pack.decimal("penalty.fine_max_fen")))
    price = market_price(pack=pack, deadline=obligation.deadline, market=pack.market)
    if price is None:
        raise CetsError(C0803, f"{obligation.deadline}")
    rng = penalty.fine_range_price_multiple(q, price.price_fen, pack.decimal("penalty.multiple_min"), pack.decimal("penalty.multiple_max"),
                                            pack.text("penalty.fine_rounding"))
    return q, price, rng


@transaction.atomic
def penalty_decide(*, obligation_id: int, reference: str, reason: str, actor, multiple: str | Decimal | None = None,
                   amount_fen: int | None = None, at: dt.datetime | None = None) -> PenaltyDecision:
    """Decide the fine for not surrendering ``obligation_id`` in full by its deadline.

    ``price_multiple`` packs (Regulations 2024 Art. 24): ``multiple`` (5 ≤ m ≤ 10, decimal string) ×
    unsurrendered tonnes × the average price of the month before the deadline (pack ``[penalty]``:
    window, trades counted, volume-weighted, rounded to the fen) → ``fine_fen`` fen (int).
    ``fixed_range`` packs (Measures 2021 Art. 40): ``amount_fen`` fen within CNY 20,000–30,000.
    ``reason`` says why this multiple or amount was chosen (required). The multiple has at most two
    decimals (e.g. "7.5").

    Raises R0502 unless ``actor`` is a municipal or provincial authority (pack ``penalty.authorities``)
    of the entity's province; R0606 no obligation; C0809 before the deadline; C0801 surrendered in full
    by the deadline; C0803 no price; C0802 multiple/amount missing or outside the range; C0808 no
    reason or reference; C0804 already decided. Nothing is written on a refusal.
    """
    ob, pack, m = _obligation_for_authority(obligation_id, actor)
    at = at or timezone.now()
    today = timezone.localdate(at)
    if today <= deadline_of(obligation=ob):
        raise CetsError(C0809, f"{deadline_of(obligation=ob)}")
    if PenaltyDecision.objects.filter(obligation=ob).exists():
        raise CetsError(C0804, f"penalty {ob.entity.uscc} {ob.year}")
    if not reason.strip() or not reference.strip():
        raise CetsError(C0808, "reason" if not reason.strip() else "reference")
    q, price, rng = penalty_range(obligation=ob, pack=pack, today=today)
    extra = {}
    if rng.basis == penalty.PRICE_MULTIPLE:
        try:
            mult = D(multiple) if multiple is not None else None
        except (TypeError, ValueError):
            mult = None
        if mult is None or not penalty.multiple_allowed(mult, pack.decimal("penalty.multiple_min"), pack.decimal("penalty.multiple_max")) \
                or mult != mult.quantize(Decimal("0.01")):
            raise CetsError(C0802, f"multiple {multiple!r} not in {pack.text('penalty.multiple_min')}–{pack.text('penalty.multiple_max')}")
        fine = penalty.fine_price_multiple(q, price.price_fen, mult, pack.text("penalty.fine_rounding"))
        extra = dict(multiple=mult, price_from=price.start, price_to=price.end, price_fen=price.price_fen, price_volume_t=price.volume_t,
                     price_amount_fen=price.amount_fen)
    else:
        if not isinstance(amount_fen, int) or not rng.min_fen <= amount_fen <= rng.max_fen:
            raise CetsError(C0802, f"amount {amount_fen!r} not in {rng.min_fen}–{rng.max_fen} fen")
        fine = amount_fen
    return PenaltyDecision.objects.create(obligation=ob, pack_id=pack.id, basis=rng.basis, reference=reference.strip(), unsurrendered_t=q,
                                          min_fen=rng.min_fen, max_fen=rng.max_fen, fine_fen=fine, reason=reason.strip(),
                                          authority=m.organisation, decided_by=actor, decided_at=at, **extra)


@transaction.atomic
def penalty_publish(*, decision_id: int, actor, at: dt.datetime | None = None) -> PenaltyDecision:
    """Publish a penalty decision (处罚信息公开, notice 国环规气候〔2024〕1号 §三(四); 《行政处罚法》): from now on
    it shows on the public page. Only an authority of the pack's ``penalty.authorities`` in the entity's
    province (R0502); R0606 unknown decision. Idempotent (publishing again keeps the first date)."""
    d = PenaltyDecision.objects.select_for_update().select_related("obligation__entity").filter(pk=decision_id).first()
    if d is None:
        raise CetsError(R0606, f"penalty {decision_id}")
    require_role(actor, *load_pack(d.pack_id).raw("penalty.authorities"), province=d.obligation.entity.province,
                 region_code=district_of(d.obligation.entity))
    if d.published_at is None:
        d.published_at = at or timezone.now()
        d.save(update_fields=["published_at"])
    return d


@transaction.atomic
def arrears_deduction_decide(*, obligation_id: int, actor, at: dt.datetime | None = None):
    """核减: the entity did not rectify by the order's deadline, so the quantity still unsurrendered is
    deducted from its next year's allocation (Regulations 2024 Art. 24 "拒不改正的，按照未清缴的碳排放配额
    等量核减其下一年度碳排放配额"; Measures 2021 Art. 40: by the provincial authority). Recorded through
    :func:`cets.allocation.services.allocation_adjustment_record` as an ``arrears_deduction`` of year + 1,
    source ``compliance.rectification:<order id>``; returns the AllocationAdjustment.

    Raises R0502 unless ``actor`` is the entity's provincial authority; R0606 no obligation; C0805 the
    pack's ``penalty.arrears_deduction`` is off or the decision falls on/after
    ``penalty.arrears_deduction_no_new_decisions_from`` (2026-08-15, 生态环境法典; reference §1.7);
    C0806 no order or its deadline not passed; C0807 nothing outstanding. Idempotent per order.
    """
    from cets.allocation.models import AllocationAdjustment
    from cets.allocation.services import allocation_adjustment_record

    ob, pack, _ = _obligation_for_authority(obligation_id, actor, Role.PROVINCIAL_AUTHORITY)
    at = at or timezone.now()
    today = timezone.localdate(at)
    order = RectificationOrder.objects.filter(obligation=ob).first()
    if order is not None:
        done = AllocationAdjustment.objects.filter(source=f"compliance.rectification:{order.pk}",
                                                   kind=AllocationAdjustment.Kind.ARREARS_DEDUCTION).first()
        if done is not None:
            return done
    if not pack.flag("penalty.arrears_deduction"):
        raise CetsError(C0805, f"{pack.id} penalty.arrears_deduction = false")
    stop = pack.data.get("penalty", {}).get("arrears_deduction_no_new_decisions_from")
    if stop is not None and today >= pack.date("penalty.arrears_deduction_no_new_decisions_from"):
        raise CetsError(C0805, f"no new deduction decisions from {stop}")
    if order is None or today <= order.deadline:
        raise CetsError(C0806, f"order deadline {order.deadline}" if order else "no order")
    outstanding = status_of(obligation=ob, today=today).outstanding_t
    if outstanding <= 0:
        raise CetsError(C0807, f"{ob.entity.uscc} {ob.year}")
    return allocation_adjustment_record(entity=ob.entity, year=ob.year + 1, kind=AllocationAdjustment.Kind.ARREARS_DEDUCTION,
                                        quantity_t=outstanding, source=f"compliance.rectification:{order.pk}", actor=actor, at=at,
                                        reason=f"{ob.year}年度未清缴配额等量核减 arrears of {ob.year} deducted ({order.reference})")
