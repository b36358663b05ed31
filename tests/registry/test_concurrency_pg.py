"""On PostgreSQL: 16 concurrent clients make 2,000 random transfers each among 200 accounts, some
deliberately overdrawing and some retrying a key. Afterwards: no lost update, no negative balance,
conservation holds, every accepted idempotency key appears once, and the audit proves the ledger."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection, connections
from django.db.models import Sum

from cets.core.errors import CetsError
from cets.parties.models import Organisation
from cets.registry.audit import audit_verify
from cets.registry.models import AccountKind, Holding, Instrument, Position, Transfer, TransferKind
from cets.registry.services import Leg, account_open, system_account, system_accounts_ensure, transfer_post, vintage_create
from tests.conftest import uscc_for

CLIENTS, PER_CLIENT, ACCOUNTS, START = 16, 2000, 200, 1_000

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is tested on PostgreSQL")


def uscc(i: int) -> str:
    return uscc_for(i, "9137000")


@pytest.mark.django_db(transaction=True)
def test_sixteen_clients_transfer_concurrently():
    system_accounts_ensure(market="national")
    ut = vintage_create(instrument=Instrument.CEA, vintage="2025", cap_t=ACCOUNTS * START, key="cap-stress")
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    accounts = []
    for i in range(ACCOUNTS):
        org = Organisation.objects.create(uscc=uscc(i), name=f"压力测试{i}", kind=Organisation.Kind.ENTITY, province="37")
        acc = account_open(holder=org)
        transfer_post(key=f"seed-{i}", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(total, Position.REGISTRY),
                      credit=Leg(acc, Position.REGISTRY), quantity=START)
        accounts.append(acc)

    accepted: list[list[str]] = [[] for _ in range(CLIENTS)]
    refused: list[int] = [0] * CLIENTS
    errors: list[BaseException] = []

    def client(n: int) -> None:
        rng = random.Random(n)
        try:
            for k in range(PER_CLIENT):
                a, b = rng.sample(accounts, 2)
                q = rng.randint(1, 300) if rng.random() < 0.9 else rng.randint(START * 5, START * 10)  # ~10% overdraw
                key = f"c{n}-{k}"
                if k and rng.random() < 0.05 and accepted[n]:
                    key = accepted[n][-1]  # a retry of the last accepted key: same key, other content → R0401
                try:
                    transfer_post(key=key, kind=TransferKind.TRANSFER, unit_type=ut, debit=Leg(a, Position.REGISTRY),
                                  credit=Leg(b, Position.REGISTRY), quantity=q)
                    if key not in accepted[n][-1:]:
                        accepted[n].append(key)
                except CetsError as e:
                    assert e.code in ("R0302", "R0401"), e
                    refused[n] += 1
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]

    keys = [k for ks in accepted for k in ks]
    assert len(keys) == len(set(keys))
    journal = set(Transfer.objects.filter(kind=TransferKind.TRANSFER).values_list("key", flat=True))
    assert journal == set(keys)  # every accepted key once, nothing else
    assert sum(refused) > 0
    assert len(keys) > CLIENTS * PER_CLIENT // 2
    assert not Holding.objects.filter(quantity__lt=0).exists()
    assert Holding.objects.filter(unit_type=ut).aggregate(q=Sum("quantity"))["q"] == ACCOUNTS * START
    report = audit_verify()
    assert report.ok, report.problems[:5]
