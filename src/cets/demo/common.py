"""What both demo years use: the data folder, Asia/Shanghai times, a seeded ranking, the demo's users, and
creating units through the registry's four eyes."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


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
