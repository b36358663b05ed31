"""Login with a second factor: users who have a confirmed TOTP device (registry operators) must give
the current code; the session is then verified (django-otp) and registry operations are allowed. A wrong
or missing code is recorded as a security event (S0302); the same form guards ``/admin/login/``."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user
from django_otp.forms import OTPAuthenticationFormMixin

from cets.core.checks import S0302, S0303
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
    """``/admin/login/``: staff only (Django's admin form), and the TOTP code for users who have a device. A staff
    user whose role must use a second factor (:data:`cets.parties.access.SECOND_FACTOR_ROLES`) but has no device yet
    is refused (S0303): it enrols at ``/security/second-factor/`` first, as on ``/login/``."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        from cets.parties.access import second_factor_unenrolled

        if second_factor_unenrolled(user):
            event_record(request=self.request, kind=SecurityEvent.Kind.TOTP_FAILED, code=S0303.code, user=user)
            raise forms.ValidationError(str(S0303), code=S0303.code)
