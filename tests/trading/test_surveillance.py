"""Market surveillance on the exchange's real order and trade logs (tests/trading/conftest.py: CEA23 open on
2024-11-04 at 95.00): a trade between two participants is no alert until they are recorded as related (same
actual controller) — then a wash-trade alert with both orders; a small day never gives a concentration alert;
the decision (dismiss / refer) is recorded once by a person, through the page, and refused for other roles."""

import datetime as dt

import pytest

from cets.core.errors import CetsError
from cets.supervision import enforcement
from cets.supervision.models import SurveillanceDecision
from cets.supervision.selectors import surveillance_alerts
from tests.conftest import client_for

URL = "/api/v1/trading"
DAY = dt.date(2024, 11, 4)


def trade(x):
    a, b = client_for(x.sd1_user, verified=True), client_for(x.sd2_user, verified=True)
    q = a.post(f"{URL}/orders", {"instrument": "CEA23", "method": "listing", "side": "S", "price": "96.00", "quantity_t": 1_000},
               content_type="application/json", HTTP_IDEMPOTENCY_KEY="s1").json()
    r = b.post(f"{URL}/take", {"quote": q["seq"], "quantity_t": 1_000, "key": "t1"}, content_type="application/json").json()
    assert r["status"] == "filled"
    return q["seq"], r["seq"]


def test_wash_trade_alert_only_between_related_participants_and_its_decision(exchange):
    x = exchange
    sell_seq, buy_seq = trade(x)
    # 1,000 t at 96.00 (prev 95.00, limit 104.50): no band alert; day volume 1,000 t < 10,000 t: no concentration alert
    assert surveillance_alerts(day_from=DAY, day_to=DAY) == []

    enforcement.related_participant_set(actor=x.operator, organisation_id=x.w.sd1.pk, group="某能源集团", basis="同一实际控制人（工商登记）")
    enforcement.related_participant_set(actor=x.operator, organisation_id=x.w.sd2.pk, group="某能源集团", basis="同一实际控制人（工商登记）")
    alerts = surveillance_alerts(day_from=DAY, day_to=DAY)
    assert [(a.rule, a.orders) for a in alerts] == [("wash_trade", (buy_seq, sell_seq))]
    key = alerts[0].key

    # the page: drill-down shows the orders; the decision is taken there by the exchange operator
    c = client_for(x.operator, verified=True)
    page = c.get("/supervision/surveillance/", {"day": DAY.isoformat()}).content.decode()
    assert "wash_trade" in page
    assert f"<td>{sell_seq}</td>" in page
    assert c.post("/supervision/surveillance_decide/", {"alert_key": key, "outcome": "refer", "reason": "同一集团内对倒"}).status_code == 302
    d = SurveillanceDecision.objects.get(alert_key=key)
    assert (d.outcome, d.decided_by) == ("refer", x.operator)
    with pytest.raises(CetsError) as e:
        enforcement.surveillance_decide(actor=x.operator, alert_key=key, outcome="dismiss", reason="再次")
    assert e.value.code == "G0802"
    with pytest.raises(CetsError) as e:
        enforcement.surveillance_decide(actor=x.operator, alert_key=key.replace("wash_trade", "concentration"), outcome="dismiss", reason="无")
    assert e.value.code == "G0803"
    # an entity may neither see the page nor decide
    assert client_for(x.sd1_user, verified=True).get("/supervision/surveillance/").status_code == 404
    with pytest.raises(CetsError) as e:
        enforcement.surveillance_decide(actor=x.sd1_user, alert_key=key, outcome="dismiss", reason="x")
    assert e.value.code == "R0502"


def test_a_day_without_a_pack_shows_a_message_not_an_error(exchange):
    r = client_for(exchange.w.mee, verified=True).get("/supervision/surveillance/", {"day": "2031-01-06"})
    assert r.status_code == 200
    assert "S0101" in r.content.decode()
    r = client_for(exchange.w.mee, verified=True).get("/supervision/surveillance/", {"day": "not-a-date"})
    assert r.status_code == 200


def test_large_holder_above_the_trading_packs_threshold(exchange):
    from cets.registry.models import AccountKind, Position, TransferKind
    from cets.registry.services import Leg, system_account, transfer_post

    x = exchange
    # 50,000 t each: below the 500,000 t reporting threshold (national/trading-2021-2026 positions.large_holder_report_t)
    assert [a.rule for a in surveillance_alerts(day_from=DAY, day_to=DAY)] == []
    total = system_account("national", AccountKind.NATIONAL_TOTAL)
    transfer_post(key="iss-big", kind=TransferKind.ISSUE, unit_type=x.w.cea, debit=Leg(total, Position.REGISTRY),
                  credit=Leg(x.w.accounts[x.w.sd2.uscc], Position.REGISTRY), quantity=450_001)
    alerts = surveillance_alerts(day_from=DAY, day_to=DAY)
    # 50,000 + 450,001 = 500,001 t > 500,000 t (the entity has no allocation of that vintage in this market)
    assert [(a.rule, a.participants, a.detail) for a in alerts] == [("large_holder", (x.w.sd2.pk,), "500001 t > 500000 t")]


def test_the_exchange_operator_and_the_national_authority_find_surveillance_in_the_navigation(exchange):
    for who, shown in ((exchange.operator, True), (exchange.w.mee, True), (exchange.w.province_sd, False), (exchange.sd1_user, False)):
        page = client_for(who, verified=True).get("/").content.decode()
        assert ('href="/supervision/surveillance/"' in page) is shown, who.username
