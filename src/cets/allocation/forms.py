"""Forms of the allocation pages: types and ranges checked here (never a 500); the services check role,
jurisdiction and the rules again and refuse with their codes."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cets.core.labels import is_chinese
from cets.rules.markets import load_market, market_ids

STAGES = [("pre", _("pre-allocation")), ("final", _("final allocation"))]


def sector_choices() -> list[tuple[str, str]]:
    """``market:sector`` → "market · sector" in the active language (one language per page, issue 15)."""
    if is_chinese():
        return [(f"{m}:{s.code}", f"{load_market(m).name_zh} · {s.name_zh}") for m in market_ids() for s in load_market(m).sectors]
    return [(f"{m}:{s.code}", f"{load_market(m).name_en} · {s.name_en}") for m in market_ids() for s in load_market(m).sectors]


class SubmissionForm(forms.Form):
    """The province records that it sent its stamped tables of one market, sector, year and stage."""

    scope = forms.ChoiceField(label=_("Market and sector"))
    year = forms.IntegerField(label=_("Year"), min_value=2005, max_value=2100)
    stage = forms.ChoiceField(label=_("Stage"), choices=STAGES)
    sent_on = forms.DateField(label=_("Sent on"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                              error_messages={"invalid": _("Enter a valid date.")})

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = sector_choices()

    def clean_sent_on(self):
        day = self.cleaned_data["sent_on"]
        if day is not None and day > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."), code="future")
        return day


MAX_BASIS_BYTES = 2 * 1024 * 1024


def basis_choices() -> list[tuple[str, str]]:
    from .selectors import basis_scopes

    return [(f"{pack}:{year}", f"{pack} · {year}") for pack, year in basis_scopes()]


class BasisScopeForm(forms.Form):
    """Which pack and year of a market whose allocation takes the bureau's approval basis."""

    scope = forms.ChoiceField(label=_("Allocation pack and year"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = basis_choices()

    def pack_and_year(self) -> tuple[str, int]:
        pack, _sep, year = self.cleaned_data["scope"].rpartition(":")
        return pack, int(year)


class BasisUploadForm(BasisScopeForm):
    """The bureau's approval-basis table (CSV, UTF-8 or GB18030, at most 2 MB)."""

    file = forms.FileField(label=_("Approval basis (CSV)"))

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > MAX_BASIS_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB."), code="too_large")
        return f
