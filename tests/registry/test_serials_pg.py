"""On PostgreSQL: concurrent clients move CCER units among accounts (some overdrawing, some retrying a key); the serial
blocks follow every accepted entry and none of a refused one — afterwards the audit's serial validator and every other
validator pass (blocks cover holdings exactly, no serial in two places)."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection, connections

from cets.core.errors import CetsError
from cets.parties.models import Organisation
from cets.registry.audit import audit_verify
from cets.registry.models import AccountKind, CcerProject, Instrument, Position, TransferKind
from cets.registry.services import Leg, account_open, system_account, system_accounts_ensure, transfer_post, vintage_create

CLIENTS, PER_CLIENT, ACCOUNTS, START = 6, 150, 12, 500

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is tested on PostgreSQL")


@pytest.mark.django_db(transaction=True)
def test_concurrent_ccer_transfers_keep_the_blocks_exact():
    system_accounts_ensure(market="ccer")
    orgs = [Organisation.objects.create(kind=Organisation.Kind.PROJECT_OWNER, name=f"并发业主{i}") for i in range(ACCOUNTS)]
    project = CcerProject.objects.create(code="A210012", name="并发测试项目", owner=orgs[0])
    ut = vintage_create(instrument=Instrument.CCER, vintage="2024", cap_t=ACCOUNTS * START, key="ccer-cap-stress", project=project)
    total = system_account("ccer", AccountKind.NATIONAL_TOTAL)
    accounts = [account_open(holder=o, kind=AccountKind.CCER_HOLDING, market="ccer") for o in orgs]
    for i, acc in enumerate(accounts):
        transfer_post(key=f"seed-{i}", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(total, Position.REGISTRY), credit=Leg(acc, Position.REGISTRY),
                      quantity=START)
    errors: list[BaseException] = []
    refused = [0] * CLIENTS

    def client(n: int) -> None:
        rng = random.Random(n)
        try:
            for k in range(PER_CLIENT):
                a, b = rng.sample(accounts, 2)
                q = rng.randint(1, 120) if rng.random() < 0.9 else START * 20
                key = f"c{n}-{k}" if not (k and rng.random() < 0.05) else f"c{n}-{k - 1}"
                try:
                    transfer_post(key=key, kind=TransferKind.TRANSFER, unit_type=ut, debit=Leg(a, Position.REGISTRY), credit=Leg(b, Position.REGISTRY),
                                  quantity=q)
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
    assert sum(refused) > 0
    report = audit_verify()
    assert report.ok, report.problems[:5]
    assert {r.name.split(" ")[0]: r.ok for r in report.results}["serial"]
