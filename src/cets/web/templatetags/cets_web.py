"""Template filters for exact numbers and bilingual labels.

Tonnes are integers shown with thousands separators (``1,234,567``); a float is refused, since no
float may touch an allowance (DESIGN.md, Stack). Decimals (MWh, GJ, factors) are shown exactly.
"""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cets.compliance.status import LABELS as STATUS_LABELS
from cets.core.labels import choice_label, memo_in_lang
from cets.core.regions import PROVINCES
from cets.parties.models import Role
from cets.rules.markets import PRIMARY_MARKET

register = template.Library()

EMPTY = "—"

ROLE_NAMES = {
    Role.NATIONAL_AUTHORITY: _("national authority"),
    Role.PROVINCIAL_AUTHORITY: _("provincial authority"),
    Role.MUNICIPAL_AUTHORITY: _("municipal authority"),
    Role.DISTRICT_AUTHORITY: _("district authority"),
    Role.ENTITY: _("key emitting entity"),
    Role.VERIFIER: _("verification body"),
    Role.REGISTRY_OPERATOR: _("registry operator"),
    Role.EXCHANGE_OPERATOR: _("exchange operator"),
    Role.TRADER: _("institution / individual"),
    Role.PUBLIC: _("public"),
}


def _zh() -> bool:
    return (get_language() or "zh-hans").lower().startswith("zh")


@register.filter
def tonnes(value) -> str:
    """An integer quantity with thousands separators; ``—`` for None."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, float):
        raise TypeError("tonnes are integers; a float reached a template")
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise TypeError(f"tonnes are integers, got {value}")
        value = int(value)
    return f"{int(value):,}"


@register.filter
def signed_tonnes(value) -> str:
    """Like :func:`tonnes` with an explicit sign (``+1,000`` / ``−1,000``)."""
    if value is None:
        return EMPTY
    s = tonnes(abs(int(value)))
    return ("+" if value > 0 else "−" if value < 0 else "") + s


@register.filter
def dec(value) -> str:
    """An exact decimal with thousands separators and without trailing zeros: ``1,234.5``."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, float):
        raise TypeError("decimals are exact; a float reached a template")
    d = Decimal(value) if not isinstance(value, Decimal) else value
    sign = "-" if d < 0 else ""
    d = abs(d)
    text = format(d, "f")
    whole, _dot, frac = text.partition(".")
    frac = frac.rstrip("0")
    return f"{sign}{int(whole):,}" + (f".{frac}" if frac else "")


@register.filter
def province_name(code: str) -> str:
    """The province of a GB/T 2260 code in the active language; national level for ''."""
    if not code:
        return str(_("national"))
    zh, en = PROVINCES.get(code, (code, code))
    return zh if _zh() else en


@register.filter
def role_name(role: str | None) -> str:
    if not role:
        return str(_("no role"))
    return str(ROLE_NAMES.get(role, role))


@register.filter
def outcome_name(status: str | None) -> str:
    """Compliance status label (按时足额履约 / on time in full, ...) in the active language."""
    if not status:
        return EMPTY
    zh, en = STATUS_LABELS.get(status, (status, status))
    return zh if _zh() else en


@register.simple_tag
def term(zh: str, en: str):
    """A field name of the official notices: the Chinese term on a Chinese page; on an English page the English name
    with the official Chinese term under it (the terms the glossary keeps bilingual by design, issue 15)."""
    if _zh():
        return format_html('<span class="term" lang="zh-Hans">{}</span>', zh)
    return format_html('<span class="term"><span class="term-main">{}</span> <span class="term-zh" lang="zh-Hans">{}</span></span>', en, zh)


@register.filter
def memo(text) -> str:
    """A ledger memo or reference (``"2023 清缴 surrender 9137…"``) with each bilingual term in the page's language."""
    if text is None or text == "":
        return ""
    return memo_in_lang(text)


@register.filter
def in_lang(label) -> str:
    """A ``"中文 english"`` choice label (``get_status_display``) → the half in the page's language."""
    if label is None or label == "":
        return ""
    return choice_label(label)


@register.filter
def localized_note(u) -> str:
    """An unconfirmed rule-pack value's note in the active language."""
    return u.note_zh if _zh() else u.note_en


@register.filter
def pick_lang(pair) -> str:
    """(zh, en) → the one for the active language."""
    if not pair:
        return ""
    zh, en = pair
    return (zh or en) if _zh() else (en or zh)


@register.filter
def sector_name(code: str, market: str = PRIMARY_MARKET) -> str:
    """A sector code's name in the page's language, from the market's sector registry (market.toml)."""
    from cets.rules.markets import sector_name as registry_name
    from cets.rules.packs import PackError

    try:
        return registry_name(market, code, "zh" if _zh() else "en")
    except PackError:
        return code


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    """How many of the signed-in user's notifications are unread (``cets.parties.notifications``), for the navigation."""
    from cets.parties.notifications import unread_count

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return unread_count(user=user)


@register.filter
def notice_title(n) -> str:
    """A notification's title in the page's language (a ledger memo quoted in it too)."""
    return memo_in_lang(n.title_zh if _zh() else n.title_en)


@register.filter
def notice_body(n) -> str:
    """A notification's body in the page's language (a ledger memo quoted in it too)."""
    return memo_in_lang(n.body_zh if _zh() else n.body_en)
