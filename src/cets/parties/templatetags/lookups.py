"""``{% lookup_attrs "registry:lookup_accounts" %}``: the htmx attributes of a search-as-you-type input
(:func:`cets.parties.widgets.lookup_attrs`) for a hand-written ``<input>``."""

from django import template
from django.utils.html import format_html_join

from cets.parties.widgets import lookup_attrs as _attrs

register = template.Library()


@register.simple_tag
def lookup_attrs(url_name: str) -> str:
    return format_html_join(" ", '{}="{}"', _attrs(url_name).items())
