"""Registry reads."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q, Sum

from .models import RETIREMENT_KINDS, Account, AccountKind, Holding, Transfer, TransferKind, UnitType


def account_numbers_of_holders(*, holder_ids, market: str = "national") -> dict[int, str]:
    return dict(Account.objects.filter(holder_id__in=holder_ids, market=market).values_list("holder_id", "number"))


def account_of(*, holder_id: int, market: str = "national") -> Account | None:
    return Account.objects.filter(holder_id=holder_id, market=market).first()


def holdings_of(*, account: Account):
    return Holding.objects.filter(account=account, quantity__gt=0).select_related("unit_type").order_by("unit_type__code", "position")


def available(*, account: Account, unit_type: UnitType, position: str = "registry") -> int:
    h = Holding.objects.filter(account=account, unit_type=unit_type, position=position).first()
    return h.quantity if h else 0


def journal_of(*, account: Account, limit: int = 200):
    return (Transfer.objects.filter(Q(debit_account=account) | Q(credit_account=account))
            .select_related("unit_type", "debit_account", "credit_account").order_by("-seq")[:limit])


def unit_type_totals() -> list[dict]:
    """Per unit type: created, issued (net of claw-back), held in circulation, retired by kind.

    Reconciliation identity: created = national total + issued, and
    issued = Σ circulating holdings + surrendered + cancelled + deducted.
    """
    per: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    for ut, kind, q in Transfer.objects.filter(kind__in=[TransferKind.CREATE, TransferKind.ISSUE, TransferKind.CLAWBACK]).values_list(
        "unit_type_id", "kind").annotate(q=Sum("quantity")).values_list("unit_type_id", "kind", "q"):
        per[ut][kind] += q
    for ut, akind, q in Holding.objects.values_list("unit_type_id", "account__kind").annotate(q=Sum("quantity")).values_list(
            "unit_type_id", "account__kind", "q"):
        per[ut]["held:" + akind] += q
    out = []
    for ut in UnitType.objects.filter(pk__in=per.keys()).order_by("code"):
        d = per[ut.pk]
        retired = {k: d.get("held:" + k, 0) for k in RETIREMENT_KINDS}
        circulating = sum(v for k, v in d.items() if k.startswith("held:") and k[5:] not in RETIREMENT_KINDS and k[5:] != AccountKind.NATIONAL_TOTAL)
        out.append({
            "unit_type": ut.code,
            "created_t": d.get(TransferKind.CREATE, 0),
            "national_total_t": d.get("held:" + AccountKind.NATIONAL_TOTAL, 0),
            "issued_t": d.get(TransferKind.ISSUE, 0) - d.get(TransferKind.CLAWBACK, 0),
            "circulating_t": circulating,
            "surrendered_t": retired[AccountKind.SURRENDER],
            "cancelled_t": retired[AccountKind.CANCELLATION],
            "deducted_t": retired[AccountKind.DEDUCTION],
        })
    return out


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
