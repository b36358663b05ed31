"""Crash test of the group commit (issue 19), on PostgreSQL: commands appended to the log by clients (each append's
commit is the acknowledgement of receipt) are applied by a sequencer process that is killed (SIGKILL)

1. in the middle of a batch — after the batch's registry lines were written set-based, before its fund entries and
   its commit: nothing of the batch remains (no trade, no journal or fund entry, every command still received);
2. right after its first batch committed, before the next: that batch is applied and settled, the rest waits.

Then a sequencer (this process, whose book is stale) drains the log: every acknowledged command is applied once,
each trade settled once (one delivery and one payment per trade), the positions are what the commands make, and
both journals prove (``audit_verify``, ``funds_verify``). A client's retry of an append returns its first command.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import urllib.parse
from pathlib import Path

import pytest
from django.db import connection

from cets.parties.models import Organisation
from cets.registry.audit import audit_verify
from cets.registry.models import AccountKind, Holding, Instrument, Position, Transfer, TransferKind
from cets.registry.services import Leg, account_open, system_account, system_accounts_ensure, transfer_post, vintage_create
from cets.trading import services as ts
from cets.trading.funds import funds_deposit, funds_verify
from cets.trading.models import FundEntry, MarketState, Order, Trade
from tests.conftest import uscc_for, when

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(connection.vendor != "postgresql", reason="the crash test kills a PostgreSQL client")]
ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import os, signal, sys
    import django
    django.setup()
    from cets.trading.services import groupcommit, orders

    mode = sys.argv[1]
    if mode == "during":
        real = groupcommit.transfer_batch_post

        def dying(**kw):
            real(**kw)  # the batch's holds, deliveries and releases are written (not committed) ...
            os.kill(os.getpid(), signal.SIGKILL)  # ... and the sequencer dies before the fund entries and the commit

        groupcommit.transfer_batch_post = dying
    else:
        real = orders._drain_batch

        def once(*a, **kw):
            out = real(*a, **kw)  # the first batch committed
            os.kill(os.getpid(), signal.SIGKILL)
            return out

        orders._drain_batch = once
    orders.sequencer_drain(market="national", batch=4)
    sys.exit(3)  # not reached
""")


def _child(mode: str) -> int:
    sd = connection.settings_dict
    q = urllib.parse.quote
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="cets.settings", CETS_SECRET_KEY="crash-test-not-secret",
               CETS_DATABASE_URL=f"postgresql://{q(sd['USER'] or '', safe='')}:{q(sd['PASSWORD'] or '', safe='')}@{sd['HOST'] or '127.0.0.1'}:"
                                 f"{sd['PORT'] or 5432}/{q(sd['NAME'], safe='')}",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-c", CHILD, mode], env=env, cwd=ROOT, timeout=120).returncode


def _counts() -> tuple:
    return Trade.objects.count(), Transfer.objects.count(), FundEntry.objects.count(), MarketState.objects.get(market="national").applied_seq


@pytest.mark.django_db(transaction=True)
def test_a_killed_sequencer_loses_no_acknowledged_command_and_settles_no_trade_twice():
    system_accounts_ensure(market="national")
    ut = vintage_create(instrument=Instrument.CEA, vintage="2023", cap_t=20_000, key="cap-gc-crash")
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    orgs, accs = [], []
    for i in range(2):
        org = Organisation.objects.create(uscc=uscc_for(820 + i, "9137000"), name=f"批量崩溃{i}", kind=Organisation.Kind.ENTITY, province="37",
                                          region_code="370000")
        acc = account_open(holder=org)
        transfer_post(key=f"gc-seed-{i}", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(total, Position.REGISTRY), credit=Leg(acc, Position.TRADING),
                      quantity=10_000)
        funds_deposit(key=f"gc-dep-{i}", holder=org, amount_fen=50_000_000, actor=None)
        orgs.append(org)
        accs.append(acc)
    seller, buyer = orgs
    at = when("2024-11-04", 10)
    ts.day_open(market="national", instrument="CEA23", day=at.date(), prev_close_fen=9_500)
    # the clients' appends: each commit is an acknowledgement
    quote = ts.order_place_queued(key="gc-quote", participant=seller, instrument="CEA23", method="listing", side="S", price_fen=9_600,
                                  quantity_t=1_000, actor=None, at=at)
    takes = [ts.order_take_queued(key=f"gc-take-{k}", participant=buyer, quote_seq=quote.seq, quantity_t=100 * (k + 1), actor=None, at=at)
             for k in range(4)]
    bid = ts.order_place_queued(key="gc-bid", participant=buyer, instrument="CEA23", method="listing", side="B", price_fen=9_400, quantity_t=50,
                                actor=None, at=at)
    acknowledged = [quote, *takes, bid]
    before = _counts()

    # 1. killed inside the first batch, after its registry lines were written: nothing of the batch remains
    assert _child("during") == -signal.SIGKILL
    assert _counts() == before
    assert set(Order.objects.filter(seq__in=[o.seq for o in acknowledged]).values_list("status", flat=True)) == {Order.Status.RECEIVED}

    # 2. killed right after its first batch (4 commands) committed: that batch is settled, the rest waits
    assert _child("after") == -signal.SIGKILL
    trades, _, _, applied = _counts()
    assert applied == takes[2].seq and trades == 3
    assert Order.objects.get(seq=takes[3].seq).status == Order.Status.RECEIVED

    # a client retries an append: its first command, nothing new
    assert ts.order_take_queued(key="gc-take-3", participant=buyer, quote_seq=quote.seq, quantity_t=400, actor=None, at=at).seq == takes[3].seq

    # 3. this process's sequencer (its book stale) drains the rest: each acknowledged command applied once
    assert ts.sequencer_drain(market="national", batch=4) == 2
    statuses = dict(Order.objects.filter(seq__in=[o.seq for o in acknowledged]).values_list("key", "status"))
    assert statuses == {"gc-quote": "filled", "gc-take-0": "filled", "gc-take-1": "filled", "gc-take-2": "filled", "gc-take-3": "filled",
                        "gc-bid": "resting"}
    assert Trade.objects.count() == 4 and sum(Trade.objects.values_list("quantity_t", flat=True)) == 1_000
    for tr in Trade.objects.all():  # one delivery and one payment per trade
        assert Transfer.objects.filter(key__startswith=f"trade-{tr.seq}-").count() == 1
        assert FundEntry.objects.filter(key=f"trade-{tr.seq}-funds").count() == 1
    held = {(h.account_id, h.position): h.quantity for h in Holding.objects.filter(account__in=accs, unit_type=ut)}
    assert held[(accs[1].pk, Position.TRADING)] == 11_000 and held[(accs[0].pk, Position.TRADING)] == 9_000
    assert held[(accs[0].pk, Position.PENDING)] == 0
    assert audit_verify().ok
    assert funds_verify() == []
