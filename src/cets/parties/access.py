"""Who may see and do what: role and jurisdiction checks shared by pages, API and services.

A provincial or municipal authority user sees only entities of its province; a district authority
user only entities of its district (GB/T 2260 six-digit ``region_code``; Beijing's 各区生态环境局,
京环发〔2024〕8号) or of its named jurisdiction (``Organisation.jurisdiction``, a code of ours for a body without a GB/T
2260 code such as 北京经济技术开发区 ``11ETDA``; an entity under it is not in its GB/T district's scope); an entity
user only its own organisation; the national authority, registry and exchange operators see everything (DESIGN.md,
Who uses it). :func:`within` is the one jurisdiction test.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from cets.core.errors import CetsError

from .checks import DENIED
from .models import Membership, Organisation, Role

NATIONWIDE_ROLES = frozenset({Role.NATIONAL_AUTHORITY, Role.REGISTRY_OPERATOR, Role.EXCHANGE_OPERATOR})
#: Authorities below the national one: their jurisdiction is ``Membership.province`` (and ``district``).
LOCAL_AUTHORITY_ROLES = (Role.PROVINCIAL_AUTHORITY, Role.MUNICIPAL_AUTHORITY, Role.DISTRICT_AUTHORITY)
# Roles whose users move units or money or decide on their movement (issue 16, holder protection): they sign in
# with a TOTP code (django-otp; ``/login/`` and ``/admin/login/`` ask for it once the user has a device) and act
# on the registry only in a session verified with it (R0505): registry operators, key emitting entities,
# institutions and individuals (traders), the exchange's operators, provincial authorities (they approve
# surrenders and changes of holder) and district authorities (a Beijing district decides fines, beijing/compliance).
SECOND_FACTOR_ROLES = frozenset({Role.REGISTRY_OPERATOR, Role.ENTITY, Role.TRADER, Role.EXCHANGE_OPERATOR, Role.PROVINCIAL_AUTHORITY,
                                 Role.DISTRICT_AUTHORITY})


def membership_of(user) -> Membership | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.membership
    except Membership.DoesNotExist:
        return None


def second_factor_missing(user) -> bool:
    """True when ``user``'s role is one of :data:`SECOND_FACTOR_ROLES` and the session is not verified with a
    TOTP device (``user.is_verified()``, set by django-otp's middleware on a request's user; a user object
    without it — a service identity, the CLI — is not a session and is not asked)."""
    m = membership_of(user)
    if m is None or m.role not in SECOND_FACTOR_ROLES:
        return False
    verified = getattr(user, "is_verified", None)
    return verified is not None and not verified()


def second_factor_unenrolled(user) -> bool:
    """True when ``user``'s role is one of :data:`SECOND_FACTOR_ROLES` and it has no confirmed device: it signs in
    with its password alone and must enrol one (``/security/second-factor/``) before it may use the platform."""
    m = membership_of(user)
    if m is None or m.role not in SECOND_FACTOR_ROLES:
        return False
    from django_otp import devices_for_user

    return not any(True for _d in devices_for_user(user, confirmed=True))


def require_second_factor(user) -> None:
    """Raise L0201 when :func:`second_factor_missing`: the pages and API that move units or money (orders, surrender
    applications and decisions) call it with the request's user."""
    from .checks import L0201

    if second_factor_missing(user):
        raise CetsError(L0201)


def role_of(user) -> str | None:
    m = membership_of(user)
    return m.role if m else None


def organisation_scope(user) -> Q:
    """A filter on Organisation for what ``user`` may see. Nothing for a user without a membership."""
    m = membership_of(user)
    if m is None:
        return Q(pk__in=[])
    if m.role in NATIONWIDE_ROLES:
        return Q()
    if m.role == Role.DISTRICT_AUTHORITY:
        return Q(province=m.province) & (Q(jurisdiction=m.district) | Q(jurisdiction="", region_code=m.district))
    if m.role in LOCAL_AUTHORITY_ROLES:
        return Q(province=m.province)
    return Q(pk=m.organisation_id)


def district_of(org: Organisation) -> str:
    """The district-level jurisdiction that supervises ``org``: its named jurisdiction if it has one (``11ETDA``
    北京经济技术开发区, 京政发〔2024〕6号 Art. 4 "各区人民政府、北京经济技术开发区管委会负责本地区碳排放单位的监督管理"), else the
    GB/T 2260 district of its ``region_code`` ('' if none). Pass it as ``region_code`` to :func:`require_role`."""
    return org.jurisdiction or org.region_code or ""


def within(m: Membership | None, *, province: str, region_code: str | None = None) -> bool:
    """Whether a local authority membership's jurisdiction covers (``province``, ``region_code``).

    Provincial and municipal authorities: the province. A district authority: its district, so it
    needs the entity's ``region_code`` (six digits); without one the answer is no. Other roles: no
    (nationwide roles are answered by the caller)."""
    if m is None or m.role not in LOCAL_AUTHORITY_ROLES or m.province != province:
        return False
    if m.role == Role.DISTRICT_AUTHORITY:
        return bool(m.district) and region_code == m.district
    return True


def can_see(user, org: Organisation) -> bool:
    return Organisation.objects.filter(organisation_scope(user), pk=org.pk).exists()


def require_role(user, *roles: str, province: str | None = None, region_code: str | None = None) -> Membership:
    """Return the user's membership, or raise R0502 if the role is not one of ``roles`` or, for a
    local authority user, (``province``, ``region_code``) is outside its jurisdiction (:func:`within`;
    a district authority is refused when the caller gives no ``region_code``)."""
    m = membership_of(user)
    if m is None or m.role not in roles:
        raise CetsError(DENIED, f"role {m.role if m else 'none'}")
    if province is not None and m.role in LOCAL_AUTHORITY_ROLES and not within(m, province=province, region_code=region_code):
        raise CetsError(DENIED, f"{province}/{region_code or '-'} outside jurisdiction {m.province}/{m.district or '-'}")
    return m


@dataclass(frozen=True)
class Viewer:
    """The reader: their membership (or none), and which dashboard they get."""

    membership: Membership | None

    @property
    def role(self) -> str | None:
        return self.membership.role if self.membership else None

    @property
    def organisation(self) -> Organisation | None:
        return self.membership.organisation if self.membership else None

    @property
    def province(self) -> str:
        return self.membership.province if self.membership else ""

    @property
    def dashboard(self) -> str:
        """``national``, ``provincial``, ``entity``, ``registry``, ``other`` or ``none``."""
        r = self.role
        if r is None:
            return "none"
        if r == Role.NATIONAL_AUTHORITY:
            return "national"
        if r in LOCAL_AUTHORITY_ROLES:
            return "provincial"
        if r == Role.ENTITY:
            return "entity"
        if r == Role.REGISTRY_OPERATOR:
            return "registry"
        return "other"

    @property
    def nationwide(self) -> bool:
        return self.role in NATIONWIDE_ROLES


def viewer_of(user) -> Viewer:
    """The :class:`Viewer` of ``user`` (anonymous or without a membership: ``membership=None``)."""
    m = membership_of(user)
    if m is not None:
        m = Membership.objects.select_related("organisation").get(pk=m.pk)
    return Viewer(membership=m)
