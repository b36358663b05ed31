"""CCER on the voluntary market's own exchange: its trading pack, order entry, the sequencer and delivery-versus-
payment settlement through the registry ledger's one write path (the same path as allowances), and the replay
of the real daily bulletins (data/ccer-national/ccer_daily_trades.csv) with every published figure reconciled."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cets.core.errors import CetsError, InputError
from cets.registry.audit import audit_verify
from cets.registry.models import Holding, Position
from cets.trading import entry
from cets.trading import services as ts
from cets.trading.book import vwap_fen
from cets.trading.funds import fund_account_of, funds_verify
from cets.trading.models import DailyStat, Order, Trade
from cets.trading.replay_plan import exact_legs, plan_totals
from cets.trading.replay_totals import load_totals, replay_totals_run
from tests.conftest import DATA
from tests.trading.conftest import CCER_DAY as DAY

CCER_DAILY = DATA / "ccer-national" / "ccer_daily_trades.csv"


# --- the pack ------------------------------------------------------------------------------------------


def test_the_voluntary_market_has_its_own_trading_pack_and_it_checks():
    from cets.rules.check import check_market_file, check_pack_file
    from cets.rules.markets import load_market, market_path
    from cets.rules.packs import pack_for

    # what `cets rules check` runs on the market file (its [[packs]] resolve) and on the pack
    assert check_market_file(market_path("ccer")) == []
    assert check_pack_file(market_path("ccer").parent / "trading-2024-2026.toml") == []
    m = load_market("ccer")
    assert m.years("trading") == [2024, 2025, 2026]
    pack = pack_for("ccer", "trading", 2025)
    rules = ts.MarketRules.from_pack(pack)
    assert rules.instruments == {} and rules.families == {"CCER": "CCER"}
    assert rules.publication == "daily_totals"
    # a CCER subject is the registry unit type of one project and vintage; an allowance code is not this market's
    assert rules.subject_unit_type("CCER-A110004-2024") == "CCER-A110004-2024"
    assert rules.subject_unit_type("CEA23") is None
    assert rules.subject_unit_type("CCER") is None
    # what no text confirms carries its tag
    assert {u["key"] for u in pack.data["unconfirmed"]} >= {"order", "sessions", "fees", "positions"}


# --- order entry and DvP settlement of CCER ------------------------------------------------------------


def _held(acc, ut, position) -> int:
    return Holding.objects.filter(account=acc, unit_type=ut, position=position).values_list("quantity", flat=True).first() or 0


def test_a_ccer_holder_sells_and_the_trade_settles_delivery_versus_payment(ccer):
    x = ccer
    ut = x.ccer
    quote = entry.place(user=x.ccer_trader, key="ccer-q1", instrument=ut.code, method="listing", side="S", price_fen=9_150, quantity_t=1_200,
                        market="ccer")
    assert quote.status == Order.Status.RESTING and quote.market == "ccer"
    assert _held(x.ccer_seller_acc, ut, Position.PENDING) == 1_200  # frozen at entry
    take = entry.take(user=x.sd2_user, key="ccer-t1", quote=quote.seq, quantity_t=1_000, market="ccer")
    assert take.status == Order.Status.FILLED
    tr = Trade.objects.get(market="ccer")
    # 1,000 t × 91.50 CNY = 91,500.00 CNY = 9,150,000 fen; fee 0.05% per side (pack [fees]) = 4,575 fen
    assert (tr.instrument, tr.price_fen, tr.quantity_t, tr.amount_fen, tr.buyer_fee_fen, tr.seller_fee_fen) == (ut.code, 9_150, 1_000, 9_150_000, 4_575, 4_575)
    assert _held(x.ccer_buyer_acc, ut, Position.TRADING) == 1_000
    assert _held(x.ccer_seller_acc, ut, Position.TRADING) == 3_800
    assert _held(x.ccer_seller_acc, ut, Position.PENDING) == 200
    buyer = fund_account_of(holder=x.w.sd2, market="ccer")
    assert (buyer.available_fen, buyer.frozen_fen) == (100_000_000 - 9_150_000 - 4_575, 0)
    seller = fund_account_of(holder=x.ccer_owner, market="ccer")
    assert seller.available_fen == 9_150_000 - 4_575
    # the allowance market is untouched: no national trade, SD_2's national fund account as before
    assert not Trade.objects.filter(market="national").exists()
    assert fund_account_of(holder=x.w.sd2).available_fen == 100_000_000
    assert funds_verify() == []
    assert audit_verify().ok


def test_ccer_orders_are_refused_like_allowance_orders(ccer):
    x = ccer
    ut = x.ccer
    # more than the holder has in its trading position: refused at entry, nothing frozen
    with pytest.raises(CetsError) as e:
        entry.place(user=x.ccer_trader, key="ccer-big", instrument=ut.code, method="listing", side="S", price_fen=9_000, quantity_t=5_001,
                    market="ccer")
    assert e.value.code == "T0207"
    assert _held(x.ccer_seller_acc, ut, Position.TRADING) == 5_000
    # outside the ±10% band of the 90.00 reference (limits 81.00 … 99.00)
    o = entry.place(user=x.ccer_trader, key="ccer-band", instrument=ut.code, method="listing", side="S", price_fen=9_901, quantity_t=10,
                    market="ccer")
    assert o.status == Order.Status.REJECTED
    # an allowance subject is not this market's
    with pytest.raises(CetsError) as e:
        entry.place(user=x.sd2_user, key="ccer-cea", instrument="CEA23", method="listing", side="B", price_fen=9_000, quantity_t=10, market="ccer")
    assert e.value.code == "T0206"
    # and a CCER subject is not the allowance market's
    with pytest.raises(CetsError) as e:
        entry.place(user=x.sd2_user, key="nat-ccer", instrument=ut.code, method="listing", side="B", price_fen=9_000, quantity_t=10)
    assert e.value.code == "T0206"
    assert funds_verify() == []
    assert audit_verify().ok


def test_the_close_writes_the_days_ccer_statistics(ccer):
    x = ccer
    ut = x.ccer
    for i, (p, q) in enumerate(((9_100, 300), (9_000, 700))):
        quote = entry.place(user=x.ccer_trader, key=f"ccer-q{i}", instrument=ut.code, method="listing", side="S", price_fen=p, quantity_t=q, market="ccer")
        entry.take(user=x.sd2_user, key=f"ccer-t{i}", quote=quote.seq, quantity_t=q, market="ccer")
    x.clock.set("2025-06-09", 16)
    q = entry.day_close(user=x.operator, instrument=ut.code, day=DAY, market="ccer")
    stat = DailyStat.objects.get(market="ccer", instrument=ut.code, date=DAY, method="listing")
    # 300 × 91.00 + 700 × 90.00 = 27,300 + 63,000 = 90,300.00 CNY over 1,000 t: close 90.30
    assert (stat.volume_t, stat.amount_fen, q.close_fen, q.open_fen, q.high_fen, q.low_fen) == (1_000, 9_030_000, 9_030, 9_100, 9_100, 9_000)


# --- the integer-fen construction both replays use -----------------------------------------------------


def test_exact_legs_by_hand():
    # 2026-08-19: 73,387 t for 6,864,898.80 CNY = 686,489,880 fen; 686,489,880 = 9,354 × 73,387 + 27,882
    assert exact_legs(73_387, 686_489_880) == [(9_355, 27_882), (9_354, 45_505)]
    assert vwap_fen(686_489_880, 73_387) == 9_354  # published average 93.54
    # 2026-08-18: 116,000 t for 11,159,000.00 CNY (96.198… published 96.20): 96,000 t at 96.20 and 20,000 t at 96.19
    assert exact_legs(116_000, 1_115_900_000) == [(9_620, 96_000), (9_619, 20_000)]
    assert exact_legs(600, 5_520_000) == [(9_200, 600)]  # 2025-03-19: 600 t for 55,200.00 CNY, 92.00 exactly: one price
    assert exact_legs(0, 0) == []


@given(st.integers(1, 2_000_000), st.integers(1, 30_000))
def test_plan_totals_reproduces_volume_and_turnover_to_the_fen(volume_t, avg_fen):
    amount = volume_t * avg_fen + (volume_t * 37 // 101)  # any amount within one fen per tonne of an average
    trades = plan_totals(volume_t=volume_t, amount_fen=amount, method="listing", max_t=99_999)
    assert sum(t.quantity_t for t in trades) == volume_t
    assert sum(t.quantity_t * t.price_fen for t in trades) == amount
    assert all(0 < t.quantity_t < 100_000 for t in trades)
    assert max(t.price_fen for t in trades) - min(t.price_fen for t in trades) <= 1


# --- the replay of the real bulletins ------------------------------------------------------------------


def test_load_totals_lists_every_bad_row(tmp_path):
    head = ("trade_date,daily_volume_tons,daily_turnover_yuan,daily_avg_price_yuan_per_ton,cumulative_volume_tons,cumulative_turnover_yuan,"
            "parse_status,parse_notes\n")
    f = tmp_path / "bad.csv"
    f.write_text(head + "2025-03-07,10,1.234,0.12,10,1.23,ok,\n2025-03-07,1,1,1,1,1,ok,\n2025-03-10,-5,1,1,1,1,ok,\n2025-03-11,x,y,1,1,1,review,old layout\n",
                 encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_totals(f)
    got = {(p.row, p.field) for p in e.value.problems}
    # three decimals of a yuan, a duplicate date, a negative volume; the review row's figures are never read
    assert got == {(2, "daily_turnover_yuan"), (3, "trade_date"), (4, "daily_volume_tons")}


@pytest.mark.django_db
def test_replay_of_march_2025_reconciles_and_lists_the_unparsed_row():
    rep = replay_totals_run(market="ccer", path=CCER_DAILY, start=dt.date(2025, 3, 7), end=dt.date(2025, 3, 31))
    assert rep.engine == [] and rep.published == []
    # 2025-03-20 is `inferred` in the source (bulletin link dead): not replayed; the neighbours' cumulative figures
    # leave 2,130 t and 218,408.40 CNY for it (1,332,169 − 1,330,039 t from 03-21's and 03-19's bulletins)
    [gap] = rep.unparsed
    assert (gap.date, gap.status, gap.implied_volume_t, gap.implied_amount_fen) == (dt.date(2025, 3, 20), "inferred", 2_130, 21_840_840)
    assert not DailyStat.objects.filter(market="ccer", date=dt.date(2025, 3, 20)).exists()
    assert rep.days == 16 and rep.figures == 16 * 5
    # 2025-03-07, the file's first parsed day: 748,800 t for 60,241,797.62 CNY, average 80.45 (bulletin); as listing
    # trades below 100,000 t at 80.45 and 80.46: 6,024,179,762 = 8,045 × 748,800 + 83,762 → 83,762 t at 80.46
    st7 = DailyStat.objects.get(market="ccer", date=dt.date(2025, 3, 7), method="listing")
    assert (st7.volume_t, st7.amount_fen, vwap_fen(st7.amount_fen, st7.volume_t)) == (748_800, 6_024_179_762, 8_045)
    assert sorted({t.price_fen for t in Trade.objects.filter(market="ccer", trading_day=dt.date(2025, 3, 7))}) == [8_045, 8_046]
    assert sum(t.quantity_t for t in Trade.objects.filter(market="ccer", trading_day=dt.date(2025, 3, 7), price_fen=8_046)) == 83_762
    rows = [r for r in load_totals(CCER_DAILY) if dt.date(2025, 3, 7) <= r.date <= dt.date(2025, 3, 31) and r.status == "ok"]
    assert sum(t.quantity_t for t in Trade.objects.filter(market="ccer")) == sum(r.volume_t for r in rows)
    assert sum(t.amount_fen for t in Trade.objects.filter(market="ccer")) == sum(r.amount_fen for r in rows)
    assert funds_verify() == []
    assert audit_verify().ok


@pytest.mark.django_db
def test_replay_of_the_whole_file_has_no_engine_mismatch():
    rep = replay_totals_run(market="ccer", path=CCER_DAILY)
    assert rep.engine == [] and rep.published == []
    # 356 rows: 353 parsed (347 with trades, 6 `ok_no_trade`), 3 not parsed and listed
    assert (rep.days, rep.days_with_trades, rep.figures) == (353, 347, 353 * 5)
    assert [(u.date.isoformat(), u.status) for u in rep.unparsed] == [("2024-01-22", "review"), ("2025-03-20", "inferred"), ("2025-09-30", "review")]
    # the last bulletin's cumulative 20,473,612 t less the three unparsed days (375,315 + 2,130 + 3,000 t) were traded here
    assert rep.volume_t == 20_473_612 - 375_315 - 2_130 - 3_000
    assert funds_verify() == []
    assert audit_verify().ok


def test_ccer_through_the_api(ccer):
    from tests.conftest import client_for

    x = ccer
    code = x.ccer.code
    url = "/api/v1/trading"
    seller, buyer = client_for(x.ccer_trader), client_for(x.sd2_user)
    r = seller.post(f"{url}/orders", {"instrument": code, "method": "listing", "side": "S", "price": "90.10", "quantity_t": 500, "market": "ccer"},
                    content_type="application/json", HTTP_IDEMPOTENCY_KEY="api-ccer-q")
    assert r.status_code == 200, r.content
    q = r.json()
    board = buyer.get(f"{url}/board", {"instrument": code, "market": "ccer"}).json()
    assert [(lv["price"], lv["quantity_t"]) for lv in board["asks"]] == [("90.10", 500)]
    r = buyer.post(f"{url}/take", {"quote": q["seq"], "quantity_t": 500, "market": "ccer"}, content_type="application/json",
                   HTTP_IDEMPOTENCY_KEY="api-ccer-t")
    assert r.status_code == 200 and r.json()["status"] == "filled"
    [t] = buyer.get(f"{url}/trades", {"market": "ccer"}).json()
    assert (t["instrument"], t["quantity_t"], t["amount_fen"]) == (code, 500, 4_505_000)  # 500 t × 90.10 CNY
    assert buyer.get(f"{url}/trades").json() == []  # the allowance market's trades: none
    assert buyer.get(f"{url}/funds", {"market": "ccer"}).json()["available_fen"] == 100_000_000 - 4_505_000 - 2_253  # fee 2,252.5 → 2,253
    assert code in buyer.get(f"{url}/instruments", {"market": "ccer"}).json()
    # a market without trading rules, or none at all: T0601, nothing written
    for m in ("nowhere", ""):
        r = buyer.post(f"{url}/orders", {"instrument": code, "method": "listing", "side": "B", "price": "90.00", "quantity_t": 1, "market": m},
                       content_type="application/json", HTTP_IDEMPOTENCY_KEY=f"api-bad-{m or 'empty'}")
        assert r.status_code in (400, 404, 409, 422) and r.json()["code"] == "T0601", r.content
        assert buyer.get(f"{url}/board", {"instrument": code, "market": m or "x"}).json()["code"] == "T0601"
    assert Order.objects.filter(key__contains="api-bad").count() == 0
    assert funds_verify() == []


def test_the_pages_take_the_market(ccer):
    from tests.conftest import client_for

    x = ccer
    code = x.ccer.code
    c = client_for(x.sd2_user)
    page = c.get("/trading/", {"market": "ccer"}).content.decode()
    assert code in page and 'name="market" value="ccer"' in page  # the order form posts to the voluntary market
    assert "CEA23" not in page.split('id="board"')[0].split("<select")[1]  # the subject picker lists CCER subjects only
    assert code not in c.get("/trading/").content.decode()  # the allowance market's board does not list CCER
    assert c.get("/trading/", {"market": "nowhere"}).status_code == 200  # an unknown market falls back to the primary one
    quote = entry.place(user=x.ccer_trader, key="pg-q", instrument=code, method="listing", side="S", price_fen=9_000, quantity_t=100, market="ccer")
    entry.take(user=x.sd2_user, key="pg-t", quote=quote.seq, quantity_t=100, market="ccer")
    x.clock.set("2025-06-09", 16)
    entry.day_close(user=x.operator, instrument=code, day=DAY, market="ccer")
    public = client_for(x.sd2_user).get("/trading/market/", {"market": "ccer"}).content.decode()
    assert code in public
    detail = c.get(f"/trading/market/{code}/", {"market": "ccer"})
    assert detail.status_code == 200 and "90.00" in detail.content.decode()
    assert c.get(f"/trading/market/{code}/").status_code == 404  # not a subject of the allowance market


@pytest.mark.django_db
def test_a_market_with_nothing_to_trade_yet_shows_an_empty_board(world):
    from cets.parties.models import Role
    from cets.parties.services import member_create
    from tests.conftest import client_for

    u = member_create(username="t-sd1", organisation=world.sd1, role=Role.TRADER, password="test-password-123")
    r = client_for(u).get("/trading/", {"market": "ccer"})
    assert r.status_code == 200
