"""Response headers Django does not set itself: ``Permissions-Policy`` (settings ``PERMISSIONS_POLICY``)."""

from __future__ import annotations

from django.conf import settings


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
