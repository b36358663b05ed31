"""The registry's forms: each operation form carries an idempotency key (generated when the form is shown) and
the fields its service takes; the services check everything again (role, jurisdiction, limits). Quantities (tonnes, int)
stay below the API's :data:`cets.core.schema.MAX_QUANTITY`, so an out-of-range number is a form error, never a 500."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cets.core.schema import MAX_QUANTITY
from cets.parties.widgets import LookupInput

# The search-as-you-type fields (cets.parties.widgets): without JavaScript they are plain text inputs.
_ACCOUNTS, _UNIT_TYPES, _ENTITIES = "registry:lookup_accounts", "registry:lookup_unit_types", "parties:lookup_entities"

POSITION_CHOICES = [("registry", _("registry position")), ("trading", _("trading position"))]


class _Keyed(forms.Form):
    """Every registry form carries an idempotency key, generated when the form is shown, so a double
    submit posts once."""

    key = forms.CharField(widget=forms.HiddenInput, max_length=100)


class TransferForm(_Keyed):
    to_account = forms.CharField(label=_("To account"), max_length=40, widget=LookupInput(_ACCOUNTS))
    unit_type = forms.CharField(label=_("Unit type"), max_length=80, widget=LookupInput(_UNIT_TYPES))
    quantity = forms.IntegerField(label=_("Quantity (t)"), min_value=1, max_value=MAX_QUANTITY - 1)
    reference = forms.CharField(label=_("Reference"), max_length=200, required=False)


class PositionMoveForm(_Keyed):
    unit_type = forms.CharField(label=_("Unit type"), max_length=80, widget=LookupInput(_UNIT_TYPES))
    from_position = forms.ChoiceField(label=_("From"), choices=POSITION_CHOICES)
    to_position = forms.ChoiceField(label=_("To"), choices=POSITION_CHOICES, initial="trading")
    quantity = forms.IntegerField(label=_("Quantity (t)"), min_value=1, max_value=MAX_QUANTITY - 1)


class HeldForm(_Keyed):
    """Voluntary cancellation (holder or operator) and deduction (operator): the units are held at once."""

    account = forms.CharField(label=_("Account"), max_length=40, widget=LookupInput(_ACCOUNTS))
    unit_type = forms.CharField(label=_("Unit type"), max_length=80, widget=LookupInput(_UNIT_TYPES))
    quantity = forms.IntegerField(label=_("Quantity (t)"), min_value=1, max_value=MAX_QUANTITY - 1)
    reason = forms.CharField(label=_("Purpose or decision reference"), max_length=200)


class FreezeForm(_Keyed):
    account = forms.CharField(label=_("Account"), max_length=40, widget=LookupInput(_ACCOUNTS))
    unit_type = forms.CharField(label=_("Unit type"), max_length=80, widget=LookupInput(_UNIT_TYPES))
    quantity = forms.IntegerField(label=_("Quantity (t)"), min_value=1, max_value=MAX_QUANTITY - 1)
    court_ref = forms.CharField(label=_("Court order"), max_length=200)


class ReversalForm(_Keyed):
    transfer_key = forms.CharField(label=_("Transfer key"), max_length=120)
    reason = forms.CharField(label=_("Reason"), max_length=200)


class DecisionForm(forms.Form):
    """A second person's decision on a proposal: approving is signing, with the approver's TOTP code (R1201, R1202)."""

    proposal = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**62)
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")])
    reason = forms.CharField(max_length=200, required=False)
    otp_token = forms.CharField(label=_("Your dynamic code (TOTP)"), max_length=8, required=False,
                                widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))


class VintageForm(_Keyed):
    instrument = forms.ChoiceField(label=_("Instrument"), choices=[("CEA", "CEA"), ("BEA", "BEA")])
    vintage = forms.RegexField(label=_("Vintage"), regex=r"^\d{4}(-\d{4})?$", max_length=9)
    cap_t = forms.IntegerField(label=_("Cap (t)"), min_value=1, max_value=MAX_QUANTITY - 1)


class IssuanceForm(_Keyed):
    account = forms.CharField(label=_("Account"), max_length=40, widget=LookupInput(_ACCOUNTS))
    unit_type = forms.CharField(label=_("Unit type"), max_length=80, widget=LookupInput(_UNIT_TYPES))
    quantity = forms.IntegerField(label=_("Quantity (t, negative = claw-back)"), min_value=1 - MAX_QUANTITY, max_value=MAX_QUANTITY - 1)
    reason = forms.CharField(label=_("Reference"), max_length=200)
    beneficiary = forms.CharField(label=_("Held for (credit code, provincial accounts)"), max_length=18, required=False, widget=LookupInput(_ENTITIES))


class ForcedSurrenderForm(_Keyed):
    entity_uscc = forms.CharField(label=_("Entity credit code"), max_length=18, widget=LookupInput(_ENTITIES))
    year = forms.IntegerField(label=_("Compliance year"), min_value=2019, max_value=2100)
    reason = forms.CharField(label=_("Provincial instruction"), max_length=200)


class HolderChangeForm(_Keyed):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("merger", _("merger")), ("split", _("split"))])
    from_uscc = forms.CharField(label=_("From (credit code)"), max_length=18, widget=LookupInput(_ENTITIES))
    to_uscc = forms.CharField(label=_("To (credit code)"), max_length=18, widget=LookupInput(_ENTITIES))
    reason = forms.CharField(label=_("Decision reference"), max_length=200)
    unit_type = forms.CharField(label=_("Unit type (split only)"), max_length=80, required=False, widget=LookupInput(_UNIT_TYPES))
    quantity = forms.IntegerField(label=_("Quantity (t, split only)"), min_value=1, max_value=MAX_QUANTITY - 1, required=False)


class SurrenderForm(_Keyed):
    year = forms.IntegerField(label=_("Compliance year"), min_value=2019, max_value=2100)
    unit_type = forms.CharField(label=_("Unit type"), max_length=80, widget=LookupInput(_UNIT_TYPES))
    quantity = forms.IntegerField(label=_("Quantity (t)"), min_value=1, max_value=MAX_QUANTITY - 1)


class CarryOverForm(_Keyed):
    unit_type = forms.CharField(label=_("Unit type (2019–2024 vintage)"), max_length=80, widget=LookupInput(_UNIT_TYPES))
    quantity = forms.IntegerField(label=_("Quantity (t)"), min_value=1, max_value=MAX_QUANTITY - 1)


class AccountCloseForm(_Keyed):
    account = forms.CharField(label=_("Account"), max_length=40, widget=LookupInput(_ACCOUNTS))


class ApplicationForm(forms.Form):
    """The fields of an application; which are required for which holder kind is the service's check."""

    holder_kind = forms.ChoiceField(label=_("Applicant"), choices=[("individual", _("Natural person")), ("institution", _("Institution"))])
    name = forms.CharField(label=_("Name"), max_length=200)
    resident_id = forms.CharField(label=_("Resident identity number (natural person)"), max_length=18, required=False)
    uscc = forms.CharField(label=_("Unified social credit code (institution)"), max_length=18, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=200, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    occupation = forms.CharField(label=_("Occupation (natural person)"), max_length=200, required=False)
    funds_source = forms.CharField(label=_("Source of funds (natural person)"), max_length=200, required=False)
    legal_representative = forms.CharField(label=_("Legal representative (institution)"), max_length=200, required=False)
    contact_person = forms.CharField(label=_("Contact person (institution)"), max_length=200, required=False)
    business_scope = forms.CharField(label=_("Business scope (institution)"), max_length=200, required=False)
    bank_account = forms.CharField(label=_("Settlement bank account"), max_length=200, required=False)
    identity_card = forms.FileField(label=_("Identity card (PDF, JPEG or PNG; natural person)"), required=False)
    business_licence = forms.FileField(label=_("Business licence (PDF, JPEG or PNG; institution)"), required=False)
    other = forms.FileField(label=_("Other document (optional)"), required=False)
    username = forms.CharField(label=_("Login name you choose"), max_length=150)
    password = forms.CharField(label=_("Password (at least 12 characters)"), widget=forms.PasswordInput, max_length=128)
    risk_acknowledged = forms.BooleanField(label=_("I have read the risk disclosure of carbon trading"), required=False)
