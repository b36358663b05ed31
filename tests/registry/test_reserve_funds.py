"""Payment against delivery of the registry's own sales and purchases (issue 17): the national reserve's auction and
buy-back, and a pilot's paid allocation by auction, move money through the exchange's fund ledger in the same transaction
as the units — proceeds into the authority's treasury fund account (收支两条线, no fee), a buy-back paid from it — or
refuse and change nothing (registry/payments.py, trading/services/funds.py registry_payments)."""

from __future__ import annotations

import pytest

from cets.core.errors import CetsError
from cets.registry import payments
from cets.registry.audit import audit_verify
from cets.registry.models import AccountKind, Holding, Position, Proposal, Transfer
from cets.registry.services import (
    proposal_approve,
    proposal_reject,
    reserve_fund_propose,
    reserve_release_propose,
    reserve_withdraw_propose,
    system_account,
)
from cets.trading.funds import funds_deposit, funds_verify
from cets.trading.models import FundAccount, FundEntry
from tests.conftest import SD_1, SD_2


@pytest.fixture
def mee2(world):
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create

    return member_create(username="mee2", organisation=Organisation.objects.get(name="生态环境部"), role=Role.NATIONAL_AUTHORITY,
                         password="test-password-123")


@pytest.fixture
def funded(world, mee2):
    """The reserve funded with 200,000 t of CEA-2023 (floor(10,000,000 × 0.02))."""
    proposal_approve(proposal_id=reserve_fund_propose(key="fund", unit_type=world.cea, year=2025, decision_ref="d0", actor=world.mee).pk, approver=mee2)
    return world


def money(org=None, market="national") -> tuple[int, int]:
    f = (FundAccount.objects.filter(holder=org, market=market) if org else FundAccount.objects.filter(kind="treasury", market=market)).first()
    return (f.available_fen, f.frozen_fen) if f else (0, 0)


def held(account, ut, position=Position.REGISTRY) -> int:
    h = Holding.objects.filter(account=account, unit_type=ut, position=position).first()
    return h.quantity if h else 0


def snapshot() -> tuple:
    return (list(Holding.objects.order_by("pk").values_list("account_id", "unit_type_id", "position", "quantity")),
            list(FundAccount.objects.order_by("pk").values_list("number", "available_fen", "frozen_fen")), Transfer.objects.count(),
            FundEntry.objects.count(), Proposal.objects.count())


def test_a_bidder_short_of_funds_is_refused_and_nothing_is_frozen(funded):
    """SD1 holds 1,000,000 fen; a line of 200 t × 6,000 fen = 1,200,000 fen is refused T0801 at proposal."""
    w = funded
    a1, a2 = w.accounts[SD_1], w.accounts[SD_2]
    funds_deposit(key="d1", holder=a1.holder, amount_fen=1_000_000, actor=None)
    funds_deposit(key="d2", holder=a2.holder, amount_fen=5_000_000, actor=None)
    before = snapshot()
    with pytest.raises(CetsError) as e:
        reserve_release_propose(key="s", unit_type=w.cea, decision_ref="d", actor=w.mee, lines=[
            {"account": a2.number, "quantity": 100, "price_fen": 6_000}, {"account": a1.number, "quantity": 200, "price_fen": 6_000}])
    assert e.value.code == "T0801"
    assert snapshot() == before  # the other buyer's hold was rolled back too
    # a holder without a fund account in the market: T0803
    from cets.registry.models import Account

    other = Account.objects.filter(market="national", kind=AccountKind.ENTITY).exclude(holder__in=[a1.holder, a2.holder]).first()
    with pytest.raises(CetsError) as e:
        reserve_release_propose(key="s", unit_type=w.cea, decision_ref="d", actor=w.mee, lines=[{"account": other.number, "quantity": 1, "price_fen": 1}])
    assert e.value.code == "T0803"
    assert snapshot() == before


def test_a_buy_back_the_treasury_cannot_pay_is_refused_and_holds_nothing(funded):
    w = funded
    a1 = w.accounts[SD_1]
    from cets.registry.models import TransferKind
    from cets.registry.services import Leg, transfer_post

    reserve = system_account("national", AccountKind.NATIONAL_RESERVE)
    transfer_post(key="give", kind=TransferKind.TRANSFER, unit_type=w.cea, debit=Leg(reserve, Position.REGISTRY), credit=Leg(a1, Position.REGISTRY),
                  quantity=1_000)
    before = snapshot()
    with pytest.raises(CetsError) as e:
        reserve_withdraw_propose(key="b", unit_type=w.cea, decision_ref="d", actor=w.mee, lines=[{"account": a1.number, "quantity": 500, "price_fen": 8_000}])
    assert e.value.code == "T0802"
    assert snapshot() == before and held(a1, w.cea, Position.PENDING) == 0


def test_the_treasury_is_funded_by_the_exchange_and_pays_a_buy_back(funded, mee2):
    """Budget 5,000,000 fen into the treasury (exchange operator); buy back 500 t × 8,000 fen = 4,000,000 fen from SD1."""
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create
    from cets.registry.models import TransferKind
    from cets.registry.services import Leg, transfer_post
    from cets.trading.services.funds import treasury_deposit

    w = funded
    a1 = w.accounts[SD_1]
    reserve = system_account("national", AccountKind.NATIONAL_RESERVE)
    transfer_post(key="give", kind=TransferKind.TRANSFER, unit_type=w.cea, debit=Leg(reserve, Position.REGISTRY), credit=Leg(a1, Position.REGISTRY),
                  quantity=1_000)
    with pytest.raises(CetsError) as e:
        treasury_deposit(key="budget", market="national", amount_fen=5_000_000, reference="财政拨款", actor=w.mee)
    assert e.value.code == "R0502"
    ex = member_create(username="ex", organisation=Organisation.objects.create(name="交易机构", kind=Organisation.Kind.EXCHANGE), role=Role.EXCHANGE_OPERATOR,
                       password="test-password-123")
    treasury_deposit(key="budget", market="national", amount_fen=5_000_000, reference="财政拨款", actor=ex)
    b = reserve_withdraw_propose(key="b", unit_type=w.cea, decision_ref="d", actor=w.mee, lines=[{"account": a1.number, "quantity": 500, "price_fen": 8_000}])
    assert money() == (1_000_000, 4_000_000)
    proposal_approve(proposal_id=b.pk, approver=mee2)
    assert money() == (1_000_000, 0) and money(a1.holder) == (4_000_000, 0)  # the seller's fund account is opened to be paid
    assert held(a1, w.cea) == 500 and held(system_account("national", AccountKind.NATIONAL_RESERVE), w.cea) == 199_500
    assert funds_verify() == [] and audit_verify().ok


def test_no_fund_ledger_no_delivery(funded, mee2):
    """Without the exchange's settler the approval is refused R1301 after the units were posted: the whole proposal is rolled
    back — units, money and status (delivery versus payment)."""
    w = funded
    a1 = w.accounts[SD_1]
    funds_deposit(key="d1", holder=a1.holder, amount_fen=1_000_000, actor=None)
    p = reserve_release_propose(key="s", unit_type=w.cea, decision_ref="d", actor=w.mee, lines=[{"account": a1.number, "quantity": 100, "price_fen": 5_000}])
    before = snapshot()
    saved = list(payments._SETTLERS)
    payments._SETTLERS.clear()
    try:
        with pytest.raises(CetsError) as e:
            proposal_approve(proposal_id=p.pk, approver=mee2)
    finally:
        payments._SETTLERS.extend(saved)
    assert e.value.code == "R1301"
    assert snapshot() == before
    p.refresh_from_db()
    assert p.status == Proposal.Status.PROPOSED
    proposal_reject(proposal_id=p.pk, approver=mee2, reason="withdrawn")
    assert money(a1.holder) == (1_000_000, 0) and held(a1, w.cea) == 0


# ---------------------------------------------------------------- Beijing: paid allocation by auction


@pytest.fixture
def beijing(db):
    from types import SimpleNamespace

    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create
    from cets.registry.models import Instrument
    from cets.registry.services import account_open, system_accounts_ensure, vintage_create
    from tests.conftest import uscc_for

    system_accounts_ensure(market="beijing")
    ut = vintage_create(instrument=Instrument.BEA, vintage="2023", cap_t=1_000_000, key="bea-2023-cap")
    bureau = Organisation.objects.create(name="北京市生态环境局", kind=Organisation.Kind.AUTHORITY, province="11")
    b1 = member_create(username="bj1", organisation=bureau, role=Role.PROVINCIAL_AUTHORITY, province="11", password="test-password-123")
    b2 = member_create(username="bj2", organisation=bureau, role=Role.PROVINCIAL_AUTHORITY, province="11", password="test-password-123")
    sd = member_create(username="sd-prov", organisation=Organisation.objects.create(name="山东省生态环境厅", kind=Organisation.Kind.AUTHORITY, province="37"),
                       role=Role.PROVINCIAL_AUTHORITY, province="37", password="test-password-123")
    accs = []
    for i in range(3):
        org = Organisation.objects.create(uscc=uscc_for(900 + i, "9111000"), name=f"北京单位{i}", kind=Organisation.Kind.ENTITY, province="11")
        accs.append(account_open(holder=org, market="beijing"))
    return SimpleNamespace(ut=ut, b1=b1, b2=b2, sd=sd, accs=accs)


def test_beijing_paid_allocation_by_auction_pays_the_treasury(beijing):
    """By hand: 100,000 t at a floor of 9,000 fen/t; bids B0 60,000 @ 10,489, B1 70,000 @ 10,000, B2 10,000 @ 8,000 (below the
    floor, refused). Uniform price: B0 60,000 and B1 40,000 (marginal, in part) at 10,000 fen/t; proceeds 1,000,000,000 fen
    into BEIJING-FUND-TREASURY, issued from the Beijing total account on the second bureau person's approval."""
    from cets.allocation.paid import paid_allocation_auction_propose

    bj = beijing
    a0, a1, a2 = bj.accs
    for i, a in enumerate(bj.accs):
        funds_deposit(key=f"bjd{i}", holder=a.holder, amount_fen=800_000_000, actor=None, market="beijing")
    bids = [{"account": a0.number, "price_fen": 10_489, "quantity_t": 60_000}, {"account": a1.number, "price_fen": 10_000, "quantity_t": 70_000},
            {"account": a2.number, "price_fen": 8_000, "quantity_t": 10_000}]
    with pytest.raises(CetsError) as e:
        paid_allocation_auction_propose(key="pa", unit_type=bj.ut, quantity_t=100_000, floor_fen=9_000, bids=bids,
                                        decision_ref="京环发〔2024〕X号", actor=bj.sd)
    assert e.value.code == "R0502"  # another province's authority
    p = paid_allocation_auction_propose(key="pa", unit_type=bj.ut, quantity_t=100_000, floor_fen=9_000, bids=bids,
                                        decision_ref="京环发〔2024〕X号", actor=bj.b1)
    assert p.payload["auction"]["clearing_price_fen"] == 10_000 and p.payload["auction"]["refused"] == [[3, a2.number, "8000 < 9000"]]
    assert (money(a0.holder, "beijing"), money(a1.holder, "beijing")) == ((200_000_000, 600_000_000), (400_000_000, 400_000_000))
    with pytest.raises(CetsError) as e:
        proposal_approve(proposal_id=p.pk, approver=bj.b1)
    assert e.value.code == "R0501"
    proposal_approve(proposal_id=p.pk, approver=bj.b2)
    assert (held(a0, bj.ut), held(a1, bj.ut), held(a2, bj.ut)) == (60_000, 40_000, 0)
    assert held(system_account("beijing", AccountKind.NATIONAL_TOTAL), bj.ut) == 900_000
    assert money(market="beijing") == (1_000_000_000, 0)
    assert FundAccount.objects.get(kind="treasury", market="beijing").number == "BEIJING-FUND-TREASURY"
    assert not FundEntry.objects.filter(kind="fee").exists()  # no trading fee on paid allocation
    assert funds_verify("beijing") == [] and audit_verify().ok


def test_paid_allocation_refusals(beijing, world):
    from cets.allocation.paid import paid_allocation_auction_propose
    from cets.registry.services import paid_allocation_propose

    bj = beijing
    a0 = bj.accs[0]
    with pytest.raises(CetsError) as e:
        paid_allocation_auction_propose(key="x", unit_type=bj.ut, quantity_t=10, floor_fen=9_000, decision_ref="d", actor=bj.b1,
                                        bids=[{"account": a0.number, "price_fen": 8_000, "quantity_t": 5}])
    assert e.value.code == "R1305"
    with pytest.raises(CetsError) as e:
        paid_allocation_auction_propose(key="x", unit_type=bj.ut, quantity_t=10, floor_fen=9_000, decision_ref="d", actor=bj.b1,
                                        bids=[{"account": a0.number, "price_fen": 9_500, "quantity_t": 5}])
    assert e.value.code == "T0803"  # no fund account in the Beijing market yet
    with pytest.raises(CetsError) as e:  # the national market has a national level: its sales are the reserve's
        paid_allocation_propose(key="y", unit_type=world.cea, decision_ref="d", actor=bj.b1,
                                lines=[{"account": world.accounts[SD_1].number, "quantity": 1, "price_fen": 1}])
    assert e.value.code == "R1302"
    assert not Proposal.objects.exists()


def test_paid_allocation_through_the_api_and_the_page(beijing):
    import json

    from tests.conftest import client_for, signing_code

    bj = beijing
    a0 = bj.accs[0]
    funds_deposit(key="bjd", holder=a0.holder, amount_fen=50_000_000, actor=None, market="beijing")
    c1, c2 = client_for(bj.b1, verified=True), client_for(bj.b2, verified=True)
    body = {"key": "pa-api", "unit_type": "BEA-2023", "quantity_t": 3_000, "floor_fen": 9_000, "decision_ref": "京环发〔2024〕Y号",
            "bids": [{"account": a0.number, "price_fen": 10_489, "quantity_t": 4_000}]}
    r = c1.post("/api/v1/supervision/paid-allocation/auctions", data=json.dumps(body), content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json()["payload"]["amount_fen"] == 3_000 * 10_489
    bad = c1.post("/api/v1/supervision/paid-allocation/auctions", data=json.dumps(dict(body, key="x", floor_fen="9000")), content_type="application/json")
    assert bad.status_code == 422
    assert c2.post(f"/api/v1/registry/proposals/{r.json()['id']}/approve", data="{}", content_type="application/json").status_code == 422  # no code
    assert c2.post(f"/api/v1/registry/proposals/{r.json()['id']}/approve", data=json.dumps({"otp_token": signing_code(bj.b2)}),
                   content_type="application/json").status_code == 200
    out = c1.get("/api/v1/supervision/paid-allocation?market=beijing").json()
    assert out["treasury"]["available_fen"] == 31_467_000 and out["treasury"]["number"] == "BEIJING-FUND-TREASURY"
    assert held(a0, bj.ut) == 3_000
    html = c2.get("/supervision/paid-allocation/?market=beijing").content.decode()
    assert "314,670.00" in html and "pa-api" in html


def test_garbage_and_huge_numbers_are_numbered_refusals_not_500s(beijing):
    """The bureau's page and the API refuse odd digits ("²" is a digit to str.isdigit, not to int), prices whose
    product with the quantity would overflow the fund ledger's 64-bit column, and amounts at the fund ledger's limit."""
    import json

    from cets.trading.services.funds import check_amount
    from tests.conftest import client_for

    bj = beijing
    a0 = bj.accs[0]
    c1 = client_for(bj.b1, verified=True)
    funds_deposit(key="bj-garbage", holder=a0.holder, amount_fen=1_000_000, actor=None, market="beijing")
    before = (Proposal.objects.count(), FundEntry.objects.count())
    for fields in ({"quantity_t": "²"}, {"floor_fen": "１" * 30}, {"bids": f"{a0.number},²,10"}, {"bids": f"{a0.number},{10**30},10"}):
        post = {"market": "beijing", "key": "pa-bad", "unit_type": "BEA-2023", "quantity_t": "10", "floor_fen": "9000", "decision_ref": "x",
                "bids": f"{a0.number},10489,10", **fields}
        r = c1.post("/supervision/paid-allocation/auction/", post, follow=True)
        assert r.status_code == 200, fields
        assert "G0604" in r.content.decode() or "G0606" in r.content.decode(), fields
    body = {"key": "pa-huge", "unit_type": "BEA-2023", "quantity_t": 10**6, "floor_fen": 9_000, "decision_ref": "x",
            "bids": [{"account": a0.number, "price_fen": 10**14, "quantity_t": 10**6}]}
    r = c1.post("/api/v1/supervision/paid-allocation/auctions", data=json.dumps(body), content_type="application/json")
    assert r.status_code in (400, 409, 422) and r.json().get("code") == "T0202", r.content  # 10^6 t × 10^14 fen/t = 10^20 fen
    assert (Proposal.objects.count(), FundEntry.objects.count()) == before
    for bad in (0, -1, 10**15, True, "100", 1.0):
        with pytest.raises(CetsError) as e:
            check_amount(bad)
        assert e.value.code == "T0202"
    assert check_amount(10**15 - 1) == 10**15 - 1
