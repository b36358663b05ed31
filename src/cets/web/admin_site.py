"""The admin site with the second factor: ``/admin/login/`` asks for the TOTP code of users who have a
confirmed device (registry operators), and an admin session of such a user must be TOTP-verified
(django-otp) before any admin page opens. Staff whose role must use a second factor
(:data:`cets.parties.access.SECOND_FACTOR_ROLES`) and have no device are held out (S0303) until they enrol; other
staff without a device (a national official) sign in with their password. Failed sign-ins and lockouts count as on ``/login/`` (django-axes)."""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django_otp import devices_for_user

from .forms import AdminLoginForm


def _needs_otp(user) -> bool:
    return any(True for _d in devices_for_user(user, confirmed=True))


class CetsAdminSite(AdminSite):
    login_form = AdminLoginForm
    login_template = "web/admin_login.html"

    def has_permission(self, request) -> bool:
        if not super().has_permission(request):
            return False
        from cets.parties.access import second_factor_unenrolled

        if second_factor_unenrolled(request.user):
            return False
        return not _needs_otp(request.user) or request.user.is_verified()
