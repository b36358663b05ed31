"""Forms of the compliance pages: types, lengths and ranges checked here, before a service is called (no
input gives a 500); the services check role, jurisdiction and the rules again and refuse with their codes.
Messages are English msgids translated in ``web/locale``."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

_YUAN = re.compile(r"\d{1,13}(?:\.\d{1,2})?")
_MULTIPLE = re.compile(r"\d{1,2}(?:\.\d{1,2})?")
_DATE = {"invalid": _("Enter a valid date."), "required": _("Enter a valid date.")}


class RectifyForm(forms.Form):
    reference = forms.CharField(label=_("Decision reference"), max_length=120)
    deadline = forms.DateField(label=_("Deadline (if the rule pack has none)"), required=False, error_messages=_DATE,
                               widget=forms.DateInput(attrs={"type": "date"}))


class FineForm(forms.Form):
    reference = forms.CharField(label=_("Decision reference"), max_length=120)
    reason = forms.CharField(label=_("Reason for the multiple or amount"), max_length=500)
    multiple = forms.CharField(label=_("Multiple"), max_length=5, required=False)
    amount_yuan = forms.CharField(label=_("Fine (yuan)"), max_length=20, required=False)

    def clean_multiple(self) -> str | None:
        raw = self.cleaned_data["multiple"].strip()
        if raw and not _MULTIPLE.fullmatch(raw):
            raise forms.ValidationError(_("The multiple is a number with at most two decimals, e.g. 7.5."), code="multiple")
        return raw or None

    def clean_amount_yuan(self) -> int | None:
        raw = self.cleaned_data["amount_yuan"].replace(",", "").strip()
        if not raw:
            return None
        if not _YUAN.fullmatch(raw):
            raise forms.ValidationError(_("The amount is in yuan with at most two decimals, e.g. 25000.00."), code="amount")
        whole, _sep, frac = raw.partition(".")
        return int(whole) * 100 + int(frac.ljust(2, "0"))

