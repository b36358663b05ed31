"""Template filters of the exchange's pages: money in fen shown as CNY, and bilingual names of
statuses, methods, sides and fund entries. A float is refused (no float may touch money)."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

EMPTY = "—"

STATUS = {"received": _("received"), "resting": _("resting"), "filled": _("filled"), "cancelled": _("cancelled"),
          "expired": _("expired"), "rejected": _("rejected"), "done": _("done")}
METHOD = {"listing": _("listing agreement"), "block": _("block agreement"), "auction": _("one-way auction"), "continuous": _("continuous matching")}
SIDE = {"B": _("buy"), "S": _("sell")}
KIND = {"place": _("order"), "take": _("take"), "deposit": _("deposit"), "withdrawal": _("withdrawal"), "freeze": _("freeze"),
        "release": _("release"), "settle": _("settlement"), "fee": _("fee")}


def _int(value) -> int:
    if isinstance(value, float) or isinstance(value, bool):
        raise TypeError("money is an integer number of fen; a float reached a template")
    return int(value)


@register.filter
def cny(fen) -> str:
    """Fen (int) as CNY with thousands separators and two decimals: 384000000 → ``3,840,000.00``."""
    if fen is None or fen == "":
        return EMPTY
    v = _int(fen)
    q, r = divmod(abs(v), 100)
    return f"{'-' if v < 0 else ''}{q:,}.{r:02d}"


@register.filter
def signed_cny(fen) -> str:
    """Like :func:`cny` with an explicit sign; ``—`` for zero."""
    v = _int(fen or 0)
    if v == 0:
        return EMPTY
    return ("+" if v > 0 else "−") + cny(abs(v))


@register.filter
def status_name(code: str) -> str:
    return STATUS.get(code, code)


@register.filter
def method_name(code: str) -> str:
    return METHOD.get(code, code)


@register.filter
def side_name(code: str) -> str:
    return SIDE.get(code, code)


@register.filter
def kind_name(code: str) -> str:
    return KIND.get(code, code)


@register.filter
def market_q(market) -> str:
    """``?market=<id>`` for a market other than the primary one (the exchange's links keep the market), else ''."""
    from django.utils.http import urlencode

    from cets.rules.markets import PRIMARY_MARKET

    return "" if not market or market == PRIMARY_MARKET else "?" + urlencode({"market": market})


@register.simple_tag
def market_input(market) -> str:
    """A hidden ``market`` input for a form of a market other than the primary one ('' otherwise)."""
    from django.utils.html import format_html

    from cets.rules.markets import PRIMARY_MARKET

    return "" if not market or market == PRIMARY_MARKET else format_html('<input type="hidden" name="market" value="{}">', market)


@register.filter
def market_name(market, lang: str = "zh") -> str:
    """A market's name (``rules.markets.Market``) in the page's language."""
    return market.name_en if (lang or "zh").startswith("en") else market.name_zh
