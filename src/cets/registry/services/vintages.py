"""Vintages and caps: a unit type comes into being by a ``create`` entry into its market's national
total account (the only way units are created)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from cets.core.errors import CetsError

from ..checks import R0203, R0506
from ..kinds import INSTRUMENT_MARKET
from ..models import AccountKind, CcerProject, Position, TransferKind, UnitType
from .accounts import system_account
from .ledger import Leg
from .transfers import transfer_post


def unit_type_code(instrument: str, vintage: str, project: CcerProject | None = None) -> str:
    return f"{instrument}-{project.code}-{vintage}" if project else f"{instrument}-{vintage}"


@transaction.atomic
def vintage_create(*, instrument: str, vintage: str, cap_t: int, key: str, actor=None, project: CcerProject | None = None,
                   reference: str = "", effective_at: dt.datetime | None = None) -> UnitType:
    """Create units of a unit type (instrument + vintage [+ CCER project]): ``cap_t`` tonnes (int)
    credited to the national total account of its market. A later call with another key adds to
    the cap (a further CCER issuance batch of the same vintage). Idempotent on ``key``; R0203 if
    the code exists with another instrument, vintage or project.

    This is the platform's own load path (``actor`` None: the registry's set-up, CCER batches copied from
    the official CCER registry, the demo's caps). A person creates units only through
    :func:`cets.registry.services.operator.vintage_create_propose` (four eyes): R0506 if ``actor`` is given."""
    if actor is not None:
        raise CetsError(R0506, f"{instrument}-{vintage}")
    return _create(instrument=instrument, vintage=vintage, cap_t=cap_t, key=key, actor=None, project=project, reference=reference,
                   effective_at=effective_at)


def carry_over_vintage_create(*, instrument: str, vintage: str, cap_t: int, key: str, actor, retired_key: str,
                              effective_at: dt.datetime | None = None) -> UnitType:
    """Create ``cap_t`` tonnes (int) of the carry-over's target vintage against the retirement entry
    ``retired_key`` of the same quantity (2023–2024 plan 附5: the old units go to the cancellation account
    and the same quantity of the new vintage is issued), so the units in circulation do not change.
    Called only by the carry-over processing inside its transaction."""
    return _create(instrument=instrument, vintage=vintage, cap_t=cap_t, key=key, actor=actor,
                   reference=f"结转 carry-over against {retired_key}", effective_at=effective_at)


def _create(*, instrument: str, vintage: str, cap_t: int, key: str, actor, approver=None, project: CcerProject | None = None,
            reference: str = "", effective_at: dt.datetime | None = None) -> UnitType:
    code = unit_type_code(instrument, vintage, project)
    market = INSTRUMENT_MARKET[instrument]
    ut, _ = UnitType.objects.get_or_create(code=code, defaults={"instrument": instrument, "vintage": vintage, "project": project})
    if (ut.instrument, ut.vintage, ut.project_id) != (instrument, vintage, project.pk if project else None):
        raise CetsError(R0203, code)
    total = system_account(market, AccountKind.NATIONAL_TOTAL)
    transfer_post(key=key, kind=TransferKind.CREATE, unit_type=ut, debit=None, credit=Leg(total, Position.REGISTRY),
                  quantity=cap_t, reference=reference or f"cap {code}", actor=actor, approver=approver, effective_at=effective_at)
    return ut
