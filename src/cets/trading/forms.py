"""Forms of the exchange's pages. Every form carries an idempotency key generated when the page is
shown (a double submit enters one order). Messages are English msgids translated to Chinese in
``web/locale`` (zh-Hans is the default language). The services check everything again."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cets.core.errors import CetsError

from .prices import cny_to_fen

METHODS = [("listing", _("listing agreement")), ("block", _("block agreement"))]
SIDES = [("B", _("buy")), ("S", _("sell"))]

_QTY_ERRORS = {"required": _("Enter a quantity in whole tonnes."), "invalid": _("Enter a quantity in whole tonnes."),
               "min_value": _("The quantity must be at least 1 t.")}


class _Keyed(forms.Form):
    key = forms.CharField(widget=forms.HiddenInput, max_length=80)


class OrderForm(_Keyed):
    """Place a listing quote or a block order. ``limits`` (the book's ``Limits`` from the trading pack)
    lets the form say at once what the book would refuse for size (T0103 / T0104)."""

    instrument = forms.ChoiceField(label=_("Trading subject"))
    method = forms.ChoiceField(label=_("Trade method"), choices=METHODS, initial="listing")
    side = forms.ChoiceField(label=_("Side"), choices=SIDES, widget=forms.RadioSelect, initial="S")
    price = forms.CharField(label=_("Price (CNY per tonne)"), max_length=16,
                            widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "96.50", "autocomplete": "off"}),
                            error_messages={"required": _("Enter a price in CNY, e.g. 96.50.")})
    quantity_t = forms.IntegerField(label=_("Quantity (t)"), min_value=1, error_messages=_QTY_ERRORS,
                                    widget=forms.NumberInput(attrs={"step": "1", "min": "1"}))
    counterparty = forms.CharField(label=_("Counterparty credit code (directed block order, optional)"), max_length=18, required=False)

    def __init__(self, *args, instruments: list[str], limits=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["instrument"].choices = [(i, i) for i in instruments]
        self.limits = limits

    def clean_price(self) -> int:
        try:
            return cny_to_fen(self.cleaned_data["price"])
        except CetsError:
            raise forms.ValidationError(_("The price must be a positive amount in CNY with at most two decimals (tick 0.01), e.g. 96.50."),
                                        code="T0401") from None

    def clean(self):
        data = super().clean()
        method, qty = data.get("method"), data.get("quantity_t")
        if self.limits is not None and qty is not None:
            if method == "listing" and qty >= self.limits.listing_max_t:
                self.add_error("quantity_t", forms.ValidationError(
                    _("A listing-agreement order must be below %(n)s t; use a block agreement."), code="T0103",
                    params={"n": f"{self.limits.listing_max_t:,}"}))
            if method == "block" and qty < self.limits.block_min_t:
                self.add_error("quantity_t", forms.ValidationError(
                    _("A block-agreement order must be at least %(n)s t."), code="T0104", params={"n": f"{self.limits.block_min_t:,}"}))
        if data.get("counterparty") and method != "block":
            self.add_error("counterparty", forms.ValidationError(_("Only a block order can be directed to a counterparty."), code="directed"))
        return data


class TakeForm(_Keyed):
    quote = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    quantity_t = forms.IntegerField(label=_("Quantity (t)"), min_value=1, error_messages=_QTY_ERRORS,
                                    widget=forms.NumberInput(attrs={"step": "1", "min": "1"}))


class CancelForm(_Keyed):
    order = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class DayOpenForm(forms.Form):
    """Open today's trading day of one instrument; ``prev_close`` (CNY) only for an instrument without a
    previous close on the platform (a new listing's reference price)."""

    instrument = forms.ChoiceField(label=_("Trading subject"))
    prev_close = forms.CharField(label=_("Reference price (CNY per tonne, only for a new instrument)"), max_length=16, required=False,
                                 widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "96.50", "autocomplete": "off"}))

    def __init__(self, *args, instruments: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["instrument"].choices = [(i, i) for i in instruments]

    def clean_prev_close(self) -> int | None:
        raw = self.cleaned_data["prev_close"].strip()
        if not raw:
            return None
        try:
            return cny_to_fen(raw)
        except CetsError:
            raise forms.ValidationError(_("The price must be a positive amount in CNY with at most two decimals (tick 0.01), e.g. 96.50."),
                                        code="T0401") from None


class DayCloseForm(forms.Form):
    instrument = forms.CharField(max_length=40)
    day = forms.DateField(error_messages={"invalid": _("Enter a valid date."), "required": _("Enter a valid date.")})
