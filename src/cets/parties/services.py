"""Parties writes: importing the key-emitter list and verification relations from official files; members and their
second factor (TOTP devices: the demo's, and a user's own enrolment)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db import transaction

from cets.core.errors import CetsError, InputError, InputProblem
from cets.core.quantities import is_digits
from cets.core.uscc import uscc_province
from cets.rules.markets import PRIMARY_MARKET

from .access import require_role
from .checks import DENIED, L0101, L0103, L0104, L0501, L0502, L0503
from .models import EmitterListEntry, EmitterListPublication, GeneratingUnit, ImportBatch, Organisation, Role
from .selectors import list_published_sectors, list_rules, listed_entity_ids, listed_sector_usccs, sector_names_for_list


@dataclass
class ImportResult:
    """What an import did: counts by name and every problem with file, row and field."""

    counts: dict[str, int] = field(default_factory=dict)
    problems: list[InputProblem] = field(default_factory=list)
    batch_id: int | None = None


@transaction.atomic
def units_upsert(*, units: list[GeneratingUnit]) -> int:
    """Insert generating units whose (entity, code) does not exist yet; returns how many were created."""
    have = set(GeneratingUnit.objects.filter(entity_id__in={u.entity_id for u in units}).values_list("entity_id", "code"))
    new = [u for u in units if (u.entity_id, u.code) not in have]
    GeneratingUnit.objects.bulk_create(new, batch_size=1000)
    return len(new)


@transaction.atomic
def member_create(*, username: str, organisation: Organisation, role: str, province: str = "", password: str | None = None, city: str = "",
                  district: str = ""):
    """Create (or return) a user acting for ``organisation`` in ``role``. ``password=None`` gives an
    unusable password (a service identity that cannot log in). Passwords are hashed with argon2.
    ``city``: the GB/T 2260 city prefix (4 digits) of a municipal authority; ``district``: the six-digit
    GB/T 2260 code of a district authority or a named jurisdiction's code of ours (``11ETDA`` 北京经济技术开发区; its
    jurisdiction, :func:`cets.parties.access.within`). S0401 a district that is neither; S0402 one of another province."""
    from django.contrib.auth import get_user_model

    from .models import Membership

    if district:
        _jurisdiction_check(district, province)

    User = get_user_model()
    user, created = User.objects.get_or_create(username=username)
    if created or password is not None:
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save()
    Membership.objects.update_or_create(user=user, defaults={"organisation": organisation, "role": role, "province": province, "city": city,
                                                                  "district": district})
    return user


@transaction.atomic
def members_bulk_create(*, specs: list[tuple[str, Organisation, str, str]]) -> int:
    """Create service users (unusable passwords) for ``(username, organisation, role, province)`` that
    do not exist yet; returns how many were created. For bulk set-up (one user per entity)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from .models import Membership

    User = get_user_model()
    have = set(User.objects.filter(username__in=[s[0] for s in specs]).values_list("username", flat=True))
    todo = [s for s in specs if s[0] not in have]
    unusable = make_password(None)
    User.objects.bulk_create([User(username=u, password=unusable) for u, *_ in todo], batch_size=1000)
    ids = dict(User.objects.filter(username__in=[s[0] for s in todo]).values_list("username", "pk"))
    Membership.objects.bulk_create([Membership(user_id=ids[u], organisation=o, role=r, province=p) for u, o, r, p in todo], batch_size=1000)
    return len(todo)


CETS_APPS = ("core", "parties", "mrv", "allocation", "registry", "compliance")


@transaction.atomic
def staff_grant_view(*, user) -> None:
    """Let an operator into the Django admin with view-only permission on the platform's records
    (ledger and allocation records are read-only in the admin in any case)."""
    from django.contrib.auth.models import Permission

    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label__in=CETS_APPS, codename__startswith="view_"))


@transaction.atomic
def totp_device_ensure(*, user, name: str = "registry") -> tuple[object, str]:
    """Give ``user`` a confirmed TOTP device (django-otp; RFC 6238, 30 s, 6 digits) if it has none.
    Returns the device and its secret in base32, for an authenticator app."""
    import base64

    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=name, confirmed=True)
    return device, base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


def _totp_code_ok(device, code) -> bool:
    """Whether ``code`` (a string of the device's digits) is a current code of ``device``. django-otp throttles
    repeated failures and refuses a code already used (``last_t``); it saves that state itself, outside any
    enrolment write, so a refusal still counts."""
    return isinstance(code, str) and len(code) == device.digits and is_digits(code) and bool(device.verify_token(code))


def totp_device_enrol_start(*, user, current_code: str = "", request=None):
    """Start enrolling a TOTP device (RFC 6238: 30 s, 6 digits) for the signed-in ``user``: a new unconfirmed
    device replaces any unconfirmed one of the user. Returns a :class:`~cets.parties.selectors.TotpEnrolment`
    (device id, base32 secret, ``otpauth://`` URI) to show once and keep in the session.

    A user who already has a confirmed device gives ``current_code``, a current code of it (re-enrolment); else
    L0502 (recorded as ``totp_failed``) and nothing is written. R0502 for an anonymous user. ``request`` serves only
    the security event's address and path."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from .models import SecurityEvent
    from .security import event_record
    from .selectors import totp_enrolment

    if user is None or not getattr(user, "is_authenticated", False):
        raise CetsError(DENIED, "not signed in")
    confirmed = list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk"))
    if confirmed and not any(_totp_code_ok(d, current_code) for d in confirmed):
        event_record(request=request, user=user, kind=SecurityEvent.Kind.TOTP_FAILED, code=L0502.code, detail="re-enrolment without the old device's code")
        raise CetsError(L0502)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return totp_enrolment(user=user, device_id=device.pk)


def totp_device_enrol_confirm(*, user, device_id: int, code: str, request=None):
    """Confirm the unconfirmed device ``device_id`` of ``user`` (started in this session) with ``code``, a current
    code the authenticator shows: the device becomes confirmed and every other device of the user is removed (a
    re-enrolment replaces the old one). Returns the device; the caller verifies the session with it
    (``django_otp.login``). Refusals change nothing: L0503 no such unconfirmed device of the user, L0501 wrong
    code (recorded as ``totp_failed``). The enrolment is recorded as ``totp_enrolled`` (``replaced N`` in its
    detail when old devices were removed)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from .models import SecurityEvent
    from .security import event_record

    if user is None or not getattr(user, "is_authenticated", False):
        raise CetsError(DENIED, "not signed in")
    ok_id = isinstance(device_id, int) and not isinstance(device_id, bool)
    device = TOTPDevice.objects.filter(user=user, confirmed=False, pk=device_id).first() if ok_id else None
    if device is None:
        raise CetsError(L0503)
    if not _totp_code_ok(device, code):
        event_record(request=request, user=user, kind=SecurityEvent.Kind.TOTP_FAILED, code=L0501.code, detail="enrolment: wrong code of the new device")
        raise CetsError(L0501)
    with transaction.atomic():
        replaced, _ = TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    event_record(request=request, user=user, kind=SecurityEvent.Kind.TOTP_ENROLLED, detail=f"replaced {replaced}" if replaced else "first device")
    return device


@transaction.atomic
def entities_ensure(*, entities: list[tuple[str, str]], kind: str = Organisation.Kind.ENTITY) -> dict[str, Organisation]:
    """Organisations of ``kind`` (key emitting entities by default, or verification bodies) by credit
    code ``(uscc, name)``: created if missing (province from the code's region code, GB/T 2260),
    existing ones untouched. Returns uscc → Organisation."""
    names = dict(entities)
    have = set(Organisation.objects.filter(uscc__in=names).values_list("uscc", flat=True))
    Organisation.objects.bulk_create([Organisation(uscc=u, name=n, kind=kind, region_code=u[2:8], province=uscc_province(u) or "")
                                      for u, n in names.items() if u not in have], batch_size=1000)
    return {o.uscc: o for o in Organisation.objects.filter(uscc__in=names)}


@transaction.atomic
def emitter_list_entries_ensure(*, market: str, entries: list[tuple[int, str, int, str, str]]) -> int:
    """Add included list entries ``(year, sector, entity_id, province, source)`` of ``market`` that do
    not exist yet (reason ``verified``: the entity is in the official verification disclosures);
    returns how many were created."""
    have = set(EmitterListEntry.objects.filter(market=market, entity_id__in={e[2] for e in entries}).values_list("year", "sector", "entity_id"))
    new = [EmitterListEntry(market=market, year=y, sector=s, entity_id=e, province=p, source=src[:200])
           for y, s, e, p, src in sorted(set(entries)) if (y, s, e) not in have]
    EmitterListEntry.objects.bulk_create(new, batch_size=1000)
    return len(new)


def import_batch_record(*, kind: str, file_name: str, sha256: str, parameters: dict, counts: dict, problems: list, actor=None) -> ImportBatch:
    """The audit record of one import: file, its SHA-256, parameters, counts and every problem."""
    return ImportBatch.objects.create(kind=kind, file_name=file_name, sha256=sha256, parameters=parameters, counts=counts,
                                      problems=[pr.__dict__ for pr in problems], actor=actor)


@dataclass(frozen=True)
class ListEntry:
    """One entity's line of a list being stored: ``basis_t`` tonnes CO2e (int) of ``basis_year``."""

    entity_id: int
    included: bool
    reason: str
    basis_year: int | None = None
    basis_t: int | None = None
    city: str = ""
    source: str = ""
    category: str = "key_emitter"


@transaction.atomic
def emitter_list_replace(*, market: str, year: int, sector: str, province: str, entries: list[ListEntry]) -> int:
    """Replace the unpublished ``market`` ``year`` ``sector`` list of ``province`` by ``entries``
    (compiled by MRV from verified emissions, or imported). L0101 once published. Returns the number
    of included entities."""
    if sector in list_published_sectors(market=market, year=year, province=province):
        raise CetsError(L0101, f"{market} {year} {sector} {province}")
    EmitterListEntry.objects.filter(market=market, year=year, sector=sector, province=province).delete()
    EmitterListEntry.objects.bulk_create([
        EmitterListEntry(market=market, year=year, sector=sector, province=province, entity_id=e.entity_id, included=e.included,
                         reason=e.reason, basis_year=e.basis_year, basis_t=e.basis_t, city=e.city, source=e.source, category=e.category)
        for e in entries], batch_size=1000)
    return sum(1 for e in entries if e.included)


@transaction.atomic
def emitter_list_import(*, market: str, year: int, province: str, file_name: str, data: bytes, actor) -> dict[str, int]:
    """Import a province's published list (XLSX, :mod:`cets.parties.list_files`). Every bad row is reported
    and nothing is written (:class:`~cets.core.errors.InputError`), including, for a pilot market, an
    entity already on the national list of the year for the same sector (Regulations Art. 29). Entities
    not known yet are created (parties service). Only the provincial authority (R0502); L0101 once
    published. Returns counts."""
    from .list_files import read_list_xlsx

    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=province)
    rules = list_rules(market, year)
    names = sector_names_for_list(market, rules)
    rows, problems = read_list_xlsx(data, file_name=file_name, year=year, province=province, sector_names=names)
    published = list_published_sectors(market=market, year=year, province=province)
    if market != PRIMARY_MARKET and rows:
        national = listed_sector_usccs(market=PRIMARY_MARKET, year=year, usccs=[r.uscc for r in rows])
        for r in rows:
            if (r.sector, r.uscc) in national:
                problems.append(InputProblem(file_name, r.row, "统一社会信用代码", r.uscc, "该单位已纳入全国碳市场同行业管理，不再参与地方碳市场",
                                             "already in the national market for this sector; a pilot may not manage it"))
    for s in sorted({r.sector for r in rows} & published):
        problems.append(InputProblem(file_name, 1, "行业", names[s], "该行业名录已公布", "this sector's list is already published"))
    if problems:
        raise InputError(problems)
    orgs = entities_ensure(entities=[(r.uscc, r.name) for r in rows])
    for sector in sorted({r.sector for r in rows}):
        emitter_list_replace(market=market, year=year, sector=sector, province=province,
                             entries=[ListEntry(entity_id=orgs[r.uscc].pk, included=True, reason="imported", city=r.city[:60], source=file_name[:200],
                                                        category=r.category)
                                      for r in rows if r.sector == sector])
    return {"rows": len(rows), "entities_created": len(orgs)}


@transaction.atomic
def emitter_list_publish(*, market: str, year: int, sector: str, province: str, actor, on: dt.date) -> EmitterListPublication:
    """Record that the province published its ``year`` ``sector`` list on ``on`` (公布). The deadline
    comes from the pack (2025 notice §一(二); null when none is known) and is kept beside the date, so
    a late publication shows as late. Only that provincial authority (R0502); L0103 if published
    already, L0104 for an empty list."""
    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=province)
    rules = list_rules(market, year)
    if EmitterListPublication.objects.filter(market=market, year=year, sector=sector, province=province).exists():
        raise CetsError(L0103, f"{market} {year} {sector} {province}")
    n = len(listed_entity_ids(market=market, year=year, sector=sector, province=province))
    if n == 0:
        raise CetsError(L0104, f"{market} {year} {sector} {province}")
    return EmitterListPublication.objects.create(market=market, year=year, sector=sector, province=province,
                                                 deadline=rules.publish_by.get((year, sector)), published_on=on, published_by=actor, entries=n)




# -- holders that are not key emitters: natural persons and institutions (draft Measures Art. 14, 18) --------

def resident_id_valid(value: str) -> str:
    """The normalised resident identity number (GB 11643-1999) or a refusal: L0301 shape, L0302 address code,
    L0303 date of birth, L0304 check character. The refusal names the number only masked."""
    from cets.core.resident_id import InvalidResidentId, mask, validate

    from .checks import L0301, L0302, L0303, L0304

    try:
        return validate(value)
    except InvalidResidentId as e:
        code = {"shape": L0301, "region": L0302, "birth_date": L0303, "check": L0304}[e.problem.reason]
        shown = mask(value.strip().upper()) if isinstance(value, str) else ""
        raise CetsError(code, shown) from None


def credit_code_valid(value: str) -> str:
    """The normalised unified social credit code (GB 32100-2015) or L0305."""
    from cets.core.uscc import InvalidUscc, validate_uscc

    from .checks import L0305

    try:
        return validate_uscc(value if isinstance(value, str) else "")
    except InvalidUscc as e:
        raise CetsError(L0305, f"{str(value)[:18]}: {e.problem.en}") from None


@transaction.atomic
def holder_create(*, kind: str, name: str, resident_id: str | None = None, uscc: str | None = None) -> Organisation:
    """Create a holder that is not a key emitter: a natural person (``kind="individual"``, ``resident_id``
    GB 11643-1999; province from its address code) or an institution (``kind="institution"``, ``uscc`` GB 32100;
    province from the credit code's region code). Refusals: L0301–L0304 (identity number), L0305 (credit code),
    L0306 (a holder with this number exists). Called by the registry when it approves an account application."""
    from .checks import L0306

    if kind == Organisation.Kind.INDIVIDUAL:
        rid = resident_id_valid(resident_id or "")
        if Organisation.objects.filter(resident_id=rid).exists():
            raise CetsError(L0306, Organisation(resident_id=rid).identifier)
        return Organisation.objects.create(kind=kind, name=name, resident_id=rid, region_code=rid[:6], province=rid[:2])
    code = credit_code_valid(uscc or "")
    if Organisation.objects.filter(uscc=code).exists():
        raise CetsError(L0306, code)
    return Organisation.objects.create(kind=Organisation.Kind.INSTITUTION, name=name, uscc=code, region_code=code[2:8],
                                       province=uscc_province(code) or "")


def _jurisdiction_check(code: str, province: str) -> None:
    from cets.rules.markets import named_jurisdictions

    from .checks import S0401, S0402

    if re.fullmatch(r"[0-9]{6}", code or ""):
        if code[:2] != province:
            raise CetsError(S0402, f"{code} / {province}")
        return
    j = named_jurisdictions().get(code or "")
    if j is None:
        raise CetsError(S0401, str(code)[:20])
    if j.province != province:
        raise CetsError(S0402, f"{code} / {province}")


@transaction.atomic
def organisation_jurisdiction_set(*, organisation: Organisation, jurisdiction: str, actor) -> Organisation:
    """The provincial authority of ``organisation``'s province puts it under a named district-level jurisdiction
    (``11ETDA`` 北京经济技术开发区, 京政发〔2024〕6号 Art. 4) or back under its GB/T 2260 district (``""``). From then on that
    body's district authority, not the district of its ``region_code``, sees and acts on it. R0502 another role or
    province; S0401 not a named jurisdiction; S0402 one of another province."""
    require_role(actor, Role.PROVINCIAL_AUTHORITY, province=organisation.province)
    if jurisdiction:
        if re.fullmatch(r"[0-9]{6}", jurisdiction):
            from .checks import S0401

            raise CetsError(S0401, jurisdiction)  # a GB/T district is the region_code's, not a named jurisdiction
        _jurisdiction_check(jurisdiction, organisation.province)
    Organisation.objects.filter(pk=organisation.pk).update(jurisdiction=jurisdiction)
    organisation.refresh_from_db()
    return organisation
