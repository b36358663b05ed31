"""Vintages and caps: a unit type comes into being by a ``create`` entry into its market's national
total account (the only way units are created)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from cets.core.errors import CetsError

from ..checks import R0203
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
    the code exists with another instrument, vintage or project."""
    code = unit_type_code(instrument, vintage, project)
    market = INSTRUMENT_MARKET[instrument]
    ut, _ = UnitType.objects.get_or_create(code=code, defaults={"instrument": instrument, "vintage": vintage, "project": project})
    if (ut.instrument, ut.vintage, ut.project_id) != (instrument, vintage, project.pk if project else None):
        raise CetsError(R0203, code)
    total = system_account(market, AccountKind.NATIONAL_TOTAL)
    transfer_post(key=key, kind=TransferKind.CREATE, unit_type=ut, debit=None, credit=Leg(total, Position.REGISTRY),
                  quantity=cap_t, reference=reference or f"cap {code}", actor=actor, effective_at=effective_at)
    return ut
