"""Individuals and institutions hold and trade CCER (issue 17): the voluntary market opens ``individual`` and
``institution`` accounts (ccer/market.toml ``account_kinds``) and its trading pack admits them (``[trading_rights]``),
while the national pack still refuses them CEA (T0501). A person whose account opening was reviewed (KYC, four eyes)
opens its CCER account (``market_account_open``), receives CCER by registry transfer, buys and sells it on the CCER
exchange with delivery versus payment, and both journals prove their balances."""

from __future__ import annotations

import pytest

from cets.core.errors import CetsError
from cets.registry.audit import audit_verify
from cets.registry.models import AccountKind, Holding, Position
from cets.trading import entry
from cets.trading import services as ts
from cets.trading.funds import fund_account_of, funds_deposit, funds_verify
from cets.trading.models import Order, Trade
from tests.conftest import when
from tests.registry.test_applications import KYC_INST, KYC_PERSON, PDF, PID, PNG
from tests.trading.conftest import CCER_DAY


def _held(acc, ut, position) -> int:
    return Holding.objects.filter(account=acc, unit_type=ut, position=position).values_list("quantity", flat=True).first() or 0


def _reviewed(w, kind: str):
    """An individual or institution opened by the registry's reviewed application (one operator proposes, another approves)."""
    from cets.parties.models import Organisation
    from cets.registry.services import application_propose, application_submit, proposal_approve
    from tests.conftest import uscc_for

    if kind == "individual":
        app = application_submit(holder_kind="individual", name="王小明", resident_id=PID, kyc=dict(KYC_PERSON), username="wangxm",
                                 password="a-long-password-1", documents=[("identity_card", "id.png", PNG)])
    else:
        app = application_submit(holder_kind="institution", name="某投资机构", uscc=uscc_for(77, "9131000"), kyc=dict(KYC_INST), username="fund1",
                                 password="a-long-password-1", documents=[("business_licence", "licence.pdf", PDF)])
    proposal_approve(proposal_id=application_propose(reference=app.reference, actor=w.registry_a).pk, approver=w.registry_b)
    app.refresh_from_db()
    from django.contrib.auth import get_user_model

    return Organisation.objects.get(pk=app.holder_id), get_user_model().objects.get(username=app.username)


def test_the_voluntary_market_admits_legal_persons_institutions_and_individuals():
    rules = ts.market_rules("ccer", CCER_DAY)
    for kind in (AccountKind.CCER_HOLDING, AccountKind.INSTITUTION, AccountKind.INDIVIDUAL):
        assert rules.may_trade(kind, "CCER-P-TEST-2025")
    assert not rules.may_trade(AccountKind.ENTITY, "CCER-P-TEST-2025")  # a key emitter's CCER account is ccer_holding
    assert not ts.market_rules("national", CCER_DAY).may_trade(AccountKind.INDIVIDUAL, "CEA23")
    from cets.rules.markets import load_market
    from cets.rules.packs import pack_for

    assert {"individual", "institution"} <= set(load_market("ccer").account_kinds)
    assert "trading_rights" in {u["key"] for u in pack_for("ccer", "trading", 2025).data["unconfirmed"]}


def test_an_individual_opens_a_ccer_account_receives_buys_and_sells_ccer(ccer):
    """By hand: the owner's quote 1,000 t @ 91.50 CNY; the person takes 300 t = 2,745,000 fen + fee 0.05% = 1,373 fen (half-up
    of 1,372.5); receives 50 t by registry transfer; sells those 50 t @ 92.00 CNY to SD_2 = 460,000 fen − fee 230 fen."""
    from cets.registry.models import TransferKind
    from cets.registry.services import Leg, market_account_open, position_move, transfer_post

    x = ccer
    w, ut = x.w, x.ccer
    person, user = _reviewed(w, "individual")
    with pytest.raises(CetsError) as e:  # another holder's trader may not open it
        market_account_open(holder=person, market="ccer", actor=x.sd2_user)
    assert e.value.code == "R0502"
    acc = market_account_open(holder=person, market="ccer", actor=user)
    assert (acc.kind, acc.market, acc.holder_id) == ("individual", "ccer", person.pk) and PID not in acc.number
    assert market_account_open(holder=person, market="ccer", actor=w.registry_a) == acc  # idempotent
    # receives CCER by a registry transfer from the project owner (the owner's units in trading: back to registry first)
    position_move(key="own-back", account=x.ccer_seller_acc, unit_type=ut, from_position=Position.TRADING, to_position=Position.REGISTRY,
                  quantity=50, actor=x.ccer_trader)
    transfer_post(key="gift", kind=TransferKind.TRANSFER, unit_type=ut, debit=Leg(x.ccer_seller_acc, Position.REGISTRY), credit=Leg(acc, Position.REGISTRY),
                  quantity=50)
    assert _held(acc, ut, Position.REGISTRY) == 50
    # buys on the CCER exchange
    funds_deposit(key="dep-person", holder=person, amount_fen=5_000_000, actor=x.operator, market="ccer")
    quote = entry.place(user=x.ccer_trader, key="q-owner", instrument=ut.code, method="listing", side="S", price_fen=9_150, quantity_t=1_000,
                        market="ccer")
    take = entry.take(user=user, key="t-person", quote=quote.seq, quantity_t=300, market="ccer")
    assert take.status == Order.Status.FILLED
    t = Trade.objects.get(buy_order=take)
    assert (t.amount_fen, t.buyer_fee_fen) == (2_745_000, 1_373)
    fund = fund_account_of(holder=person, market="ccer")
    assert (fund.available_fen, fund.frozen_fen) == (5_000_000 - 2_745_000 - 1_373, 0)
    assert _held(acc, ut, Position.TRADING) == 300
    # sells the 50 t it received (bought today's may not be resold today: the pack's same_day_resale) to SD_2
    with pytest.raises(CetsError) as e:
        entry.place(user=user, key="q-early", instrument=ut.code, method="listing", side="S", price_fen=9_200, quantity_t=100, market="ccer")
    assert e.value.code == "T0207"
    position_move(key="person-to-trading", account=acc, unit_type=ut, from_position=Position.REGISTRY, to_position=Position.TRADING, quantity=50,
                  actor=user)
    sell = entry.place(user=user, key="q-person", instrument=ut.code, method="listing", side="S", price_fen=9_200, quantity_t=50, market="ccer")
    entry.take(user=x.sd2_user, key="t-sd2", quote=sell.seq, quantity_t=50, market="ccer")
    fund.refresh_from_db()
    assert fund.available_fen == 5_000_000 - 2_745_000 - 1_373 + 460_000 - 230
    assert (_held(acc, ut, Position.TRADING), _held(x.ccer_buyer_acc, ut, Position.TRADING)) == (300, 50)
    # the same person may not trade CEA on the national exchange (national [trading_rights]): T0501, nothing written
    before = Order.objects.count()
    with pytest.raises(CetsError) as e:
        ts.order_place(key="cea-person", participant=person, instrument="CEA23", method="listing", side="B", price_fen=9_500, quantity_t=10,
                       actor=user, at=when("2024-11-04", 10))
    assert e.value.code == "T0501" and PID not in str(e.value)
    assert Order.objects.count() == before
    assert audit_verify().ok and funds_verify("ccer") == []


def test_an_institution_opens_its_ccer_account_and_refusals(ccer):
    from cets.parties.services import holder_create
    from cets.registry.services import market_account_open

    x = ccer
    inst, inst_user = _reviewed(x.w, "institution")
    acc = market_account_open(holder=inst, market="ccer", actor=x.w.registry_a)
    assert acc.kind == "institution"
    with pytest.raises(CetsError) as e:  # a person whose account opening the registry never reviewed
        market_account_open(holder=holder_create(kind="individual", name="李四", resident_id="110101199003074477"), market="ccer", actor=x.w.registry_a)
    assert e.value.code == "R1303"
    with pytest.raises(CetsError) as e:  # a key emitter opens no individual/institution account
        market_account_open(holder=x.w.sd1, market="ccer", actor=x.w.registry_a)
    assert e.value.code == "R1303"
    assert market_account_open(holder=inst, market="national", actor=inst_user).kind == "institution"  # its reviewed account
