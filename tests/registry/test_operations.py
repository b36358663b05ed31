"""Registry operations beyond issuance: positions, judicial freeze, cancellation, deduction, reversal,
closure, change of holder, forced surrender. Each refusal carries its code and changes nothing."""

import pytest

from cets.compliance.models import Obligation, SurrenderApplication
from cets.compliance.selectors import status_of
from cets.compliance.services import forced_surrender_order, forced_surrender_propose
from cets.core.errors import CetsError
from cets.registry.audit import audit_verify
from cets.registry.models import Account, AccountKind, AccountStatus, HolderChange, Holding, Instrument, Position, Proposal, Transfer, TransferKind
from cets.registry.selectors import unit_type_totals
from cets.registry.services import (
    IssuanceLine,
    Leg,
    account_close_propose,
    cancellation_propose,
    deduction_propose,
    freeze_release_propose,
    holder_change_propose,
    holder_change_register,
    issuance_propose,
    judicial_freeze,
    judicial_release,
    position_move,
    proposal_approve,
    proposal_reject,
    reversal_propose,
    system_account,
    transfer_post,
    vintage_create,
)
from tests.conftest import SD_1, SD_2, when


def issue(w, code, q, key="i1"):
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    return transfer_post(key=key, kind=TransferKind.ISSUE, unit_type=w.cea, debit=Leg(total, Position.REGISTRY),
                         credit=Leg(w.accounts[code], Position.REGISTRY), quantity=q)


def qty(w, code, position=Position.REGISTRY, ut=None):
    h = Holding.objects.filter(account=w.accounts[code], unit_type=ut or w.cea, position=position).first()
    return h.quantity if h else 0


def test_position_moves_by_the_holder_only(world):
    w = world
    issue(w, SD_1, 100)
    position_move(key="m1", account=w.accounts[SD_1], unit_type=w.cea, from_position="registry", to_position="trading", quantity=60,
                  actor=w.entity_sd1_user)
    assert (qty(w, SD_1), qty(w, SD_1, "trading")) == (40, 60)
    with pytest.raises(CetsError) as e:
        position_move(key="m2", account=w.accounts[SD_1], unit_type=w.cea, from_position="trading", to_position="registry", quantity=1,
                      actor=w.entity_zj1_user)
    assert e.value.code == "R0502"
    with pytest.raises(CetsError) as e:
        position_move(key="m3", account=w.accounts[SD_1], unit_type=w.cea, from_position="pending", to_position="registry", quantity=1,
                      actor=w.entity_sd1_user)
    assert e.value.code == "R0111"


def test_judicial_freeze_and_release(world):
    w = world
    issue(w, SD_1, 100)
    judicial_freeze(key="f1", account=w.accounts[SD_1], unit_type=w.cea, quantity=70, court_ref="(2024)鲁01执1号", actor=w.registry_a)
    assert (qty(w, SD_1), qty(w, SD_1, "frozen")) == (30, 70)
    with pytest.raises(CetsError) as e:  # frozen units cannot be transferred
        transfer_post(key="t1", kind=TransferKind.TRANSFER, unit_type=w.cea, debit=Leg(w.accounts[SD_1], Position.REGISTRY),
                      credit=Leg(w.accounts[SD_2], Position.REGISTRY), quantity=31)
    assert e.value.code == "R0302"
    with pytest.raises(CetsError) as e:
        judicial_freeze(key="f2", account=w.accounts[SD_1], unit_type=w.cea, quantity=1, court_ref="x", actor=w.entity_sd1_user)
    assert e.value.code == "R0502"
    with pytest.raises(CetsError) as e:  # one operator alone cannot release a freeze (four eyes)
        judicial_release(key="r0", account=w.accounts[SD_1], unit_type=w.cea, quantity=70, court_ref="(2024)鲁01执1号", actor=w.registry_a)
    assert e.value.code == "R0506"
    p = freeze_release_propose(key="r1", account=w.accounts[SD_1], unit_type=w.cea, quantity=70, court_ref="(2024)鲁01执1号", actor=w.registry_a)
    assert qty(w, SD_1) == 30  # nothing moves before the second operator approves
    proposal_approve(proposal_id=p.pk, approver=w.registry_b)
    assert qty(w, SD_1) == 100


def test_voluntary_cancellation_holds_then_retires(world):
    w = world
    issue(w, SD_1, 100)
    p = cancellation_propose(key="c1", account=w.accounts[SD_1], unit_type=w.cea, quantity=25, purpose="大型活动碳中和", actor=w.entity_sd1_user)
    assert (qty(w, SD_1), qty(w, SD_1, "pending")) == (75, 25)  # held while waiting
    with pytest.raises(CetsError) as e:
        proposal_approve(proposal_id=p.pk, approver=w.entity_sd1_user)
    assert e.value.code == "R0502"
    proposal_approve(proposal_id=p.pk, approver=w.registry_b)
    assert qty(w, SD_1, "pending") == 0
    row = next(r for r in unit_type_totals() if r["unit_type"] == "CEA-2023")
    assert row["cancelled_t"] == 25
    assert row["issued_t"] == 100
    assert audit_verify().ok


def test_rejected_deduction_releases_the_units(world):
    w = world
    issue(w, SD_1, 100)
    p = deduction_propose(key="d1", account=w.accounts[SD_1], unit_type=w.cea, quantity=40, decision_ref="鲁环罚〔2025〕1号", actor=w.registry_a)
    assert qty(w, SD_1) == 60
    proposal_reject(proposal_id=p.pk, approver=w.registry_b, reason="decision withdrawn")
    assert (qty(w, SD_1), qty(w, SD_1, "pending")) == (100, 0)
    p2 = deduction_propose(key="d2", account=w.accounts[SD_1], unit_type=w.cea, quantity=40, decision_ref="鲁环罚〔2025〕2号", actor=w.registry_a)
    proposal_approve(proposal_id=p2.pk, approver=w.registry_b)
    assert next(r for r in unit_type_totals() if r["unit_type"] == "CEA-2023")["deducted_t"] == 40
    with pytest.raises(CetsError) as e:  # more than held: refused before anything is held
        deduction_propose(key="d3", account=w.accounts[SD_1], unit_type=w.cea, quantity=61, decision_ref="x", actor=w.registry_a)
    assert e.value.code == "R0302"
    assert not Proposal.objects.filter(key="d3").exists()


def test_reversal_is_a_new_linked_entry(world):
    w = world
    issue(w, SD_1, 100)
    t = transfer_post(key="t1", kind=TransferKind.TRANSFER, unit_type=w.cea, debit=Leg(w.accounts[SD_1], Position.REGISTRY),
                      credit=Leg(w.accounts[SD_2], Position.REGISTRY), quantity=30)
    p = reversal_propose(key="rv1", transfer_key="t1", reason="错误划转 wrong account", actor=w.registry_a)
    proposal_approve(proposal_id=p.pk, approver=w.registry_b)
    assert (qty(w, SD_1), qty(w, SD_2)) == (100, 0)
    r = Transfer.objects.get(key="rv1:reversal")
    assert r.related_id == t.pk
    assert r.kind == TransferKind.REVERSAL
    assert Transfer.objects.filter(key="t1", quantity=30).exists()  # the original is untouched
    with pytest.raises(CetsError) as e:
        reversal_propose(key="rv2", transfer_key="t1", reason="again", actor=w.registry_a)
    assert e.value.code == "R0108"
    with pytest.raises(CetsError) as e:
        reversal_propose(key="rv3", transfer_key="rv1:reversal", reason="undo", actor=w.registry_a)
    assert e.value.code == "R0110"
    assert audit_verify().ok


def test_account_closure_only_when_empty(world):
    w = world
    issue(w, SD_1, 10)
    with pytest.raises(CetsError) as e:
        account_close_propose(key="x1", account=w.accounts[SD_1], actor=w.registry_a)
    assert e.value.code == "R0109"
    p = account_close_propose(key="x2", account=w.accounts[SD_2], actor=w.registry_a)
    proposal_approve(proposal_id=p.pk, approver=w.registry_b)
    assert Account.objects.get(pk=w.accounts[SD_2].pk).status == AccountStatus.CLOSED
    with pytest.raises(CetsError) as e:
        transfer_post(key="t9", kind=TransferKind.TRANSFER, unit_type=w.cea, debit=Leg(w.accounts[SD_1], Position.REGISTRY),
                      credit=Leg(Account.objects.get(pk=w.accounts[SD_2].pk), Position.REGISTRY), quantity=1)
    assert e.value.code == "R0102"


def test_merger_moves_everything_once_the_province_approves_in_the_platform(world):
    """Measures Art. 18: the registry proposes the change on the decision; the old holder's provincial authority
    approves it as a user of the platform — not a typed name — and only then do the units move (issue 16)."""
    w = world
    issue(w, SD_2, 500)
    with pytest.raises(CetsError) as e:  # a typed approval is not an approval
        holder_change_register(key="hc0", kind=HolderChange.Kind.MERGER, from_holder=w.sd2, to_holder=w.sd1, lines=[],
                               decision_ref="x", province_approver=w.province_sd, actor=w.registry_a)
    assert e.value.code == "R0506"
    p = holder_change_propose(key="hc1", kind=HolderChange.Kind.MERGER, from_holder=w.sd2, to_holder=w.sd1, lines=[],
                              decision_ref="鲁环函〔2025〕9号", actor=w.registry_a)
    assert qty(w, SD_2) == 500  # nothing moves on the proposal
    for who in (w.registry_b, w.province_zj):  # a second operator is not the province; another province is not this one
        with pytest.raises(CetsError) as e:
            proposal_approve(proposal_id=p.pk, approver=who)
        assert e.value.code == "R0502"
    assert qty(w, SD_2) == 500
    proposal_approve(proposal_id=p.pk, approver=w.province_sd)
    hc = HolderChange.objects.get(key="hc1")
    assert qty(w, SD_1) == 500
    assert qty(w, SD_2) == 0
    assert Account.objects.get(pk=w.accounts[SD_2].pk).status == AccountStatus.CLOSED
    assert hc.published_at
    assert hc.approved_by == w.province_sd
    assert hc.lines == [{"unit_type": "CEA-2023", "quantity": 500}]


def test_forced_surrender_order_is_pure():
    assert forced_surrender_order(2023, ["2021", "2022", "2023"], ["2021", "2023", "2022", "2024"]) == ["2023", "2022", "2021"]


def test_forced_surrender_from_the_provincial_account(world):
    w = world
    cea22 = vintage_create(instrument=Instrument.CEA, vintage="2022", cap_t=1_000, key="cap-2022")
    cea24 = vintage_create(instrument=Instrument.CEA, vintage="2024", cap_t=1_000, key="cap-2024")
    prov = system_account("national", AccountKind.PROVINCIAL, "37")
    for ut, q in ((w.cea, 600), (cea22, 300), (cea24, 200)):  # held by the province for SD_1 (an entity at compliance risk)
        p = issuance_propose(key=f"iss-{ut.code}", unit_type=ut, lines=[IssuanceLine(prov.number, q, "held for entity", beneficiary=SD_1)],
                             actor=w.registry_a)
        proposal_approve(proposal_id=p.pk, approver=w.registry_b)
    ob = Obligation.objects.create(entity=w.sd1, year=2023, pack_id="national/power-2023-2024", obligation_t=800, offset_cap_t=40,
                                   deadline=when("2024-12-31").date())
    p = forced_surrender_propose(key="fs1", entity=w.sd1, year=2023, instruction_ref="鲁环函〔2024〕88号", actor=w.registry_a,
                                 effective_at=when("2024-12-30"))
    proposal_approve(proposal_id=p.pk, approver=w.registry_b)
    res = Proposal.objects.get(pk=p.pk).result
    # 2023 vintage first (600), then 2022 (200 of 300); the 2024 vintage may not serve 2023 (plan §五(三)) and is released.
    assert res["surrendered"] == {"CEA-2023": 600, "CEA-2022": 200}
    assert res["released"] == {"CEA-2022": 100, "CEA-2024": 200}
    assert qty(w, SD_1, ut=cea22) == 100
    assert qty(w, SD_1, ut=cea24) == 200
    assert Holding.objects.filter(account=prov, quantity__gt=0).count() == 0
    assert status_of(obligation=ob, today=when("2025-01-05").date()).status == "on_time"
    assert SurrenderApplication.objects.filter(obligation=ob).count() == 2
    assert audit_verify().ok
