"""The exchange's pages on the real database: the quote board with order entry and take buttons, my
orders (cancel) and trades, funds, public market data with the SVG chart; form validation in both
languages, role checks and CSRF. Market and clock: tests/trading/conftest.py."""

import datetime as dt
import re

from django.test import Client

from cets.trading import services as ts
from cets.trading.models import Order, Trade
from tests.conftest import SD_2, client_for

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def form_key(html: str, action: str) -> str:
    """The idempotency key of the first form posting to ``action`` on a page."""
    m = re.search(rf'action="{re.escape(action)}".*?name="key" value="([^"]+)"', html, re.S)
    assert m, f"no form to {action}"
    return m.group(1)


def place(c, key, side="S", price="96.00", qty="1000", method="listing", **extra):
    return c.post("/trading/order/", {"key": key, "instrument": "CEA23", "method": method, "side": side, "price": price, "quantity_t": qty,
                                      **extra}, **extra.pop("headers", {}))


def test_board_shows_quotes_and_takes_one(exchange):
    x = exchange
    a, b = client_for(x.sd1_user, verified=True), client_for(x.sd2_user, verified=True)
    page = a.get("/trading/?instrument=CEA23").content.decode()
    key = form_key(page, "/trading/order/")
    r = place(a, key)
    assert r.status_code == 302
    assert r["Location"] == "/trading/?instrument=CEA23&method=listing"
    quote = Order.objects.get(kind="place")
    assert (quote.status, quote.price_fen, quote.quantity_t, quote.key) == ("resting", 9_600, 1_000, f"web-{x.sd1_user.pk}-{key}")
    assert place(a, key).status_code == 302
    assert Order.objects.filter(kind="place").count() == 1  # a double submit enters one order

    mine = a.get("/trading/?instrument=CEA23").content.decode()
    assert f'data-quote="{quote.seq}"' in mine and "我的" in mine and "/trading/take/" not in mine  # no take button on one's own quote
    theirs = b.get("/trading/?instrument=CEA23").content.decode()
    assert "96.00" in theirs
    assert "1,000 t" in theirs
    assert "/trading/take/" in theirs
    assert "前收盘价" in theirs and "95.00" in theirs and "85.50 – 104.50" in theirs  # previous close and band, zh-Hans by default
    tkey = form_key(theirs, "/trading/take/")
    r = b.post("/trading/take/", {"key": tkey, "quote": quote.seq, "quantity_t": 400, "instrument": "CEA23", "method": "listing"})
    assert r.status_code == 302
    t = Trade.objects.get()
    assert (t.quantity_t, t.price_fen, t.amount_fen) == (400, 9_600, 3_840_000)
    follow = b.get(r["Location"]).content.decode()
    assert "成交" in follow or "全部成交" in follow  # the outcome message: filled

    funds = b.get("/trading/funds/").content.decode()
    # 1,000,000.00 − 38,400.00 − 19.20 (fee 0.05 %) = 961,580.80 CNY available
    assert 'id="available">961,580.80<' in funds
    assert 'id="frozen">0.00<' in funds
    assert "−38,400.00" in funds
    assert "−19.20" in funds
    orders = b.get("/trading/orders/", **EN).content.decode()
    assert "My orders and trades" in orders
    assert "38,400.00" in orders
    assert "filled" in orders


def test_order_form_validation_in_both_languages(exchange):
    a = client_for(exchange.sd1_user, verified=True)
    r = place(a, "k1", price="96.505")
    assert r.status_code == 200
    assert "最多两位小数（最小变动单位 0.01 元）" in r.content.decode()
    r = a.post("/trading/order/", {"key": "k2", "instrument": "CEA23", "method": "listing", "side": "S", "price": "96.505", "quantity_t": "10"}, **EN)
    assert "at most two decimals (tick 0.01)" in r.content.decode()
    assert "最多两位小数" not in r.content.decode()
    r = place(a, "k3", qty="100000")  # a listing order must stay below 100,000 t (T0103)
    assert "挂牌协议" in r.content.decode()
    assert "100,000" in r.content.decode()
    r = a.post("/trading/order/", {"key": "k4", "instrument": "CEA23", "method": "block", "side": "S", "price": "96.00", "quantity_t": "99999"}, **EN)
    assert "at least 100,000 t" in r.content.decode()
    r = place(a, "k5", qty="0")
    assert "至少为 1 吨" in r.content.decode() or "1 t" in r.content.decode()
    r = place(a, "k6", qty="60000")  # more than the 50,000 t held: the service refuses T0207, shown on the form
    assert r.status_code == 200
    assert "T0207" in r.content.decode()
    assert "可卖持仓不足" in r.content.decode()
    assert not Order.objects.filter(kind="place").exists()
    r = place(a, "k7", price="104.51")  # outside the band: logged and rejected by the book
    assert r.status_code == 302
    assert Order.objects.get(kind="place").reject_code == "T0105"
    assert "T0105" in a.get(r["Location"]).content.decode()


def test_cancel_from_my_orders_and_not_someone_elses(exchange):
    x = exchange
    a, b = client_for(x.sd1_user, verified=True), client_for(x.sd2_user, verified=True)
    place(a, "q1")
    quote = Order.objects.get(kind="place")
    page = a.get("/trading/orders/").content.decode()
    key = form_key(page, "/trading/cancel/")
    r = b.post("/trading/cancel/", {"key": "steal", "order": quote.seq, "back": "orders"})
    assert r.status_code == 302
    assert "T0110" in b.get("/trading/orders/").content.decode()
    assert not Order.objects.filter(kind="cancel").exists()
    assert f'data-order="{quote.seq}"' not in b.get("/trading/orders/").content.decode()  # another participant's order is not listed
    r = a.post("/trading/cancel/", {"key": key, "order": quote.seq, "back": "orders"})
    assert r["Location"] == "/trading/orders/"
    quote.refresh_from_db()
    assert (quote.status, quote.frozen_t) == ("cancelled", 0)


def test_roles_authority_sees_market_data_only_and_operator_sees_all(exchange):
    x = exchange
    place(client_for(x.sd1_user, verified=True), "q1")
    mee = client_for(x.w.mee, verified=True)
    board = mee.get("/trading/?instrument=CEA23").content.decode()
    assert "96.00" in board
    assert "/trading/order/" not in board
    assert "/trading/take/" not in board
    r = mee.post("/trading/order/", {"key": "x", "instrument": "CEA23", "method": "listing", "side": "B", "price": "96.00", "quantity_t": "1"},
                 follow=True)
    assert "T0209" in r.content.decode()
    assert "无交易权限" in r.content.decode()
    assert Order.objects.filter(kind="place").count() == 1
    for path in ("/trading/orders/", "/trading/funds/"):
        r = mee.get(path)
        assert r.status_code == 403
        assert "R0502" in r.content.decode()
    op = client_for(x.operator, verified=True)
    assert "913700001630435316" in op.get("/trading/orders/").content.decode()
    assert 'id="available">1,000,000.00<' in op.get("/trading/funds/", {"participant": SD_2}).content.decode()
    assert Client().get("/trading/").status_code == 302  # the board needs a login
    assert Client().get("/trading/orders/")["Location"].startswith("/login/")


def test_public_market_data_page_with_chart(exchange, clock):
    x = exchange
    a = client_for(x.sd1_user, verified=True)
    place(a, "q1", price="96.00", qty="300")
    place(a, "q2", price="97.00", qty="200")
    q1, q2 = Order.objects.filter(kind="place").order_by("seq")
    ts.order_take(key="t1", participant=x.w.sd2, quote_seq=q1.seq, quantity_t=300, actor=x.sd2_user)
    ts.order_take(key="t2", participant=x.w.sd2, quote_seq=q2.seq, quantity_t=100, actor=x.sd2_user)
    ts.day_close(market="national", instrument="CEA23", day=dt.date(2024, 11, 4))
    clock.set("2024-11-05", 10)
    ts.day_open(market="national", instrument="CEA23", day=dt.date(2024, 11, 5))
    ts.day_close(market="national", instrument="CEA23", day=dt.date(2024, 11, 5))  # a day without trades keeps the close
    anon = Client()
    assert "CEA23" in anon.get("/trading/market/").content.decode()
    page = anon.get("/trading/market/CEA23/", {"start": "2024-11-01", "end": "2024-11-08"}).content.decode()
    # close 2024-11-04: (300 × 96.00 + 100 × 97.00) / 400 = 3,850,000 fen / 400 t = 9,625 fen = 96.25 CNY; 11-05, without
    # trades, opens and closes at 96.25 as the exchange publishes such days
    table = page.split('id="days"')[1]
    assert table.count(">96.25<") == 3
    assert "38,500.00" in table
    # the chart is server-drawn SVG: no inline script (the shell's one same-origin script file aside)
    assert "<svg" in page
    assert "<polyline" in page
    assert page.count("<script") == page.count('<script src="/static/')
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    points = re.search(r'<polyline class="close" points="([^"]+)"', page).group(1).split()
    assert len(points) == 2
    assert points[0].split(",")[1] == points[1].split(",")[1]  # same close → same height
    assert anon.get("/trading/market/NOPE/").status_code == 404
    # the quote board, where participants see prices, shows the same price history (issue 15)
    board = a.get("/trading/?instrument=CEA23").content.decode()
    assert re.search(r'<polyline class="close" points="([^"]+)"', board).group(1).split() == points
    assert 'href="/trading/market/CEA23/"' in board


def test_csrf_is_enforced_on_the_order_form(exchange):
    c = Client(enforce_csrf_checks=True)
    c.force_login(exchange.sd1_user)
    r = c.post("/trading/order/", {"key": "k", "instrument": "CEA23", "method": "listing", "side": "S", "price": "96.00", "quantity_t": "10"})
    assert r.status_code == 403
    assert not Order.objects.filter(kind="place").exists()
