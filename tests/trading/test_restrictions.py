"""Trading-ban enforcement at order entry (T0701): a participant blacklisted with the effect "barred from
trading" (Measures Art. 49) is refused before anything is written, through the API, with the decision's
reference in the refusal; the same participant trades again once the entry is lifted; a ban that has not
started yet does not refuse. Market: tests/trading/conftest.py (CEA23 open on 2024-11-04)."""

import datetime as dt

from cets.supervision import services as sv
from cets.trading.models import Order
from tests.conftest import client_for

URL = "/api/v1/trading"
DAY = dt.date(2024, 11, 4)


def sell(c, key):
    body = {"instrument": "CEA23", "method": "listing", "side": "S", "price": "96.00", "quantity_t": 1_000}
    return c.post(f"{URL}/orders", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_participant_barred_from_trading_is_refused_at_order_entry_with_the_decision(exchange):
    x = exchange
    a, b = client_for(x.sd1_user, verified=True), client_for(x.sd2_user, verified=True)
    q = sell(a, "before").json()
    e = sv.blacklist_decide(actor=x.w.mee, subject_id=x.w.sd1.pk, effect="trading", decision_reference="环罚〔2024〕7号",
                            reason="虚报排放数据", starts_on=DAY)
    before = Order.objects.count()
    r = sell(a, "banned")
    assert r.status_code == 422
    assert r.json()["code"] == "T0701"
    assert "环罚〔2024〕7号" in r.json()["message_zh"]
    r = a.post(f"{URL}/take", {"quote": q["seq"], "quantity_t": 1, "key": "t-banned"}, content_type="application/json")
    assert r.json()["code"] == "T0701"
    assert Order.objects.count() == before
    # the other participant is not touched
    assert sell(b, "other").status_code == 200

    sv.blacklist_lift(actor=x.w.mee, entry_id=e.pk, lifted_on=DAY)
    assert sell(a, "after").status_code == 200


def test_a_ban_starting_later_does_not_refuse_today(exchange):
    x = exchange
    sv.blacklist_decide(actor=x.w.mee, subject_id=x.w.sd1.pk, effect="trading", decision_reference="环罚〔2024〕8号",
                        reason="虚报排放数据", starts_on=DAY + dt.timedelta(days=1))
    assert sell(client_for(x.sd1_user, verified=True), "future").status_code == 200
