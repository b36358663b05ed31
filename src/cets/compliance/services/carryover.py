"""Carry-over (结转) services, 2023–2024 power plan 附5: :func:`carry_over_apply` (the entity applies; the
units are held in the pending position) and :func:`carry_over_process` (the registry retires the old units
into the cancellation account and issues the same quantity of the target vintage); and
:func:`carry_over_position`, the figures both use. C0701–C0704."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from cets.core.errors import CetsError
from cets.parties.access import require_role
from cets.parties.models import Organisation, Role
from cets.registry.checks import R0101, R0502, R0601
from cets.registry.models import AccountKind, Instrument, Position, Transfer, TransferKind, UnitType
from cets.registry.selectors import account_of
from cets.registry.services import Leg, carry_over_vintage_create, system_account, transfer_post
from cets.rules.markets import PRIMARY_MARKET
from cets.rules.packs import Pack, load_pack

from ..carryover import carry_over_limit
from ..checks import C0701, C0702, C0703, C0704
from ..models import CarryOverApplication, Obligation
from ..selectors import status_of


@dataclass(frozen=True)
class CarryOverPosition:
    net_sales_t: int
    holdings_t: int
    limit_t: int
    applied_t: int

    @property
    def remaining_t(self) -> int:
        return max(0, self.limit_t - self.applied_t)


def _shanghai(day: str, end: bool = False) -> dt.datetime:
    d = dt.date.fromisoformat(day)
    return timezone.make_aware(dt.datetime.combine(d, dt.time.max if end else dt.time.min))


def carry_over_position(*, entity: Organisation, pack: Pack) -> CarryOverPosition:
    """The entity's net sales, holdings at the cut-off, limit and what it has applied for (tonnes)."""
    acc = account_of(holder_id=entity.pk)
    if acc is None:
        return CarryOverPosition(0, 0, 0, 0)
    vintages = list(pack.raw("carry_over.vintages"))
    ut_ids = list(UnitType.objects.filter(instrument=Instrument.CEA, vintage__in=vintages).values_list("pk", flat=True))
    window = Q(effective_at__gte=_shanghai(pack.text("carry_over.net_sales_from")),
               effective_at__lte=_shanghai(pack.text("carry_over.net_sales_to"), end=True))
    trades = Transfer.objects.filter(window, kind=TransferKind.TRANSFER, unit_type_id__in=ut_ids)
    sold = trades.filter(debit_account=acc).aggregate(q=Sum("quantity"))["q"] or 0
    bought = trades.filter(credit_account=acc).aggregate(q=Sum("quantity"))["q"] or 0
    cut = dt.datetime.fromisoformat(pack.text("carry_over.holdings_at"))
    counted = (Position.REGISTRY, Position.TRADING, Position.FROZEN)
    upto = Transfer.objects.filter(effective_at__lte=cut, unit_type_id__in=ut_ids)
    credit = upto.filter(credit_account=acc, credit_position__in=counted).aggregate(q=Sum("quantity"))["q"] or 0
    debit = upto.filter(debit_account=acc, debit_position__in=counted).aggregate(q=Sum("quantity"))["q"] or 0
    limit = carry_over_limit(net_sales_t=sold - bought, holdings_t=credit - debit, base=pack.decimal("carry_over.base"),
                             ratio=pack.decimal("carry_over.ratio"), rounding=pack.text("carry_over.rounding"))
    applied = CarryOverApplication.objects.filter(entity=entity).exclude(status=CarryOverApplication.Status.REJECTED).aggregate(
        q=Sum("quantity"))["q"] or 0
    return CarryOverPosition(sold - bought, credit - debit, limit, applied)


@transaction.atomic
def carry_over_apply(*, key: str, entity: Organisation, unit_type_code: str, quantity: int, actor, pack_id: str = "national/power-2023-2024",
                     at: dt.datetime | None = None) -> CarryOverApplication:
    """An entity applies to carry ``quantity`` t of an old vintage over (plan 附5). Checks: R0502 the
    actor acts for the entity; C0701 within the application period; C0702 the 2023 and 2024
    obligations were met on time; R0601 an eligible vintage; C0703 no judicially frozen units; C0704
    within the limit T; R0302 units available in the registry position (move them from trading first).
    Idempotent on ``key``."""
    existing = CarryOverApplication.objects.filter(key=key).first()
    if existing:
        return existing
    m = require_role(actor, Role.ENTITY)
    if m.organisation_id != entity.pk:
        raise CetsError(R0502, entity.uscc)
    pack = load_pack(pack_id)
    at = at or timezone.now()
    if not (_shanghai(pack.text("carry_over.applications_from")) <= at <= _shanghai(pack.text("carry_over.applications_until"), end=True)):
        raise CetsError(C0701, timezone.localtime(at).date().isoformat())
    for year in pack.raw("carry_over.eligibility_years"):
        ob = Obligation.objects.filter(entity=entity, market=pack.market, year=year).first()
        if ob is None or status_of(obligation=ob, today=timezone.localdate(at)).status != "on_time":
            raise CetsError(C0702, str(year))
    ut = UnitType.objects.filter(code=unit_type_code, instrument=Instrument.CEA, vintage__in=pack.raw("carry_over.vintages")).first()
    if ut is None:
        raise CetsError(R0601, unit_type_code)
    acc = account_of(holder_id=entity.pk)
    if acc is None:
        raise CetsError(R0101, entity.uscc)
    if acc.holdings.filter(position=Position.FROZEN, quantity__gt=0).exists():
        raise CetsError(C0703, acc.number)
    pos = carry_over_position(entity=entity, pack=pack)
    if quantity > pos.remaining_t:
        raise CetsError(C0704, f"{quantity} > {pos.remaining_t} (T = {pos.limit_t})")
    t = transfer_post(key=f"{key}:hold", kind=TransferKind.POSITION_MOVE, unit_type=ut, debit=Leg(acc, Position.REGISTRY),
                      credit=Leg(acc, Position.PENDING), quantity=quantity, reference="结转申请冻结 held for carry-over", actor=actor,
                      effective_at=at)
    return CarryOverApplication.objects.create(key=key, entity=entity, unit_type=ut, quantity=quantity, submitted_by=actor, submitted_at=at,
                                               hold_transfer_key=t.key, pack_id=pack_id)


@transaction.atomic
def carry_over_process(*, cutoff: dt.date, actor, at: dt.datetime | None = None, pack_id: str = "national/power-2023-2024") -> dict:
    """Process the batch of applications submitted up to ``cutoff`` (plan 附5: 03-20 → by 03-27,
    06-10 → by 06-26): the held old-vintage units go to the cancellation account (kind carry_over)
    and the same quantity of the target vintage is created and issued to the entity. Registry
    operators only. Returns tonnes processed per target unit type."""
    require_role(actor, Role.REGISTRY_OPERATOR)
    pack = load_pack(pack_id)
    at = at or timezone.now()
    target = pack.text("carry_over.target_vintage")
    total = system_account(PRIMARY_MARKET, AccountKind.NATIONAL_TOTAL)
    sink = system_account(PRIMARY_MARKET, AccountKind.CANCELLATION)
    done = 0
    apps = CarryOverApplication.objects.select_for_update().filter(status=CarryOverApplication.Status.SUBMITTED,
                                                                   submitted_at__lte=_shanghai(cutoff.isoformat(), end=True))
    for app in apps.select_related("unit_type", "entity"):
        acc = account_of(holder_id=app.entity_id)
        r = transfer_post(key=f"{app.key}:retire", kind=TransferKind.CARRY_OVER, unit_type=app.unit_type, debit=Leg(acc, Position.PENDING),
                          credit=Leg(sink, Position.REGISTRY), quantity=app.quantity, reference=f"结转 carry-over → CEA-{target}",
                          actor=actor, effective_at=at)
        new = carry_over_vintage_create(instrument=Instrument.CEA, vintage=target, cap_t=app.quantity, key=f"{app.key}:create", actor=actor,
                                        retired_key=r.key, effective_at=at)
        i = transfer_post(key=f"{app.key}:issue", kind=TransferKind.ISSUE, unit_type=new, debit=Leg(total, Position.REGISTRY),
                          credit=Leg(acc, Position.REGISTRY), quantity=app.quantity, reference=f"结转发放 carry-over issuance {app.unit_type.code}",
                          actor=actor, effective_at=at, related=r)
        app.status = CarryOverApplication.Status.PROCESSED
        app.processed_at = at
        app.retire_transfer_key, app.issue_transfer_key = r.key, i.key
        app.save(update_fields=["status", "processed_at", "retire_transfer_key", "issue_transfer_key"])
        done += app.quantity
    return {"processed_t": done, "target": f"CEA-{target}"}
