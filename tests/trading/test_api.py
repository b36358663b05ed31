"""The exchange's API on the real database: order entry with exact price conversion and idempotency,
take and cancel, the best-five board, my orders / trades / funds, public market data, and the refusals
(funds, session closed, another participant's order, authority may not trade, CSRF).

Market (tests/trading/conftest.py): CEA23 open on 2024-11-04 at a previous close of 95.00 CNY (band
±10% → 85.50 … 104.50), each Shandong entity 50,000 t and 1,000,000.00 CNY; the clock at 10:00.
"""

import datetime as dt

from django.test import Client

from cets.trading import services as ts
from cets.trading.funds import funds_verify
from cets.trading.models import Order, Trade
from tests.conftest import SD_1, SD_2, client_for

URL = "/api/v1/trading"


def post(c, path, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return c.post(f"{URL}{path}", body, content_type="application/json", **headers)


def sell(c, key, price="96.00", qty=1_000, **extra):
    return post(c, "/orders", {"instrument": "CEA23", "method": "listing", "side": "S", "price": price, "quantity_t": qty, **extra}, key=key)


def test_quote_board_take_trades_and_funds(exchange):
    x = exchange
    a, b = client_for(x.sd1_user, verified=True), client_for(x.sd2_user, verified=True)
    r = sell(a, "q1")
    assert r.status_code == 200, r.content
    q = r.json()
    assert (q["status"], q["price_fen"], q["price"], q["frozen_t"], q["participant"]) == ("resting", 9_600, "96.00", 1_000, SD_1)

    board = b.get(f"{URL}/board", {"instrument": "CEA23"}).json()
    assert board["open"]
    assert (board["prev_close_fen"], board["band_low_fen"], board["band_high_fen"]) == (9_500, 8_550, 10_450)
    assert board["bids"] == []
    assert [(lv["price"], lv["quantity_t"], lv["orders"]) for lv in board["asks"]] == [("96.00", 1_000, 1)]
    assert board["asks"][0]["quotes"] == [{"seq": q["seq"], "remaining_t": 1_000, "mine": False, "directed": False, "takeable": True}]
    assert a.get(f"{URL}/board", {"instrument": "CEA23"}).json()["asks"][0]["quotes"][0] | {} == {
        "seq": q["seq"], "remaining_t": 1_000, "mine": True, "directed": False, "takeable": False}

    r = post(b, "/take", {"quote": q["seq"], "quantity_t": 400, "key": "t1"})
    assert r.status_code == 200
    assert r.json()["status"] == "filled"
    assert r.json()["side"] == "B"
    # 400 t × 96.00 CNY = 38,400.00 CNY = 3,840,000 fen; fee 0.05 % per side = 1,920 fen (trading pack [fees]).
    bought = b.get(f"{URL}/trades").json()
    assert [(t["side"], t["quantity_t"], t["amount_fen"], t["fee_fen"], t["buyer"]) for t in bought] == [("B", 400, 3_840_000, 1_920, None)]
    assert [(t["side"], t["fee_fen"]) for t in a.get(f"{URL}/trades").json()] == [("S", 1_920)]

    f = b.get(f"{URL}/funds").json()
    # 100,000,000 − 3,840,000 − 1,920 = 96,158,080 fen available, nothing left frozen.
    assert (f["participant"], f["available_fen"], f["frozen_fen"]) == (SD_2, 96_158_080, 0)
    # newest first: fee (−1,920 frozen), settlement (−3,840,000 frozen), freeze (3,841,920 available → frozen), deposit
    assert [(e["kind"], e["available_change_fen"], e["frozen_change_fen"]) for e in f["entries"]] == [
        ("fee", 0, -1_920), ("settle", 0, -3_840_000), ("freeze", -3_841_920, 3_841_920), ("deposit", 100_000_000, 0)]
    seller = a.get(f"{URL}/funds").json()
    assert (seller["available_fen"], seller["frozen_fen"]) == (100_000_000 + 3_840_000 - 1_920, 0)

    board = b.get(f"{URL}/board", {"instrument": "CEA23"}).json()
    assert [(lv["price_fen"], lv["quantity_t"]) for lv in board["asks"]] == [(9_600, 600)]
    mine = a.get(f"{URL}/orders").json()
    assert [(o["seq"], o["status"], o["filled_t"], o["remaining_t"]) for o in mine] == [(q["seq"], "resting", 400, 600)]
    assert funds_verify() == []


def test_price_is_converted_exactly_and_malformed_prices_are_refused(exchange):
    a = client_for(exchange.sd1_user, verified=True)
    assert sell(a, "p1", price="96.5").json()["price_fen"] == 9_650
    assert sell(a, "p2", price=" 104.50 ").json()["price_fen"] == 10_450  # the band's upper limit, exactly
    r = post(a, "/orders", {"instrument": "CEA23", "side": "S", "price_fen": 9_601, "quantity_t": 10}, key="p3")
    assert r.json()["price"] == "96.01"
    for bad in ("96.505", "-96", "1e2", "96,5", "0.00", "", "９６"):
        r = sell(a, f"bad-{len(bad)}-{bad.encode().hex()}", price=bad)
        assert (r.status_code, r.json().get("code")) == (422, "T0401"), (bad, r.json())
    for method in ("continuous", "auction", "x"):  # order entry offers the national methods only
        r = sell(a, f"m-{method}", method=method)
        assert (r.status_code, r.json()["code"]) == (422, "T0113"), method
    assert a.get(f"{URL}/board", {"instrument": "CEA23", "method": "x"}).json()["code"] == "T0113"
    r = sell(a, "both", price="96.00", price_fen=9_600)
    assert (r.status_code, r.json()["code"]) == (422, "T0404")
    r = post(a, "/orders", {"instrument": "CEA23", "side": "S", "price": 96.5, "quantity_t": 10}, key="float")  # a JSON float
    assert r.status_code == 422
    assert not Order.objects.filter(key__endswith="-float").exists()
    # just outside the band: logged, then rejected by the book with T0105 (and the units released)
    r = sell(a, "p4", price="104.51")
    assert (r.status_code, r.json()["status"], r.json()["reject_code"], r.json()["frozen_t"]) == (200, "rejected", "T0105", 0)


def test_idempotency_key_from_header_or_field_and_per_user(exchange):
    x = exchange
    a, b = client_for(x.sd1_user, verified=True), client_for(x.sd2_user, verified=True)
    first = sell(a, "k1").json()
    again = post(a, "/orders", {"key": "k1", "instrument": "CEA23", "method": "listing", "side": "S", "price": "96.00", "quantity_t": 1_000})
    assert again.json()["seq"] == first["seq"]
    assert Order.objects.filter(kind="place").count() == 1
    changed = sell(a, "k1", qty=999)
    assert (changed.status_code, changed.json()["code"]) == (422, "T0203")
    other = sell(b, "k1")  # another user's k1 is another order
    assert other.status_code == 200
    assert other.json()["seq"] != first["seq"]
    assert other.json()["participant"] == SD_2
    r = post(a, "/orders", {"instrument": "CEA23", "side": "S", "price": "96.00", "quantity_t": 1})
    assert (r.status_code, r.json()["code"]) == (422, "T0405")
    r = sell(a, "has space")
    assert (r.status_code, r.json()["code"]) == (422, "T0402")


def test_refusals_funds_session_other_participant_and_authority(exchange, clock):
    x = exchange
    a, b = client_for(x.sd1_user, verified=True), client_for(x.sd2_user, verified=True)
    before = Order.objects.count()
    # 99,999 t × 100.00 CNY = 9,999,900.00 CNY > 1,000,000.00 CNY available
    r = post(b, "/orders", {"instrument": "CEA23", "side": "B", "price": "100.00", "quantity_t": 99_999}, key="rich")
    assert (r.status_code, r.json()["code"]) == (422, "T0201")
    r = sell(b, "short", qty=50_001)
    assert (r.status_code, r.json()["code"]) == (422, "T0207")
    assert Order.objects.count() == before

    q = sell(a, "q1").json()
    r = post(b, "/cancel", {"order": q["seq"]}, key="steal")
    assert (r.status_code, r.json()["code"]) == (422, "T0110")
    assert not Order.objects.filter(kind="cancel").exists()
    r = post(a, "/take", {"quote": q["seq"], "quantity_t": 1}, key="self")  # own quote: the book refuses T0108
    assert (r.json()["status"], r.json()["reject_code"]) == ("rejected", "T0108")

    for who in (x.w.mee, x.w.province_sd, x.operator):
        c = client_for(who, verified=True)
        r = sell(c, f"auth-{who.username}")
        assert (r.status_code, r.json()["code"]) == (422, "T0209"), who.username
        r = post(c, "/take", {"quote": q["seq"], "quantity_t": 1}, key="t")
        assert r.json()["code"] == "T0209"

    clock.set("2024-11-04", 12)  # lunch break
    r = post(b, "/take", {"quote": q["seq"], "quantity_t": 1}, key="lunch")
    assert (r.status_code, r.json()["code"]) == (422, "T0205")
    clock.set("2024-11-04", 14)
    r = post(b, "/orders", {"instrument": "CEA23", "method": "block", "side": "B", "price": "95.00", "quantity_t": 100_000}, key="blk")
    assert r.json()["code"] == "T0201"  # afternoon: the block session is open; 9,500,000.00 CNY is more than the funds
    clock.set("2024-11-09", 10)  # a Saturday
    assert sell(a, "sat").json()["code"] == "T0205"

    r = post(a, "/cancel", {"order": q["seq"]}, key="c1")
    assert r.status_code == 200
    assert r.json()["status"] in ("done", "filled")
    assert Order.objects.get(seq=q["seq"]).status == "cancelled"
    r = post(a, "/cancel", {"order": q["seq"]}, key="c2")  # no longer resting
    assert r.json()["code"] == "T0110"


def test_who_reads_what(exchange):
    x = exchange
    a, b = client_for(x.sd1_user, verified=True), client_for(x.sd2_user, verified=True)
    q = sell(a, "q1").json()
    post(b, "/orders", {"instrument": "CEA23", "side": "B", "price": "94.00", "quantity_t": 100}, key="b1")
    assert [o["participant"] for o in a.get(f"{URL}/orders").json()] == [SD_1]
    assert [o["participant"] for o in b.get(f"{URL}/orders").json()] == [SD_2]
    op = client_for(x.operator, verified=True)
    assert sorted(o["participant"] for o in op.get(f"{URL}/orders").json()) == [SD_1, SD_2]
    assert [o["seq"] for o in op.get(f"{URL}/orders", {"participant": SD_1}).json()] == [q["seq"]]
    # 100 t × 94.00 CNY = 940,000 fen + fee 0.05 % = 470 fen → 940,470 fen frozen for the bid
    assert op.get(f"{URL}/funds", {"participant": SD_2}).json()["frozen_fen"] == 940_470
    assert op.get(f"{URL}/funds").status_code == 403  # an operator names the participant
    for who in (x.w.mee, x.w.province_sd, x.w.registry_a):
        c = client_for(who, verified=True)
        for path in ("/orders", "/trades", "/funds"):
            r = c.get(URL + path)
            assert (r.status_code, r.json()["code"]) == (403, "R0502"), (who.username, path)
        board = c.get(f"{URL}/board", {"instrument": "CEA23"}).json()  # market data: yes
        assert board["asks"][0]["quotes"][0]["takeable"] is False
        assert board["bids"][0]["price"] == "94.00"
    anon = Client()
    assert anon.get(f"{URL}/board", {"instrument": "CEA23"}).status_code == 401
    assert anon.get(f"{URL}/orders").status_code == 401
    assert anon.get(f"{URL}/market-data", {"instrument": "CEA23"}).status_code == 200
    assert anon.get(f"{URL}/instruments").json() == ["CEA23"]
    assert SD_1 not in b.get(f"{URL}/board", {"instrument": "CEA23"}).content.decode()  # the board names no participant


def test_board_shows_the_best_five_levels_and_a_sixth_cannot_be_taken(exchange):
    x = exchange
    a, b = client_for(x.sd1_user, verified=True), client_for(x.sd2_user, verified=True)
    seqs = {}
    for i, price in enumerate(["97.00", "96.00", "98.00", "96.00", "99.00", "100.00", "101.00"]):
        seqs[(price, i)] = sell(a, f"s{i}", price=price, qty=100 + i).json()["seq"]
    board = b.get(f"{URL}/board", {"instrument": "CEA23"}).json()
    # asks best (lowest) first, five levels; 96.00 holds two quotes in time order (101 t + 103 t = 204 t)
    assert [(lv["price"], lv["quantity_t"], lv["orders"]) for lv in board["asks"]] == [
        ("96.00", 204, 2), ("97.00", 100, 1), ("98.00", 102, 1), ("99.00", 104, 1), ("100.00", 105, 1)]
    assert [qq["seq"] for qq in board["asks"][0]["quotes"]] == [seqs[("96.00", 1)], seqs[("96.00", 3)]]
    r = post(b, "/take", {"quote": seqs[("101.00", 6)], "quantity_t": 10}, key="far")
    assert (r.json()["status"], r.json()["reject_code"]) == ("rejected", "T0106")
    r = post(b, "/take", {"quote": seqs[("100.00", 5)], "quantity_t": 106}, key="much")
    assert r.json()["reject_code"] == "T0107"
    r = post(b, "/take", {"quote": 999_999, "quantity_t": 1}, key="none")
    assert (r.status_code, r.json()["code"]) == (422, "T0211")
    assert Trade.objects.count() == 0


def test_market_data_after_the_close(exchange, clock):
    x = exchange
    a, b = client_for(x.sd1_user, verified=True), client_for(x.sd2_user, verified=True)
    q1 = sell(a, "q1", price="96.00", qty=300).json()
    q2 = sell(a, "q2", price="97.00", qty=200).json()
    post(b, "/take", {"quote": q1["seq"], "quantity_t": 300}, key="t1")
    post(b, "/take", {"quote": q2["seq"], "quantity_t": 100}, key="t2")
    ts.day_close(market="national", instrument="CEA23", day=dt.date(2024, 11, 4))
    md = Client().get(f"{URL}/market-data", {"instrument": "CEA23", "start": "2024-11-01", "end": "2024-11-08"}).json()
    # 300 t × 96.00 + 100 t × 97.00 = 2,880,000 + 970,000 = 3,850,000 fen over 400 t → close 9,625 fen (96.25 CNY) exactly
    assert [(d["date"], d["open_fen"], d["high_fen"], d["low_fen"], d["close_fen"], d["volume_t"], d["amount_fen"]) for d in md["quotes"]] == [
        ("2024-11-04", 9_600, 9_700, 9_600, 9_625, 400, 3_850_000)]
    listing = [s for s in md["stats"] if s["method"] == "listing"]
    assert [(s["volume_t"], s["amount_fen"], s["trades"], s["ytd_volume_t"], s["cum_amount_fen"]) for s in listing] == [(400, 3_850_000, 2, 400, 3_850_000)]
    assert {s["method"] for s in md["stats"]} == {"listing", "block", "auction"}
    r = Client().get(f"{URL}/market-data", {"instrument": "CEA23", "start": "2024-11-08", "end": "2024-11-01"})
    assert (r.status_code, r.json()["code"]) == (422, "T0406")
    assert Client().get(f"{URL}/market-data", {"instrument": "CEA23", "start": "2020-01-01", "end": "2026-01-01"}).json()["code"] == "T0406"
    # after the close the board is closed and empty (the rest of q2 expired)
    board = b.get(f"{URL}/board", {"instrument": "CEA23"}).json()
    assert board["open"] is False
    assert board["asks"] == []


def test_csrf_is_enforced_on_posts(exchange):
    c = client_for(exchange.sd1_user, verified=True)
    c.handler.enforce_csrf_checks = True
    body = {"instrument": "CEA23", "side": "S", "price": "96.00", "quantity_t": 10}
    r = c.post(f"{URL}/orders", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="c1")
    assert r.status_code == 403
    assert not Order.objects.filter(kind="place").exists()
    c.get("/login/")  # any page with a form sets the CSRF cookie
    token = c.cookies["csrftoken"].value
    r = c.post(f"{URL}/orders", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="c1", HTTP_X_CSRFTOKEN=token)
    assert r.status_code == 200
    assert r.json()["status"] == "resting"


def test_directed_block_order_is_confirmed_by_its_counterparty_only(exchange, clock):
    from cets.registry.models import AccountKind, Position, TransferKind
    from cets.registry.services import Leg, system_account, transfer_post
    from cets.trading.funds import funds_deposit

    x = exchange
    transfer_post(key="iss-more", kind=TransferKind.ISSUE, unit_type=x.w.cea, debit=Leg(system_account("national", AccountKind.NATIONAL_TOTAL),
                  Position.REGISTRY), credit=Leg(x.w.accounts[SD_1], Position.TRADING), quantity=100_000)
    funds_deposit(key="dep-more", holder=x.w.sd2, amount_fen=1_000_000_000, actor=None)  # + 10,000,000.00 CNY
    clock.set("2024-11-04", 14)  # block agreements trade in the afternoon
    a, b, z = client_for(x.sd1_user, verified=True), client_for(x.sd2_user, verified=True), client_for(x.w.entity_zj1_user, verified=True)
    body = {"instrument": "CEA23", "method": "block", "side": "S", "price": "90.00", "quantity_t": 120_000}
    r = post(a, "/orders", dict(body, counterparty="91330000000000000X"), key="blk0")
    assert (r.status_code, r.json()["code"]) == (422, "T0403")
    q = post(a, "/orders", dict(body, counterparty=SD_2), key="blk1").json()
    assert (q["status"], q["counterparty"], q["frozen_t"]) == ("resting", SD_2, 120_000)  # 90.00 is inside ±30 % of 95.00 (66.50 … 123.50)
    seen_by = {who: c.get(f"{URL}/board", {"instrument": "CEA23", "method": "block"}).json()["asks"][0]["quotes"][0] for who, c in
               (("sd2", b), ("zj1", z))}
    assert seen_by["sd2"]["takeable"]
    assert seen_by["sd2"]["directed"]
    assert not seen_by["zj1"]["takeable"]
    r = post(b, "/take", {"quote": q["seq"], "quantity_t": 100_000}, key="part")
    assert r.json()["reject_code"] == "T0112"  # a block order is confirmed for its whole quantity
    r = post(b, "/take", {"quote": q["seq"], "quantity_t": 120_000}, key="all")
    assert r.json()["status"] == "filled"
    t = Trade.objects.get()
    # 120,000 t × 90.00 CNY = 10,800,000.00 CNY = 1,080,000,000 fen; fee 0.05 % = 540,000 fen per side
    assert (t.method, t.amount_fen, t.buyer_fee_fen, t.seller_fee_fen) == ("block", 1_080_000_000, 540_000, 540_000)


def test_a_buyer_without_a_registry_account_is_refused_at_entry(exchange):
    """Core fix (services._freeze): a buy from a participant without an open registry account used to be
    accepted; the trade that hit it then failed in settlement (no account to deliver to) inside the
    sequencer, which left the command unapplied at the head of the log and halted every later order.
    Now the buy is refused T0208 at entry and nothing is written."""
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create
    from cets.trading.funds import funds_deposit

    org = Organisation.objects.create(uscc="91310000MA1FL0000X", name="某投资机构", kind=Organisation.Kind.INSTITUTION)
    user = member_create(username="inst", organisation=org, role=Role.TRADER, password="test-password-123")
    funds_deposit(key="dep-inst", holder=org, amount_fen=10_000_000, actor=None)
    before = Order.objects.count()
    r = post(client_for(user, verified=True), "/orders", {"instrument": "CEA23", "side": "B", "price": "95.00", "quantity_t": 100}, key="b1")
    assert (r.status_code, r.json()["code"]) == (422, "T0208")
    assert Order.objects.count() == before
    assert sell(client_for(exchange.sd2_user, verified=True), "s1").json()["status"] == "resting"  # the market goes on
