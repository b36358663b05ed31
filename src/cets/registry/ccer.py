"""Loading the national CCER registry's public records into the registry (services).

Source: ``data/ccer-national`` (全国温室气体自愿减排注册登记系统及信息平台 publicity pages). Each registered
project (已登记项目) becomes a :class:`CcerProject` owned by its project owner; each registered
reduction batch (已登记减排量) creates, per vintage year of its annual detail, CCER units of
``CCER-<project code>-<vintage>`` issued to the owner's CCER holding account on the batch's
registration date. Idempotent (keys derive from the publicity snapshot keys). Both entries go through
``transfer_post``, so each batch and vintage is one serial block (:mod:`cets.registry.services.blocks`): minted by
the creation, issued whole to the owner.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import transaction

from cets.core.errors import InputError, InputProblem
from cets.parties.models import Organisation

from .models import AccountKind, CcerProject, Instrument, Position, TransferKind
from .services import Leg, account_open, system_account, system_accounts_ensure, transfer_post, vintage_create

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _date(value: str) -> dt.date | None:
    value = (value or "").strip()
    return dt.date.fromisoformat(value[:10]) if value else None


@transaction.atomic
def ccer_registry_import(*, projects_csv: Path | str, detail_csv: Path | str, issued_until: dt.date | None = None) -> dict[str, int]:
    """Register the real CCER projects and issue their registered reductions (tonnes, int).

    ``issued_until``: only batches registered on or before this date are issued (a demo of a past
    year must not use credits that did not exist yet). Raises :class:`InputError` listing every
    bad row (file, row, field) before anything is written.
    """
    projects_csv, detail_csv = Path(projects_csv), Path(detail_csv)
    rows = list(csv.DictReader(projects_csv.open(encoding="utf-8-sig", newline="")))
    details = list(csv.DictReader(detail_csv.open(encoding="utf-8-sig", newline="")))
    problems: list[InputProblem] = []
    registered = {}
    for line, r in enumerate(rows, start=2):
        if r["_category_name"] != "已登记项目":
            continue
        if not r["projectCode"].strip():
            problems.append(InputProblem(projects_csv.name, line, "projectCode", "", "项目编号为空", "project code is empty"))
            continue
        registered.setdefault(r["projectCode"].strip(), (line, r))
    vols: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for line, d in enumerate(details, start=2):
        if d["_category_name"] != "已登记减排量":
            continue
        try:
            year, vol = int(d["regYear"]), int(d["applyVol"])
            if vol < 0:
                raise ValueError
        except ValueError:
            problems.append(InputProblem(detail_csv.name, line, "applyVol", d["applyVol"], "减排量应为非负整数", "reductions must be a whole number ≥ 0"))
            continue
        if vol == 0:  # a vintage year with no reductions claimed: nothing to issue
            continue
        vols[d["_snapshot_key"]].append((str(year), vol))
    batches = []
    for line, r in enumerate(rows, start=2):
        if r["_category_name"] != "已登记减排量":
            continue
        code = r["projectCode"].strip()
        if code not in registered:
            problems.append(
                InputProblem(projects_csv.name, line, "projectCode", code, "减排量所属项目未登记", "reductions of a project that is not registered")
            )
            continue
        when = _date(r["registrationTime"])
        if when is None:
            problems.append(InputProblem(projects_csv.name, line, "registrationTime", "", "登记日期为空", "registration date is empty"))
            continue
        batches.append((r["_snapshot_key"], code, when))
    if problems:
        raise InputError(problems)

    system_accounts_ensure(market="ccer")
    total = system_account("ccer", AccountKind.NATIONAL_TOTAL)
    counts = {"projects": 0, "batches": 0, "issued_t": 0}
    projects = {}
    for code, (line, r) in registered.items():
        owner, _ = Organisation.objects.get_or_create(kind=Organisation.Kind.PROJECT_OWNER, name=r["orgCustomerName"].strip(), uscc=None)
        project, _ = CcerProject.objects.get_or_create(
            code=code,
            defaults=dict(
                name=r["projectName"].strip(),
                project_type=r["projectTypeName"].strip(),
                methodology=r["methodologyNum"].strip(),
                province_name=r["provinceName"].strip(),
                owner=owner,
                registered_on=_date(r["registrationTime"]),
            ),
        )
        projects[code] = project
        counts["projects"] += 1
    for snap, code, when in sorted(batches, key=lambda b: (b[2], b[0])):
        if issued_until is not None and when > issued_until:
            continue
        project = projects[code]
        account = account_open(holder=project.owner, kind=AccountKind.CCER_HOLDING, market="ccer")
        at = dt.datetime.combine(when, dt.time(10, 0), SHANGHAI)
        for vintage, vol in vols.get(snap, []):
            ut = vintage_create(
                instrument=Instrument.CCER,
                vintage=vintage,
                cap_t=vol,
                key=f"ccer-create-{snap}-{vintage}",
                project=project,
                reference=f"CCER 减排量登记 {code} {vintage}",
                effective_at=at,
            )
            transfer_post(
                key=f"ccer-issue-{snap}-{vintage}",
                kind=TransferKind.ISSUE,
                unit_type=ut,
                debit=Leg(total, Position.REGISTRY),
                credit=Leg(account, Position.REGISTRY),
                quantity=vol,
                reference=f"CCER 签发 issuance {code} {vintage}",
                effective_at=at,
            )
            counts["issued_t"] += vol
        counts["batches"] += 1
    return counts
