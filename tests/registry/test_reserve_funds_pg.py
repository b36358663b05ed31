"""On PostgreSQL: delivery versus payment of the reserve's sales under concurrency (issue 17). Two second persons approve
two releases at once that the reserve can serve only one of: exactly one executes, with its units and its money; the
other changes nothing (its buyer's amount stays frozen for it, its units stay in the reserve). Eight auctions proposed at
once against one bidder's funds freeze no more than it holds. Afterwards both journals prove their balances."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from cets.core.errors import CetsError
from cets.registry.audit import audit_verify
from cets.registry.models import AccountKind, Holding, Position, Proposal
from cets.registry.services import proposal_approve, reserve_fund_propose, reserve_release_propose, system_account
from cets.trading.funds import funds_deposit, funds_verify
from cets.trading.models import FundAccount
from tests.conftest import SD_1, SD_2

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is tested on PostgreSQL")


def _run(fns) -> list:
    out: list = [None] * len(fns)
    barrier = threading.Barrier(len(fns))

    def go(i, fn):
        try:
            barrier.wait()
            out[i] = fn()
        except CetsError as e:
            out[i] = e.code
        except BaseException as e:  # pragma: no cover - reported by the assertion
            out[i] = repr(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out


def _members(world):
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create

    org = Organisation.objects.get(name="生态环境部")
    return [member_create(username=f"mee-x{i}", organisation=org, role=Role.NATIONAL_AUTHORITY, password="test-password-123") for i in range(2)]


def _fund(a) -> tuple[int, int]:
    f = FundAccount.objects.get(holder=a.holder, market="national")
    return f.available_fen, f.frozen_fen


@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_one_delivery_one_payment(world):
    w = world
    x1, x2 = _members(w)
    proposal_approve(proposal_id=reserve_fund_propose(key="fund", unit_type=w.cea, year=2025, decision_ref="d0", actor=w.mee).pk, approver=x1)
    a1, a2 = w.accounts[SD_1], w.accounts[SD_2]
    for a in (a1, a2):
        funds_deposit(key=f"d-{a.number}", holder=a.holder, amount_fen=2_000_000_000, actor=None)
    # 150,000 t each, the reserve holds 200,000 t: both proposals are valid alone
    p1 = reserve_release_propose(key="s1", unit_type=w.cea, decision_ref="d1", actor=w.mee,
                                 lines=[{"account": a1.number, "quantity": 150_000, "price_fen": 9_000}])
    p2 = reserve_release_propose(key="s2", unit_type=w.cea, decision_ref="d2", actor=w.mee,
                                 lines=[{"account": a2.number, "quantity": 150_000, "price_fen": 9_100}])
    res = _run([lambda: proposal_approve(proposal_id=p1.pk, approver=x1).key, lambda: proposal_approve(proposal_id=p2.pk, approver=x2).key])
    assert sorted(map(str, res)) == sorted(["R0302", "s1" if "s1" in res else "s2"]), res
    won, lost = (a1, a2) if "s1" in res else (a2, a1)
    price_won, price_lost = (9_000, 9_100) if won is a1 else (9_100, 9_000)
    treasury = FundAccount.objects.get(kind="treasury", market="national")
    assert (treasury.available_fen, treasury.frozen_fen) == (150_000 * price_won, 0)
    assert _fund(won) == (2_000_000_000 - 150_000 * price_won, 0)
    assert _fund(lost) == (2_000_000_000 - 150_000 * price_lost, 150_000 * price_lost)  # still held for its proposal
    reserve = system_account("national", AccountKind.NATIONAL_RESERVE)
    assert Holding.objects.get(account=reserve, unit_type=w.cea, position=Position.REGISTRY).quantity == 50_000
    assert not Holding.objects.filter(account=lost, unit_type=w.cea, quantity__gt=0).exists()
    assert Proposal.objects.get(key="s1" if lost is a1 else "s2").status == Proposal.Status.PROPOSED
    assert funds_verify() == [] and audit_verify().ok


@pytest.mark.django_db(transaction=True)
def test_holds_at_once_never_exceed_the_bidders_funds(world):
    w = world
    x1, _ = _members(w)
    proposal_approve(proposal_id=reserve_fund_propose(key="fund", unit_type=w.cea, year=2025, decision_ref="d0", actor=w.mee).pk, approver=x1)
    a1 = w.accounts[SD_1]
    funds_deposit(key="d", holder=a1.holder, amount_fen=3_000_000, actor=None)  # room for 3 lines of 100 t × 10,000 fen

    def propose(i):
        return lambda: reserve_release_propose(key=f"h{i}", unit_type=w.cea, decision_ref=f"d{i}", actor=w.mee,
                                               lines=[{"account": a1.number, "quantity": 100, "price_fen": 10_000}]).key

    res = _run([propose(i) for i in range(8)])
    assert sum(1 for r in res if isinstance(r, str) and r.startswith("h")) == 3 and res.count("T0801") == 5, res
    assert _fund(a1) == (0, 3_000_000)
    assert Proposal.objects.filter(kind="reserve_release").count() == 3
    assert funds_verify() == []
