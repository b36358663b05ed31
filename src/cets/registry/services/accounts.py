"""Accounts: the registry's own accounts per market, a holder's one account, status and closure.

Writes: ``system_accounts_ensure``, ``account_open``, ``account_status_set``, ``account_close_propose``
(four eyes, executed on approval). ``system_account`` looks one up (R0101 if missing).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from cets.core.errors import CetsError
from cets.core.uscc import InvalidUscc, validate_uscc
from cets.parties.access import membership_of, require_role
from cets.parties.models import Organisation, Role
from cets.rules.markets import PRIMARY_MARKET

from ..checks import R0101, R0102, R0106, R0107, R0109, R0502, R0506
from ..kinds import HOLDER_KINDS
from ..models import RETIREMENT_KINDS, Account, AccountKind, AccountStatus, Holding, Proposal
from .proposals import four_eyes, proposal_submit

KIND_CODES = {
    AccountKind.NATIONAL_TOTAL: "NT", AccountKind.NATIONAL_RESERVE: "NR", AccountKind.AUCTION: "AU",
    AccountKind.PROVINCIAL: "PV", AccountKind.ENTITY: "KE", AccountKind.INSTITUTION: "IN", AccountKind.INDIVIDUAL: "ID",
    AccountKind.CCER_HOLDING: "CH", AccountKind.SURRENDER: "SR", AccountKind.CANCELLATION: "CX", AccountKind.DEDUCTION: "DD",
}


def _system_number(market: str, kind: str, province: str = "") -> str:
    return f"{market.upper()}-{KIND_CODES[kind]}" + (f"-{province}" if province else "")


@transaction.atomic
def system_accounts_ensure(*, market: str = PRIMARY_MARKET, provinces: Sequence[str] = ()) -> dict[str, Account]:
    """Create (once) the registry's own accounts of a market: national total, reserve, auction,
    surrender, cancellation, deduction, and one provincial authority account per province."""
    out: dict[str, Account] = {}
    for kind in (AccountKind.NATIONAL_TOTAL, AccountKind.NATIONAL_RESERVE, AccountKind.AUCTION, *sorted(RETIREMENT_KINDS)):
        acc, _ = Account.objects.get_or_create(number=_system_number(market, kind), defaults={"market": market, "kind": kind})
        out[kind] = acc
    for p in provinces:
        acc, _ = Account.objects.get_or_create(
            number=_system_number(market, AccountKind.PROVINCIAL, p), defaults={"market": market, "kind": AccountKind.PROVINCIAL, "province": p}
        )
        out[f"provincial:{p}"] = acc
    return out


def system_account(market: str, kind: str, province: str = "") -> Account:
    try:
        return Account.objects.get(number=_system_number(market, kind, province))
    except Account.DoesNotExist:
        raise CetsError(R0101, _system_number(market, kind, province)) from None


@transaction.atomic
def account_open(*, holder: Organisation, kind: str = AccountKind.ENTITY, market: str = PRIMARY_MARKET) -> Account:
    """Open the holder's one account in ``market`` (idempotent: returns the existing one of the
    same kind). Validates the holder's credit code (GB 32100) unless it is a project owner, or a natural
    person's resident identity number (GB 11643-1999, L0301–L0304; the account number never carries it).

    Raises R0107 if the holder already has an account of another kind in this market,
    R0106 for a system account kind, R0502-style InvalidUscc as CetsError R0101 for a bad code.
    """
    if kind not in HOLDER_KINDS:
        raise CetsError(R0106, kind)
    if holder.kind == Organisation.Kind.INDIVIDUAL:
        from cets.parties.services import resident_id_valid

        resident_id_valid(holder.resident_id or "")
    elif holder.kind != Organisation.Kind.PROJECT_OWNER:
        try:
            validate_uscc(holder.uscc or "")
        except InvalidUscc as e:
            raise CetsError(R0101, f"{holder.uscc}: {e.problem.en}") from None
    existing = Account.objects.filter(holder=holder, market=market).first()
    if existing:
        if existing.kind != kind:
            raise CetsError(R0107, existing.number)
        return existing
    ident = holder.uscc or f"P{holder.pk:08d}"
    return Account.objects.create(
        number=f"{market.upper()}-{KIND_CODES[kind]}-{ident}", market=market, kind=kind, holder=holder, province=holder.province
    )


@transaction.atomic
def account_status_set(*, account: Account, status: str, reason: str, actor) -> Account:
    """Restrict (no outgoing) or freeze (nothing moves but judicial entries) an account at once — it protects
    holdings. Reopening (``open``) needs a second operator (:func:`cets.registry.services.operator.account_reopen_propose`,
    R0506 here); closing goes through :func:`account_close_propose` (four eyes). Registry operators only (R0502);
    R0106 unknown status, R0102 closed account."""
    require_role(actor, Role.REGISTRY_OPERATOR)
    if status not in (AccountStatus.OPEN, AccountStatus.RESTRICTED, AccountStatus.FROZEN):
        raise CetsError(R0106, status)
    if status == AccountStatus.OPEN:
        raise CetsError(R0506, account.number)
    return _set_status(account=account, status=status)


def _set_status(*, account: Account, status: str) -> Account:
    acc = Account.objects.select_for_update().get(pk=account.pk)
    if acc.status == AccountStatus.CLOSED:
        raise CetsError(R0102, acc.number)
    acc.status = status
    acc.save(update_fields=["status"])
    return acc


def _holder_or_operator(actor, account: Account) -> None:
    """R0502 unless ``actor`` acts for the account's holder or is a registry operator."""
    m = membership_of(actor)
    if m is None or (m.role != Role.REGISTRY_OPERATOR and m.organisation_id != account.holder_id):
        raise CetsError(R0502, account.number)


# -- account closure (only when empty)

def account_close_propose(*, key: str, account: Account, actor) -> Proposal:
    """Propose closing an account; refused (R0109) while it holds any unit, checked again on approval."""
    if Holding.objects.filter(account=account, quantity__gt=0).exists():
        raise CetsError(R0109, account.number)
    return proposal_submit(key=key, kind="account_close", payload={"account": account.number}, actor=actor)


@four_eyes("account_close")
def _execute_account_close(p: Proposal, approver) -> dict:
    acc = Account.objects.select_for_update().get(number=p.payload["account"])
    if Holding.objects.filter(account=acc, quantity__gt=0).exists():
        raise CetsError(R0109, acc.number)
    acc.status = AccountStatus.CLOSED
    acc.closed_at = timezone.now()
    acc.save(update_fields=["status", "closed_at"])
    return {"account": acc.number, "status": acc.status}
