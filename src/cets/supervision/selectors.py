"""Supervision reads: what the public portal shows (published information only) and what an authority
sees of supervision records in its jurisdiction (national all, a province its province, a municipal
authority its city)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Max, Q, Sum
from django.utils import timezone

from cets.parties.access import membership_of
from cets.parties.models import Organisation, Role
from cets.rules.markets import PRIMARY_MARKET

from .models import BlacklistEntry, CreditRecord, JointNotice, PublicReport


def in_force(on: dt.date | None = None) -> Q:
    """Blacklist entries in force on ``on`` (today)."""
    on = on or timezone.localdate()
    return Q(starts_on__lte=on) & (Q(ends_on__isnull=True) | Q(ends_on__gte=on)) & (Q(lifted_on__isnull=True) | Q(lifted_on__gt=on))


def barred_ids(*, effect: str, on: dt.date | None = None) -> set[int]:
    """Ids of organisations blacklisted with ``effect`` on ``on``."""
    return set(BlacklistEntry.objects.filter(in_force(on), effect=effect).values_list("subject_id", flat=True))


def verification_pool(*, bodies=None, on: dt.date | None = None):
    """Verification bodies that may be drawn on ``on``: ``bodies`` (default every verification body)
    without those blacklisted from verification work (Measures Art. 49)."""
    qs = bodies if bodies is not None else Organisation.objects.filter(kind=Organisation.Kind.VERIFIER)
    return qs.exclude(pk__in=barred_ids(effect=BlacklistEntry.Effect.VERIFICATION, on=on))


# ---- public (no login)

def public_credit_records(*, search: str = "", kind: str = "", province: str = ""):
    qs = CreditRecord.objects.select_related("subject", "authority")
    if search:
        qs = qs.filter(Q(subject__name__icontains=search) | Q(subject__uscc__icontains=search) | Q(source_reference__icontains=search))
    if kind:
        qs = qs.filter(kind=kind)
    if province:
        qs = qs.filter(province=province)
    return qs


def public_blacklist(*, search: str = "", effect: str = "", current_only: bool = False):
    qs = BlacklistEntry.objects.select_related("subject")
    if search:
        qs = qs.filter(Q(subject__name__icontains=search) | Q(subject__uscc__icontains=search) | Q(decision_reference__icontains=search))
    if effect:
        qs = qs.filter(effect=effect)
    if current_only:
        qs = qs.filter(in_force())
    return qs


def public_report_status(*, receipt: str) -> PublicReport | None:
    """The report with ``receipt`` (the caller shows only status, deadline and feedback)."""
    return PublicReport.objects.filter(receipt=receipt.strip()).first()


def public_verifications(*, year: int | None = None, sector: str = "", province: str = "", conclusion: str = "", search: str = ""):
    """Verification results (核查结果向社会公开, Regulations Art. 12; the 一公开 of verifier disclosure)."""
    from cets.mrv.models import VerificationRecord

    qs = VerificationRecord.objects.select_related("entity", "verifier")
    if year:
        qs = qs.filter(year=year)
    if sector:
        qs = qs.filter(sector=sector)
    if province:
        qs = qs.filter(entity__province=province)
    if conclusion in ("conforming", "nonconforming"):
        qs = qs.filter(conforming=conclusion == "conforming")
    if search:
        qs = qs.filter(Q(entity__name__icontains=search) | Q(entity__uscc__icontains=search) | Q(verifier__name__icontains=search))
    return qs.order_by("-year", "entity__province", "entity__uscc", "list_id")


def public_evaluations(*, year: int | None = None, search: str = ""):
    """Published verifier evaluations (环办气候函〔2025〕140号 §二(九))."""
    from cets.mrv.models import VerifierEvaluation

    qs = VerifierEvaluation.objects.select_related("body")
    if year:
        qs = qs.filter(year=year)
    if search:
        qs = qs.filter(Q(body__name__icontains=search) | Q(body__uscc__icontains=search))
    return qs.order_by("-year", "province", "body__name")


def surrender_years(*, today: dt.date | None = None, market: str = PRIMARY_MARKET) -> list[int]:
    """Compliance years of ``market`` whose (latest) surrender deadline has passed, newest first."""
    from cets.compliance.models import Obligation

    today = today or timezone.localdate()
    rows = Obligation.objects.filter(market=market).values("year").annotate(last=Max("deadline"))
    return sorted((r["year"] for r in rows if r["last"] < today), reverse=True)


def public_surrender(*, year: int, search: str = "", province: str = "", market: str = PRIMARY_MARKET, entity_ids=None) -> list[dict]:
    """Surrender status per entity of ``year`` (Measures Art. 35(八)), only once the deadline has passed;
    ``[]`` before. Rows: entity, province, status (no quantities held)."""
    from cets.compliance.selectors import statuses

    if year not in surrender_years(market=market):
        return []
    st = statuses(year=year, market=market, entity_qs=entity_ids)
    qs = Organisation.objects.filter(pk__in=st.keys())
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(uscc__icontains=search))
    if province:
        qs = qs.filter(province=province)
    return [{"entity": o, "status": st[o.pk].status} for o in qs.order_by("province", "uscc")]


def allocation_aggregates(*, year: int, by: str = "province", market: str = PRIMARY_MARKET) -> list[dict]:
    """Σ final allocation and Σ verified emissions (t, int) of ``year`` per province or per sector."""
    from cets.allocation.models import EntityAllocation

    key = "entity__province" if by == "province" else "sector"
    rows = (EntityAllocation.objects.filter(year=year, market=market).values(key)
            .annotate(allocation_t=Sum("final_allocation_t"), verified_t=Sum("verified_emissions_t")).order_by(key))
    return [{"key": r[key], "allocation_t": int(r["allocation_t"] or 0), "verified_t": int(r["verified_t"] or 0)} for r in rows]


def allocation_years(market: str = PRIMARY_MARKET) -> list[int]:
    from cets.allocation.models import EntityAllocation

    return sorted(set(EntityAllocation.objects.filter(market=market).values_list("year", flat=True)), reverse=True)


# ---- authorities

def _scope(user, province_field: str = "province", city_field: str | None = None) -> Q | None:
    """The filter of what an authority user may see, or None for anyone else."""
    m = membership_of(user)
    if m is None or m.role not in (Role.NATIONAL_AUTHORITY, Role.PROVINCIAL_AUTHORITY, Role.MUNICIPAL_AUTHORITY):
        return None
    if m.role == Role.NATIONAL_AUTHORITY:
        return Q()
    q = Q(**{province_field: m.province})
    if m.role == Role.MUNICIPAL_AUTHORITY:
        q &= Q(**{city_field: m.city}) if (city_field and m.city) else Q(pk__in=[])
    return q


def reports_visible(*, user, status: str = ""):
    """Reports the user's authority handles (with the reporter's identity); none for anyone else."""
    q = _scope(user, "province", "city")
    if q is None:
        return PublicReport.objects.none()
    qs = PublicReport.objects.filter(q)
    return qs.filter(status=status) if status else qs


def report_for(*, user, receipt: str) -> PublicReport | None:
    return reports_visible(user=user).filter(receipt=receipt).first()


def credit_records_visible(*, user):
    q = _scope(user, "province", "subject__region_code__startswith")
    return CreditRecord.objects.none() if q is None else CreditRecord.objects.filter(q).select_related("subject", "authority")


def notices_visible(*, user):
    q = _scope(user, "province", "entity__region_code__startswith")
    return JointNotice.objects.none() if q is None else JointNotice.objects.filter(q).select_related("entity").prefetch_related("dispatches")


def is_authority(user) -> bool:
    return _scope(user) is not None


def stabilisation_alerts(*, status: str = "", market: str = ""):
    """Market-adjustment alerts (draft Measures Art. 23), newest day first; ``status`` ``open`` or ``decided``."""
    from .models import StabilisationAlert

    qs = StabilisationAlert.objects.select_related("decided_by")
    if status:
        qs = qs.filter(status=status)
    if market:
        qs = qs.filter(market=market)
    return qs.order_by("-day", "trigger")
