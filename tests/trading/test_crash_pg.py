"""Crash test of order entry + sequencing, on PostgreSQL: a client process is killed (SIGKILL) in the middle of its
entry's transaction — after the trade, the registry delivery and the fund entries were written, before the commit —
and another is killed right after its entry returned (acknowledged). Then:

- the killed-in-flight take left nothing (no command, no trade, no journal or fund entry, the quote resting, the
  funds and units where they were): nothing was acknowledged, nothing is lost; taken again with the same key it
  fills once;
- the acknowledged take is in the log, applied and settled exactly once; a retry with its key answers the same
  order and settles nothing again; this process's stale book catches up from the log;
- both journals prove their balances (``audit_verify``, ``funds_verify``).
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
from cets.trading.funds import fund_account_of, funds_deposit, funds_verify
from cets.trading.models import FundEntry, Order, Trade
from tests.conftest import uscc_for, when

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(connection.vendor != "postgresql", reason="the crash test kills a PostgreSQL client")]
ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import os, signal, sys
    import django
    django.setup()
    from cets.parties.models import Organisation
    from cets.trading import services as ts
    from cets.trading.services import orders
    from tests.conftest import when

    mode, key, quote, uscc = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if mode == "during":
        real = orders.funds.post_batch

        def dying(entries, **kw):
            real(entries, **kw)  # the trade's payment and fees are written (and the delivery before them) ...
            os.kill(os.getpid(), signal.SIGKILL)  # ... and the process dies before its entry commits

        orders.funds.post_batch = dying
    o = ts.order_take(key=key, participant=Organisation.objects.get(uscc=uscc), quote_seq=quote, quantity_t=200, actor=None,
                      at=when("2024-11-04", 10))
    assert o.status == "filled", o.status
    os.kill(os.getpid(), signal.SIGKILL)  # acknowledged: dies right after
""")


def _child(mode: str, key: str, quote: int, uscc: str) -> int:
    sd = connection.settings_dict
    q = urllib.parse.quote
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="cets.settings", CETS_SECRET_KEY="crash-test-not-secret",
               CETS_DATABASE_URL=f"postgresql://{q(sd['USER'] or '', safe='')}:{q(sd['PASSWORD'] or '', safe='')}@{sd['HOST'] or '127.0.0.1'}:"
                                 f"{sd['PORT'] or 5432}/{q(sd['NAME'], safe='')}",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-c", CHILD, mode, key, str(quote), uscc], env=env, cwd=ROOT, timeout=120).returncode


def _state(buyer, seller) -> tuple:
    acc = {o.pk: o.accounts.get(market="national") for o in (buyer, seller)}
    held = {(a.holder_id, h.position): h.quantity for a in acc.values() for h in Holding.objects.filter(account=a)}
    funds = {o.pk: (fund_account_of(holder=o).available_fen, fund_account_of(holder=o).frozen_fen) for o in (buyer, seller)}
    return held, funds, Trade.objects.count(), Transfer.objects.count(), FundEntry.objects.count()


@pytest.mark.django_db(transaction=True)
def test_a_kill_inside_an_entry_loses_nothing_acknowledged_and_settles_nothing_twice():
    system_accounts_ensure(market="national")
    ut = vintage_create(instrument=Instrument.CEA, vintage="2023", cap_t=20_000, key="cap-crash")
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    orgs = []
    for i in range(2):
        org = Organisation.objects.create(uscc=uscc_for(800 + i, "9137000"), name=f"崩溃测试{i}", kind=Organisation.Kind.ENTITY, province="37",
                                          region_code="370000")
        transfer_post(key=f"seed-{i}", kind=TransferKind.ISSUE, unit_type=ut, debit=Leg(total, Position.REGISTRY),
                      credit=Leg(account_open(holder=org), Position.TRADING), quantity=10_000)
        funds_deposit(key=f"dep-{i}", holder=org, amount_fen=50_000_000, actor=None)
        orgs.append(org)
    seller, buyer = orgs
    ts.day_open(market="national", instrument="CEA23", day=when("2024-11-04", 10).date(), prev_close_fen=9_500)
    quote = ts.order_place(key="quote", participant=seller, instrument="CEA23", method="listing", side="S", price_fen=9_600, quantity_t=1_000,
                           actor=None, at=when("2024-11-04", 10))
    before = _state(buyer, seller)

    # 1. killed inside the entry's transaction, after settlement wrote its rows: nothing of it remains
    assert _child("during", "take-1", quote.seq, buyer.uscc) == -signal.SIGKILL
    assert not Order.objects.filter(key="take-1").exists()
    assert _state(buyer, seller) == before
    quote.refresh_from_db()
    assert (quote.status, quote.remaining_t) == (Order.Status.RESTING, 1_000)
    t1 = ts.order_take(key="take-1", participant=buyer, quote_seq=quote.seq, quantity_t=200, actor=None, at=when("2024-11-04", 10))
    assert t1.status == Order.Status.FILLED and Trade.objects.count() == 1

    # 2. killed right after its acknowledgement: applied and settled once; a retry settles nothing again
    assert _child("after", "take-2", quote.seq, buyer.uscc) == -signal.SIGKILL
    t2 = Order.objects.get(key="take-2")
    assert t2.status == Order.Status.FILLED and Trade.objects.count() == 2
    again = ts.order_take(key="take-2", participant=buyer, quote_seq=quote.seq, quantity_t=200, actor=None, at=when("2024-11-04", 10))
    assert again.seq == t2.seq and Trade.objects.count() == 2
    # this process's book did not see take-2: it catches up from the log before the next command
    t3 = ts.order_take(key="take-3", participant=buyer, quote_seq=quote.seq, quantity_t=600, actor=None, at=when("2024-11-04", 10))
    assert t3.status == Order.Status.FILLED
    quote.refresh_from_db()
    assert (quote.status, quote.remaining_t) == (Order.Status.FILLED, 0)
    held, funds, trades, _, _ = _state(buyer, seller)
    assert trades == 3 and held[(buyer.pk, Position.TRADING)] == 11_000 and held[(seller.pk, Position.PENDING)] == 0
    assert audit_verify().ok
    assert funds_verify() == []
