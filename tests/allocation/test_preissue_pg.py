"""On PostgreSQL: four bureau sessions (two users) propose the same year's pre-issue at once, each with its own client
key. Exactly one proposal is made; the others are refused with A0301 (the partial unique index on PreIssue (market,
year, entity) for rows not rejected), and nothing of theirs is written."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from cets.allocation.models import PreIssue
from cets.allocation.services import preissue_propose
from cets.core.errors import CetsError
from cets.registry.models import Proposal
from tests.allocation.test_beijing_preissue import PACK, bj  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is tested on PostgreSQL")


@pytest.mark.django_db(transaction=True)
def test_concurrent_preissues_make_one_proposal(world, bj):  # noqa: F811
    x = bj
    barrier = threading.Barrier(4)
    made: list[str] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def client(n: int) -> None:
        try:
            barrier.wait()
            p = preissue_propose(pack_id=PACK, year=2023, unit_type=x.bea, actor=(x.bureau, x.bureau2)[n % 2], client_key=f"c{n}")
            made.append(p.key)
        except CetsError as e:
            refused.append(e.check.code)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert len(made) == 1 and refused == ["A0301"] * 3
    assert list(Proposal.objects.filter(kind="free_allocation").values_list("key", flat=True)) == made
    assert set(PreIssue.objects.values_list("proposal_key", flat=True)) == set(made) and PreIssue.objects.count() == 4
