"""Holder protection (issue 16; EU Registry Regulation (EU) 2019/1122 by analogy): the trusted account list per
holding account and the delayed transfer the holder can cancel. The delays are the market's ``registry`` rule pack
(``national/registry-protection-*.toml``); the clock is :mod:`cets.registry.protection`; which transfer kinds the
list and the delay apply to is :data:`cets.registry.kinds.HOLDER_PROTECTED_KINDS`.

- :func:`trusted_account_add` — the holder's user adds another holder's holding account; it becomes active after
  the pack's activation delay (moved into working hours). :func:`trusted_account_remove` — at once.
- :func:`transfer_instruct` — the holder's transfer to another holder (变更) outside the exchange: refused unless
  the receiving account is on the active list (R0801); otherwise the units are held in the pending position at
  once (journal entry ``{key}:hold``) and the transfer is due after the pack's delay within working hours.
- :func:`delayed_transfer_cancel` — the holder's users cancel before execution: the units go back (``{key}:back``).
- :func:`delayed_transfers_release_due` — the registry (CLI ``cets registry release-due``, the demo) executes the due
  ones: ``{key}``, a ``transfer`` from the pending position to the receiving account's registry position.

Every state change notifies the holder's users (:mod:`cets.parties.notifications`), besides the ledger's own notice
of each journal entry. Each service is one transaction; a refusal changes nothing.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from cets.core import calendar
from cets.core.errors import CetsError
from cets.parties.access import require_role
from cets.parties.models import Role
from cets.parties.notifications import notify
from cets.rules.packs import Pack, pack_for

from ..checks import R0101, R0502, R0801, R0802, R0803, R0804, R0805, R0806, R0807
from ..kinds import HOLDER_KINDS, HOLDER_PROTECTED_KINDS
from ..models import Account, AccountStatus, DelayedTransfer, Position, TransferKind, TrustedAccount, UnitType
from ..protection import SHANGHAI, Window, due_at, parse_hhmm
from .ledger import Leg, check_quantity
from .transfers import transfer_post

HOLDER_ROLES = (Role.ENTITY, Role.TRADER)


def protection_pack(market: str, when: dt.datetime) -> Pack:
    """The market's ``registry`` pack for the year of ``when`` (Asia/Shanghai); PackError (S0101 at the API) if none."""
    return pack_for(market, "registry", when.astimezone(SHANGHAI).year, kind="registry")


def _window(pack: Pack) -> Window:
    return Window(parse_hhmm(pack.text("transfer_delay.window_start")), parse_hhmm(pack.text("transfer_delay.window_end")))


def _due(start: dt.datetime, delay: dt.timedelta, pack: Pack) -> dt.datetime:
    try:
        return due_at(start, delay, _window(pack), calendar.is_working_day)
    except (NotImplementedError, ValueError):  # a year chinese_calendar lacks and no override covers
        raise CetsError(R0807, start.isoformat()) from None


def activation_at(market: str, added_at: dt.datetime) -> tuple[dt.datetime, str]:
    """When a trusted account list addition made at ``added_at`` becomes active, and the pack's id:
    ``added_at`` + ``trusted_accounts.activation_days`` days, moved into the working-hours window."""
    pack = protection_pack(market, added_at)
    days = int(pack.decimal("trusted_accounts.activation_days"))
    return _due(added_at, dt.timedelta(days=days), pack), pack.id


def transfer_due_at(market: str, instructed_at: dt.datetime) -> tuple[dt.datetime, str]:
    """When a holder's transfer instructed at ``instructed_at`` is executed, and the pack's id:
    + ``transfer_delay.hours`` hours, moved into the working-hours window."""
    pack = protection_pack(market, instructed_at)
    hours = int(pack.decimal("transfer_delay.hours"))
    return _due(instructed_at, dt.timedelta(hours=hours), pack), pack.id


def _holder_user(actor, account: Account):
    """R0502 unless ``actor`` is a user (entity or trader) of the account's holder."""
    m = require_role(actor, *HOLDER_ROLES)
    if m.organisation_id != account.holder_id:
        raise CetsError(R0502, account.number)
    return m


def _note(account: Account, kind: str, zh: str, en: str, body_zh: str = "", body_en: str = "") -> None:
    if account.holder_id is not None:
        notify(organisation=account.holder, kind=kind, title_zh=zh, title_en=en, body_zh=body_zh, body_en=body_en, link="/holder/")


# ---------------------------------------------------------------- the trusted account list

@transaction.atomic
def trusted_account_add(*, account: Account, trusted_number: str, actor, now: dt.datetime | None = None) -> TrustedAccount:
    """Add the account numbered ``trusted_number`` to ``account``'s trusted account list; active from the pack's
    activation delay on (:func:`activation_at`). R0502 unless the actor is the holder's user; R0101 no such account;
    R0803 not another holder's holding account (or the account itself); R0802 already on the list."""
    _holder_user(actor, account)
    other = Account.objects.filter(number=(trusted_number or "").strip()).first()
    if other is None:
        raise CetsError(R0101, trusted_number)
    if other.pk == account.pk or other.kind not in HOLDER_KINDS or other.holder_id is None or other.status == AccountStatus.CLOSED:
        raise CetsError(R0803, other.number)
    if TrustedAccount.objects.filter(account=account, trusted=other, removed_at__isnull=True).exists():
        raise CetsError(R0802, other.number)
    now = now or timezone.now()
    active, pack_id = activation_at(account.market, now)
    entry = TrustedAccount.objects.create(account=account, trusted=other, added_by=actor, added_at=now, active_from=active, pack_id=pack_id)
    when = active.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    _note(account, "trusted_account", f"可信账户列表新增 {other.number}，{when} 生效", f"{other.number} added to your trusted account list, active {when}",
          f"账户 {account.number}；添加人 {actor.get_username()}；如非本单位操作，请立即删除并联系注册登记机构。",
          f"Account {account.number}; added by {actor.get_username()}. If you did not do this, remove it and tell the registry at once.")
    return entry


@transaction.atomic
def trusted_account_remove(*, entry_id: int, actor, now: dt.datetime | None = None) -> TrustedAccount:
    """Remove an entry of the actor's holder's trusted account list at once. R0806 no such entry (or not the
    actor's holder's; nothing is revealed); R0502 not a holder's user."""
    require_role(actor, *HOLDER_ROLES)
    entry = TrustedAccount.objects.select_for_update().select_related("account", "trusted").filter(pk=entry_id, removed_at__isnull=True).first()
    if entry is None or entry.account.holder_id != actor.membership.organisation_id:
        raise CetsError(R0806, str(entry_id))
    entry.removed_at, entry.removed_by = now or timezone.now(), actor
    entry.save(update_fields=["removed_at", "removed_by"])
    _note(entry.account, "trusted_account", f"可信账户列表删除 {entry.trusted.number}", f"{entry.trusted.number} removed from your trusted account list",
          f"账户 {entry.account.number}；删除人 {actor.get_username()}", f"Account {entry.account.number}; removed by {actor.get_username()}")
    return entry


def trusted_active(*, account: Account, other: Account, at: dt.datetime) -> bool:
    """True when ``other`` is on ``account``'s trusted account list and active at ``at``."""
    return TrustedAccount.objects.filter(account=account, trusted=other, removed_at__isnull=True, active_from__lte=at).exists()


# ---------------------------------------------------------------- the delayed transfer

@transaction.atomic
def transfer_instruct(*, key: str, from_account: Account, to_account: Account, unit_type: UnitType, quantity: int, actor, reference: str = "",
                      now: dt.datetime | None = None) -> DelayedTransfer:
    """The holder's instruction to transfer ``quantity`` tonnes (int) of ``unit_type`` from its registry position to
    another holder's account, outside the exchange (变更, Measures Art. 23). Refusals in order: R0502 (not the
    holder's entity or trader user), R0301 (quantity), R0801 (``to_account`` not on the active trusted account
    list), then the ledger's refusals of the hold (R0102–R0104, R0202, R0302 …). The units are held at once
    (``{key}:hold``, registry → pending) and the transfer is due at :func:`transfer_due_at`. Idempotent on
    ``key``: the same instruction again returns the first; other content, R0401 from the ledger."""
    from ..checks import R0401

    _holder_user(actor, from_account)
    quantity = check_quantity(quantity)
    existing = DelayedTransfer.objects.filter(key=key).first()
    if existing is not None:
        same = (existing.from_account_id, existing.to_account_id, existing.unit_type_id, existing.quantity, existing.reference) == \
               (from_account.pk, to_account.pk, unit_type.pk, quantity, reference)
        if not same:
            raise CetsError(R0401, key)
        return existing
    now = now or timezone.now()
    if not trusted_active(account=from_account, other=to_account, at=now):
        raise CetsError(R0801, to_account.number)
    due, pack_id = transfer_due_at(from_account.market, now)
    assert TransferKind.TRANSFER in HOLDER_PROTECTED_KINDS  # the kind this instruction executes as (kinds.py)
    hold = transfer_post(key=f"{key}:hold", kind=TransferKind.POSITION_MOVE, unit_type=unit_type, debit=Leg(from_account, Position.REGISTRY),
                         credit=Leg(from_account, Position.PENDING), quantity=quantity, reference=f"延迟转移 delayed transfer {key}", actor=actor,
                         effective_at=now)
    d = DelayedTransfer.objects.create(key=key, from_account=from_account, to_account=to_account, unit_type=unit_type, quantity=quantity,
                                       reference=reference, instructed_by=actor, instructed_at=now, due_at=due, pack_id=pack_id, hold=hold)
    when = due.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    _note(from_account, "delayed_transfer", f"转移指令：{quantity:,} 吨 {unit_type.code} 将于 {when} 执行",
          f"Transfer of {quantity:,} t {unit_type.code} due {when}",
          f"转入账户 {to_account.number}；指令人 {actor.get_username()}；执行前可撤销。",
          f"To account {to_account.number}; instructed by {actor.get_username()}; you can cancel it until then.")
    return d


def _pending(transfer_id: int) -> DelayedTransfer:
    d = DelayedTransfer.objects.select_for_update().select_related("from_account", "to_account", "unit_type").filter(pk=transfer_id).first()
    if d is None:
        raise CetsError(R0805, str(transfer_id))
    return d


@transaction.atomic
def delayed_transfer_cancel(*, transfer_id: int, actor, now: dt.datetime | None = None) -> DelayedTransfer:
    """Cancel a pending delayed transfer of the actor's holder: the units go back to the registry position
    (``{key}:back``). R0805 no such transfer (or another holder's: nothing is revealed); R0804 no longer pending."""
    require_role(actor, *HOLDER_ROLES)
    d = _pending(transfer_id)
    if d.from_account.holder_id != actor.membership.organisation_id:
        raise CetsError(R0805, str(transfer_id))
    if d.status != DelayedTransfer.Status.PENDING:
        raise CetsError(R0804, d.key)
    now = now or timezone.now()
    transfer_post(key=f"{d.key}:back", kind=TransferKind.POSITION_MOVE, unit_type=d.unit_type, debit=Leg(d.from_account, Position.PENDING),
                  credit=Leg(d.from_account, Position.REGISTRY), quantity=d.quantity, reference=f"撤销延迟转移 cancelled {d.key}", actor=actor,
                  effective_at=now)
    d.status, d.decided_at, d.decided_by = DelayedTransfer.Status.CANCELLED, now, actor
    d.save(update_fields=["status", "decided_at", "decided_by"])
    _note(d.from_account, "delayed_transfer", f"转移指令已撤销：{d.quantity:,} 吨 {d.unit_type.code}",
          f"Transfer of {d.quantity:,} t {d.unit_type.code} cancelled",
          f"分录 {d.key}；撤销人 {actor.get_username()}", f"Entry {d.key}; cancelled by {actor.get_username()}")
    return d


def delayed_transfers_release_due(*, actor=None, now: dt.datetime | None = None) -> dict:
    """Execute every pending delayed transfer due at ``now`` (default now), each in its own transaction, oldest due
    first: ``{key}``, a ``transfer`` from the pending position to the receiving account's registry position. A
    registry operator or the system (``actor=None``: the CLI, the demo's clock) runs it; others R0502. A transfer
    the ledger refuses (e.g. the receiving account closed meanwhile, R0102) goes back to the holder and is
    cancelled. Returns ``{"executed", "returned"}`` (counts)."""
    if actor is not None:
        require_role(actor, Role.REGISTRY_OPERATOR)
    now = now or timezone.now()
    executed = returned = 0
    for pk in DelayedTransfer.objects.filter(status=DelayedTransfer.Status.PENDING, due_at__lte=now).order_by("due_at", "pk").values_list("pk", flat=True):
        with transaction.atomic():
            d = _pending(pk)
            if d.status != DelayedTransfer.Status.PENDING:
                continue
            try:
                transfer_post(key=d.key, kind=TransferKind.TRANSFER, unit_type=d.unit_type, debit=Leg(d.from_account, Position.PENDING),
                              credit=Leg(d.to_account, Position.REGISTRY), quantity=d.quantity, reference=d.reference, actor=d.instructed_by,
                              effective_at=now)
                d.status = DelayedTransfer.Status.EXECUTED
                executed += 1
                zh, en = f"转移已执行：{d.quantity:,} 吨 {d.unit_type.code}", f"Transfer of {d.quantity:,} t {d.unit_type.code} executed"
            except CetsError as e:
                transfer_post(key=f"{d.key}:back", kind=TransferKind.POSITION_MOVE, unit_type=d.unit_type, debit=Leg(d.from_account, Position.PENDING),
                              credit=Leg(d.from_account, Position.REGISTRY), quantity=d.quantity, reference=f"{e.code} {d.key}", effective_at=now)
                d.status = DelayedTransfer.Status.CANCELLED
                returned += 1
                zh, en = f"转移未能执行（{e.code}），配额已退回", f"Transfer not executed ({e.code}); units returned"
            d.decided_at, d.decided_by = now, actor
            d.save(update_fields=["status", "decided_at", "decided_by"])
            _note(d.from_account, "delayed_transfer", zh, en, f"分录 {d.key}；转入账户 {d.to_account.number}",
                  f"Entry {d.key}; to account {d.to_account.number}")
    return {"executed": executed, "returned": returned}


def delayed_transfers_of(*, user, limit: int = 200) -> list[DelayedTransfer]:
    """The delayed transfers of ``user``'s holder, newest first (none for a user without a holder's role)."""
    from cets.parties.access import membership_of

    m = membership_of(user)
    if m is None or m.role not in HOLDER_ROLES:
        return []
    return list(DelayedTransfer.objects.filter(from_account__holder_id=m.organisation_id).select_related("to_account", "unit_type")[:max(1, min(limit, 1000))])


def trusted_accounts_of(*, user) -> list[TrustedAccount]:
    """The current (not removed) trusted account list entries of ``user``'s holder's accounts."""
    from cets.parties.access import membership_of

    m = membership_of(user)
    if m is None or m.role not in HOLDER_ROLES:
        return []
    qs = TrustedAccount.objects.filter(account__holder_id=m.organisation_id, removed_at__isnull=True)
    return list(qs.select_related("account", "trusted", "trusted__holder"))
