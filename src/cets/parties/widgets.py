"""The search-as-you-type input of account, credit-code and unit-type fields (issue 15, "forms that help").

:class:`LookupInput` is a text input that, with JavaScript, asks its context's lookup endpoint (an htmx GET,
``hx-get``; htmx is vendored under ``web/static/web/vendor/htmx``) for at most 20 matches while the person types and
shows them next to the field — for an exact account number, the holder's name and account kind before anything is
submitted. A suggestion is picked with a click (``web/cets.js`` fills the field). Without JavaScript it is a plain
text input; either way the form and the service validate the value on the server.

A hand-written ``<input>`` gets the same with ``{% load lookups %}<span class="lookup"><input name=… {% lookup_attrs
"registry:lookup_accounts" %}><span class="lookup-result" aria-live="polite"></span></span>``.

The endpoints: ``registry:lookup_accounts``, ``registry:lookup_unit_types`` (:mod:`cets.registry.views.lookups`),
``parties:lookup_entities``, ``parties:lookup_participants`` (:mod:`cets.parties.views`); each scopes what it
returns by the viewer's jurisdiction.
"""

from __future__ import annotations

from django import forms
from django.urls import reverse


def lookup_attrs(url_name: str) -> dict[str, str]:
    """The htmx attributes that wire a text input to the lookup endpoint ``url_name`` (its answer replaces the
    next ``.lookup-result`` element's content)."""
    return {
        "hx-get": reverse(url_name),
        "hx-trigger": "input changed delay:250ms, focus once",
        "hx-target": "next .lookup-result",
        "hx-sync": "this:replace",
        "data-lookup": "1",
        "autocomplete": "off",
        "spellcheck": "false",
    }


class LookupInput(forms.TextInput):
    """``LookupInput("registry:lookup_accounts")``: a text input wired to the named lookup endpoint."""

    template_name = "parties/widgets/lookup.html"

    def __init__(self, url_name: str, attrs: dict | None = None):
        self.url_name = url_name
        super().__init__(attrs=attrs)

    def get_context(self, name, value, attrs):
        ctx = super().get_context(name, value, attrs)
        ctx["widget"]["attrs"].update(lookup_attrs(self.url_name))
        return ctx
