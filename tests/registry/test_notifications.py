"""Notification of every movement to the holder's users (issue 16, holder protection): each journal entry
posted by the ledger's write path — single or batched — notifies the debited and credited holders in the same
transaction and e-mails their users after the commit; a refusal notifies nobody; the exchange's settlement
names the exchange, never the counterparty; a user reads and marks only its own organisation's notices."""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cets.core.errors import CetsError
from cets.parties.models import Notification
from cets.parties.notifications import notification_mark_read, notifications_for, notify, unread_count
from cets.registry.models import AccountKind, Position, TransferKind
from cets.registry.services import (
    IssuanceLine,
    Leg,
    exchange_deliver,
    holding_transfer,
    issuance_batch_post,
    issuance_lines_post,
    system_account,
    transfer_post,
)
from tests.conftest import SD_1, SD_2, ZJ_1, client_for


def issue(w, code, q, key):
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    return transfer_post(key=key, kind=TransferKind.ISSUE, unit_type=w.cea, debit=Leg(total, Position.REGISTRY),
                         credit=Leg(w.accounts[code], Position.REGISTRY), quantity=q)


def notes(org):
    return list(Notification.objects.filter(organisation=org).order_by("pk"))


def test_a_transfer_notifies_both_holders_and_mails_after_commit(world, django_capture_on_commit_callbacks, mailoutbox):
    w = world
    w.entity_sd1_user.email = "sd1@example.cn"
    w.entity_sd1_user.save()
    issue(w, SD_1, 1_000, "n-i1")
    assert [n.title_en for n in notes(w.sd1)] == ["1,000 t CEA-2023 into your account (issuance)"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        holding_transfer(key="n-t1", from_account=w.accounts[SD_1], to_account=w.accounts[SD_2], unit_type=w.cea, quantity=300,
                         actor=w.entity_sd1_user, reference="sale")
    out, = notes(w.sd1)[1:]
    into, = notes(w.sd2)
    assert out.title_zh == "转出 300 吨 CEA-2023（转移）" and out.title_en == "300 t CEA-2023 out of your account (transfer)"
    assert f"account {w.accounts[SD_2].number}" in out.body_en and "n-t1" in out.body_en and "sale" in out.body_en
    assert into.title_en == "300 t CEA-2023 into your account (transfer)" and w.accounts[SD_1].number in into.body_en
    # nothing was mailed before the commit; the callback mails the holder's users that have an address
    assert mailoutbox == [] and len(callbacks) == 1
    callbacks[0]()
    assert [m.to for m in mailoutbox] == [["sd1@example.cn"]]
    assert "300 t CEA-2023 out of your account" in mailoutbox[0].subject
    out.refresh_from_db()
    into.refresh_from_db()
    assert out.emailed_at is not None and into.emailed_at is None  # SD_2 has no user with an address
    # the national total account (a system account) gets no notice
    assert not Notification.objects.exclude(organisation__in=[w.sd1, w.sd2]).exists()


def test_a_refused_transfer_notifies_nobody(world):
    w = world
    issue(w, SD_1, 100, "n-i2")
    before = Notification.objects.count()
    with pytest.raises(CetsError) as e:
        holding_transfer(key="n-t2", from_account=w.accounts[SD_1], to_account=w.accounts[SD_2], unit_type=w.cea, quantity=101,
                         actor=w.entity_sd1_user, reference="")
    assert e.value.code == "R0302"
    assert Notification.objects.count() == before
    # a retry of a posted entry (same key, same content) notifies nothing again
    holding_transfer(key="n-t3", from_account=w.accounts[SD_1], to_account=w.accounts[SD_2], unit_type=w.cea, quantity=10,
                     actor=w.entity_sd1_user, reference="")
    n = Notification.objects.count()
    holding_transfer(key="n-t3", from_account=w.accounts[SD_1], to_account=w.accounts[SD_2], unit_type=w.cea, quantity=10,
                     actor=w.entity_sd1_user, reference="")
    assert Notification.objects.count() == n


def test_a_move_between_positions_is_one_notice(world):
    w = world
    issue(w, SD_1, 100, "n-i3")
    transfer_post(key="n-pm", kind=TransferKind.POSITION_MOVE, unit_type=w.cea, debit=Leg(w.accounts[SD_1], Position.REGISTRY),
                  credit=Leg(w.accounts[SD_1], Position.TRADING), quantity=40, actor=w.entity_sd1_user)
    last = notes(w.sd1)[-1]
    assert last.title_en == "40 t CEA-2023 moved registry position → trading position (position move)"
    assert len(notes(w.sd1)) == 2


def test_exchange_settlement_names_the_exchange_not_the_counterparty(world):
    w = world
    issue(w, SD_1, 500, "n-i4")
    transfer_post(key="n-hold", kind=TransferKind.POSITION_MOVE, unit_type=w.cea, debit=Leg(w.accounts[SD_1], Position.REGISTRY),
                  credit=Leg(w.accounts[SD_1], Position.PENDING), quantity=200)
    exchange_deliver(key="trade-1-units", seller=w.accounts[SD_1], buyer=w.accounts[ZJ_1], unit_type=w.cea, quantity=200, reference="成交 trade #1")
    sold, bought = notes(w.sd1)[-1], notes(w.zj1)[-1]
    for n, other in ((sold, w.accounts[ZJ_1]), (bought, w.accounts[SD_1])):
        text = " ".join([n.title_zh, n.title_en, n.body_zh, n.body_en])
        assert other.number not in text and other.holder.uscc not in text and other.holder.name not in text
        assert "交易机构" in n.body_zh and "the exchange" in n.body_en
    assert sold.title_en.startswith("200 t CEA-2023 out of") and bought.title_en.startswith("200 t CEA-2023 into")


def _lines(w, n):
    codes = [SD_1, SD_2, ZJ_1]
    return [IssuanceLine(account=w.accounts[codes[i % 3]].number, quantity=10 + i, reference=f"l{i}") for i in range(n)]


def test_batch_issuance_notifies_like_line_by_line_in_a_fixed_number_of_statements(world):
    """The set-based path writes the same notices as the line-by-line path, and its statement count does not grow
    with the lines (one bulk insert of notices, one read of the holders)."""
    w = world
    with transaction.atomic():
        issuance_lines_post(key="p", unit_type=w.cea, lines=_lines(w, 12), actor=w.registry_a, approver=w.registry_b)
        one = sorted(Notification.objects.values_list("organisation_id", "title_en", "body_en"))
        transaction.set_rollback(True)
    with transaction.atomic():
        issuance_batch_post(key="p", unit_type=w.cea, lines=_lines(w, 12), actor=w.registry_a, approver=w.registry_b)
        batch = sorted(Notification.objects.values_list("organisation_id", "title_en", "body_en"))
        transaction.set_rollback(True)
    assert batch == one and len(batch) == 12
    counts = []
    for n in (12, 60):
        with transaction.atomic(), CaptureQueriesContext(connection) as q:
            issuance_batch_post(key=f"q{n}", unit_type=w.cea, lines=_lines(w, n), actor=w.registry_a, approver=w.registry_b)
            assert Notification.objects.filter(body_en__contains=f"entry q{n}:").count() == n
            transaction.set_rollback(True)
        counts.append(sum(1 for x in q.captured_queries if "notification" in x["sql"].lower()))
    # the insert, and the count just above; on PostgreSQL a batch of 50 notices or more is sent by COPY through psycopg
    # (one statement, which Django's query capture does not see)
    assert counts == ([2, 1] if connection.vendor == "postgresql" else [2, 2])


def test_users_read_and_mark_only_their_own_organisations_notices(world):
    w = world
    issue(w, SD_1, 10, "n-i5")
    issue(w, ZJ_1, 10, "n-i6")
    only_me = notify(organisation=w.sd1, kind="test", title_zh="仅本人", title_en="only you", user=w.entity_sd1_user)
    assert unread_count(user=w.entity_sd1_user) == 2 and unread_count(user=w.entity_zj1_user) == 1
    assert only_me in notifications_for(user=w.entity_sd1_user)
    theirs = notes(w.sd1)[0]
    assert notification_mark_read(user=w.entity_zj1_user, ids=[theirs.pk]) == 0  # not theirs: nothing
    assert unread_count(user=w.entity_sd1_user) == 2
    assert notification_mark_read(user=w.entity_sd1_user, ids=[theirs.pk]) == 1
    assert unread_count(user=w.entity_sd1_user) == 1
    assert notifications_for(user=w.registry_a) == [] and unread_count(user=w.registry_a) == 0
    with pytest.raises(CetsError) as e:
        from django.contrib.auth.models import AnonymousUser

        notification_mark_read(user=AnonymousUser())
    assert e.value.code == "R0502"


def test_notifications_api(world):
    w = world
    issue(w, SD_1, 10, "n-i7")
    c = client_for(w.entity_sd1_user)
    got = c.get("/api/v1/notifications?unread=true").json()
    assert [n["title_en"] for n in got] == ["10 t CEA-2023 into your account (issuance)"]
    r = c.post("/api/v1/notifications/read", json.dumps({"ids": [got[0]["id"]]}), content_type="application/json")
    assert r.status_code == 200 and r.json() == {"marked": 1, "unread": 0}
    assert c.post("/api/v1/notifications/read", json.dumps({"ids": ["1"]}), content_type="application/json").status_code == 422
    other = client_for(w.entity_zj1_user)
    assert other.get("/api/v1/notifications").json() == []
