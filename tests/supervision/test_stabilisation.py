"""Market stabilisation (draft Measures Art. 9, 23): triggers from the pack's values raise alerts to the national
authority (the decision stays human and is published); auctions from the reserve clear with trading.auction and
move units only on a second person's approval."""

from __future__ import annotations

import datetime as dt

import pytest

from cets.core.errors import CetsError
from cets.registry.models import AccountKind, Holding, Position, Proposal
from cets.registry.services import proposal_approve, reserve_fund_propose, system_account
from cets.supervision.models import StabilisationAlert
from cets.supervision.stabilisation import (
    Thresholds,
    parse_bids,
    reserve_auction_propose,
    stabilisation_alert_decide,
    stabilisation_triggers_check,
    thresholds,
    triggers_fired,
)
from tests.compliance.helpers import load_daily_stats
from tests.conftest import SD_1, SD_2, ZJ_1


@pytest.fixture
def mee2(world):
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create

    return member_create(username="mee2", organisation=Organisation.objects.get(name="生态环境部"), role=Role.NATIONAL_AUTHORITY,
                         password="test-password-123")


def test_the_packs_trigger_values():
    limits, pack_id, _sha = thresholds(market="national", year=2025)
    assert (limits, pack_id) == (Thresholds(12_000, 6_000, 10_000), "national/stabilisation-2025-2026")


def test_triggers_fired_by_hand():
    limits = Thresholds(price_high_fen=12_000, price_low_fen=6_000, volume_low_t=10_000)
    # 5,000 t for 650,000.00 CNY and 3,000 t for 360,000.00 CNY: 8,000 t, 101,000,000 fen → 12,625 fen/t
    assert triggers_fired(volume_t=8_000, amount_fen=101_000_000, limits=limits) == [("price_high", 12_625, 12_000), ("volume_low", 8_000, 10_000)]
    assert triggers_fired(volume_t=10_000, amount_fen=120_000_000, limits=limits) == []  # exactly at the values: nothing
    assert triggers_fired(volume_t=0, amount_fen=0, limits=limits) == []
    # half-up: 3 t for 17,999 fen = 5,999.67 → 6,000 fen/t, not below the low price
    assert triggers_fired(volume_t=3, amount_fen=17_999, limits=limits) == [("volume_low", 3, 10_000)]


@pytest.mark.django_db
def test_real_days_raise_alerts_to_the_national_authority(world):
    """Official figures (data/cea-national-official), every subject and method of the day, by hand:
    2025-10-20: CEA23 listing 29,742 t 1,156,692.40 CNY; CEA24 listing 510,655 t 19,647,676.65 CNY and block 723,450 t
    33,388,250.00 CNY → 1,263,847 t, 5,419,261,905 fen → 4,287.91 → 4,288 fen/t < 6,000: price_low; volume above 10,000.
    2025-01-06: 8 t for 776.00 CNY → 9,700 fen/t (inside), 8 t < 10,000: volume_low."""
    load_daily_stats("2025-10")
    load_daily_stats("2025-01")
    raised = stabilisation_triggers_check(market="national", day=dt.date(2025, 10, 20))
    assert [(a.trigger, a.value, a.threshold) for a in raised] == [("price_low", 4_288, 6_000)]
    assert [(a.trigger, a.value) for a in stabilisation_triggers_check(market="national", day=dt.date(2025, 1, 6))] == [("volume_low", 8)]
    stabilisation_triggers_check(market="national", day=dt.date(2025, 10, 20))  # idempotent
    assert StabilisationAlert.objects.count() == 2
    with pytest.raises(CetsError) as e:
        stabilisation_triggers_check(market="national", day=dt.date(2025, 10, 19))  # a Sunday: no figures
    assert e.value.code == "G0601"
    with pytest.raises(CetsError) as e:
        stabilisation_triggers_check(market="national", day=dt.date(2025, 10, 20), actor=world.registry_a)
    assert e.value.code == "R0502"
    # the inbox of the national authority shows the alerts; the decision is a person's and becomes public
    from cets.web.selectors import inbox

    assert any(i.en == "market stabilisation alerts to decide" and i.count == 2 for i in inbox(user=world.mee, year=2025))
    a = raised[0]
    with pytest.raises(CetsError) as e:
        stabilisation_alert_decide(alert_id=a.pk, actor=world.mee, decision=" ", decision_reference="x")
    assert e.value.code == "G0603"
    stabilisation_alert_decide(alert_id=a.pk, actor=world.mee, decision="暂不干预：价格下行与履约周期一致", decision_reference="环气候〔2025〕20号")
    with pytest.raises(CetsError) as e:
        stabilisation_alert_decide(alert_id=a.pk, actor=world.mee, decision="again", decision_reference="x")
    assert e.value.code == "G0602"
    from django.test import Client

    html = Client().get("/public/stabilisation/").content.decode()
    assert "环气候〔2025〕20号" in html and "暂不干预" in html


def test_auction_from_the_reserve_clears_and_moves_on_the_second_persons_approval(world, mee2):
    """By hand: 100,000 t offered at a floor of 8,000 fen/t; bids SD1 60,000 @ 9,000, SD2 50,000 @ 8,500, ZJ1 30,000 @ 7,000
    (below the floor: refused T0301). Uniform price: SD1 60,000 and SD2 40,000 (the marginal bid, partly), clearing at 8,500."""
    w = world
    proposal_approve(proposal_id=reserve_fund_propose(key="fund", unit_type=w.cea, year=2025, decision_ref="d0", actor=w.mee).pk, approver=mee2)
    a = {u: w.accounts[u].number for u in (SD_1, SD_2, ZJ_1)}
    from cets.trading.funds import funds_deposit
    from cets.trading.models import FundAccount

    for u in (SD_1, SD_2):
        funds_deposit(key=f"dep-{u}", holder=w.accounts[u].holder, amount_fen=600_000_000, actor=None)
    bids = parse_bids(f"{a[SD_1]},9000,60000\n{a[SD_2]},8500,50000\n\n{a[ZJ_1]}，7000，30000")
    p = reserve_auction_propose(key="auction-1", unit_type=w.cea, quantity_t=100_000, floor_fen=8_000, bids=bids, decision_ref="环气候〔2025〕21号",
                                actor=w.mee, year=2025)
    assert p.payload["auction"]["clearing_price_fen"] == 8_500 and p.payload["auction"]["refused"] == [[4, "T0301", "7000 < 8000"]]  # bid id = its line
    assert [(ln["account"], ln["quantity"], ln["price_fen"]) for ln in p.payload["lines"]] == [(a[SD_1], 60_000, 8_500), (a[SD_2], 40_000, 8_500)]

    def held(number):
        h = Holding.objects.filter(account__number=number, unit_type=w.cea, position=Position.REGISTRY).first()
        return h.quantity if h else 0

    assert held(a[SD_1]) == 0
    with pytest.raises(CetsError) as e:
        proposal_approve(proposal_id=p.pk, approver=w.mee)
    assert e.value.code == "R0501"
    proposal_approve(proposal_id=p.pk, approver=mee2)
    assert (held(a[SD_1]), held(a[SD_2]), held(a[ZJ_1])) == (60_000, 40_000, 0)
    # paid: 60,000 × 8,500 = 510,000,000 and 40,000 × 8,500 = 340,000,000 fen into the treasury fund account, no fee
    bal = {f.holder_id: f.available_fen for f in FundAccount.objects.filter(kind="participant")}
    assert (bal[w.accounts[SD_1].holder_id], bal[w.accounts[SD_2].holder_id]) == (90_000_000, 260_000_000)
    assert FundAccount.objects.get(kind="treasury", market="national").available_fen == 850_000_000
    assert held(system_account("national", AccountKind.NATIONAL_RESERVE).number) == 200_000 - 100_000
    from django.test import Client

    html = Client().get("/public/stabilisation/").content.decode()
    assert "环气候〔2025〕21号" in html and "85.00" in html


@pytest.mark.parametrize("text", ["", "acc,1.5,10", "acc,100", "acc,-1,10", ",100,10"])
def test_bad_bids_are_refused(text):
    with pytest.raises(CetsError) as e:
        parse_bids(text)
    assert e.value.code == "G0604"


def test_an_auction_with_no_valid_bid_proposes_nothing(world):
    w = world
    with pytest.raises(CetsError) as e:
        reserve_auction_propose(key="a", unit_type=w.cea, quantity_t=100, floor_fen=8_000, bids=parse_bids(f"{w.accounts[SD_1].number},10,5"),
                                decision_ref="d", actor=w.mee, year=2025)
    assert e.value.code == "G0605"
    with pytest.raises(CetsError) as e:
        reserve_auction_propose(key="a", unit_type=w.cea, quantity_t=0, floor_fen=8_000, bids=[], decision_ref="d", actor=w.mee, year=2025)
    assert e.value.code == "G0606"
    assert not Proposal.objects.exists()


def test_the_reserve_through_the_api_four_eyes(world, mee2):
    """Fund, auction and approve through the API: one person proposes, the other approves at the registry's proposal endpoint."""
    import json

    from tests.conftest import client_for, signing_code

    w = world
    c1, c2 = client_for(w.mee), client_for(mee2)

    def post(c, url, body):
        return c.post(url, data=json.dumps(body), content_type="application/json")

    r = post(c1, "/api/v1/supervision/reserve/fund", {"key": "fund", "unit_type": "CEA-2023", "year": 2025, "decision_ref": "d0"})
    assert r.status_code == 200, r.content
    fund = r.json()
    assert fund["payload"]["quantity"] == 200_000
    assert post(c1, f"/api/v1/registry/proposals/{fund['id']}/approve", {"otp_token": signing_code(w.mee)}).json()["code"] == "R0501"
    assert post(c2, f"/api/v1/registry/proposals/{fund['id']}/approve", {}).status_code == 422  # signing needs the approver's code
    assert post(c2, f"/api/v1/registry/proposals/{fund['id']}/approve", {"otp_token": signing_code(mee2)}).status_code == 200
    from cets.trading.funds import funds_deposit

    funds_deposit(key="dep", holder=w.accounts[SD_1].holder, amount_fen=10_000_000, actor=None)
    r = post(c1, "/api/v1/supervision/reserve/auctions", {"key": "auc", "unit_type": "CEA-2023", "year": 2025, "quantity_t": 1_000, "floor_fen": 5_000,
                                                          "decision_ref": "d1", "bids": [{"account": w.accounts[SD_1].number, "price_fen": 6_000,
                                                                                          "quantity_t": 1_500}]})
    assert r.status_code == 200, r.content
    assert r.json()["payload"]["lines"] == [{"account": w.accounts[SD_1].number, "quantity": 1_000, "price_fen": 6_000}]
    assert post(c2, f"/api/v1/registry/proposals/{r.json()['id']}/approve", {"otp_token": signing_code(mee2)}).status_code == 200
    body = c1.get("/api/v1/supervision/reserve").json()
    assert body["holdings"] == [{"unit_type": "CEA-2023", "position": "registry", "quantity_t": 199_000}]
    # strict types and roles
    bad = post(c1, "/api/v1/supervision/reserve/fund", {"key": "f2", "unit_type": "CEA-2023", "year": "2025", "decision_ref": "d"})
    assert bad.status_code == 422
    assert client_for(w.registry_a).get("/api/v1/supervision/reserve").status_code == 403
    assert client_for(w.registry_a).get("/api/v1/supervision/stabilisation/alerts").status_code == 403
    r = post(c1, "/api/v1/supervision/stabilisation/triggers", {"market": "national", "day": "2025-10-19"})
    assert (r.status_code, r.json()["code"]) == (422, "G0601")


@pytest.mark.django_db
def test_cli_end_of_day_trigger_check(capsys):
    from cets.cli import main

    load_daily_stats("2025-10")
    assert main(["supervision", "triggers", "--day", "2025-10-20"]) == 0
    assert "price_low: 4,288 vs 6,000" in capsys.readouterr().out
    assert main(["supervision", "triggers", "--day", "2025-10-19"]) == 1
    assert "G0601" in capsys.readouterr().out
