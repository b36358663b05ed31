"""The registry ledger: checks, idempotency, four eyes, and the audit that proves it."""

import pytest
from django.db import connection

from cets.core.errors import CetsError
from cets.registry.audit import audit_verify
from cets.registry.models import AccountKind, AccountStatus, Holding, Position, Proposal, Transfer, TransferKind
from cets.registry.services import IssuanceLine, Leg, issuance_propose, proposal_approve, system_account, transfer_post
from tests.conftest import SD_1, SD_2, ZJ_1


def issue(w, code, q, key):
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    return transfer_post(key=key, kind=TransferKind.ISSUE, unit_type=w.cea, debit=Leg(total, Position.REGISTRY),
                         credit=Leg(w.accounts[code], Position.REGISTRY), quantity=q)


def move(w, a, b, q, key, **kw):
    return transfer_post(key=key, kind=TransferKind.TRANSFER, unit_type=w.cea, debit=Leg(w.accounts[a], Position.REGISTRY),
                         credit=Leg(w.accounts[b], Position.REGISTRY), quantity=q, **kw)


def qty(w, code, position=Position.REGISTRY):
    h = Holding.objects.filter(account=w.accounts[code], unit_type=w.cea, position=position).first()
    return h.quantity if h else 0


def test_issue_and_transfer_move_holdings_and_journal(world):
    w = world
    issue(w, SD_1, 1000, "i1")
    move(w, SD_1, SD_2, 400, "t1")
    assert (qty(w, SD_1), qty(w, SD_2)) == (600, 400)
    assert Transfer.objects.count() == 3  # create + issue + transfer
    assert audit_verify().ok


def test_overdraw_is_refused_with_its_code_and_changes_nothing(world):
    w = world
    issue(w, SD_1, 100, "i1")
    n = Transfer.objects.count()
    with pytest.raises(CetsError) as e:
        move(w, SD_1, SD_2, 101, "t1")
    assert e.value.code == "R0302"
    assert "quantity exceeds available balance" in e.value.en
    assert "数量超过可用余额" in e.value.zh
    assert (qty(w, SD_1), qty(w, SD_2), Transfer.objects.count()) == (100, 0, n)


@pytest.mark.parametrize("q", [0, -5, 1.5, True, "10"])
def test_quantity_must_be_a_positive_integer(world, q):
    with pytest.raises(CetsError) as e:
        move(world, SD_1, SD_2, q, "t-bad")
    assert e.value.code == "R0301"


def test_idempotency_key(world):
    w = world
    issue(w, SD_1, 100, "i1")
    a = move(w, SD_1, SD_2, 10, "t1")
    b = move(w, SD_1, SD_2, 10, "t1")  # a retry: same result, once
    assert a.pk == b.pk
    assert qty(w, SD_2) == 10
    with pytest.raises(CetsError) as e:
        move(w, SD_1, SD_2, 11, "t1")
    assert e.value.code == "R0401"
    assert qty(w, SD_2) == 10


def test_frozen_and_closed_and_restricted_accounts(world):
    w = world
    issue(w, SD_1, 100, "i1")
    acc = w.accounts[SD_1]
    for status, code in ((AccountStatus.FROZEN, "R0103"), (AccountStatus.RESTRICTED, "R0104"), (AccountStatus.CLOSED, "R0102")):
        acc.status = status
        acc.save(update_fields=["status"])
        w.accounts[SD_1] = acc
        with pytest.raises(CetsError) as e:
            move(w, SD_1, SD_2, 1, f"t-{status}")
        assert e.value.code == code
    assert qty(w, SD_1) == 100


def test_transfer_kinds_touch_only_their_accounts(world):
    w = world
    issue(w, SD_1, 100, "i1")
    surrender = system_account("national", AccountKind.SURRENDER)
    with pytest.raises(CetsError) as e:  # a plain transfer cannot retire units
        transfer_post(key="x", kind=TransferKind.TRANSFER, unit_type=w.cea, debit=Leg(w.accounts[SD_1], Position.REGISTRY),
                      credit=Leg(surrender, Position.REGISTRY), quantity=1)
    assert e.value.code == "R0106"
    with pytest.raises(CetsError) as e:  # issuance only from the national total account
        transfer_post(key="y", kind=TransferKind.ISSUE, unit_type=w.cea, debit=Leg(w.accounts[SD_2], Position.REGISTRY),
                      credit=Leg(w.accounts[SD_1], Position.REGISTRY), quantity=1)
    assert e.value.code == "R0106"


def test_four_eyes_issuance(world):
    w = world
    lines = [IssuanceLine(w.accounts[SD_1].number, 500), IssuanceLine(w.accounts[ZJ_1].number, 300)]
    p = issuance_propose(key="batch-1", unit_type=w.cea, lines=lines, actor=w.registry_a)
    assert qty(w, SD_1) == 0  # nothing happens on a proposal alone
    with pytest.raises(CetsError) as e:
        proposal_approve(proposal_id=p.pk, approver=w.registry_a)
    assert e.value.code == "R0501"
    with pytest.raises(CetsError) as e:
        proposal_approve(proposal_id=p.pk, approver=w.province_sd)
    assert e.value.code == "R0502"
    proposal_approve(proposal_id=p.pk, approver=w.registry_b)
    assert (qty(w, SD_1), qty(w, ZJ_1)) == (500, 300)
    t = Transfer.objects.get(key="batch-1:0")
    assert (t.actor_id, t.approver_id) == (w.registry_a.pk, w.registry_b.pk)
    with pytest.raises(CetsError) as e:
        proposal_approve(proposal_id=p.pk, approver=w.registry_b)
    assert e.value.code == "R0503"
    # claw-back (多退少补): a negative line
    p2 = issuance_propose(key="batch-2", unit_type=w.cea, lines=[IssuanceLine(w.accounts[SD_1].number, -200)], actor=w.registry_a)
    proposal_approve(proposal_id=p2.pk, approver=w.registry_b)
    assert qty(w, SD_1) == 300
    assert Proposal.objects.get(pk=p2.pk).result == {"issued_t": 0, "clawed_back_t": 200, "lines": 1}
    assert audit_verify().ok


def test_failed_proposal_changes_nothing(world):
    w = world
    lines = [IssuanceLine(w.accounts[SD_1].number, 500), IssuanceLine(w.accounts[ZJ_1].number, -1)]  # ZJ holds nothing
    p = issuance_propose(key="batch-x", unit_type=w.cea, lines=lines, actor=w.registry_a)
    with pytest.raises(CetsError) as e:
        proposal_approve(proposal_id=p.pk, approver=w.registry_b)
    assert e.value.code == "R0302"
    assert qty(w, SD_1) == 0
    assert Proposal.objects.get(pk=p.pk).status == Proposal.Status.PROPOSED


def _sql(statement, params=()):
    with connection.cursor() as c:
        c.execute(statement, params)


def test_audit_names_a_holding_altered_behind_the_ledgers_back(world):
    w = world
    issue(w, SD_1, 100, "i1")
    _sql("update registry_holding set quantity = quantity + 5 where account_id = %s", [w.accounts[SD_1].pk])
    r = audit_verify()
    assert not r.ok
    assert any("stored 105 but journal gives 100" in p for p in r.problems)


def test_audit_names_an_altered_entry(world):
    w = world
    issue(w, SD_1, 100, "i1")
    move(w, SD_1, SD_2, 40, "t1")
    t = Transfer.objects.get(key="t1")
    _sql("update registry_transfer set quantity = 30 where seq = %s", [t.seq])
    r = audit_verify()
    assert any(f"entry #{t.seq} (t1) altered" in p for p in r.problems)


def test_audit_names_a_removed_entry(world):
    w = world
    issue(w, SD_1, 100, "i1")
    move(w, SD_1, SD_2, 40, "t1")
    move(w, SD_1, SD_2, 10, "t2")
    t1 = Transfer.objects.get(key="t1")
    _sql("delete from registry_transfer where seq = %s", [t1.seq])
    r = audit_verify()
    t2 = Transfer.objects.get(key="t2")
    assert any(f"chain broken at #{t2.seq} (t2)" in p for p in r.problems)


def test_audit_names_a_removed_last_entry(world):
    w = world
    issue(w, SD_1, 100, "i1")
    t = move(w, SD_1, SD_2, 40, "t1")
    _sql("update registry_holding set quantity = 100 where account_id = %s", [w.accounts[SD_1].pk])
    _sql("update registry_holding set quantity = 0 where account_id = %s", [w.accounts[SD_2].pk])
    _sql("delete from registry_transfer where seq = %s", [t.seq])
    r = audit_verify()
    assert any("stored chain head differs" in p for p in r.problems)


def test_audit_is_a_list_of_independent_validators(world):
    from cets.registry.audit import VALIDATORS, run_validators

    w = world
    issue(w, SD_1, 100, "i1")
    move(w, SD_1, SD_2, 40, "t1")
    results = run_validators(VALIDATORS)
    assert [r.name.split(" ")[0] for r in results] == ["hash", "holdings", "conservation", "legs", "serial"]
    assert all(r.ok for r in results)
    # A holding changed behind the ledger's back fails the replay and the conservation, not the chains.
    _sql("update registry_holding set quantity = quantity + 5 where account_id = %s", [w.accounts[SD_2].pk])
    by_name = {r.name.split(" ")[0]: r for r in run_validators(VALIDATORS)}
    assert by_name["hash"].ok
    assert by_name["legs"].ok
    assert not by_name["holdings"].ok
    assert not by_name["conservation"].ok


def test_audit_names_an_entry_whose_legs_the_kind_table_forbids(world):
    """An entry relabelled as a surrender into a holder's account breaks its hash and is named by the
    transfer-kind validator (a surrender credits the surrender account only)."""
    from cets.registry.audit import VALIDATORS, run_validators

    w = world
    issue(w, SD_1, 100, "i1")
    t = move(w, SD_1, SD_2, 40, "t1")
    _sql("update registry_transfer set kind = 'surrender' where seq = %s", [t.seq])
    by_name = {r.name.split(" ")[0]: r for r in run_validators(VALIDATORS)}
    assert not by_name["legs"].ok
    assert any(f"entry #{t.seq} (t1): surrender" in p and "not allowed by the transfer-kind table" in p for p in by_name["legs"].problems)
    assert not by_name["hash"].ok
    assert by_name["holdings"].ok
    assert not audit_verify().ok
