"""Notification endpoints (``/api/v1/notifications``): the signed-in user's notifications and marking them read
(:mod:`cets.parties.notifications`). A user sees only its organisation's notifications addressed to all its users
or to itself."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema

from cets.core.schema import Limit, ObjectId

from . import notifications as notes

router = Router(tags=["notifications"])


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
