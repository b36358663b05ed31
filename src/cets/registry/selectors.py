"""Registry reads."""

from __future__ import annotations

from django.db.models import Q

from cets.rules.markets import PRIMARY_MARKET

from .models import Account, AccountKind, AccountStatus, Holding, Transfer, UnitType

# Above this many holders a read takes the market's accounts and keeps the wanted holders in Python instead of sending an
# IN list of thousands of ids (a national year's issuance: 5,500 entities, bench/allocation_national.py).
LARGE_IN = 1000


def account_numbers_of_holders(*, holder_ids, market: str = PRIMARY_MARKET) -> dict[int, str]:
    """holder organisation id → account number in ``market``."""
    ids = list(holder_ids)
    if len(ids) <= LARGE_IN:
        return dict(Account.objects.filter(holder_id__in=ids, market=market).values_list("holder_id", "number"))
    wanted = set(ids)  # a national year's thousands of holders: the market's accounts, kept for these holders (no IN list of thousands)
    return {h: n for h, n in Account.objects.filter(market=market, holder_id__isnull=False).values_list("holder_id", "number") if h in wanted}


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


def account_scope(user) -> Q:
    """A filter on Account for what ``user`` may see (as :func:`account_visible`): nationwide roles every account; a
    provincial or municipal authority its province's entity and provincial accounts; anyone else its own."""
    from cets.parties.access import NATIONWIDE_ROLES, membership_of
    from cets.parties.models import Role

    m = membership_of(user)
    if m is None:
        return Q(pk__in=[])
    if m.role in NATIONWIDE_ROLES:
        return Q()
    own = Q(holder_id=m.organisation_id) if m.organisation_id else Q(pk__in=[])
    if m.role in (Role.PROVINCIAL_AUTHORITY, Role.MUNICIPAL_AUTHORITY):
        return own | Q(province=m.province, kind__in=[AccountKind.ENTITY, AccountKind.PROVINCIAL])
    return own


# Accounts a holder may confirm by their exact number before transferring to them (the payee's name, as a bank
# shows it): held accounts, never the registry's own.
PAYEE_KINDS = (AccountKind.ENTITY, AccountKind.INSTITUTION, AccountKind.INDIVIDUAL, AccountKind.CCER_HOLDING, AccountKind.PROVINCIAL)


def masked_name(name: str) -> str:
    """A natural person's name as a payee check shows it: the first character, then one * per other character."""
    return name[:1] + "*" * max(len(name) - 1, 0)


def accounts_lookup(*, user, q: str, limit: int) -> tuple[list[Account], Account | None, bool]:
    """Search-as-you-type over the accounts ``user`` may see (:func:`account_scope`): up to ``limit + 1`` whose
    number, holder name or holder credit code contains ``q`` (by number), and the account numbered exactly ``q``
    with whether it is shown as a payee check only (``True``: a holder confirming an open account it may not
    otherwise see — the holder's name only, a natural person's masked). Only holders (members of an organisation with
    an account) get payee checks: an official never learns of another province's accounts."""
    from cets.parties.access import LOCAL_AUTHORITY_ROLES, NATIONWIDE_ROLES, membership_of

    scope = account_scope(user)
    base = Account.objects.filter(scope).select_related("holder")
    rows = list(base.filter(Q(number__icontains=q) | Q(holder__name__icontains=q) | Q(holder__uscc__icontains=q.upper()))
                .order_by("number")[:limit + 1])
    exact = base.filter(number=q).first()
    if exact is not None:
        return rows, exact, False
    m = membership_of(user)
    if m is None or m.role in NATIONWIDE_ROLES or m.role in LOCAL_AUTHORITY_ROLES or not Account.objects.filter(holder_id=m.organisation_id).exists():
        return rows, None, False  # only a holder (an organisation with an account) confirms payees
    payee = Account.objects.filter(number=q, kind__in=PAYEE_KINDS, status=AccountStatus.OPEN).select_related("holder").first()
    return rows, payee, payee is not None


def unit_types_lookup(*, q: str, limit: int) -> tuple[list[UnitType], UnitType | None]:
    """Unit types whose code contains ``q`` (up to ``limit + 1``, by code) and the one whose code is ``q``. Unit
    types are public (the registry's totals are published), so there is no scope."""
    rows = list(UnitType.objects.filter(code__icontains=q).select_related("project").order_by("code")[:limit + 1])
    return rows, UnitType.objects.filter(code=q).select_related("project").first()


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


# ---------------------------------------------------------------- serial blocks (models.SerialBlock, serials.py)

def _holder_label(acc: Account) -> str:
    """The account's holder as the public may see it: an organisation's name; an individual's account by number only."""
    if acc.kind == AccountKind.INDIVIDUAL or acc.holder is None:
        return ""
    return acc.holder.name


def serial_history(text: str) -> dict:
    """The history of a serial (or of a block, by its first serial ``<unit type>-<start>[-<end>]``, format in
    :mod:`cets.registry.serials`): its project and vintage, then one step per journal entry that minted or moved
    it — ``{"seq", "key", "kind", "effective_at", "reference", "from_account", "to_account", "to_kind", "to_holder", "block",
    "quantity_t", "retired"}`` in entry
    order (tonnes, int) — and where it is now. R1002 if the text is not a serial of any block.
    Unscoped: callers check access (registry-facing roles; retired serials are public, :func:`retired_blocks`)."""
    from cets.core.errors import CetsError

    from . import serials
    from .checks import R1002
    from .models import RETIREMENT_KINDS, SerialBlock

    parsed = serials.parse_serial(text)
    ut = UnitType.objects.filter(code=parsed[0]).select_related("project").first() if parsed else None
    if ut is None:
        raise CetsError(R1002, text[:80])
    n = parsed[1]
    rows = list(SerialBlock.objects.filter(unit_type=ut, start__lte=n, end__gte=n).select_related(
        "account__holder", "entry", "parent__account").order_by("entry_id", "id"))
    if not rows:
        raise CetsError(R1002, text[:80])
    steps = []
    for b in rows:
        if b.parent is not None and b.parent.account_id == b.account_id:
            continue  # the rest of a split block: this serial stayed where it was
        t = b.entry
        src = b.parent.account if b.parent is not None else None
        steps.append({"seq": t.seq, "key": t.key, "kind": t.kind, "effective_at": t.effective_at, "reference": t.reference,
                      "from_account": src.number if src else "", "to_account": b.account.number, "to_kind": b.account.kind,
                      "to_holder": _holder_label(b.account), "block": serials.block_text(ut.code, serials.Span(b.start, b.end)),
                      "quantity_t": b.quantity, "retired": b.account.kind in RETIREMENT_KINDS})
    now = rows[-1]
    return {"serial": serials.serial_text(ut.code, n), "unit_type": ut.code, "instrument": ut.instrument, "vintage": ut.vintage,
            "project": ut.project.code if ut.project else "", "project_name": ut.project.name if ut.project else "",
            "block": serials.block_text(ut.code, serials.Span(now.start, now.end)), "account": now.account.number,
            "retired": now.account.kind in RETIREMENT_KINDS, "steps": steps}


def blocks_of(*, account: Account) -> list[dict]:
    """The open serial blocks of ``account`` in serial order: ``{"block", "unit_type", "quantity", "since"}``."""
    from . import serials
    from .models import SerialBlock

    return [{"block": serials.block_text(b.unit_type.code, serials.Span(b.start, b.end)), "unit_type": b.unit_type.code,
             "quantity": b.quantity, "since": b.entry.effective_at}
            for b in SerialBlock.objects.filter(account=account, closed_by__isnull=True).select_related("unit_type", "entry")
            .order_by("unit_type__code", "start")]


def retired_blocks(*, q: str = ""):
    """Retired serials (public): the open blocks in retirement accounts (surrender, cancellation, deduction),
    newest retirement first, with unit type, project, the entry that retired them and the account they came from.
    ``q`` filters by unit type code, project code or project name."""
    from .models import RETIREMENT_KINDS, SerialBlock

    qs = (SerialBlock.objects.filter(closed_by__isnull=True, account__kind__in=RETIREMENT_KINDS)
          .select_related("unit_type__project", "entry", "account", "parent__account__holder").order_by("-entry_id", "start"))
    if q:
        qs = qs.filter(Q(unit_type__code__icontains=q) | Q(unit_type__project__name__icontains=q))
    return qs


def serial_history_for(*, user, text: str) -> dict:
    """:func:`serial_history` if ``user`` may see it: nationwide roles and auditors any serial, a holder the serials
    its account holds now; otherwise R1002 as for an unknown serial (existence is not revealed)."""
    from cets.core.errors import CetsError
    from cets.parties.access import NATIONWIDE_ROLES, membership_of
    from cets.parties.models import Role

    from .checks import R1002

    m = membership_of(user)
    h = serial_history(text)
    if m is not None and (m.role in NATIONWIDE_ROLES or m.role == Role.AUDITOR):
        return h
    if m is not None and Account.objects.filter(number=h["account"], holder_id=m.organisation_id).exists():
        return h
    raise CetsError(R1002, text[:80])


# ---------------------------------------------------------------- the national reserve (services/reserve.py)

RESERVE_KINDS = ("reserve_fund", "reserve_release", "reserve_withdraw")


def reserve_holdings(*, market: str) -> list[Holding]:
    """What the market's national reserve account holds (tonnes, int), by unit type and position."""
    return list(Holding.objects.filter(account__market=market, account__kind=AccountKind.NATIONAL_RESERVE, quantity__gt=0)
                .select_related("unit_type").order_by("unit_type__code", "position"))


def reserve_proposals(*, status: str | None = None, q: str = ""):
    """Reserve decisions (proposals of the ``reserve_*`` kinds), newest first; ``status`` filters (``executed`` = decided
    and carried out — the public record); ``q`` matches the decision reference or unit type."""
    from .models import Proposal

    qs = Proposal.objects.filter(kind__in=RESERVE_KINDS).select_related("proposed_by", "decided_by").order_by("-decided_at", "-proposed_at")
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(payload__decision_ref__icontains=q) | Q(payload__unit_type__icontains=q))
    return qs
