"""Supervision writes: credit records, the blacklist, joint-punishment notices, reports from the public
and the screened verification draw. Keyword-only, one transaction each, authorisation inside
(:func:`cets.parties.access.require_role`, refusal R0502; a municipal authority only in its city)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import MutableMapping, Sequence

from django.db import transaction
from django.utils import timezone

from cets.core.errors import CetsError
from cets.core.quantities import is_digits
from cets.core.regions import PROVINCES
from cets.parties.access import require_role
from cets.parties.checks import DENIED
from cets.parties.models import Membership, Organisation, Role
from cets.rules.markets import PRIMARY_MARKET
from cets.rules.packs import pack_for

from .checks import (
    G0101,
    G0102,
    G0103,
    G0104,
    G0201,
    G0202,
    G0203,
    G0204,
    G0205,
    G0301,
    G0302,
    G0303,
    G0401,
    G0402,
    G0403,
    G0404,
    G0405,
    G0406,
    G0501,
    G1201,
    G1202,
    G1203,
)
from .models import BlacklistEntry, CreditRecord, JointNotice, NoticeDispatch, PublicReport

AUTHORITIES = (Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY, Role.MUNICIPAL_AUTHORITY)



def supervision_pack(year: int, market: str = PRIMARY_MARKET):
    """The market's supervision rule pack for ``year`` (``kind = "supervision"``, e.g. national/supervision-2021-2026);
    PackError if none."""
    return pack_for(market, "*", year, kind="supervision")


def report_handling_days(year: int, market: str = PRIMARY_MARKET) -> int:
    """Days to handle a report from the public filed in ``year``: the pack's ``reports.handling_days`` (60 in the national
    pack — 《环保举报热线工作管理办法》 Art. 16, marked unconfirmed there)."""
    return int(supervision_pack(year, market).decimal("reports.handling_days"))

# Reports one browser session may file per hour (no CAPTCHA; the limit is per session).
REPORTS_PER_SESSION_HOUR = 3
SESSION_KEY = "supervision_reports"


def _in_jurisdiction(m: Membership, *, province: str, city: str = "") -> None:
    """R0502 unless ``m`` (an authority) covers ``province`` / ``city``: national everything, a province
    its province, a municipal authority its city (its ``city`` prefix) only."""
    if m.role == Role.NATIONAL_AUTHORITY:
        return
    if m.province != province:
        raise CetsError(DENIED, f"province {province or '-'} outside jurisdiction {m.province}")
    if m.role == Role.MUNICIPAL_AUTHORITY and (not m.city or m.city != city):
        raise CetsError(DENIED, f"city {city or '-'} outside jurisdiction {m.city or '-'}")


def _city_of(org: Organisation) -> str:
    return (org.region_code or "")[:4]


def _credit(*, subject: Organisation, kind: str, reason: str, source_reference: str, recorded_on: dt.date, authority: Organisation, actor,
            source_key: str) -> CreditRecord | None:
    """Create the automatic credit record of the event ``source_key`` once (None if it exists already)."""
    if CreditRecord.objects.filter(source_key=source_key).exists():
        return None
    return CreditRecord.objects.create(subject=subject, kind=kind, reason=reason[:1000], source_reference=source_reference[:200], recorded_on=recorded_on,
                                       province=subject.province, authority=authority, recorded_by=actor, source_key=source_key)


def blacklist_credit_kind(e: BlacklistEntry) -> str:
    """The credit record kind a blacklist decision creates: false_reporting if its reason says 虚报/瞒报/篡改/伪造/弄虚作假,
    else verifier_warning for a verification body and non_compliance for an entity."""
    if any(w in e.reason for w in ("虚报", "瞒报", "篡改", "伪造", "弄虚作假")):
        return CreditRecord.Kind.FALSE_REPORTING
    return CreditRecord.Kind.VERIFIER_WARNING if e.subject.kind == Organisation.Kind.VERIFIER else CreditRecord.Kind.NON_COMPLIANCE


@transaction.atomic
def credit_record_create(*, actor, subject_id: int, kind: str, reason: str, source_reference: str, recorded_on: dt.date | None = None,
                         internal_note: str = "") -> CreditRecord:
    """Record one credit entry (Measures Art. 38) of an entity or a verification body in the actor's jurisdiction."""
    m = require_role(actor, *AUTHORITIES)
    subject = Organisation.objects.get(pk=subject_id)
    if kind not in CreditRecord.Kind.values:
        raise CetsError(G0101, kind)
    if not reason.strip() or not source_reference.strip():
        raise CetsError(G0102)
    if subject.kind not in (Organisation.Kind.ENTITY, Organisation.Kind.VERIFIER) or (
            kind == CreditRecord.Kind.VERIFIER_WARNING and subject.kind != Organisation.Kind.VERIFIER):
        raise CetsError(G0103, subject.kind)
    today = timezone.localdate()
    recorded_on = recorded_on or today
    if recorded_on > today:
        raise CetsError(G0104, recorded_on.isoformat())
    if not (subject.kind == Organisation.Kind.VERIFIER and m.role == Role.NATIONAL_AUTHORITY):
        # a verification body with no province is the national authority's; an entity is its province's (city's)
        _in_jurisdiction(m, province=subject.province, city=_city_of(subject))
    return CreditRecord.objects.create(subject=subject, kind=kind, reason=reason.strip(), source_reference=source_reference.strip(),
                                       recorded_on=recorded_on, province=subject.province, authority=m.organisation, recorded_by=actor,
                                       internal_note=internal_note)


@transaction.atomic
def blacklist_decide(*, actor, subject_id: int, effect: str, decision_reference: str, reason: str, starts_on: dt.date,
                     ends_on: dt.date | None = None, internal_note: str = "") -> BlacklistEntry:
    """The national authority puts an organisation on the blacklist (Measures Art. 49: 生态环境部建立"黑名单"); an entity or a
    verification body gets its credit record (Art. 38) in the same transaction (:func:`blacklist_credit_kind`)."""
    m = require_role(actor, Role.NATIONAL_AUTHORITY)
    subject = Organisation.objects.get(pk=subject_id)
    if effect not in BlacklistEntry.Effect.values:
        raise CetsError(G0201, effect)
    if not decision_reference.strip() or not reason.strip():
        raise CetsError(G0202)
    if ends_on is not None and ends_on < starts_on:
        raise CetsError(G0203, f"{starts_on} > {ends_on}")
    if effect == BlacklistEntry.Effect.VERIFICATION and subject.kind != Organisation.Kind.VERIFIER:
        raise CetsError(G0204, subject.kind)
    e = BlacklistEntry.objects.create(subject=subject, effect=effect, decision_reference=decision_reference.strip(), reason=reason.strip(),
                                      starts_on=starts_on, ends_on=ends_on, decided_by=actor, internal_note=internal_note)
    if subject.kind in (Organisation.Kind.ENTITY, Organisation.Kind.VERIFIER):
        _credit(subject=subject, kind=blacklist_credit_kind(e), reason=f"列入黑名单：{e.reason}", source_reference=e.decision_reference,
                recorded_on=min(starts_on, timezone.localdate()), authority=m.organisation, actor=actor, source_key=f"supervision.blacklist:{e.pk}")
    return e


@transaction.atomic
def blacklist_lift(*, actor, entry_id: int, lifted_on: dt.date | None = None) -> BlacklistEntry:
    """The national authority lifts (移出) a blacklist entry from ``lifted_on`` (today by default). G1201 if there is no such entry,
    G0205 if it is lifted already."""
    require_role(actor, Role.NATIONAL_AUTHORITY)
    e = BlacklistEntry.objects.select_for_update().filter(pk=entry_id).first()
    if e is None:
        raise CetsError(G1201, str(entry_id))
    if e.lifted_on is not None:
        raise CetsError(G0205, e.lifted_on.isoformat())
    e.lifted_on = lifted_on or timezone.localdate()
    e.save(update_fields=["lifted_on"])
    return e


@transaction.atomic
def joint_notice_create(*, actor, entity_id: int, penalty_reference: str, facts: str, created_on: dt.date | None = None) -> JointNotice:
    """The entity's provincial authority (or the national authority) makes a joint-punishment notice (Measures Art. 46)."""
    m = require_role(actor, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY)
    entity = Organisation.objects.get(pk=entity_id)
    if entity.kind != Organisation.Kind.ENTITY or not penalty_reference.strip() or not facts.strip():
        raise CetsError(G0301)
    _in_jurisdiction(m, province=entity.province)
    return JointNotice.objects.create(entity=entity, penalty_reference=penalty_reference.strip(), facts=facts.strip(), province=entity.province,
                                      created_by=actor, created_on=created_on or timezone.localdate())


@transaction.atomic
def joint_notice_dispatch(*, actor, notice_id: int, department: str, letter_reference: str = "", sent_on: dt.date | None = None) -> NoticeDispatch:
    """Register that ``notice`` was sent to ``department`` (market regulation, tax, finance, credit platform)."""
    m = require_role(actor, Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY)
    notice = JointNotice.objects.select_for_update().filter(pk=notice_id).first()
    if notice is None:
        raise CetsError(G1202, str(notice_id))
    _in_jurisdiction(m, province=notice.province)
    if department not in NoticeDispatch.Department.values:
        raise CetsError(G0302, department)
    if NoticeDispatch.objects.filter(notice=notice, department=department).exists():
        raise CetsError(G0303, department)
    return NoticeDispatch.objects.create(notice=notice, department=department, letter_reference=letter_reference.strip(),
                                         sent_on=sent_on or timezone.localdate(), sent_by=actor)


def _new_receipt(today: dt.date) -> str:
    """JB-<year>-<10 characters>: unguessable (the receipt is the filer's only key to the feedback)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return f"JB-{today.year}-" + "".join(secrets.choice(alphabet) for _ in range(10))


@transaction.atomic
def report_file(*, session: MutableMapping, subject_name: str, province: str, content: str, city: str = "", reporter_name: str = "",
                reporter_contact: str = "", now: dt.datetime | None = None) -> PublicReport:
    """Anyone files a report (no login). ``session`` (the browser session) limits filing to
    :data:`REPORTS_PER_SESSION_HOUR` an hour (G0402). Returns the report with its receipt number and
    handling deadline (:func:`report_handling_days`)."""
    now = now or timezone.now()
    recent = [t for t in session.get(SESSION_KEY, []) if dt.datetime.fromisoformat(t) > now - dt.timedelta(hours=1)]
    if len(recent) >= REPORTS_PER_SESSION_HOUR:
        raise CetsError(G0402, f"{len(recent)}/h")
    if not subject_name.strip() or len(content.strip()) < 20:
        raise CetsError(G0401)
    if province not in PROVINCES:
        raise CetsError(G0403, province)
    if city and (len(city) != 4 or not is_digits(city) or not city.startswith(province)):
        raise CetsError(G0406, city)
    subject = Organisation.objects.filter(name=subject_name.strip(), kind__in=[Organisation.Kind.ENTITY, Organisation.Kind.VERIFIER]).first()
    today = timezone.localdate(now)
    receipt = _new_receipt(today)
    while PublicReport.objects.filter(receipt=receipt).exists():
        receipt = _new_receipt(today)
    r = PublicReport.objects.create(receipt=receipt, subject_name=subject_name.strip(), subject=subject, province=province, city=city,
                                    content=content.strip(), reporter_name=reporter_name.strip(), reporter_contact=reporter_contact.strip(),
                                    filed_at=now, due_on=today + dt.timedelta(days=report_handling_days(today.year)))
    session[SESSION_KEY] = recent + [now.isoformat()]
    return r


@transaction.atomic
def report_close(*, actor, receipt: str, feedback: str) -> PublicReport:
    """The handling authority closes a report with its feedback to the reporter (Art. 40: 反馈). G1203 if there is no
    report with that receipt, G0404 if it is closed already, G0405 without feedback."""
    m = require_role(actor, *AUTHORITIES)
    r = PublicReport.objects.select_for_update().filter(receipt=receipt).first()
    if r is None:
        raise CetsError(G1203, receipt[:40])
    _in_jurisdiction(m, province=r.province, city=r.city)
    if r.status == PublicReport.Status.CLOSED:
        raise CetsError(G0404, r.receipt)
    if not feedback.strip():
        raise CetsError(G0405)
    r.status, r.feedback, r.closed_on, r.handled_by = PublicReport.Status.CLOSED, feedback.strip(), timezone.localdate(), actor
    r.save(update_fields=["status", "feedback", "closed_on", "handled_by"])
    return r


def verification_assign_screened(*, actor, year: int, province: str, entities: Sequence[Organisation], bodies: Sequence[Organisation], seed: str,
                                 kind: str = "regular", market: str = PRIMARY_MARKET, sector: str | None = None, today: dt.date | None = None):
    """The random draw (:func:`cets.mrv.services.verification_assign`) over ``bodies`` less those blacklisted
    from verification work on ``today`` (Measures Art. 49's effect); G0501 if none is left. ``sector``: the caller's,
    else each entity's list entry of the market and year (M0308)."""
    from cets.mrv.services import verification_assign

    from .selectors import barred_ids

    barred = barred_ids(effect=BlacklistEntry.Effect.VERIFICATION, on=today)
    pool = [b for b in bodies if b.pk not in barred]
    if bodies and not pool:
        raise CetsError(G0501, ", ".join(b.name for b in bodies))
    return verification_assign(year=year, province=province, entities=entities, bodies=pool, seed=seed, actor=actor, kind=kind, market=market,
                               sector=sector)
