"""The national reserve (draft Measures Art. 9, 23): funded from the cap by the pack's share, released to buyers and
refilled by buy-back, each decided by the national authority with four eyes (registry/services/reserve.py)."""

from __future__ import annotations

import pytest

from cets.core.errors import CetsError
from cets.registry.audit import audit_verify
from cets.registry.models import AccountKind, Holding, Position, Proposal
from cets.registry.services import (
    proposal_approve,
    proposal_reject,
    reserve_fund_propose,
    reserve_release_propose,
    reserve_withdraw_propose,
    system_account,
)
from tests.conftest import SD_1, SD_2


@pytest.fixture
def mee2(world):
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create

    return member_create(username="mee2", organisation=Organisation.objects.get(name="生态环境部"), role=Role.NATIONAL_AUTHORITY,
                         password="test-password-123")


def fund(account, amount_fen: int) -> None:
    from cets.trading.funds import funds_deposit

    funds_deposit(key=f"dep-{account.number}-{amount_fen}", holder=account.holder, amount_fen=amount_fen, actor=None, market=account.market)


def money(account=None) -> tuple[int, int]:
    """(available, frozen) fen of ``account``'s holder's fund account, or of the market's treasury fund account."""
    from cets.trading.models import FundAccount

    f = (FundAccount.objects.filter(holder=account.holder, market=account.market) if account else
         FundAccount.objects.filter(kind="treasury", market="national")).first()
    return (f.available_fen, f.frozen_fen) if f else (0, 0)


def held(account, ut, position=Position.REGISTRY) -> int:
    h = Holding.objects.filter(account=account, unit_type=ut, position=position).first()
    return h.quantity if h else 0


def test_reserve_is_funded_by_the_packs_share_with_four_eyes(world, mee2):
    """By hand: the CEA-2023 cap is 10,000,000 t; national/stabilisation-2025-2026 reserve.share = 0.02 →
    floor(10,000,000 × 0.02) = 200,000 t from the national total to the national reserve, on the second person's approval."""
    w = world
    reserve = system_account("national", AccountKind.NATIONAL_RESERVE)
    p = reserve_fund_propose(key="fund-2025", unit_type=w.cea, year=2025, decision_ref="环气候〔2025〕1号", actor=w.mee)
    assert p.payload["quantity"] == 200_000 and p.payload["pack"] == "national/stabilisation-2025-2026"
    assert held(reserve, w.cea) == 0  # nothing moves on a proposal
    with pytest.raises(CetsError) as e:
        proposal_approve(proposal_id=p.pk, approver=w.mee)
    assert e.value.code == "R0501"
    with pytest.raises(CetsError) as e:
        proposal_approve(proposal_id=p.pk, approver=w.registry_a)  # the registry does not decide the reserve
    assert e.value.code == "R0502"
    proposal_approve(proposal_id=p.pk, approver=mee2)
    assert held(reserve, w.cea) == 200_000
    assert held(system_account("national", AccountKind.NATIONAL_TOTAL), w.cea) == 10_000_000 - 200_000
    assert audit_verify().ok


def test_only_the_national_authority_proposes_and_a_year_without_a_share_is_refused(world):
    w = world
    for actor in (w.registry_a, w.province_sd, w.entity_sd1_user):
        with pytest.raises(CetsError) as e:
            reserve_fund_propose(key="f", unit_type=w.cea, year=2025, decision_ref="x", actor=actor)
        assert e.value.code == "R0502"
    with pytest.raises(CetsError) as e:
        reserve_fund_propose(key="f", unit_type=w.cea, year=2023, decision_ref="x", actor=w.mee)  # no stabilisation pack for 2023
    assert e.value.code == "R1104"
    assert not Proposal.objects.exists()


def test_release_to_buyers_and_buy_back_move_units_only_on_approval(world, mee2):
    w = world
    reserve = system_account("national", AccountKind.NATIONAL_RESERVE)
    proposal_approve(proposal_id=reserve_fund_propose(key="fund", unit_type=w.cea, year=2025, decision_ref="d0", actor=w.mee).pk, approver=mee2)
    a1, a2 = w.accounts[SD_1], w.accounts[SD_2]
    fund(a1, 300_000_000)
    fund(a2, 200_000_000)
    p = reserve_release_propose(key="sale-1", unit_type=w.cea, decision_ref="d1", actor=w.mee, lines=[
        {"account": a1.number, "quantity": 30_000, "price_fen": 9_500}, {"account": a2.number, "quantity": 20_000, "price_fen": 9_500}])
    assert (held(a1, w.cea), held(reserve, w.cea)) == (0, 200_000)
    # the buyers' amounts are frozen at proposal: 30,000 × 9,500 = 285,000,000 fen; 20,000 × 9,500 = 190,000,000 fen
    assert (money(a1), money(a2), money()) == ((15_000_000, 285_000_000), (10_000_000, 190_000_000), (0, 0))
    p = proposal_approve(proposal_id=p.pk, approver=mee2)
    assert (held(a1, w.cea), held(a2, w.cea), held(reserve, w.cea)) == (30_000, 20_000, 150_000)
    assert p.result["amount_fen"] == 50_000 * 9_500
    # paid to the treasury fund account, whole (no fee)
    assert (money(a1), money(a2), money()) == ((15_000_000, 0), (10_000_000, 0), (475_000_000, 0))
    # buy-back: the seller's units are held at once, moved on approval; a rejected one is released
    b = reserve_withdraw_propose(key="buy-1", unit_type=w.cea, decision_ref="d2", actor=mee2,
                                 lines=[{"account": a1.number, "quantity": 10_000, "price_fen": 8_000}])
    assert (held(a1, w.cea), held(a1, w.cea, Position.PENDING)) == (20_000, 10_000)
    assert money() == (475_000_000 - 80_000_000, 80_000_000)  # 10,000 × 8,000 fen frozen in the treasury
    proposal_approve(proposal_id=b.pk, approver=w.mee)
    assert (held(a1, w.cea, Position.PENDING), held(reserve, w.cea)) == (0, 160_000)
    assert (money(a1), money()) == ((95_000_000, 0), (395_000_000, 0))
    r = reserve_withdraw_propose(key="buy-2", unit_type=w.cea, decision_ref="d3", actor=w.mee,
                                 lines=[{"account": a2.number, "quantity": 5_000, "price_fen": 8_000}])
    assert money() == (355_000_000, 40_000_000)
    proposal_reject(proposal_id=r.pk, approver=mee2, reason="price too high")
    assert (held(a2, w.cea), held(a2, w.cea, Position.PENDING), held(reserve, w.cea)) == (20_000, 0, 160_000)
    assert (money(a2), money()) == ((10_000_000, 0), (395_000_000, 0))
    from cets.trading.funds import funds_verify

    assert funds_verify() == []
    assert audit_verify().ok


@pytest.mark.parametrize(("line", "code"), [
    ({"account": "NOPE", "quantity": 1, "price_fen": 1}, "R0101"),
    ({"account": "CN-NT", "quantity": 1, "price_fen": 1}, "R1103"),
    ({"account": "@sd1", "quantity": 0, "price_fen": 1}, "R0301"),
    ({"account": "@sd1", "quantity": 1, "price_fen": 0}, "R1102"),
    ({"account": "@sd1", "quantity": 1, "price_fen": 12.5}, "R1102"),
    ({"account": "@sd1", "quantity": True, "price_fen": 100}, "R0301"),
])
def test_bad_lines_are_refused_with_their_codes(world, line, code):
    w = world
    if line["account"] == "@sd1":
        line = dict(line, account=w.accounts[SD_1].number)
    if line["account"] == "CN-NT":
        line = dict(line, account=system_account("national", AccountKind.NATIONAL_TOTAL).number)
    with pytest.raises(CetsError) as e:
        reserve_release_propose(key="s", unit_type=w.cea, decision_ref="d", actor=w.mee, lines=[line])
    assert e.value.code == code
    with pytest.raises(CetsError) as e:
        reserve_release_propose(key="s", unit_type=w.cea, decision_ref="d", actor=w.mee, lines=[])
    assert e.value.code == "R1101"


def test_a_release_larger_than_the_reserve_changes_nothing(world, mee2):
    w = world
    line = {"account": w.accounts[SD_1].number, "quantity": 1, "price_fen": 100}
    fund(w.accounts[SD_1], 30_000_000)
    with pytest.raises(CetsError) as e:
        reserve_release_propose(key="sale", unit_type=w.cea, decision_ref="d", actor=w.mee, lines=[line])  # the reserve holds nothing yet
    assert e.value.code == "R0302"
    proposal_approve(proposal_id=reserve_fund_propose(key="fund", unit_type=w.cea, year=2025, decision_ref="d0", actor=w.mee).pk, approver=mee2)
    p1 = reserve_release_propose(key="sale-1", unit_type=w.cea, decision_ref="d", actor=w.mee, lines=[dict(line, quantity=150_000)])
    p2 = reserve_release_propose(key="sale-2", unit_type=w.cea, decision_ref="d", actor=w.mee, lines=[dict(line, quantity=100_000)])
    proposal_approve(proposal_id=p1.pk, approver=mee2)
    with pytest.raises(CetsError) as e:
        proposal_approve(proposal_id=p2.pk, approver=mee2)  # 50,000 left: checked again on approval
    assert e.value.code == "R0302"
    p2.refresh_from_db()
    assert p2.status == Proposal.Status.PROPOSED and held(w.accounts[SD_1], w.cea) == 150_000
