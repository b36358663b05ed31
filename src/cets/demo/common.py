"""What both demo years use: the data folder, Asia/Shanghai times, a seeded ranking, the demo's users, and
creating units through the registry's four eyes."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from zoneinfo import ZoneInfo

from cets.rules.markets import PRIMARY_MARKET

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: The password of every demo login (README).
DEMO_PASSWORD = "cets-demo-2023"


def data_dir() -> Path:
    """The repository's ``data/`` folder (beside ``src/``), or ``CETS_DATA_DIR``."""
    import os

    env = os.environ.get("CETS_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "data"


def at(day: str, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour, minute), SHANGHAI)


def _rank(seed: int, text: str) -> str:
    return hashlib.sha256(f"{seed}:{text}".encode()).hexdigest()


def create_units(steps, *, instrument: str, vintage: str, cap_t: int, key: str, reference: str, effective_at):
    """Create a vintage and its cap (tonnes CO2e, int) the way the registry must: registry-a proposes,
    registry-b approves (four eyes; a second run finds the proposal executed and changes nothing)."""
    from cets.registry.models import Proposal, UnitType
    from cets.registry.services import proposal_approve, vintage_create_propose

    p = vintage_create_propose(key=key, instrument=instrument, vintage=vintage, cap_t=cap_t, actor=steps.registry_a, reference=reference,
                               effective_at=effective_at)
    if p.status == Proposal.Status.PROPOSED:
        proposal_approve(proposal_id=p.pk, approver=steps.registry_b)
    return UnitType.objects.get(code=f"{instrument}-{vintage}")


def _entity_users():
    from cets.parties.models import Membership, Role

    return [(m.user, m.organisation_id) for m in Membership.objects.filter(role=Role.ENTITY, user__username__startswith="e-").select_related("user")]


def _province_users():
    from cets.parties.models import Membership, Role

    return {m.province: m.user for m in Membership.objects.filter(role=Role.PROVINCIAL_AUTHORITY, user__username__startswith="p-").select_related("user")}


def submit_tables(steps, *, year: int, sector: str, stage: str, day: str, market: str = PRIMARY_MARKET) -> int:
    """Every province with an allocation of the scope sends its stamped ``stage`` tables to the registry on
    ``day`` and the registry records receipt the same day (国环规气候〔2024〕1号 一(二), 二(二)): the issuance then
    falls due 10 working days later. Idempotent. Returns the submissions recorded."""
    from cets.allocation.models import AllocationSubmission, EntityAllocation
    from cets.allocation.services import allocation_submission_receive, allocation_submission_record

    users = _province_users()
    when = dt.date.fromisoformat(day)
    n = 0
    provinces = sorted(set(EntityAllocation.objects.filter(market=market, sector=sector, year=year).values_list("entity__province", flat=True)))
    for prov in provinces:
        if prov not in users:
            continue
        s = allocation_submission_record(market=market, sector=sector, year=year, stage=stage, province=prov, actor=users[prov], on=when)
        if s.received_on is None:
            allocation_submission_receive(submission_id=s.pk, actor=steps.registry_a, on=when)
        n += 1
    return AllocationSubmission.objects.filter(market=market, sector=sector, year=year, stage=stage).count() if n else 0


def issue_notices(steps, *, year: int, day: str) -> int:
    """The registry issues the compliance notices (履约通知书) of ``year`` with the final allocation
    (国环规气候〔2024〕1号 三(一)); idempotent. Returns the number issued now."""
    from cets.compliance.services import compliance_notices_issue

    return compliance_notices_issue(year=year, actor=steps.registry_a, at=at(day))


def publish_lists(*, market: str, year: int, sectors, day: str) -> int:
    """Each province publishes its ``year`` list of each of ``sectors`` on ``day`` (公布, 2025 notice §一(二));
    provinces with no included entity of a sector have nothing to publish. Idempotent. Returns the publications."""
    from cets.parties.models import EmitterListEntry, EmitterListPublication
    from cets.parties.services import emitter_list_publish

    users = _province_users()
    for sector in sectors:
        provinces = set(EmitterListEntry.objects.filter(market=market, year=year, sector=sector, included=True).values_list("province", flat=True))
        done = set(EmitterListPublication.objects.filter(market=market, year=year, sector=sector).values_list("province", flat=True))
        for prov in sorted(provinces - done):
            if prov in users:
                emitter_list_publish(market=market, year=year, sector=sector, province=prov, actor=users[prov], on=dt.date.fromisoformat(day))
    return EmitterListPublication.objects.filter(market=market, year=year).count()
