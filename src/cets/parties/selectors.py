"""Parties reads, scoped by the reader's jurisdiction; the `public_*` reads serve the public portal (published information only)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404

from .access import organisation_scope
from .models import EmitterListEntry, EmitterListPublication, GeneratingUnit, Organisation


def entities_visible(*, user, search: str = "", province: str = ""):
    """Key emitting entities ``user`` may see, optionally filtered by name/credit code and province."""
    qs = Organisation.objects.filter(organisation_scope(user), kind=Organisation.Kind.ENTITY)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(uscc__icontains=search.upper()))
    if province:
        qs = qs.filter(province=province)
    return qs.order_by("province", "uscc")


def entity_get(*, user, uscc: str) -> Organisation:
    """The entity with this credit code if ``user`` may see it; Http404 otherwise (existence is not revealed)."""
    org = Organisation.objects.filter(organisation_scope(user), kind=Organisation.Kind.ENTITY, uscc=(uscc or "").upper()).first()
    if org is None:
        raise Http404("no such entity")
    return org


def organisations_lookup(*, user, q: str, kinds: tuple[str, ...], limit: int) -> tuple[list[Organisation], Organisation | None]:
    """Search-as-you-type over the organisations of ``kinds`` that ``user`` may see (:func:`organisation_scope`: a
    provincial official only its province's, a district official its district's, a holder itself): up to ``limit``
    by name or credit code (ordered by credit code), and the one whose credit code is exactly ``q`` (or None)."""
    base = Organisation.objects.filter(organisation_scope(user), kind__in=kinds, uscc__isnull=False)
    code = q.upper()
    rows = list(base.filter(Q(name__icontains=q) | Q(uscc__icontains=code)).order_by("uscc")[:limit + 1])
    return rows, base.filter(uscc=code).first()


def units_of(*, entity: Organisation):
    return GeneratingUnit.objects.filter(entity=entity).order_by("code")


# -- key-emitter lists (名录) -----------------------------------------------------------------------------

def listed_entity_ids(*, market: str, year: int, sector: str, entity_ids=None, province: str | None = None) -> set[int]:
    """Ids of the entities *included* on the ``market`` ``year`` ``sector`` list (optionally among
    ``entity_ids`` and within ``province``)."""
    qs = EmitterListEntry.objects.filter(market=market, year=year, sector=sector, included=True, category=EmitterListEntry.KEY_EMITTER)
    if entity_ids is not None:
        qs = qs.filter(entity_id__in=entity_ids)
    if province is not None:
        qs = qs.filter(province=province)
    return set(qs.values_list("entity_id", flat=True))


def general_reporting_entries(*, market: str, year: int):
    """The included general reporting units (一般报告单位, ``category=general_reporting``) of ``market`` ``year``,
    with their entity."""
    return EmitterListEntry.objects.filter(market=market, year=year, included=True,
                                           category=EmitterListEntry.GENERAL_REPORTING).select_related("entity")


def listed_sector_usccs(*, market: str, year: int, usccs) -> set[tuple[str, str]]:
    """``(sector, uscc)`` pairs of the given credit codes included on any ``market`` ``year`` list."""
    return set(EmitterListEntry.objects.filter(market=market, year=year, included=True, category=EmitterListEntry.KEY_EMITTER, entity__uscc__in=list(usccs))
               .values_list("sector", "entity__uscc"))


def list_rules(market: str, year: int):
    """The key-emitter list rules (:class:`cets.parties.lists.ListRules`) of ``market`` for ``year``
    (the ``emitter_list`` pack); PackError if none covers it."""
    from cets.rules.packs import pack_for

    from .lists import ListRules

    return ListRules.from_pack(pack_for(market, "emitter", year, kind="emitter_list"))


def list_published_sectors(*, market: str, year: int, province: str) -> set[str]:
    """Sectors whose ``market`` ``year`` list ``province`` has published."""
    return set(EmitterListPublication.objects.filter(market=market, year=year, province=province).values_list("sector", flat=True))


def emitter_list_rows(*, user, market: str, year: int, sector: str | None = None, province: str | None = None):
    """The included entities of a list the ``user`` may see (its jurisdiction), as
    :class:`cets.parties.list_files.ListRow` in the published order (province, sector, credit code), key emitters
    and general reporting units alike (``ListRow.category``)."""
    from .list_files import ListRow

    qs = EmitterListEntry.objects.filter(market=market, year=year, included=True,
                                         entity__in=Organisation.objects.filter(organisation_scope(user))).select_related("entity")
    if sector:
        qs = qs.filter(sector=sector)
    if province:
        qs = qs.filter(province=province)
    pubs = {(p.sector, p.province): p for p in EmitterListPublication.objects.filter(market=market, year=year).select_related("published_by")}
    out = []
    for r in qs.order_by("province", "sector", "entity__uscc"):
        p = pubs.get((r.sector, r.province))
        authority = ""
        if p is not None:
            m = getattr(p.published_by, "membership", None)
            authority = m.organisation.name if m else ""
        out.append(ListRow(year=year, province=r.province, city=r.city, sector=r.sector, name=r.entity.name, uscc=r.entity.uscc,
                           authority=authority, published_on=p.published_on if p else None, category=r.category))
    return out


def sector_names_for_list(market: str, rules) -> dict[str, str]:
    """sector code → the Chinese name a list file uses: the list pack's own name, else the market's sector
    registry (``market.toml``), else the code."""
    from cets.rules.markets import load_market
    from cets.rules.packs import PackError

    try:
        registry = {s.code: s.name_zh for s in load_market(market).sectors}
    except PackError:
        registry = {}
    return {s: (rules.sector_names.get(s) or registry.get(s, s)) for s in rules.sectors}


def public_list_entries(*, market: str = "", year: int | None = None, sector: str = "", province: str = "", search: str = ""):
    """Included key-emitter list entries (public information, Regulations Art. 8, Measures Art. 35(二)),
    every jurisdiction, with the entity; ordered by year (newest first), province, sector, credit code. Key emitters only
    (a general reporting unit is not a key emitter)."""
    qs = EmitterListEntry.objects.filter(included=True, category=EmitterListEntry.KEY_EMITTER).select_related("entity")
    if market:
        qs = qs.filter(market=market)
    if year:
        qs = qs.filter(year=year)
    if sector:
        qs = qs.filter(sector=sector)
    if province:
        qs = qs.filter(province=province)
    if search:
        qs = qs.filter(Q(entity__name__icontains=search) | Q(entity__uscc__icontains=search))
    return qs.order_by("-year", "province", "sector", "entity__uscc")


def public_list_publications(*, market: str = "", year: int | None = None):
    """Publications of provinces' lists (market, year, sector, province, date, number of entities)."""
    qs = EmitterListPublication.objects.all()
    if market:
        qs = qs.filter(market=market)
    if year:
        qs = qs.filter(year=year)
    return qs.order_by("-year", "province", "sector")


def public_list_years() -> list[int]:
    """Years of which a list has included entries, newest first."""
    return sorted(set(EmitterListEntry.objects.filter(included=True, category=EmitterListEntry.KEY_EMITTER).values_list("year", flat=True)),
                  reverse=True)


# -- the second factor (TOTP, RFC 6238; django-otp) ---------------------------------------------------------

@dataclass(frozen=True)
class TotpEnrolment:
    """A device being enrolled (unconfirmed): its id, its secret in base32 (no padding) and the ``otpauth://totp/``
    URI an authenticator app reads (issuer ``OTP_TOTP_ISSUER``, label the username; 30 s, 6 digits, SHA-1)."""

    device_id: int
    secret: str
    uri: str


def totp_device_active(*, user):
    """``user``'s confirmed TOTP device (the oldest), or None."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def totp_enrolment(*, user, device_id) -> TotpEnrolment | None:
    """The unconfirmed device ``device_id`` of ``user`` as a :class:`TotpEnrolment`, or None (another user's, confirmed,
    gone, or no id)."""
    import base64

    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not isinstance(device_id, int) or isinstance(device_id, bool) or user is None or not getattr(user, "is_authenticated", False):
        return None
    d = TOTPDevice.objects.filter(user=user, confirmed=False, pk=device_id).first()
    if d is None:
        return None
    return TotpEnrolment(device_id=d.pk, secret=base64.b32encode(d.bin_key).decode("ascii").rstrip("="), uri=d.config_url)
