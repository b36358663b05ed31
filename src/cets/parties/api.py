"""Notification endpoints (``/api/v1/notifications``): the signed-in user's notifications and marking them read
(:mod:`cets.parties.notifications`). A user sees only its organisation's notifications addressed to all its users
or to itself.

Second factor endpoints (``/api/v1/security/second-factor``): the signed-in user's own TOTP device, enrolled in two
steps in one session (``start`` then ``confirm``), as the page ``/security/second-factor/`` does."""

from __future__ import annotations

import datetime as dt

from django_otp import login as otp_login
from ninja import Field, Router, Schema

from cets.core.schema import Limit, ObjectId

from . import notifications as notes
from .security import ENROL_PENDING, ENROL_REQUIRED
from .selectors import totp_device_active
from .services import totp_device_enrol_confirm, totp_device_enrol_start

router = Router(tags=["notifications"])
security_router = Router(tags=["security"])


class NotificationOut(Schema):
    id: int
    kind: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    link: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class ReadIn(Schema):
    ids: list[ObjectId] | None = Field(None, max_length=1000, description="notification ids; omitted = all unread")


class ReadOut(Schema):
    marked: int
    unread: int


@router.get("", response=list[NotificationOut])
def notifications_list(request, unread: bool = False, limit: Limit = 100):
    """The caller's notifications, newest first (``unread=true``: unread only)."""
    return [NotificationOut(id=n.pk, kind=n.kind, title_zh=n.title_zh, title_en=n.title_en, body_zh=n.body_zh, body_en=n.body_en, link=n.link,
                            created_at=n.created_at, read_at=n.read_at)
            for n in notes.notifications_for(user=request.user, unread_only=unread, limit=limit)]


@router.post("/read", response=ReadOut)
def notifications_read(request, body: ReadIn):
    """Mark the caller's notifications ``ids`` (all unread when omitted) read. R0502 without a role."""
    n = notes.notification_mark_read(user=request.user, ids=body.ids)
    return ReadOut(marked=n, unread=notes.unread_count(user=request.user))


class SecondFactorOut(Schema):
    active: bool = Field(description="the user has a confirmed TOTP device")
    verified: bool = Field(description="this session is verified with it")


class EnrolStartIn(Schema):
    current_code: str = Field("", max_length=6, pattern=r"^(\d{6})?$", description="a current code of the active device (re-enrolment only)")


class EnrolStartOut(Schema):
    secret: str = Field(description="the new device's secret, base32 without padding")
    uri: str = Field(description="otpauth://totp/ URI for an authenticator app")


class EnrolConfirmIn(Schema):
    code: str = Field(..., min_length=6, max_length=6, pattern=r"^\d{6}$", description="a current code of the new device")


def _second_factor_out(request) -> SecondFactorOut:
    return SecondFactorOut(active=totp_device_active(user=request.user) is not None, verified=bool(request.user.is_verified()))


@security_router.get("", response=SecondFactorOut)
def second_factor_state(request):
    """Whether the caller has an active second factor and whether this session is verified with it."""
    return _second_factor_out(request)


@security_router.post("/start", response=EnrolStartOut)
def second_factor_start(request, body: EnrolStartIn):
    """Start enrolling a TOTP device; its secret is answered once and bound to this session. L0502 when a device is
    active and ``current_code`` is not a current code of it (nothing changes)."""
    e = totp_device_enrol_start(user=request.user, current_code=body.current_code, request=request)
    request.session[ENROL_PENDING] = e.device_id
    return EnrolStartOut(secret=e.secret, uri=e.uri)


@security_router.post("/confirm", response=SecondFactorOut)
def second_factor_confirm(request, body: EnrolConfirmIn):
    """Confirm the device started in this session with a current code of it: it becomes the caller's device (an old
    one is removed) and the session is verified. L0503 nothing started in this session, L0501 wrong code."""
    device = totp_device_enrol_confirm(user=request.user, device_id=request.session.get(ENROL_PENDING), code=body.code, request=request)
    otp_login(request, device)
    request.session.pop(ENROL_PENDING, None)
    request.session.pop(ENROL_REQUIRED, None)
    return _second_factor_out(request)
