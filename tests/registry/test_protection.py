"""Holder protection (issue 16): the trusted account list with its activation delay, the delayed transfer the
holder can cancel, the registry's release of due ones, refusals R08xx, and the clock — golden cases computed by
hand from the rule pack (national/registry-protection-2021-2026: additions active after 7 days, transfers after 26
hours, both moved into 10:00–16:00 of a working day of the Chinese calendar)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cets.core import calendar
from cets.core.errors import CetsError
from cets.core.workdays import is_working_day
from cets.parties.models import Notification
from cets.registry.audit import audit_verify
from cets.registry.models import AccountKind, DelayedTransfer, Holding, Position, Transfer, TransferKind, TrustedAccount
from cets.registry.protection import SHANGHAI, Window, due_at
from cets.registry.services import (
    Leg,
    activation_at,
    delayed_transfer_cancel,
    delayed_transfers_release_due,
    system_account,
    transfer_due_at,
    transfer_instruct,
    transfer_post,
    trusted_account_add,
    trusted_account_remove,
)
from tests.conftest import SD_1, SD_2, ZJ_1, client_for


def sh(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


W = Window(dt.time(10), dt.time(16))
H26 = dt.timedelta(hours=26)


# ---------------------------------------------------------------- the clock (golden cases, by hand)

@pytest.mark.parametrize("start, due", [
    # Tue 10 Sep 10:00 + 26 h = Wed 11 Sep 12:00, inside the window: as is
    ("2024-09-10T10:00", "2024-09-11T12:00"),
    # Thu 12 Sep 15:00 + 26 h = Fri 13 Sep 17:00, after 16:00; Sat 14 Sep is a working day (Mid-Autumn swap): 10:00
    ("2024-09-12T15:00", "2024-09-14T10:00"),
    # Fri 13 Sep 09:00 + 26 h = Sat 14 Sep 11:00, a working Saturday, inside the window
    ("2024-09-13T09:00", "2024-09-14T11:00"),
    # Sat 14 Sep 11:00 + 26 h = Sun 15 Sep 13:00; 15–17 Sep Mid-Autumn holiday; Wed 18 Sep 10:00
    ("2024-09-14T11:00", "2024-09-18T10:00"),
    # Mon 30 Sep 08:00 + 26 h = Tue 1 Oct 10:00, National Day (1–7 Oct); Tue 8 Oct 10:00
    ("2024-09-30T08:00", "2024-10-08T10:00"),
    # Mon 9 Sep 06:00 + 26 h = Tue 10 Sep 08:00, before the window: 10:00 the same day
    ("2024-09-09T06:00", "2024-09-10T10:00"),
    # Wed 11 Sep 14:00 + 26 h = Thu 12 Sep 16:00: the end is exclusive, Fri 13 Sep 10:00
    ("2024-09-11T14:00", "2024-09-13T10:00"),
])
def test_transfer_delay_golden(db, start, due):
    assert due_at(sh(start), H26, W, is_working_day) == sh(due)
    assert transfer_due_at("national", sh(start)) == (sh(due), "national/registry-protection-2021-2026")


@pytest.mark.parametrize("added, active", [
    # Mon 23 Sep 14:00 + 7 days = Mon 30 Sep 14:00, a working day, inside the window
    ("2024-09-23T14:00", "2024-09-30T14:00"),
    # Tue 24 Sep 17:00 + 7 days = Tue 1 Oct 17:00, National Day; the next working day is Tue 8 Oct: 10:00
    ("2024-09-24T17:00", "2024-10-08T10:00"),
    # Sun 29 Sep 12:00 (a working Sunday) + 7 days = Sun 6 Oct, holiday; Tue 8 Oct 10:00
    ("2024-09-29T12:00", "2024-10-08T10:00"),
])
def test_trusted_activation_golden(db, added, active):
    assert activation_at("national", sh(added)) == (sh(active), "national/registry-protection-2021-2026")


@settings(max_examples=200, deadline=None)
@given(minutes=st.integers(0, (2 * 365 + 300) * 24 * 60))  # 2024 to late 2026: the years chinese_calendar covers
def test_due_is_in_a_window_of_a_working_day_and_never_early(minutes):
    """Property: the due time is never before start + delay, falls on a working day inside 10:00–16:00, and no
    earlier moment in the window qualifies (it is the first)."""
    start = sh("2024-01-01T00:00") + dt.timedelta(minutes=minutes)
    due = due_at(start, H26, W, is_working_day).astimezone(SHANGHAI)
    earliest = start + H26
    assert due >= earliest and is_working_day(due.date()) and dt.time(10) <= due.time() < dt.time(16)
    assert due == earliest or due.time() == dt.time(10)


# ---------------------------------------------------------------- services

def issue(w, code, q, key):
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    transfer_post(key=key, kind=TransferKind.ISSUE, unit_type=w.cea, debit=Leg(total, Position.REGISTRY),
                  credit=Leg(w.accounts[code], Position.REGISTRY), quantity=q)


def held(account, position):
    h = Holding.objects.filter(account=account, position=position).first()
    return h.quantity if h else 0


def code_of(fn):
    with pytest.raises(CetsError) as e:
        fn()
    return e.value.code


T0 = sh("2024-09-10T09:00")  # Tue


def test_trusted_list_refusals_and_activation(world):
    w = world
    a, b = w.accounts[SD_1], w.accounts[SD_2]
    assert code_of(lambda: trusted_account_add(account=a, trusted_number=b.number, actor=w.entity_zj1_user, now=T0)) == "R0502"
    assert code_of(lambda: trusted_account_add(account=a, trusted_number=b.number, actor=w.registry_a, now=T0)) == "R0502"
    assert code_of(lambda: trusted_account_add(account=a, trusted_number="NOPE", actor=w.entity_sd1_user, now=T0)) == "R0101"
    assert code_of(lambda: trusted_account_add(account=a, trusted_number=a.number, actor=w.entity_sd1_user, now=T0)) == "R0803"
    surrender = system_account("national", AccountKind.SURRENDER)
    assert code_of(lambda: trusted_account_add(account=a, trusted_number=surrender.number, actor=w.entity_sd1_user, now=T0)) == "R0803"
    e = trusted_account_add(account=a, trusted_number=b.number, actor=w.entity_sd1_user, now=T0)
    # Tue 10 Sep 09:00 + 7 days = Tue 17 Sep, Mid-Autumn holiday; Wed 18 Sep 10:00
    assert e.active_from == sh("2024-09-18T10:00") and e.pack_id == "national/registry-protection-2021-2026"
    assert code_of(lambda: trusted_account_add(account=a, trusted_number=b.number, actor=w.entity_sd1_user, now=T0)) == "R0802"
    assert Notification.objects.filter(organisation=w.sd1, kind="trusted_account").count() == 1
    assert code_of(lambda: trusted_account_remove(entry_id=e.pk, actor=w.entity_zj1_user)) == "R0806"
    trusted_account_remove(entry_id=e.pk, actor=w.entity_sd1_user, now=T0)
    assert code_of(lambda: trusted_account_remove(entry_id=e.pk, actor=w.entity_sd1_user)) == "R0806"
    # removed: it may be added again (a new waiting period)
    assert trusted_account_add(account=a, trusted_number=b.number, actor=w.entity_sd1_user, now=T0).pk != e.pk


def test_transfer_outside_the_active_list_is_refused_and_changes_nothing(world):
    w = world
    a, b = w.accounts[SD_1], w.accounts[SD_2]
    issue(w, SD_1, 1_000, "p-i1")
    before = (Transfer.objects.count(), held(a, Position.REGISTRY))
    assert code_of(lambda: transfer_instruct(key="x1", from_account=a, to_account=b, unit_type=w.cea, quantity=10, actor=w.entity_sd1_user,
                                             now=T0)) == "R0801"
    trusted_account_add(account=a, trusted_number=b.number, actor=w.entity_sd1_user, now=T0)
    # on the list but not active yet (active Wed 18 Sep 10:00)
    assert code_of(lambda: transfer_instruct(key="x1", from_account=a, to_account=b, unit_type=w.cea, quantity=10, actor=w.entity_sd1_user,
                                             now=sh("2024-09-18T09:59"))) == "R0801"
    assert (Transfer.objects.count(), held(a, Position.REGISTRY)) == before
    assert not DelayedTransfer.objects.exists()
    # another holder's user, or an operator, cannot instruct for this account
    assert code_of(lambda: transfer_instruct(key="x2", from_account=a, to_account=b, unit_type=w.cea, quantity=10, actor=w.entity_zj1_user,
                                             now=sh("2024-09-18T10:00"))) == "R0502"
    assert code_of(lambda: transfer_instruct(key="x3", from_account=a, to_account=b, unit_type=w.cea, quantity=10, actor=w.registry_a,
                                             now=sh("2024-09-18T10:00"))) == "R0502"


def test_delayed_transfer_cancel_and_release(world):
    w = world
    a, b = w.accounts[SD_1], w.accounts[SD_2]
    issue(w, SD_1, 1_000, "p-i2")
    TrustedAccount.objects.create(account=a, trusted=b, added_by=w.entity_sd1_user, added_at=T0 - dt.timedelta(days=30),
                                  active_from=T0 - dt.timedelta(days=20), pack_id="test")
    now = sh("2024-09-12T15:00")  # due Sat 14 Sep 10:00 (golden case above)
    d1 = transfer_instruct(key="dt-1", from_account=a, to_account=b, unit_type=w.cea, quantity=300, actor=w.entity_sd1_user, reference="sale",
                           now=now)
    assert d1.due_at == sh("2024-09-14T10:00") and d1.status == "pending"
    assert (held(a, Position.REGISTRY), held(a, Position.PENDING), held(b, Position.REGISTRY)) == (700, 300, 0)
    # a retry returns the same instruction; other content under the key is R0401
    assert transfer_instruct(key="dt-1", from_account=a, to_account=b, unit_type=w.cea, quantity=300, actor=w.entity_sd1_user, reference="sale",
                             now=now).pk == d1.pk
    assert code_of(lambda: transfer_instruct(key="dt-1", from_account=a, to_account=b, unit_type=w.cea, quantity=301, actor=w.entity_sd1_user,
                                             reference="sale", now=now)) == "R0401"
    # more than the registry position holds: R0302, nothing changes
    assert code_of(lambda: transfer_instruct(key="dt-big", from_account=a, to_account=b, unit_type=w.cea, quantity=701, actor=w.entity_sd1_user,
                                             now=now)) == "R0302"
    d2 = transfer_instruct(key="dt-2", from_account=a, to_account=b, unit_type=w.cea, quantity=200, actor=w.entity_sd1_user, now=now)
    # the holder cancels d2: units back; another holder cannot (R0805); twice is R0804
    assert code_of(lambda: delayed_transfer_cancel(transfer_id=d2.pk, actor=w.entity_zj1_user)) == "R0805"
    delayed_transfer_cancel(transfer_id=d2.pk, actor=w.entity_sd1_user, now=now)
    assert code_of(lambda: delayed_transfer_cancel(transfer_id=d2.pk, actor=w.entity_sd1_user)) == "R0804"
    assert code_of(lambda: delayed_transfer_cancel(transfer_id=999999, actor=w.entity_sd1_user)) == "R0805"
    assert (held(a, Position.REGISTRY), held(a, Position.PENDING)) == (700, 300)
    # the release before the due time does nothing; at it, d1 executes
    assert delayed_transfers_release_due(now=sh("2024-09-14T09:59")) == {"executed": 0, "returned": 0}
    assert code_of(lambda: delayed_transfers_release_due(actor=w.entity_sd1_user, now=now)) == "R0502"
    assert delayed_transfers_release_due(now=sh("2024-09-14T10:00")) == {"executed": 1, "returned": 0}
    d1.refresh_from_db()
    assert d1.status == "executed"
    assert (held(a, Position.REGISTRY), held(a, Position.PENDING), held(b, Position.REGISTRY)) == (700, 0, 300)
    entry = Transfer.objects.get(key="dt-1")
    assert (entry.kind, entry.debit_position, entry.credit_position, entry.quantity) == ("transfer", "pending", "registry", 300)
    assert code_of(lambda: delayed_transfer_cancel(transfer_id=d1.pk, actor=w.entity_sd1_user)) == "R0804"
    assert delayed_transfers_release_due(now=sh("2024-09-20T10:00")) == {"executed": 0, "returned": 0}  # once
    # every state change is a notice to the holder, besides the ledger's notice of each entry
    kinds = list(Notification.objects.filter(organisation=w.sd1, kind="delayed_transfer").order_by("pk").values_list("title_en", flat=True))
    assert kinds == ["Transfer of 300 t CEA-2023 due 2024-09-14 10:00", "Transfer of 200 t CEA-2023 due 2024-09-14 10:00",
                     "Transfer of 200 t CEA-2023 cancelled", "Transfer of 300 t CEA-2023 executed"]
    assert audit_verify().ok


def test_a_due_transfer_the_ledger_refuses_goes_back(world):
    from cets.registry.models import Account, AccountStatus

    w = world
    a, b = w.accounts[SD_1], w.accounts[SD_2]
    issue(w, SD_1, 100, "p-i3")
    TrustedAccount.objects.create(account=a, trusted=b, added_by=w.entity_sd1_user, added_at=T0, active_from=T0, pack_id="test")
    transfer_instruct(key="dt-3", from_account=a, to_account=b, unit_type=w.cea, quantity=40, actor=w.entity_sd1_user, now=T0)
    Account.objects.filter(pk=b.pk).update(status=AccountStatus.CLOSED)
    assert delayed_transfers_release_due(now=sh("2024-09-30T10:00")) == {"executed": 0, "returned": 1}
    assert (held(a, Position.REGISTRY), held(a, Position.PENDING)) == (100, 0)
    assert DelayedTransfer.objects.get(key="dt-3").status == "cancelled"


def test_release_due_from_the_command_line(world, capsys):
    from cets.cli import main

    w = world
    a, b = w.accounts[SD_1], w.accounts[ZJ_1]
    issue(w, SD_1, 100, "p-i4")
    TrustedAccount.objects.create(account=a, trusted=b, added_by=w.entity_sd1_user, added_at=T0, active_from=T0, pack_id="test")
    transfer_instruct(key="dt-cli", from_account=a, to_account=b, unit_type=w.cea, quantity=25, actor=w.entity_sd1_user, now=T0)
    assert main(["registry", "release-due", "--at", "2024-09-11T10:59"]) == 0  # due Wed 11 Sep 11:00
    assert held(b, Position.REGISTRY) == 0
    assert main(["registry", "release-due", "--at", "2024-09-11T11:00"]) == 0
    assert held(b, Position.REGISTRY) == 25
    assert "executed 已执行 1" in capsys.readouterr().out


def test_holder_protection_api(world):
    w = world
    a, b = w.accounts[SD_1], w.accounts[SD_2]
    issue(w, SD_1, 100, "p-i5")
    c = client_for(w.entity_sd1_user, verified=True)
    post = lambda url, body: c.post(url, json.dumps(body), content_type="application/json")  # noqa: E731
    body = {"key": "api-dt", "from_account": a.number, "to_account": b.number, "unit_type": "CEA-2023", "quantity": 10}
    r = post("/api/v1/registry/transfers", body)
    assert (r.status_code, r.json()["code"]) == (422, "R0801")
    r = post("/api/v1/registry/trusted-accounts", {"account": a.number, "trusted_account": b.number})
    assert r.status_code == 200 and r.json()["trusted_account"] == b.number
    entry = r.json()["id"]
    assert [e["id"] for e in c.get("/api/v1/registry/trusted-accounts").json()] == [entry]
    assert client_for(w.entity_zj1_user, verified=True).get("/api/v1/registry/trusted-accounts").json() == []
    TrustedAccount.objects.filter(pk=entry).update(active_from=T0)
    r = post("/api/v1/registry/transfers", body)
    assert r.status_code == 200 and r.json()["status"] == "pending" and r.json()["quantity_t"] == 10
    tid = r.json()["id"]
    assert client_for(w.entity_zj1_user, verified=True).post(f"/api/v1/registry/transfers/{tid}/cancel").json()["code"] == "R0805"
    r = c.post(f"/api/v1/registry/transfers/{tid}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert [x["status"] for x in c.get("/api/v1/registry/transfers").json()] == ["cancelled"]
    assert c.post(f"/api/v1/registry/trusted-accounts/{entry}/remove").status_code == 200
    assert client_for(w.entity_sd1_user).post(f"/api/v1/registry/transfers/{tid}/cancel").json()["code"] == "R0505"  # no second factor


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(st.tuples(st.sampled_from(["instruct", "cancel", "release"]), st.integers(1, 400), st.integers(0, 72)), max_size=12))
def test_units_are_conserved_and_pending_equals_open_instructions(world, ops):
    """Property: whatever the holder instructs, cancels and the registry releases, the sender's pending position
    equals the sum of its pending instructions, registry + pending + what the receiver got is constant, and the
    journal audits."""
    from django.db import transaction

    w = world
    a, b = w.accounts[SD_1], w.accounts[SD_2]
    with transaction.atomic():
        issue(w, SD_1, 1_000, "prop-i")
        TrustedAccount.objects.create(account=a, trusted=b, added_by=w.entity_sd1_user, added_at=T0, active_from=T0, pack_id="test")
        now = T0
        for i, (op, q, hours) in enumerate(ops):
            now += dt.timedelta(hours=hours)
            try:
                if op == "instruct":
                    transfer_instruct(key=f"prop-{i}", from_account=a, to_account=b, unit_type=w.cea, quantity=q, actor=w.entity_sd1_user, now=now)
                elif op == "cancel":
                    pend = DelayedTransfer.objects.filter(status="pending").order_by("pk").first()
                    if pend is not None:
                        delayed_transfer_cancel(transfer_id=pend.pk, actor=w.entity_sd1_user, now=now)
                else:
                    delayed_transfers_release_due(now=now)
            except CetsError as e:
                assert e.code == "R0302"
            open_ = sum(DelayedTransfer.objects.filter(status="pending").values_list("quantity", flat=True))
            assert held(a, Position.PENDING) == open_
            assert held(a, Position.REGISTRY) + held(a, Position.PENDING) + held(b, Position.REGISTRY) == 1_000
        assert audit_verify().ok
        transaction.set_rollback(True)


def test_calendar_wrapper_is_the_one_used(db):
    """The services count working days through the platform's calendar (with its overrides)."""
    from cets.core.models import WorkingDayOverride

    WorkingDayOverride.objects.create(date=dt.date(2024, 9, 11), is_working_day=False)
    assert not calendar.is_working_day(dt.date(2024, 9, 11))
    # Tue 10 Sep 10:00 + 26 h = Wed 11 Sep 12:00, now closed by the override: Thu 12 Sep 10:00
    assert transfer_due_at("national", sh("2024-09-10T10:00"))[0] == sh("2024-09-12T10:00")


def test_a_year_the_calendar_lacks_is_a_refusal_not_a_crash(db):
    # Thu 31 Dec 2026 15:00 + 26 h = Fri 1 Jan 2027 17:00: chinese_calendar has no 2027, no override covers it
    with pytest.raises(CetsError) as e:
        transfer_due_at("national", sh("2026-12-31T15:00"))
    assert e.value.code == "R0807"
