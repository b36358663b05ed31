"""Registry reads."""

from __future__ import annotations

from django.db.models import Q

from cets.rules.markets import PRIMARY_MARKET

from .models import Account, AccountKind, Holding, Transfer, UnitType


def account_numbers_of_holders(*, holder_ids, market: str = PRIMARY_MARKET) -> dict[int, str]:
    """holder organisation id → account number in ``market``."""
    return dict(Account.objects.filter(holder_id__in=holder_ids, market=market).values_list("holder_id", "number"))


def account_of(*, holder_id: int, market: str = PRIMARY_MARKET) -> Account | None:
    """The holder's one account in ``market`` (None if it has none). Unscoped: callers check access."""
    return Account.objects.filter(holder_id=holder_id, market=market).first()


def holdings_of(*, account: Account):
    """Non-zero holdings of ``account`` (tonnes, int) by unit type and position."""
    return Holding.objects.filter(account=account, quantity__gt=0).select_related("unit_type").order_by("unit_type__code", "position")


def available(*, account: Account, unit_type: UnitType, position: str = "registry") -> int:
    """Tonnes (int) of ``unit_type`` in ``position`` of ``account``; 0 if none."""
    h = Holding.objects.filter(account=account, unit_type=unit_type, position=position).first()
    return h.quantity if h else 0


def journal_of(*, account: Account, limit: int = 200):
    """The latest ``limit`` journal entries touching ``account``, newest first."""
    return (Transfer.objects.filter(Q(debit_account=account) | Q(credit_account=account))
            .select_related("unit_type", "debit_account", "credit_account").order_by("-seq")[:limit])


def unit_type_totals() -> list[dict]:
    """Per unit type, now: the live reconciliation of :func:`cets.registry.reports.reconciliation`
    as dicts (tonnes, int): created, national total, issued (net of claw-back), circulating,
    surrendered, cancelled, deducted, carried over, ``balanced`` and ``problems``.

    Identities checked there: created = national total + issued; issued = circulating + surrendered
    + cancelled + deducted + carried over; each retirement account holds exactly what flowed in.
    """
    from .reports import reconciliation

    return [r.as_dict() for r in reconciliation()]


def account_visible(*, user, number: str) -> Account:
    """The account ``number`` if ``user`` may see it, else Http404 (existence is not revealed).

    Nationwide roles see every account; a provincial authority sees its province's accounts (its
    entities' and its own provincial account); a holder sees its own."""
    from django.http import Http404

    from cets.parties.access import NATIONWIDE_ROLES, membership_of
    from cets.parties.models import Role

    m = membership_of(user)
    acc = Account.objects.filter(number=number).select_related("holder").first()
    if acc is None or m is None:
        raise Http404("no such account")
    if m.role in NATIONWIDE_ROLES:
        return acc
    if m.role in (Role.PROVINCIAL_AUTHORITY, Role.MUNICIPAL_AUTHORITY) and acc.province == m.province and acc.kind in (
            AccountKind.ENTITY, AccountKind.PROVINCIAL):
        return acc
    if acc.holder_id is not None and acc.holder_id == m.organisation_id:
        return acc
    raise Http404("no such account")


def proposals(*, status: str | None = None, limit: int = 200):
    from .models import Proposal

    qs = Proposal.objects.select_related("proposed_by", "decided_by").order_by("-proposed_at")
    if status:
        qs = qs.filter(status=status)
    return qs[:limit]


def account_by_number(number: str) -> Account | None:
    """The account numbered ``number`` (None if none). Unscoped: callers check access."""
    return Account.objects.filter(number=number).first()


def transfer_entry(key: str) -> Transfer:
    """The journal entry posted under ``key``, with its unit type and accounts."""
    return Transfer.objects.select_related("unit_type", "debit_account", "credit_account").get(key=key)
