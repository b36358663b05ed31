"""Template filters of the compliance pages: money in fen shown in yuan."""

from django import template

from cets.core.quantities import fen_to_yuan

register = template.Library()


@register.filter
def yuan(fen) -> str:
    """fen (int) → "4,874,000.00" (yuan with thousands separators); '' for None."""
    if fen is None:
        return ""
    whole, cents = fen_to_yuan(int(fen)).split(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}.{cents}"
