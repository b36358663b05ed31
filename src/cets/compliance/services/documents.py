"""Compliance notices (履约通知书) and certificates (履约完成证明)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from cets.allocation.selectors import fully_issued_entity_ids
from cets.core.errors import CetsError
from cets.parties.access import require_role
from cets.parties.models import Role
from cets.registry.checks import R0606

from ..checks import (
    C0901,
    C0902,
)
from ..models import (
    ComplianceCertificate,
    ComplianceNotice,
    Obligation,
)
from ..selectors import status_of


@transaction.atomic
def compliance_notices_issue(*, year: int, actor, at: dt.datetime | None = None) -> int:
    """Issue the 履约通知书 of ``year`` with the final allocation (notice 国环规气候〔2024〕1号 §三(一)): one per
    obligation whose entity's allocation of ``year`` is at stage ``final_issued`` and that has no notice
    yet; obligation, deadline and offset cap are copied from the obligation. Entities flagged for ``year``
    with a treatment the pack lists under ``special_treatment.notice_via_province`` (default: compliance
    risk; 2021–2022 also all units shut, notice of 2023-07-14 §一 "并由省级生态环境主管部门将履约通知书发放至
    重点排放单位") get theirs through the provincial authority. R0502 unless ``actor`` is a registry operator.
    Returns the number issued (idempotent: a second run issues none)."""
    from cets.allocation.selectors import treatments_of

    from ..selectors import special_kinds

    require_role(actor, Role.REGISTRY_OPERATOR)
    at = at or timezone.now()
    final = fully_issued_entity_ids(year=year)
    n = 0
    for ob in Obligation.objects.select_related("entity").filter(year=year, notice__isnull=True, entity_id__in=final):
        via_province = special_kinds(ob.pack_id, "notice_via_province") & set(treatments_of(entity=ob.entity, year=year))
        via = ComplianceNotice.DeliveredTo.PROVINCE if via_province else ComplianceNotice.DeliveredTo.ENTITY
        ComplianceNotice.objects.create(obligation=ob, number=f"LYTZ-{year}-{ob.entity.uscc}", obligation_t=ob.obligation_t,
                                        offset_cap_t=ob.offset_cap_t, deadline=ob.deadline, delivered_to=via, issued_by=actor, issued_at=at)
        n += 1
    return n


@transaction.atomic
def compliance_notice_forward(*, notice_id: int, actor, at: dt.datetime | None = None) -> ComplianceNotice:
    """The provincial authority forwards a notice delivered to it to the entity (notice of 2023-07-17 §一).
    R0502 unless the entity's provincial authority; C0902 if the notice went to the entity directly.
    Idempotent."""
    n = ComplianceNotice.objects.select_for_update().select_related("obligation__entity").filter(pk=notice_id).first()
    if n is None:
        raise CetsError(R0606, f"notice {notice_id}")
    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=n.obligation.entity.province)
    if n.delivered_to != ComplianceNotice.DeliveredTo.PROVINCE:
        raise CetsError(C0902, n.number)
    if n.forwarded_at is None:
        n.forwarded_at = at or timezone.now()
        n.save(update_fields=["forwarded_at"])
    return n


@transaction.atomic
def compliance_certificate_issue(*, obligation_id: int, actor, at: dt.datetime | None = None) -> ComplianceCertificate:
    """履约完成证明 by the registry for an obligation surrendered in full, on time or late (notice
    国环规气候〔2024〕1号 §四(四); 2023-07-17 notice §五(三)). R0502 unless a registry operator; R0606 no
    obligation; C0901 not surrendered in full. Idempotent (returns the certificate already issued)."""
    require_role(actor, Role.REGISTRY_OPERATOR)
    ob = Obligation.objects.select_for_update().select_related("entity").filter(pk=obligation_id).first()
    if ob is None:
        raise CetsError(R0606, str(obligation_id))
    existing = ComplianceCertificate.objects.filter(obligation=ob).first()
    if existing is not None:
        return existing
    at = at or timezone.now()
    s = status_of(obligation=ob, today=timezone.localdate(at))
    if s.outstanding_t > 0:
        raise CetsError(C0901, f"{s.outstanding_t} t outstanding")
    return ComplianceCertificate.objects.create(obligation=ob, number=f"LYZM-{ob.year}-{ob.entity.uscc}", outcome=s.status,
                                                surrendered_t=s.surrendered_t, issued_by=actor, issued_at=at)
