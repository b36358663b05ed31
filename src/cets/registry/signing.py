"""Signing a four-eyes proposal (review-then-sign, issue 15): the approver's own TOTP code, per approval, verified
before anything is executed — the same rule for the registry page, the supervision page and the API
(``POST /api/v1/registry/proposals/{id}/approve`` with ``{"otp_token": "123456"}``). RFC 6238 TOTP through django-otp."""

from __future__ import annotations

from cets.core.errors import CetsError, Check
from cets.core.quantities import is_digits

from .checks import R1201, R1202


def signing_refusal(user, token: str | None) -> Check | None:
    """The check refusing ``user``'s signature with ``token`` (its TOTP code, 6–8 ASCII digits), else None: R1202 when
    the user has no confirmed TOTP device, R1201 when the code is missing, malformed or no confirmed device of the user
    accepts it (a code already used is refused: RFC 6238 replay, django-otp's ``last_t``; repeated failures are
    throttled by the device)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    if not devices:
        return R1202
    token = (token or "").strip() if isinstance(token, str) else ""
    if not (is_digits(token) and 6 <= len(token) <= 8):
        return R1201
    return None if any(d.verify_token(token) for d in devices) else R1201


def signing_require(user, token: str | None, what: str = "") -> None:
    """Raise :class:`CetsError` (R1202 no device, R1201 wrong/missing/reused code) unless ``token`` signs for ``user``."""
    check = signing_refusal(user, token)
    if check is not None:
        raise CetsError(check, what)
