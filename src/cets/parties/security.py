"""Security events (:class:`~cets.parties.models.SecurityEvent`): recorded at the edges (sign-in, the API's
and pages' refusals), read by auditors.

Recorded kinds and their codes: ``login_failed`` (Django's ``user_login_failed`` signal, from ``/login/``
and ``/admin/login/``), ``locked_out`` S0301 (django-axes' ``user_locked_out``), ``totp_failed`` S0302 (a
right password with a wrong or missing TOTP code, or a refused enrolment L0501/L0502), ``totp_enrolled`` (a
second factor enrolled or replaced), ``permission_refused`` R0502 / R0505 (the API's handler
and the registry pages), ``password_changed``. Recording never fails the request it belongs to.
"""

from __future__ import annotations

import logging

from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from cets.core.checks import S0301
from cets.core.errors import CetsError

from .access import require_role
from .checks import DENIED
from .models import Role, SecurityEvent

log = logging.getLogger(__name__)

#: Session keys of the second factor's enrolment: the user signed in without the device its role needs (the web
#: shell holds it on ``/security/second-factor/``), and the id of the device this session started to enrol (only
#: this session may confirm it; the page and the API share it).
ENROL_REQUIRED = "cets_second_factor_enrol"
ENROL_PENDING = "cets_second_factor_pending"


def _ip(request) -> str | None:
    if request is None:
        return None
    return (getattr(request, "META", {}) or {}).get("REMOTE_ADDR") or None


def event_record(*, request=None, kind: str, code: str = "", username: str = "", user=None, detail: str = "") -> SecurityEvent | None:
    """Append one security event. ``user`` defaults to the request's authenticated user; ``username`` to
    that user's name. Returns the row, or None if it could not be written (the failure is logged)."""
    if user is None and request is not None and getattr(getattr(request, "user", None), "is_authenticated", False):
        user = request.user
    if not username and user is not None:
        username = user.get_username()
    try:
        return SecurityEvent.objects.create(kind=kind, code=code[:8], username=(username or "")[:150], user=user, ip=_ip(request),
                                            path=(getattr(request, "path", "") or "")[:300], detail=(detail or "")[:300])
    except Exception:  # noqa: BLE001 - an audit write must not turn a refusal into a 500
        log.exception("security event not recorded: %s %s", kind, code)
        return None


def events_for(*, user, kind: str = "", limit: int | None = 200):
    """The latest security events, newest first, for an auditor or the national authority (else R0502).
    ``kind`` filters one kind; ``limit`` is bounded to 1–1000 (a list); ``None`` gives the whole queryset (pages paginate it)."""
    require_role(user, Role.AUDITOR, Role.NATIONAL_AUTHORITY)
    qs = SecurityEvent.objects.select_related("user").order_by("-at", "-pk")
    if kind:
        qs = qs.filter(kind=kind)
    return qs if limit is None else list(qs[: max(1, min(limit, 1000))])


def refused(request, exc: CetsError) -> None:
    """Record a refusal shown to a user when it is a permission refusal (R0502, R0505)."""
    if exc.code in (DENIED.code, "R0505"):
        event_record(request=request, kind=SecurityEvent.Kind.PERMISSION_REFUSED, code=exc.code, detail=exc.detail)


def run(request, fn, done=None) -> bool:
    """A page's service call: call ``fn()``; a numbered refusal (:class:`CetsError`) is recorded (:func:`refused`) and
    shown with its code in the page's language — nothing changed, the service's transaction rolled back — else
    ``done(result)`` (default "Done: <result>") is shown as a success. True when it went through."""
    from django.contrib import messages
    from django.utils.translation import gettext as _

    from cets.core.labels import say

    try:
        out = fn()
    except CetsError as e:
        refused(request, e)
        messages.error(request, say(request, e))
        return False
    messages.success(request, done(out) if done is not None else _("Done: %(what)s") % {"what": out})
    return True


@receiver(user_login_failed, dispatch_uid="cets-login-failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    event_record(request=request, kind=SecurityEvent.Kind.LOGIN_FAILED, username=str((credentials or {}).get("username", "")))


try:  # django-axes: a lockout is an event of its own (S0301)
    from axes.signals import user_locked_out

    @receiver(user_locked_out, dispatch_uid="cets-locked-out")
    def _locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
        event_record(request=request, kind=SecurityEvent.Kind.LOCKED_OUT, code=S0301.code, username=username or "",
                     detail=f"ip {ip_address}" if ip_address else "")
except ImportError:  # pragma: no cover - axes is a dependency; without it there is no lockout to record
    pass
