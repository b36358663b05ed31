"""On PostgreSQL: the holder cancelling a delayed transfer while the registry releases it. For each of 30
instructions, one thread cancels and another runs the release at the same moment: exactly one of them wins
(executed or cancelled, never both, never neither), the units are either at the receiver or back at the sender,
nothing stays pending, and the audit proves the ledger."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from cets.core.errors import CetsError
from cets.parties.models import Organisation, Role
from cets.parties.services import member_create
from cets.registry.audit import audit_verify
from cets.registry.models import AccountKind, DelayedTransfer, Holding, Instrument, Position, TransferKind, TrustedAccount
from cets.registry.protection import SHANGHAI
from cets.registry.services import (
    Leg,
    account_open,
    delayed_transfer_cancel,
    delayed_transfers_release_due,
    system_account,
    system_accounts_ensure,
    transfer_instruct,
    transfer_post,
    vintage_create,
)
from tests.conftest import uscc_for

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is tested on PostgreSQL")

N = 30
T0 = dt.datetime(2024, 9, 10, 9, 0, tzinfo=SHANGHAI)


@pytest.mark.django_db(transaction=True)
def test_cancel_and_release_race_one_wins():
    system_accounts_ensure(market="national")
    ut = vintage_create(instrument=Instrument.CEA, vintage="2024", cap_t=10_000, key="cap-race")
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    orgs = [Organisation.objects.create(uscc=uscc_for(800 + i), name=f"竞争测试{i}", kind=Organisation.Kind.ENTITY, province="37") for i in range(2)]
    a, b = account_open(holder=orgs[0]), account_open(holder=orgs[1])
    user = member_create(username="race-holder", organisation=orgs[0], role=Role.ENTITY)
    transfer_post(key="race-seed", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(total, Position.REGISTRY), credit=Leg(a, Position.REGISTRY),
                  quantity=10_000)
    TrustedAccount.objects.create(account=a, trusted=b, added_by=user, added_at=T0, active_from=T0, pack_id="test")
    ids = [transfer_instruct(key=f"race-{i}", from_account=a, to_account=b, unit_type=ut, quantity=10 + i, actor=user, now=T0).pk for i in range(N)]
    due = DelayedTransfer.objects.order_by("-due_at").first().due_at
    errors: list[BaseException] = []
    cancelled: list[int] = []

    def cancel(pk: int, go: threading.Barrier) -> None:
        try:
            go.wait()
            delayed_transfer_cancel(transfer_id=pk, actor=user, now=due)
            cancelled.append(pk)
        except CetsError as e:
            if e.code != "R0804":
                errors.append(e)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            connections.close_all()

    def release(go: threading.Barrier) -> None:
        try:
            go.wait()
            delayed_transfers_release_due(now=due)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            connections.close_all()

    for pk in ids:
        go = threading.Barrier(2)
        threads = [threading.Thread(target=cancel, args=(pk, go)), threading.Thread(target=release, args=(go,))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors[:3]
    statuses = dict(DelayedTransfer.objects.values_list("pk", "status"))
    assert all(s in ("executed", "cancelled") for s in statuses.values())
    assert {pk for pk, s in statuses.items() if s == "cancelled"} == set(cancelled)
    sent = sum(10 + i for i, pk in enumerate(ids) if statuses[pk] == "executed")
    got = Holding.objects.filter(account=b, position=Position.REGISTRY).values_list("quantity", flat=True).first() or 0
    pending = Holding.objects.filter(account=a, position=Position.PENDING).values_list("quantity", flat=True).first() or 0
    back = Holding.objects.get(account=a, position=Position.REGISTRY).quantity
    assert (got, pending, back) == (sent, 0, 10_000 - sent)
    assert audit_verify().ok
