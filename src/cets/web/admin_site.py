"""The admin site with the second factor: ``/admin/login/`` asks for the TOTP code of users who have a
confirmed device (registry operators), and an admin session of such a user must be TOTP-verified
(django-otp) before any admin page opens. Users without a device sign in with their password, as
before. Failed sign-ins and lockouts count as on ``/login/`` (django-axes)."""

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
        return not _needs_otp(request.user) or request.user.is_verified()
