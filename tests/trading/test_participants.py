"""Who may trade what, and exchange members (issue 17): the national trading pack admits only key emitting
entities to CEA trading (``[trading_rights]``, unconfirmed for institutions and individuals), so an individual's or
an institution's order is refused T0501 at entry; a member acts for its clients, and a suspended member's clients
are refused T0502 while their registry accounts are untouched (no text says otherwise)."""

from __future__ import annotations

import pytest

from cets.core.errors import CetsError
from cets.registry.models import AccountKind
from cets.trading import services as ts
from cets.trading.models import Order
from tests.conftest import uscc_for, when

AT = when("2024-11-04", 10)
PID = "11010519850102123X"


def _order(participant, key, actor=None, side="B", quantity_t=100):
    return ts.order_place(key=key, participant=participant, instrument="CEA23", method="listing", side=side, price_fen=9_500,
                          quantity_t=quantity_t, actor=actor, at=AT)


def test_the_national_pack_admits_only_key_emitters_to_cea(market):
    rules = ts.market_rules("national", AT.date())
    assert rules.may_trade(AccountKind.ENTITY, "CEA23")
    assert not rules.may_trade(AccountKind.INDIVIDUAL, "CEA23") and not rules.may_trade(AccountKind.INSTITUTION, "CEA")
    assert ts.market_rules("beijing", AT.date()).may_trade(AccountKind.INDIVIDUAL, "BEA24")  # no table: no restriction


@pytest.mark.parametrize("kind", ["individual", "institution"])
def test_an_individual_or_institution_order_is_refused_t0501_and_nothing_is_written(market, kind):
    from cets.parties.models import Role
    from cets.parties.services import holder_create, member_create
    from cets.registry.services import account_open
    from cets.trading.funds import funds_deposit

    holder = holder_create(kind=kind, name="王小明" if kind == "individual" else "某投资机构", resident_id=PID if kind == "individual" else None,
                           uscc=uscc_for(55, "9131000") if kind == "institution" else None)
    account_open(holder=holder, kind=kind, market="national")
    funds_deposit(key=f"dep-{kind}", holder=holder, amount_fen=10_000_000, actor=None)
    user = member_create(username=f"u-{kind}", organisation=holder, role=Role.TRADER, password="test-password-123")
    before = Order.objects.count()
    with pytest.raises(CetsError) as e:
        _order(holder, f"b-{kind}", actor=user)
    assert e.value.code == "T0501" and PID not in str(e.value)
    assert Order.objects.count() == before
    assert _order(market.sd2, "b-entity").status == Order.Status.RESTING  # a key emitter's order goes on


@pytest.fixture
def members(market):
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create

    exch = Organisation.objects.create(kind=Organisation.Kind.EXCHANGE, name="上海环境能源交易所")
    broker = Organisation.objects.create(kind=Organisation.Kind.INSTITUTION, name="某会员公司", uscc=uscc_for(66, "9131000"), province="31")
    service = Organisation.objects.create(kind=Organisation.Kind.INSTITUTION, name="某服务机构", uscc=uscc_for(67, "9131000"), province="31")
    return {
        "op": member_create(username="exop", organisation=exch, role=Role.EXCHANGE_OPERATOR, password="test-password-123"),
        "broker": broker, "broker_user": member_create(username="broker", organisation=broker, role=Role.TRADER, password="test-password-123"),
        "service": service,
    }


def test_a_member_acts_for_its_client_and_a_suspension_stops_the_client_s_orders(market, members):
    from cets.registry.models import Account, AccountStatus

    op = members["op"]
    m = ts.member_admit(organisation=members["broker"], kind="comprehensive", code="M001", actor=op)
    with pytest.raises(CetsError) as e:  # before it acts for SD_1, the member's staff may not enter SD_1's orders
        _order(market.sd1, "x0", actor=members["broker_user"], side="S")
    assert e.value.code == "T0209"
    ts.member_client_add(member=m, participant=market.sd1, actor=op)
    assert _order(market.sd1, "s1", actor=members["broker_user"], side="S").status == Order.Status.RESTING
    ts.member_suspend(member=m, reason="Measures Art. 47 (七)", actor=op)
    for key, actor in (("s2", market.entity_sd1_user), ("s3", None)):  # the client itself, and any path, is refused
        with pytest.raises(CetsError) as e:
            _order(market.sd1, key, actor=actor, side="S")
        assert e.value.code == "T0502"
    with pytest.raises(CetsError) as e:
        ts.order_take(key="t1", participant=market.sd1, quote_seq=Order.objects.get(key="s1").seq, quantity_t=1, actor=None, at=AT)
    assert e.value.code == "T0502"
    assert Account.objects.get(holder=market.sd1, market="national").status == AccountStatus.OPEN  # registry status untouched
    assert _order(market.sd2, "b2").status == Order.Status.RESTING  # another member's (or no member's) client goes on
    ts.member_reinstate(member=m, reason="rectified", actor=op)
    assert _order(market.sd1, "s4", side="S").status == Order.Status.RESTING


def test_member_refusals(market, members):
    op = members["op"]
    with pytest.raises(CetsError) as e:
        ts.member_admit(organisation=members["broker"], kind="platinum", code="M9", actor=op)
    assert e.value.code == "T0503"
    with pytest.raises(CetsError) as e:
        ts.member_admit(organisation=members["broker"], kind="trading", code="M9", actor=market.entity_sd1_user)
    assert e.value.code == "R0502"
    svc = ts.member_admit(organisation=members["service"], kind="service", code="S001", actor=op)
    with pytest.raises(CetsError) as e:  # a service institution enters no orders for clients
        ts.member_client_add(member=svc, participant=market.sd1, actor=op)
    assert e.value.code == "T0504"
    m = ts.member_admit(organisation=members["broker"], kind="trading", code="M002", actor=op)
    ts.member_client_add(member=m, participant=market.sd1, actor=op)
    other = ts.member_admit(organisation=market.sd2, kind="trading", code="M003", actor=op)
    with pytest.raises(CetsError) as e:
        ts.member_client_add(member=other, participant=market.sd1, actor=op)
    assert e.value.code == "T0506"
    with pytest.raises(CetsError) as e:
        ts.member_reinstate(member=m, reason="", actor=op)
    assert e.value.code == "T0505"


def test_members_through_the_api_and_the_page(members, market, clock):
    import json

    from tests.conftest import client_for

    op, broker_user = client_for(members["op"]), client_for(members["broker_user"])

    def post(c, path, body, key=None):
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        return c.post(path, json.dumps(body), content_type="application/json", **headers)

    assert post(broker_user, "/api/v1/trading/members", {"uscc": members["broker"].uscc, "kind": "trading", "code": "M010"}).status_code == 403
    r = post(op, "/api/v1/trading/members", {"uscc": members["broker"].uscc, "kind": "trading", "code": "M010"})
    assert r.status_code == 200 and r.json()["status"] == "active"
    sd1_account = market.accounts[next(iter(market.accounts))].number
    r = post(op, "/api/v1/trading/members/M010/clients", {"account": sd1_account})
    assert r.json()["clients"] == [sd1_account]
    order = {"instrument": "CEA23", "side": "S", "price": "95.00", "quantity_t": 100, "client_account": sd1_account}
    r = post(broker_user, "/api/v1/trading/orders", order, key="m1")
    assert r.status_code == 200 and r.json()["status"] == "resting", r.content
    r = post(broker_user, "/api/v1/trading/orders", dict(order, client_account=market.accounts[list(market.accounts)[1]].number), key="m2")
    assert r.json()["code"] == "T0209"  # not its client
    page = op.get("/trading/members/")
    assert page.status_code == 200 and "M010" in page.content.decode()
    assert client_for(market.entity_sd1_user).get("/trading/members/").status_code == 403
    r = op.post("/trading/members/", {"action": "suspend", "member": "M010", "reason": "Art. 47"}, follow=True)
    assert "M010" in r.content.decode()
    r = post(broker_user, "/api/v1/trading/orders", order, key="m3")
    assert r.json()["code"] == "T0502"
    r = post(client_for(market.entity_sd1_user), "/api/v1/trading/orders", {k: v for k, v in order.items() if k != "client_account"}, key="m4")
    assert r.json()["code"] == "T0502"
    r = op.post("/trading/members/", {"action": "admit", "uscc": members["service"].uscc, "kind": "gold", "code": "S9"}, follow=True)
    assert "T0503" in r.content.decode()


def test_the_cli_lists_members(members, market, capsys):
    from cets.cli import main

    ts.member_admit(organisation=members["broker"], kind="comprehensive", code="M020", actor=members["op"])
    assert main(["trading", "members", "--market", "national"]) == 0
    out = capsys.readouterr().out
    assert "M020" in out and "comprehensive" in out and "1 member(s)" in out
