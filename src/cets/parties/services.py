"""Parties writes: importing the key-emitter list and verification relations from official files."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from cets.core.errors import InputError, InputProblem
from cets.core.uscc import InvalidUscc, uscc_province, validate_uscc

from .models import SECTOR_BY_INDUSTRY_ZH, EmitterListEntry, GeneratingUnit, ImportBatch, Organisation

VERIFICATION_COLUMNS = ("verification_list_id", "year", "industry", "institution_name", "institution_uscc",
                        "target_entity_name", "target_uscc", "timeliness", "result")


@dataclass
class ImportResult:
    """What an import did: counts by name and every problem with file, row and field."""

    counts: dict[str, int] = field(default_factory=dict)
    problems: list[InputProblem] = field(default_factory=list)
    batch_id: int | None = None


@dataclass(frozen=True)
class _Row:
    line: int
    year: int
    sector: str
    name: str
    uscc: str
    verifier_name: str
    verifier_uscc: str
    list_id: str
    on_time: bool
    conforming: bool


def _read_verification_rows(path: Path) -> tuple[list[_Row], list[InputProblem], int]:
    """Parse and validate every row; return good rows, problems, and the number of data rows."""
    name = path.name
    problems: list[InputProblem] = []
    rows: list[_Row] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in VERIFICATION_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError([InputProblem(name, 1, ",".join(missing), "", f"缺少列：{'、'.join(missing)}", f"missing columns: {', '.join(missing)}")])
        total = 0
        for line, rec in enumerate(reader, start=2):
            total += 1

            def bad(fld: str, zh: str, en: str) -> None:
                problems.append(InputProblem(name, line, fld, rec.get(fld) or "", zh, en))

            try:
                year = int(rec["year"])
                if not 2005 <= year <= 2100:
                    raise ValueError
            except (TypeError, ValueError):
                bad("year", "年份无效", "not a valid year")
                continue
            sector = SECTOR_BY_INDUSTRY_ZH.get((rec["industry"] or "").strip())
            if sector is None:
                bad("industry", "行业名称未知", "unknown industry")
                continue
            try:
                uscc = validate_uscc(rec["target_uscc"])
            except InvalidUscc as e:
                bad("target_uscc", f"统一社会信用代码无效：{e.problem.zh}", f"invalid unified social credit code: {e.problem.en}")
                continue
            if not (rec["target_entity_name"] or "").strip():
                bad("target_entity_name", "单位名称为空", "entity name is empty")
                continue
            try:
                verifier_uscc = validate_uscc(rec["institution_uscc"])
            except InvalidUscc as e:
                bad("institution_uscc", f"核查机构信用代码无效：{e.problem.zh}", f"invalid verification body credit code: {e.problem.en}")
                continue
            timeliness, result = (rec["timeliness"] or "").strip(), (rec["result"] or "").strip()
            if timeliness not in ("及时", "不及时"):
                bad("timeliness", "应为“及时”或“不及时”", "must be 及时 or 不及时")
                continue
            if result not in ("符合", "不符合"):
                bad("result", "应为“符合”或“不符合”", "must be 符合 or 不符合")
                continue
            rows.append(_Row(line, year, sector, rec["target_entity_name"].strip(), uscc, rec["institution_name"].strip(),
                             verifier_uscc, rec["verification_list_id"].strip(), timeliness == "及时", result == "符合"))
    return rows, problems, total


def entities_import(*, path: Path | str, sector: str | None = None, year: int | None = None, actor=None) -> ImportResult:
    """Import the key emitting entities of the official verification disclosures (核查技术服务机构信息公开表).

    Input: CSV with the columns of ``verification_targets.csv`` (see data/README). Every row is
    validated (credit code per GB 32100, year, industry, conclusion); bad rows are reported with
    file, row, field and reason in Chinese and English and skipped. Rows of the requested ``sector``
    and ``year`` create one :class:`Organisation` per distinct credit code (province from its region
    code, GB/T 2260), one key-emitter list entry per (year, sector, entity), the verification bodies
    and one verification record per row. Re-running creates no duplicates. The database writes are
    one transaction. Raises :class:`InputError` if the file lacks a required column.
    """
    from cets.mrv.services import verification_records_upsert

    path = Path(path)
    rows, problems, total = _read_verification_rows(path)
    selected = [r for r in rows if (sector is None or r.sector == sector) and (year is None or r.year == year)]
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    with transaction.atomic():
        names: dict[str, str] = {}
        for r in selected:
            names.setdefault(r.uscc, r.name)
        before = set(Organisation.objects.filter(uscc__in=names).values_list("uscc", flat=True))
        Organisation.objects.bulk_create(
            [Organisation(uscc=u, name=n, kind=Organisation.Kind.ENTITY, region_code=u[2:8], province=uscc_province(u) or "")
             for u, n in names.items() if u not in before],
            batch_size=1000,
        )
        verifiers: dict[str, str] = {}
        for r in selected:
            verifiers.setdefault(r.verifier_uscc, r.verifier_name)
        vbefore = set(Organisation.objects.filter(uscc__in=verifiers).values_list("uscc", flat=True))
        Organisation.objects.bulk_create(
            [Organisation(uscc=u, name=n, kind=Organisation.Kind.VERIFIER, region_code=u[2:8], province=uscc_province(u) or "")
             for u, n in verifiers.items() if u not in vbefore],
            batch_size=1000,
        )
        org_ids = dict(Organisation.objects.filter(uscc__in=list(names) + list(verifiers)).values_list("uscc", "pk"))
        entries = {(r.year, r.sector, r.uscc) for r in selected}
        existing_entries = set(
            EmitterListEntry.objects.filter(entity_id__in=[org_ids[u] for u in names]).values_list("year", "sector", "entity__uscc")
        )
        new_entries = [
            EmitterListEntry(year=y, sector=s, entity_id=org_ids[u], province=uscc_province(u) or "", source=path.name)
            for (y, s, u) in sorted(entries - existing_entries)
        ]
        EmitterListEntry.objects.bulk_create(new_entries, batch_size=1000)
        verif_created = verification_records_upsert(
            records=[(r.year, r.sector, org_ids[r.uscc], org_ids[r.verifier_uscc], r.list_id, r.on_time, r.conforming) for r in selected],
            source=path.name,
        )
        counts = {
            "rows": total,
            "rows_valid": len(rows),
            "rows_selected": len(selected),
            "problems": len(problems),
            "entities": len(names),
            "entities_created": len(names) - len(before),
            "verifiers_created": len(verifiers) - len(vbefore),
            "list_entries_created": len(new_entries),
            "verification_records_created": verif_created,
        }
        batch = ImportBatch.objects.create(
            kind="entities", file_name=str(path), sha256=sha, parameters={"sector": sector, "year": year}, counts=counts,
            problems=[p.__dict__ for p in problems], actor=actor,
        )
    return ImportResult(counts=counts, problems=problems, batch_id=batch.pk)


@transaction.atomic
def units_upsert(*, units: list[GeneratingUnit]) -> int:
    """Insert generating units whose (entity, code) does not exist yet; returns how many were created."""
    have = set(GeneratingUnit.objects.filter(entity_id__in={u.entity_id for u in units}).values_list("entity_id", "code"))
    new = [u for u in units if (u.entity_id, u.code) not in have]
    GeneratingUnit.objects.bulk_create(new, batch_size=1000)
    return len(new)


@transaction.atomic
def member_create(*, username: str, organisation: Organisation, role: str, province: str = "", password: str | None = None):
    """Create (or return) a user acting for ``organisation`` in ``role``. ``password=None`` gives an
    unusable password (a service identity that cannot log in). Passwords are hashed with argon2."""
    from django.contrib.auth import get_user_model

    from .models import Membership

    User = get_user_model()
    user, created = User.objects.get_or_create(username=username)
    if created or password is not None:
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save()
    Membership.objects.update_or_create(user=user, defaults={"organisation": organisation, "role": role, "province": province})
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


@transaction.atomic
def entities_ensure(*, entities: list[tuple[str, str]]) -> dict[str, Organisation]:
    """Key emitting entities by credit code ``(uscc, name)``: created if missing (province from the
    code's region code), existing ones untouched. Returns uscc → Organisation. (Used by the MRV import
    of a province's key-emitter list.)"""
    names = dict(entities)
    have = set(Organisation.objects.filter(uscc__in=names).values_list("uscc", flat=True))
    Organisation.objects.bulk_create([Organisation(uscc=u, name=n, kind=Organisation.Kind.ENTITY, region_code=u[2:8],
                                                   province=uscc_province(u) or "") for u, n in names.items() if u not in have])
    return {o.uscc: o for o in Organisation.objects.filter(uscc__in=names)}


@transaction.atomic
def emitter_list_entries_add(*, entries: list[tuple[int, str, int, str, str]]) -> int:
    """Add national key-emitter list entries ``(year, sector, entity_id, province, source)`` that do not
    exist yet; returns how many were created. (Used by MRV when a national list is compiled or imported.)"""
    have = set(EmitterListEntry.objects.filter(entity_id__in={e[2] for e in entries}).values_list("year", "sector", "entity_id"))
    new = [EmitterListEntry(year=y, sector=s, entity_id=e, province=p, source=src) for y, s, e, p, src in entries if (y, s, e) not in have]
    EmitterListEntry.objects.bulk_create(new, batch_size=1000)
    return len(new)
