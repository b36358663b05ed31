"""Forms of the MRV pages: types and lengths checked here; the services check role, jurisdiction and
the rules again and refuse with their codes."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ResolveForm(forms.Form):
    """Resolve a blocked (不符合) verification case: how, and a note."""

    resolution = forms.ChoiceField(label=_("Resolution"), choices=[("reverified", _("rectified and re-verified as conforming")),
                                                                     ("determined", _("emissions determined by the authority"))])
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
