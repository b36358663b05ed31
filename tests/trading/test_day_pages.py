"""The exchange operator's trading-day page (开市 / 闭市): the board shows the real state of the day, the
operator opens and closes it through the page, other roles are refused, bad input never gives a 500,
and the orders list is paginated with a status filter. Market and clock: tests/trading/conftest.py."""

import datetime as dt

from django.test import Client

from cets.trading import services as ts
from cets.trading.models import DailyQuote, Order
from tests.conftest import client_for
from tests.trading.test_pages import EN, form_key, place

DAY = dt.date(2024, 11, 4)


def test_operator_closes_and_opens_the_day_and_the_board_follows(exchange, clock):
    x = exchange
    op, a = client_for(x.operator, verified=True), client_for(x.sd1_user, verified=True)
    board = op.get("/trading/?instrument=CEA23", **EN).content.decode()
    assert "/trading/day/" in board
    assert 'class="badge st-open">open<' in board
    page = op.get("/trading/day/", **EN).content.decode()
    assert 'data-instrument="CEA23"' in page
    assert "Close 2024-11-04" in page

    # the next morning the day of 11-04 is still open: the board says closed (orders would be refused T0205)
    clock.set("2024-11-05", 10)
    board = a.get("/trading/?instrument=CEA23", **EN).content.decode()
    assert "day 2024-11-04 left open" in board
    assert "st-open" not in board
    r = op.post("/trading/day/open/", {"instrument": "CEA23"}, **EN)
    assert r.status_code == 200
    assert "T0210" in r.content.decode()  # the previous day is not closed: refused, shown
    r = op.post("/trading/day/close/", {"instrument": "CEA23", "day": "2024-11-04"})
    assert r.status_code == 302
    assert DailyQuote.objects.filter(date=DAY, instrument="CEA23", close_fen=9_500).exists()
    assert "已闭市" in op.get(r["Location"]).content.decode() or "closed" in op.get(r["Location"], **EN).content.decode()
    r = op.post("/trading/day/open/", {"instrument": "CEA23"})
    assert r.status_code == 302
    assert Order.objects.filter(kind="open_day", trading_day=dt.date(2024, 11, 5)).exists()
    board = a.get("/trading/?instrument=CEA23", **EN).content.decode()
    assert 'class="badge st-open">open<' in board
    key = form_key(board, "/trading/order/")
    place(a, key, price="96.00")
    assert Order.objects.get(kind="place").status == "resting"
    # closing it again is a refusal with its code, not a 500; closing a day that is not open writes nothing
    op.post("/trading/day/close/", {"instrument": "CEA23", "day": "2024-11-05"})
    n = Order.objects.count()
    r = op.post("/trading/day/close/", {"instrument": "CEA23", "day": "2024-11-05"}, follow=True, **EN)
    assert "T0205" in r.content.decode()
    assert Order.objects.count() == n
    assert Order.objects.get(kind="place").status == "expired"


def test_day_page_refuses_other_roles_and_bad_input(exchange):
    x = exchange
    a = client_for(x.sd1_user, verified=True)
    assert a.get("/trading/day/").status_code == 403
    assert a.post("/trading/day/open/", {"instrument": "CEA23"}).status_code == 403
    assert a.post("/trading/day/close/", {"instrument": "CEA23", "day": "2024-11-04"}).status_code == 403
    assert Order.objects.filter(kind="close_day").count() == 0
    assert "/trading/day/" not in a.get("/trading/?instrument=CEA23").content.decode()
    op = client_for(x.operator, verified=True)
    for body in ({"instrument": "XYZ"}, {"instrument": "CEA23", "prev_close": "-1"}, {"instrument": "CEA23", "prev_close": "1e9"}, {}):
        r = op.post("/trading/day/open/", body, **EN)
        assert r.status_code == 200, body
    for body in ({"instrument": "CEA23", "day": "2024-13-45"}, {"instrument": "NOPE", "day": "2024-11-04"}, {"instrument": "CEA23", "day": "2024-11-01"},
                 {"instrument": "x" * 500, "day": "9999-12-31"}, {}):
        r = op.post("/trading/day/close/", body, follow=True, **EN)
        assert r.status_code == 200, body
    assert Order.objects.filter(kind="close_day").count() == 0
    c = Client(enforce_csrf_checks=True)
    c.force_login(x.operator)
    assert c.post("/trading/day/close/", {"instrument": "CEA23", "day": "2024-11-04"}).status_code == 403


def test_orders_are_paginated_and_filtered_by_status(exchange):
    x = exchange
    a, op = client_for(x.sd1_user, verified=True), client_for(x.operator, verified=True)
    for i in range(55):
        ts.order_place(key=f"p{i}", participant=x.w.sd1, instrument="CEA23", method="listing", side="S", price_fen=9_600 + i, quantity_t=10,
                       actor=x.sd1_user)
    page1 = op.get("/trading/orders/", **EN).content.decode()
    assert page1.count("<tr data-order=") == 50
    assert "Page 1 of 2" in page1
    assert "page=2" in page1
    page2 = op.get("/trading/orders/?page=2", **EN).content.decode()
    assert page2.count("<tr data-order=") == 5
    ts.order_cancel(key="c1", participant=x.w.sd1, order_seq=Order.objects.filter(kind="place").order_by("seq").first().seq, actor=x.sd1_user)
    cancelled = a.get("/trading/orders/?status=cancelled", **EN).content.decode()
    assert cancelled.count("<tr data-order=") == 1
    assert a.get("/trading/orders/?status=bogus&page=abc&tpage=-1&method=zzz").status_code == 200
