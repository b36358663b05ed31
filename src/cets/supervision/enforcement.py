"""Enforcement writes of supervision: false-reporting findings (Measures Art. 43; Regulations Art. 22), market
surveillance decisions, and automatic credit records (Measures Art. 38) from compliance and supervision events.

Keyword-only, one transaction each, authorisation inside (R0502). Supervision is above compliance: it reads
compliance's records (pull, :func:`credit_sync`); compliance never imports supervision.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from cets.core.errors import CetsError
from cets.parties.access import require_role
from cets.parties.models import Organisation, Role
from cets.rules.markets import PRIMARY_MARKET

from . import rules
from .checks import G0701, G0702, G0703, G0704, G0705, G0801, G0802, G0803, G1001
from .models import BlacklistEntry, CreditRecord, FalseReportingFinding, SurveillanceDecision
from .services import _city_of, _credit, _in_jurisdiction, blacklist_credit_kind, supervision_pack


def _int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def fine_range(*, rules_applied: str, gains_fen: int, year: int, market: str = PRIMARY_MARKET) -> tuple[rules.FineRange, str]:
    """The lawful fine range (fen) for a false-reporting finding under ``rules_applied`` (``measures_43``,
    ``regulations_22`` or ``regulations_23``), from the supervision pack of ``year``; returns (range, pack id). G0701, G0703."""
    if not _int(gains_fen):
        raise CetsError(G0703, repr(gains_fen)[:40])
    pack = supervision_pack(year, market)
    if rules_applied == FalseReportingFinding.Rules.MEASURES:
        p = "false_reporting.measures."
        return rules.measures_fine_range(fine_min_fen=pack.decimal(p + "fine_min_fen"), fine_max_fen=pack.decimal(p + "fine_max_fen")), pack.id
    if rules_applied in (FalseReportingFinding.Rules.REGULATIONS, FalseReportingFinding.Rules.REGULATIONS_BODY):
        p = "false_reporting.regulations." if rules_applied == FalseReportingFinding.Rules.REGULATIONS else "false_reporting.regulations_23."
        src = rules.SRC_ART_22 if rules_applied == FalseReportingFinding.Rules.REGULATIONS else rules.SRC_ART_23
        return rules.regulations_fine_range(source=src, gains_fen=gains_fen, multiple_min=pack.decimal(p + "gains_multiple_min"),
                                            multiple_max=pack.decimal(p + "gains_multiple_max"), gains_floor_fen=pack.decimal(p + "gains_floor_fen"),
                                            fine_min_fen=pack.decimal(p + "fine_min_fen"), fine_max_fen=pack.decimal(p + "fine_max_fen")), pack.id
    raise CetsError(G0701, repr(rules_applied)[:40])


@transaction.atomic
def false_reporting_find(*, actor, subject_id: int, year: int, rules_applied: str, decision_reference: str, facts: str, fine_fen: int,
                         gains_fen: int = 0, determined_emissions_t: int | None = None, next_year_allocation_t: int = 0,
                         cut_share: Decimal | None = None, decided_on: dt.date | None = None, market: str = PRIMARY_MARKET) -> FalseReportingFinding:
    """Record a finding of false reporting against an entity or a verification body (national authority, or the entity's
    provincial authority), with ``fine_fen`` inside the lawful range (:func:`fine_range`, G0702). Under Regulations
    Art. 22 a refusal to correct cuts ``cut_share`` (pack ``cut_share_min``…``cut_share_max``, G0705) of
    ``next_year_allocation_t``: recorded as an allocation adjustment (kind violation_deduction) for ``year + 1`` through
    :func:`cets.allocation.services.allocation_adjustment_record` — withheld at issuance, no unit moved here. Creates the
    subject's credit record (kind false_reporting) in the same transaction. Published on /public/.
    ``determined_emissions_t`` (t CO2e), the emissions the authority determined (测算), is the entity's surrender basis for
    ``year`` (Measures 2021 Art. 39; draft Measures Art. 43): MRV reads it (:func:`cets.mrv.selectors.authority_determinations`)
    and the entity's existing obligation of ``year`` in ``market`` is brought up to it in the same transaction by the one
    obligation path (:func:`cets.compliance.services.obligations_create` for that entity); an obligation created later reads it too.
    Errors: G0701, G0702, G0703, G0704, G0705, G1001 (determined emissions on a verification body's finding), R0502."""
    m = require_role(actor, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY)
    subject = Organisation.objects.get(pk=subject_id)
    if not decision_reference.strip() or not facts.strip():
        raise CetsError(G0701)
    body = rules_applied == FalseReportingFinding.Rules.REGULATIONS_BODY  # Art. 23 is the verification bodies' article; 43 and 22 the entities'
    if subject.kind != (Organisation.Kind.VERIFIER if body else Organisation.Kind.ENTITY) and rules_applied in FalseReportingFinding.Rules.values:
        raise CetsError(G0704, f"{subject.kind} / {rules_applied}")
    if not (subject.kind == Organisation.Kind.VERIFIER and m.role == Role.NATIONAL_AUTHORITY):
        _in_jurisdiction(m, province=subject.province, city=_city_of(subject))
    if not _int(fine_fen) or not _int(next_year_allocation_t) or (determined_emissions_t is not None and not _int(determined_emissions_t)):
        raise CetsError(G0703)
    if determined_emissions_t is not None and subject.kind != Organisation.Kind.ENTITY:
        raise CetsError(G1001, subject.kind)
    rng, pack_id = fine_range(rules_applied=rules_applied, gains_fen=gains_fen, year=year, market=market)
    if not rng.min_fen <= fine_fen <= rng.max_fen:
        raise CetsError(G0702, f"{fine_fen} fen ∉ [{rng.min_fen}, {rng.max_fen}] ({rng.source})")
    cut_t = 0
    if cut_share is not None:
        pack = supervision_pack(year, market)
        lo, hi = pack.decimal("false_reporting.regulations.cut_share_min"), pack.decimal("false_reporting.regulations.cut_share_max")
        if (rules_applied != FalseReportingFinding.Rules.REGULATIONS or not isinstance(cut_share, Decimal) or not lo <= cut_share <= hi
                or subject.kind != Organisation.Kind.ENTITY):
            raise CetsError(G0705, f"{cut_share} ∉ [{lo}, {hi}]")
        cut_t = rules.allocation_cut_t(next_year_allocation_t=next_year_allocation_t, share=cut_share)
    decided_on = decided_on or timezone.localdate()
    f = FalseReportingFinding.objects.create(subject=subject, year=year, rules=rules_applied, decision_reference=decision_reference.strip(),
                                             facts=facts.strip(), gains_fen=gains_fen, fine_min_fen=rng.min_fen, fine_max_fen=rng.max_fen,
                                             fine_fen=fine_fen, pack_id=pack_id, determined_emissions_t=determined_emissions_t, allocation_cut_t=cut_t,
                                             province=subject.province, authority=m.organisation, decided_by=actor, decided_on=decided_on)
    if cut_t > 0:
        from cets.allocation.services import allocation_adjustment_record

        adj = allocation_adjustment_record(entity=subject, year=year + 1, kind="violation_deduction", quantity_t=cut_t,
                                           reason=f"虚报瞒报 {decision_reference.strip()}"[:300], source=f"supervision.finding:{f.pk}", actor=actor)
        f.allocation_adjustment_source = adj.source
        f.save(update_fields=["allocation_adjustment_source"])
    if determined_emissions_t is not None:
        from cets.compliance.models import Obligation
        from cets.compliance.services import obligations_create

        ob = Obligation.objects.filter(entity=subject, year=year, market=market).first()
        if ob is not None:
            obligations_create(year=year, pack_id=ob.pack_id, entity_ids=[subject.pk])
    _credit(subject=subject, kind=CreditRecord.Kind.FALSE_REPORTING, reason=f.facts, source_reference=f.decision_reference, recorded_on=decided_on,
            authority=m.organisation, actor=actor, source_key=f"supervision.finding:{f.pk}")
    return f


@transaction.atomic
def credit_sync(*, actor) -> int:
    """Create the credit records (Measures Art. 38) the rules attach to events not yet recorded: an order to correct an
    overdue surrender (compliance RectificationOrder → non_compliance), a fine decided for it (compliance PenaltyDecision
    → non_compliance), a blacklist decision made before decisions recorded their own (:func:`services.blacklist_credit_kind`).
    Idempotent (``source_key``); the national authority runs it (``cets supervision credit-sync``). Returns how many records it created."""
    mee = require_role(actor, Role.NATIONAL_AUTHORITY).organisation
    from cets.compliance.models import PenaltyDecision, RectificationOrder

    made = 0
    for r in RectificationOrder.objects.select_related("obligation__entity", "authority"):
        made += _credit(subject=r.obligation.entity, kind=CreditRecord.Kind.NON_COMPLIANCE,
                        reason=f"未按时足额清缴配额，责令限期改正（欠缴 {r.unsurrendered_t} 吨）", source_reference=r.reference,
                        recorded_on=timezone.localdate(r.issued_at), authority=r.authority, actor=actor,
                        source_key=f"compliance.rectification:{r.pk}") is not None
    for p in PenaltyDecision.objects.select_related("obligation__entity", "authority"):
        made += _credit(subject=p.obligation.entity, kind=CreditRecord.Kind.NON_COMPLIANCE,
                        reason=f"未按时足额清缴配额，罚款 {p.fine_fen // 100}.{p.fine_fen % 100:02d} 元", source_reference=p.reference,
                        recorded_on=timezone.localdate(p.decided_at), authority=p.authority, actor=actor, source_key=f"compliance.penalty:{p.pk}") is not None
    for e in BlacklistEntry.objects.select_related("subject"):
        if e.subject.kind not in (Organisation.Kind.ENTITY, Organisation.Kind.VERIFIER):
            continue
        made += _credit(subject=e.subject, kind=blacklist_credit_kind(e), reason=f"列入黑名单：{e.reason}", source_reference=e.decision_reference,
                        recorded_on=min(e.starts_on, timezone.localdate(e.decided_at)),
                        authority=mee, actor=actor, source_key=f"supervision.blacklist:{e.pk}") is not None
    return made


@transaction.atomic
def surveillance_decide(*, actor, alert_key: str, outcome: str, reason: str, market: str = PRIMARY_MARKET) -> SurveillanceDecision:
    """Record a person's decision (dismiss / refer) on a current surveillance alert (exchange operator or national
    authority). G0801 (outcome or reason), G0802 (already decided), G0803 (no such alert), R0502."""
    require_role(actor, Role.NATIONAL_AUTHORITY, Role.EXCHANGE_OPERATOR)
    from .selectors import surveillance_alert

    if outcome not in SurveillanceDecision.Outcome.values or not reason.strip():
        raise CetsError(G0801)
    alert = surveillance_alert(alert_key, market=market)
    if alert is None:
        raise CetsError(G0803, alert_key[:80])
    if SurveillanceDecision.objects.filter(alert_key=alert_key).exists():
        raise CetsError(G0802, alert_key[:80])
    return SurveillanceDecision.objects.create(alert_key=alert_key, rule=alert.rule, day=alert.day, outcome=outcome, reason=reason.strip(), decided_by=actor)


@transaction.atomic
def related_participant_set(*, actor, organisation_id: int, group: str, basis: str):
    """Record that ``organisation`` belongs to holder ``group`` (same actual controller) for the wash-trade rule
    (exchange operator or national authority). G0804 if the group or the basis is empty; R0502."""
    from .checks import G0804
    from .models import RelatedParticipant

    require_role(actor, Role.NATIONAL_AUTHORITY, Role.EXCHANGE_OPERATOR)
    if not group.strip() or not basis.strip():
        raise CetsError(G0804)
    org = Organisation.objects.get(pk=organisation_id)
    r, _ = RelatedParticipant.objects.update_or_create(organisation=org, defaults={"group": group.strip(), "basis": basis.strip(), "recorded_by": actor})
    return r
