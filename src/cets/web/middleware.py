"""Response headers Django does not set itself (``Permissions-Policy``, settings ``PERMISSIONS_POLICY``), and the hold
on a session that must enrol its second factor first."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from cets.parties.security import ENROL_REQUIRED


class PermissionsPolicyMiddleware:
    """Adds ``Permissions-Policy`` to every response (camera, microphone, geolocation, … all off)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "PERMISSIONS_POLICY", "")

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Permissions-Policy", self.policy)
        return response


class SecondFactorEnrolmentMiddleware:
    """A user of :data:`cets.parties.access.SECOND_FACTOR_ROLES` who signed in at ``/login/`` without a TOTP device
    (the login view marks the session) is sent to ``/security/second-factor/`` from every page until it has enrolled
    one; signing out, the password change, the language switch, static files, the public pages and the API (which refuses on its own,
    L0201/R0505) stay open. After the django-otp and messages middleware."""

    OPEN = ("/security/second-factor/", "/logout/", "/login/", "/password/", "/i18n/", "/api/", "/public/")

    def __init__(self, get_response):
        self.get_response = get_response
        self.open = (*self.OPEN, settings.STATIC_URL if settings.STATIC_URL.startswith("/") else f"/{settings.STATIC_URL}")

    def __call__(self, request):
        from cets.parties.access import second_factor_unenrolled

        session = getattr(request, "session", None)
        if session is not None and session.get(ENROL_REQUIRED) and not request.path.startswith(self.open):
            if second_factor_unenrolled(request.user):
                return redirect(f"{reverse('web:second_factor')}?{urlencode({'next': request.get_full_path()})}")
            session.pop(ENROL_REQUIRED, None)
        return self.get_response(request)


class NulInputMiddleware:
    """Refuses (400, S0502) a page request whose query or form values or names hold a NUL character: PostgreSQL cannot
    store one in text, so it would reach the database as a 500 (SQLite stores it). The API has its own refusal (S0102)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.http import HttpResponseBadRequest

        from cets.core.checks import S0502

        if not request.path.startswith("/api/") and any("\x00" in k or any("\x00" in v for v in vs)
                                                        for q in (request.GET, request.POST) for k, vs in q.lists()):
            zh = getattr(request, "LANGUAGE_CODE", "zh-hans").startswith("zh")
            return HttpResponseBadRequest(f"{S0502.code} {S0502.zh if zh else S0502.en}", content_type="text/plain; charset=utf-8")
        return self.get_response(request)
