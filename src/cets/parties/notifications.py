"""Notifications to an organisation's users: the facility every context uses to tell a holder (or any
organisation) that something happened — above all every movement of its units (the registry's ledger
write path notifies the debited and credited holders of each journal entry), in the manner of the EU
Registry Regulation ((EU) 2019/1122, Art. 40: the registry informs the account holder of each
transaction it completes) and the UK ETS registry.

Writes (:func:`notify`, :func:`notify_many`, :func:`notification_mark_read`; :func:`email_written` for rows a caller wrote itself) run in the caller's
transaction: the rows commit or roll back with the operation they report. The e-mail goes after the
commit (``transaction.on_commit``) through Django's mail backend (console in development, locmem in
tests, SMTP by setting ``CETS_EMAIL_BACKEND``) to the organisation's active users with an address (or the
one user named), one message per notification; a mail failure is logged and never undoes the operation.
Reads: :func:`notifications_for`, :func:`unread_count`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .access import membership_of, require_role
from .models import Membership, Notification, Role

log = logging.getLogger(__name__)

MAX_TITLE = 200


@dataclass(frozen=True)
class Notice:
    """One notice to write: the organisation's id, kind, titles and bodies (zh, en), link, optional user id."""

    organisation_id: int
    kind: str
    title_zh: str
    title_en: str
    body_zh: str = ""
    body_en: str = ""
    link: str = ""
    user_id: int | None = None


def notify(*, organisation, kind: str, title_zh: str, title_en: str, body_zh: str = "", body_en: str = "", link: str = "",
           user=None) -> Notification:
    """Write one notification to ``organisation`` (all its users, or ``user`` alone) in the caller's
    transaction and e-mail it on commit. Returns the row."""
    return notify_many([Notice(organisation_id=organisation.pk, kind=kind, title_zh=title_zh, title_en=title_en, body_zh=body_zh,
                               body_en=body_en, link=link, user_id=user.pk if user is not None else None)])[0]


def notify_many(notices: Sequence[Notice], *, at=None, people: dict[int, list[tuple[int, str]]] | None = None) -> list[Notification]:
    """Write many notifications with one ``bulk_create`` (set-based: a batch of thousands of entries is one
    statement per 1,000 rows, not one per notice) in the caller's transaction; e-mail them on commit.
    ``at``: their time (default now; the ledger passes its entry's ``recorded_at``). ``people``: the recipients
    (organisation id → [(user id, address)], :func:`recipients`) when the caller read them in its transaction — then
    nothing more is read, and nothing is done after the commit when none of the organisations has one."""
    if not notices:
        return []
    now = at or timezone.now()
    conn = transaction.get_connection()
    if conn.vendor == "postgresql" and len(notices) >= COPY_FROM:
        rows = _copy(conn, notices, now)
        _mail_after_commit(rows, people)
        return rows
    rows = Notification.objects.bulk_create([
        Notification(organisation_id=n.organisation_id, user_id=n.user_id, kind=n.kind[:32], title_zh=n.title_zh[:MAX_TITLE],
                     title_en=n.title_en[:MAX_TITLE], body_zh=n.body_zh, body_en=n.body_en, link=n.link[:300], created_at=now)
        for n in notices], batch_size=1000)
    if any(r.pk is None for r in rows):  # a backend that does not return ids: find them by time and organisation
        rows = list(Notification.objects.filter(created_at=now, organisation_id__in={n.organisation_id for n in notices}))
    _mail_after_commit(rows, people)
    return rows


def notify_batch(notices: Sequence[Notice], *, people: dict[int, list[tuple[int, str]]], at=None) -> int:
    """A batch's notices (thousands: a national issuance stage writes 5,500) written like :func:`notify_many` — the same
    rows — and e-mailed after the commit to ``people`` (:func:`recipients`, read by the caller in its transaction);
    model instances are built only for the notices to be e-mailed, not for every row (issue 19). Returns how many
    were written."""
    if not notices:
        return 0
    conn = transaction.get_connection()
    if conn.vendor == "postgresql" and len(notices) >= COPY_FROM:
        data = _copy_rows(conn, notices, at or timezone.now())
        email_written(_instances([r for r in data if people.get(r[1])], conn.alias), people)
        return len(data)
    return len(notify_many(notices, at=at, people=people))


def _mail_after_commit(rows: list[Notification], people: dict[int, list[tuple[int, str]]] | None) -> None:
    """E-mail ``rows`` after the commit: to ``people`` if the caller read them (nothing at all when none of the
    organisations has a member with an address), else to the recipients :func:`_email` reads then."""
    if people is not None:
        email_written(rows, people)
    else:
        written = list(rows)
        transaction.on_commit(lambda: _email(written))


def recipients(rows) -> dict[int, list[tuple[int, str]]]:
    """organisation id → [(user id, e-mail address)] of the active members with an address, from ``rows`` of
    (organisation id, user id, address) — what a caller read with :func:`recipients_sql` (or the ORM) in its own
    transaction, for :func:`notify_many` and :func:`email_written`."""
    people: dict[int, list[tuple[int, str]]] = {}
    for org_id, uid, email in rows:
        people.setdefault(org_id, []).append((uid, email))
    return people


def recipients_sql() -> str:
    """The active members with an address of the organisations in an IN list (``{marks}``): (organisation id, user
    id, address), in organisation and user order — what :func:`_email` reads when not given the recipients."""
    from django.contrib.auth import get_user_model

    return (f"SELECT m.organisation_id, m.user_id, u.email FROM {Membership._meta.db_table} m JOIN {get_user_model()._meta.db_table} u "
            "ON u.id = m.user_id WHERE u.is_active AND u.email <> '' AND m.organisation_id IN ({marks}) ORDER BY m.organisation_id, m.user_id")


COPY_FROM = 50  # PostgreSQL: from this many notices on (a batch's), COPY instead of a multi-row INSERT
_COPY_COLS = ("id", "organisation_id", "user_id", "kind", "title_zh", "title_en", "body_zh", "body_en", "link", "created_at")


def _copy(conn, notices: Sequence[Notice], now) -> list[Notification]:
    """PostgreSQL: :func:`_copy_rows`, and the rows written as instances."""
    return _instances(_copy_rows(conn, notices, now), conn.alias)


def _copy_rows(conn, notices: Sequence[Notice], now) -> list[tuple]:
    """PostgreSQL: the notifications with ids taken from their sequence and the rows sent by one ``COPY`` (psycopg's
    ``cursor.copy``); the same rows :meth:`bulk_create` writes. Returns them as tuples in ``_COPY_COLS`` order."""
    table = Notification._meta.db_table
    with conn.connection.cursor() as cur:
        cur.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)", [len(notices)])
        ids = sorted(r[0] for r in cur.fetchall())
        data = [(pk, n.organisation_id, n.user_id, n.kind[:32], n.title_zh[:MAX_TITLE], n.title_en[:MAX_TITLE], n.body_zh, n.body_en, n.link[:300], now)
                for pk, n in zip(ids, notices)]
        with cur.copy(f"COPY {table} ({', '.join(_COPY_COLS)}) FROM STDIN") as copy:
            for r in data:
                copy.write_row(r)
    return data


def _instances(rows: Sequence[tuple], alias: str) -> list[Notification]:
    """The :class:`Notification` instances of rows written by :func:`_copy_rows`, built positionally (Django's fast
    path: 5,500 notices of a batch issuance, 0.07 → 0.04 s a batch)."""
    if [f.attname for f in Notification._meta.concrete_fields] != [*_COPY_COLS, "read_at", "emailed_at"]:
        raise AssertionError("Notification's fields changed: update _COPY_COLS")  # the positional build relies on it
    out = []
    for r in rows:
        o = Notification(*r, None, None)
        o._state.adding, o._state.db = False, alias
        out.append(o)
    return out


def written_notices(ids: Sequence[int], notices: Sequence[Notice], at) -> list[Notification]:
    """The :class:`Notification` rows that a caller wrote itself (ids in the order of ``notices``, time ``at``), as
    :func:`notify_many` would return them: for :func:`email_written` (the registry's one-statement transfer on
    PostgreSQL inserts its notices in that statement)."""
    rows = []
    for pk, n in zip(ids, notices):
        r = Notification(pk=pk, organisation_id=n.organisation_id, user_id=n.user_id, kind=n.kind[:32], title_zh=n.title_zh[:MAX_TITLE],
                         title_en=n.title_en[:MAX_TITLE], body_zh=n.body_zh, body_en=n.body_en, link=n.link[:300], created_at=at)
        r._state.adding = False
        rows.append(r)
    return rows


def email_written(written: list[Notification], people: dict[int, list[tuple[int, str]]]) -> None:
    """E-mail the notifications ``written`` to ``people`` (organisation id → [(user id, address)]: the active members
    with an address, read by the caller in the transaction that wrote the rows) after the commit (at once outside a
    transaction), and stamp ``emailed_at`` on those sent; a mail failure is logged, never raised. Nothing to do and no
    query when no organisation has such a member."""
    if written and any(people.get(n.organisation_id) for n in written):
        transaction.on_commit(lambda: _email(written, people))


def _email(written: list[Notification], people: dict[int, list[tuple[int, str]]] | None = None) -> None:
    """Send the e-mails of the notifications ``written`` (after the commit; the rows as this transaction wrote them,
    not read again: one query fewer on the ledger's hot path) and stamp ``emailed_at`` on those sent. ``people``: the
    recipients if the caller read them already (else one query here)."""
    from django.conf import settings
    from django.core.mail import EmailMessage, get_connection

    ids = [n.pk for n in written]
    try:
        notes = sorted(written, key=lambda n: n.pk)
        if people is None:
            orgs = {n.organisation_id for n in notes}
            people = recipients(Membership.objects.filter(organisation_id__in=orgs, user__is_active=True).exclude(user__email="")
                                .values_list("organisation_id", "user_id", "user__email"))
        messages, sent = [], []
        for n in notes:
            to = [email for uid, email in people.get(n.organisation_id, []) if n.user_id is None or uid == n.user_id]
            if not to:
                continue
            body = f"{n.body_zh}\n\n{n.body_en}\n\n{n.link}".strip()
            messages.append(EmailMessage(subject=f"[cets] {n.title_zh} / {n.title_en}"[:250], body=body, to=to,
                                         from_email=getattr(settings, "DEFAULT_FROM_EMAIL", None)))
            sent.append(n.pk)
        if messages:
            get_connection().send_messages(messages)
            Notification.objects.filter(pk__in=sent).update(emailed_at=timezone.now())
    except Exception:  # noqa: BLE001 - the operation is committed; a mail failure is logged, never raised
        log.exception("notification e-mail not sent for %d notifications", len(ids))


def _mine(user) -> Q:
    m = membership_of(user)
    if m is None:
        return Q(pk__in=[])
    return Q(organisation_id=m.organisation_id) & (Q(user__isnull=True) | Q(user_id=user.pk))


def notifications_for(*, user, unread_only: bool = False, limit: int | None = 100):
    """The notifications of ``user``'s organisation addressed to all its users or to ``user``, newest first
    (nothing for a user without a membership). ``limit`` bounded to 1–500 (a list); ``None`` gives the whole
    queryset (the page paginates it)."""
    qs = Notification.objects.filter(_mine(user))
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs if limit is None else list(qs[: max(1, min(limit, 500))])


def unread_count(*, user) -> int:
    """How many of ``user``'s notifications are unread (0 without a membership)."""
    if membership_of(user) is None:
        return 0
    return Notification.objects.filter(_mine(user), read_at__isnull=True).count()


@transaction.atomic
def notification_mark_read(*, user, ids: Sequence[int] | None = None) -> int:
    """Mark ``user``'s notifications ``ids`` (all unread ones when ``None``) read; ids outside the user's
    notifications are ignored (nothing is revealed). Returns how many were marked. R0502 for a user without
    a role."""
    require_role(user, *Role.values)
    qs = Notification.objects.filter(_mine(user), read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=[i for i in ids if isinstance(i, int) and not isinstance(i, bool)])
    return qs.update(read_at=timezone.now())
