"""Login with a second factor: users who have a confirmed TOTP device (registry operators) must give
the current code; the session is then verified (django-otp) and registry operations are allowed. A wrong
or missing code is recorded as a security event (S0302); the same form guards ``/admin/login/``."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user
from django_otp.forms import OTPAuthenticationFormMixin

from cets.core.checks import S0302
from cets.parties.models import SecurityEvent
from cets.parties.security import event_record


class LoginForm(OTPAuthenticationFormMixin, AuthenticationForm):
    otp_device = forms.CharField(required=False, widget=forms.HiddenInput)
    otp_challenge = forms.CharField(required=False, widget=forms.HiddenInput)
    otp_token = forms.CharField(required=False, label=_("Dynamic code (TOTP)"),
                                widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))

    def clean(self):
        self.cleaned_data = super().clean()
        user = self.get_user()
        if user is not None and any(True for _d in devices_for_user(user, confirmed=True)):
            try:
                self.clean_otp(user)
            except forms.ValidationError:
                event_record(request=self.request, kind=SecurityEvent.Kind.TOTP_FAILED, code=S0302.code, user=user)
                raise
        return self.cleaned_data

    def _chosen_device(self, user):
        """The device named in the form, else the user's own confirmed TOTP device (one per operator)."""
        from django_otp.plugins.otp_totp.models import TOTPDevice

        return super()._chosen_device(user) or TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


class AdminLoginForm(LoginForm, AdminAuthenticationForm):
    """``/admin/login/``: staff only (Django's admin form), and the TOTP code for users who have a device."""


POSITION_CHOICES = [("registry", _("registry position")), ("trading", _("trading position"))]


class _Keyed(forms.Form):
    """Every registry form carries an idempotency key, generated when the form is shown, so a double
    submit posts once."""

    key = forms.CharField(widget=forms.HiddenInput, max_length=100)


class TransferForm(_Keyed):
    to_account = forms.CharField(label=_("To account"), max_length=40)
    unit_type = forms.CharField(label=_("Unit type"), max_length=80)
    quantity = forms.IntegerField(label=_("Quantity (t)"), min_value=1)
    reference = forms.CharField(label=_("Reference"), max_length=200, required=False)


class PositionMoveForm(_Keyed):
    unit_type = forms.CharField(label=_("Unit type"), max_length=80)
    from_position = forms.ChoiceField(label=_("From"), choices=POSITION_CHOICES)
    to_position = forms.ChoiceField(label=_("To"), choices=POSITION_CHOICES, initial="trading")
    quantity = forms.IntegerField(label=_("Quantity (t)"), min_value=1)


class HeldForm(_Keyed):
    """Voluntary cancellation (holder or operator) and deduction (operator): the units are held at once."""

    account = forms.CharField(label=_("Account"), max_length=40)
    unit_type = forms.CharField(label=_("Unit type"), max_length=80)
    quantity = forms.IntegerField(label=_("Quantity (t)"), min_value=1)
    reason = forms.CharField(label=_("Purpose or decision reference"), max_length=200)


class FreezeForm(_Keyed):
    account = forms.CharField(label=_("Account"), max_length=40)
    unit_type = forms.CharField(label=_("Unit type"), max_length=80)
    quantity = forms.IntegerField(label=_("Quantity (t)"), min_value=1)
    court_ref = forms.CharField(label=_("Court order"), max_length=200)


class ReversalForm(_Keyed):
    transfer_key = forms.CharField(label=_("Transfer key"), max_length=120)
    reason = forms.CharField(label=_("Reason"), max_length=200)


class DecisionForm(forms.Form):
    proposal = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")])
    reason = forms.CharField(max_length=200, required=False)


class VintageForm(_Keyed):
    instrument = forms.ChoiceField(label=_("Instrument"), choices=[("CEA", "CEA"), ("BEA", "BEA")])
    vintage = forms.RegexField(label=_("Vintage"), regex=r"^\d{4}(-\d{4})?$", max_length=9)
    cap_t = forms.IntegerField(label=_("Cap (t)"), min_value=1)


class IssuanceForm(_Keyed):
    account = forms.CharField(label=_("Account"), max_length=40)
    unit_type = forms.CharField(label=_("Unit type"), max_length=80)
    quantity = forms.IntegerField(label=_("Quantity (t, negative = claw-back)"))
    reason = forms.CharField(label=_("Reference"), max_length=200)
    beneficiary = forms.CharField(label=_("Held for (credit code, provincial accounts)"), max_length=18, required=False)


class ForcedSurrenderForm(_Keyed):
    entity_uscc = forms.CharField(label=_("Entity credit code"), max_length=18)
    year = forms.IntegerField(label=_("Compliance year"), min_value=2019, max_value=2100)
    reason = forms.CharField(label=_("Provincial instruction"), max_length=200)


class HolderChangeForm(_Keyed):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("merger", _("merger")), ("split", _("split"))])
    from_uscc = forms.CharField(label=_("From (credit code)"), max_length=18)
    to_uscc = forms.CharField(label=_("To (credit code)"), max_length=18)
    reason = forms.CharField(label=_("Decision reference"), max_length=200)
    unit_type = forms.CharField(label=_("Unit type (split only)"), max_length=80, required=False)
    quantity = forms.IntegerField(label=_("Quantity (t, split only)"), min_value=1, required=False)


class SurrenderForm(_Keyed):
    year = forms.IntegerField(label=_("Compliance year"), min_value=2019, max_value=2100)
    unit_type = forms.CharField(label=_("Unit type"), max_length=80)
    quantity = forms.IntegerField(label=_("Quantity (t)"), min_value=1)


class CarryOverForm(_Keyed):
    unit_type = forms.CharField(label=_("Unit type (2019–2024 vintage)"), max_length=80)
    quantity = forms.IntegerField(label=_("Quantity (t)"), min_value=1)


class AccountCloseForm(_Keyed):
    account = forms.CharField(label=_("Account"), max_length=40)
