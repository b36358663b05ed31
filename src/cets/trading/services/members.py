"""Exchange members and service institutions (draft Measures Art. 19: the exchange "可设立服务机构和会员制服务交易
市场活动"; Measures Art. 47 (七): the exchange may "责令停止会员资格").

Writes (exchange operators only, R0502): ``member_admit`` (an organisation becomes a member of a kind from the
trading pack's ``[members] kinds``, T0503), ``member_client_add`` (a participant the member acts for; only the
kinds in ``acts_for_clients`` may, T0504; one member per participant and market, T0506), ``member_suspend`` and
``member_reinstate`` (T0505 when the status does not allow it). Reads: ``acts_for`` (may this member's staff enter
orders for the participant) and ``suspended_member_of`` (order entry refuses a suspended member's clients, T0502).

A suspension does not change the clients' registry accounts: no text in the shared references says it should
(Measures Art. 47 lists restricting accounts as a separate measure against the participant itself).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cets.core.errors import CetsError
from cets.parties.access import require_role
from cets.parties.models import Organisation, Role
from cets.rules.markets import PRIMARY_MARKET

from ..checks import T0503, T0504, T0505, T0506
from ..models import ExchangeMember, MemberClient


@dataclass(frozen=True)
class MemberRules:
    """The trading pack's ``[members]`` table: membership kinds, and those that may act for clients."""

    member_kinds: tuple[str, ...]
    acts_for_clients: frozenset[str]


def _rules(market: str) -> MemberRules:
    """``[members]`` of the market's trading pack in force today (PackError if none covers the year); read here, not
    through the order-entry rules, so that order entry may ask this module about suspensions."""
    from cets.rules.packs import pack_for

    members = pack_for(market, "trading", timezone.localdate().year).data.get("members", {})
    return MemberRules(tuple(members.get("kinds", ())), frozenset(members.get("acts_for_clients", ())))


@transaction.atomic
def member_admit(*, organisation: Organisation, kind: str, code: str, actor, market: str = PRIMARY_MARKET) -> ExchangeMember:
    """Admit ``organisation`` as a member of ``kind`` (one of the pack's ``[members] kinds``, T0503) under the
    member ``code`` (1–20 characters, unique in the market; T0505 if taken or the organisation is a member).
    R0502 unless an exchange operator."""
    require_role(actor, Role.EXCHANGE_OPERATOR)
    if kind not in _rules(market).member_kinds:
        raise CetsError(T0503, str(kind)[:24])
    if not isinstance(code, str) or not 1 <= len(code.strip()) <= 20:
        raise CetsError(T0505, "code")
    code = code.strip()
    if ExchangeMember.objects.filter(market=market, organisation=organisation).exists() or ExchangeMember.objects.filter(market=market, code=code).exists():
        raise CetsError(T0505, code)
    return ExchangeMember.objects.create(market=market, organisation=organisation, kind=kind, code=code)


@transaction.atomic
def member_client_add(*, member: ExchangeMember, participant: Organisation, actor) -> MemberClient:
    """Record that ``member`` acts for ``participant`` (代理). T0504 if the member's kind does not act for clients,
    T0506 if another member already does, T0505 unless the member is active. R0502 unless an exchange operator."""
    require_role(actor, Role.EXCHANGE_OPERATOR)
    if member.kind not in _rules(member.market).acts_for_clients:
        raise CetsError(T0504, member.kind)
    if member.status != ExchangeMember.Status.ACTIVE:
        raise CetsError(T0505, member.code)
    if participant.pk == member.organisation_id:
        raise CetsError(T0506, member.code)
    link, created = MemberClient.objects.get_or_create(market=member.market, participant=participant, defaults={"member": member})
    if not created and link.member_id != member.pk:
        raise CetsError(T0506, link.member.code)
    return link


def _set_status(member: ExchangeMember, *, to: str, frm: str, reason: str, actor) -> ExchangeMember:
    require_role(actor, Role.EXCHANGE_OPERATOR)
    m = ExchangeMember.objects.select_for_update().get(pk=member.pk)
    if m.status != frm:
        raise CetsError(T0505, m.code)
    m.status, m.status_reason, m.status_changed_at = to, (reason or "")[:300], timezone.now()
    m.save(update_fields=["status", "status_reason", "status_changed_at"])
    return m


@transaction.atomic
def member_suspend(*, member: ExchangeMember, reason: str, actor) -> ExchangeMember:
    """Suspend an active member (Measures Art. 47 (七)): from now on orders for its clients, and its own, are
    refused (T0502); resting orders stay until cancelled or expired. The clients' registry accounts are unchanged.
    T0505 unless active; R0502 unless an exchange operator."""
    return _set_status(member, to=ExchangeMember.Status.SUSPENDED, frm=ExchangeMember.Status.ACTIVE, reason=reason, actor=actor)


@transaction.atomic
def member_reinstate(*, member: ExchangeMember, reason: str, actor) -> ExchangeMember:
    """Lift a suspension. T0505 unless suspended; R0502 unless an exchange operator."""
    return _set_status(member, to=ExchangeMember.Status.ACTIVE, frm=ExchangeMember.Status.SUSPENDED, reason=reason, actor=actor)


def acts_for(*, member_org: Organisation, participant: Organisation, market: str = PRIMARY_MARKET) -> bool:
    """Whether the organisation ``member_org`` is an active member of ``market`` of a kind that acts for clients
    and has ``participant`` as its client."""
    link = MemberClient.objects.filter(market=market, participant=participant, member__organisation=member_org).select_related("member").first()
    if link is None or link.member.status != ExchangeMember.Status.ACTIVE:
        return False
    return link.member.kind in _rules(market).acts_for_clients


def suspended_member_of(*, participant: Organisation, market: str = PRIMARY_MARKET) -> ExchangeMember | None:
    """The suspended member acting for ``participant`` — or ``participant`` itself as a suspended member — else None."""
    # one read (it runs for every order): the suspended members that act for the participant or are the participant
    found = list(ExchangeMember.objects.filter(Q(clients__market=market, clients__participant=participant) | Q(organisation=participant),
                                               market=market, status=ExchangeMember.Status.SUSPENDED).distinct()[:2])
    return next((m for m in found if m.organisation_id != participant.pk), found[0] if found else None)


def members_list(*, market: str = PRIMARY_MARKET):
    """Members of ``market`` with their clients' count (exchange pages)."""
    from django.db.models import Count

    return ExchangeMember.objects.filter(market=market).select_related("organisation").annotate(n_clients=Count("clients")).order_by("code")


