"""Monitoring: compliance risk index, weekly net-purchase report, real outcome counts (notice of
2023-07-17 §五(二))."""

import datetime as dt
from decimal import Decimal

from cets.allocation.services import special_treatment_set
from cets.compliance.models import Obligation
from cets.compliance.monitoring import HIGH, LOW, MEDIUM, RiskParams, report_weeks, risk_index, weekly_net
from cets.compliance.selectors import real_outcomes, risk_params, risk_rows, weekly_net_purchases
from cets.registry.models import Position, TransferKind
from cets.registry.services import Leg, transfer_post
from cets.rules.packs import load_pack
from tests.compliance.helpers import issue
from tests.conftest import SD_1, SD_2, client_for, when

P = RiskParams(Decimal("0.40"), Decimal("0.25"), Decimal("0.15"), Decimal("0.20"), 90, 60, 30)
D = dt.date


def test_risk_index_golden():
    # outstanding 100,000, holdings 40,000 → shortfall 60,000, s = 0.6; 15 days left of a 90-day horizon → u = 75/90 = 0.8333…;
    # net purchases 15,000 → b = 1 − 15,000/60,000 = 0.75; not flagged.
    # 100 × (0.40 × 0.6 + 0.25 × 0.8333… + 0.15 × 0.75) = 24 + 20.833… + 11.25 = 56.08 → 56 → medium (30 ≤ 56 < 60)
    r = risk_index(outstanding_t=100_000, usable_holdings_t=40_000, net_purchases_t=15_000, days_to_deadline=15, flagged=False, p=P)
    assert (r.score, r.level, r.shortfall_t) == (56, MEDIUM, 60_000)
    # flagged as well: + 20 → 76 → high
    assert risk_index(outstanding_t=100_000, usable_holdings_t=40_000, net_purchases_t=15_000, days_to_deadline=15, flagged=True, p=P).level == HIGH
    # covered by holdings: only the flag can count; 200 days left: no urgency
    r = risk_index(outstanding_t=100_000, usable_holdings_t=100_000, net_purchases_t=0, days_to_deadline=200, flagged=False, p=P)
    assert (r.score, r.level) == (0, LOW)
    # past the deadline, nothing held, selling: 100 × (0.4 + 0.25 + 0.15) = 80
    assert risk_index(outstanding_t=10, usable_holdings_t=0, net_purchases_t=-5, days_to_deadline=-3, flagged=False, p=P).score == 80
    # nothing outstanding → 0 whatever else
    assert risk_index(outstanding_t=0, usable_holdings_t=0, net_purchases_t=0, days_to_deadline=1, flagged=False, p=P).score == 0


def test_pack_params_and_weeks():
    assert risk_params(load_pack("national/power-2023-2024")) == P
    weeks = report_weeks(D(2024, 12, 1), D(2024, 12, 31))
    assert weeks == [(D(2024, 12, 1), D(2024, 12, 7)), (D(2024, 12, 8), D(2024, 12, 14)), (D(2024, 12, 15), D(2024, 12, 21)),
                     (D(2024, 12, 22), D(2024, 12, 28)), (D(2024, 12, 29), D(2024, 12, 31))]
    assert weekly_net([(D(2024, 12, 2), 500), (D(2024, 12, 7), -200), (D(2024, 12, 30), 7), (D(2024, 11, 30), 99)], weeks) == [300, 0, 0, 0, 7]


def test_risk_rows_and_weekly_report_on_the_database(world):
    for e, q in ((world.sd1, 100_000), (world.sd2, 50_000)):
        Obligation.objects.create(entity=e, year=2023, pack_id="national/power-2023-2024", obligation_t=q, offset_cap_t=q // 20,
                                  deadline=D(2024, 12, 31))
    issue(world, SD_1, world.cea, 25_000)
    issue(world, SD_2, world.cea, 80_000)
    special_treatment_set(entity=world.sd2, year=2023, kind="compliance_risk", reason="司法冻结", actor=world.province_sd)
    # SD_2 sells 15,000 t to SD_1 on 2024-12-03 and 5,000 t on 2024-12-10
    for i, (day, q) in enumerate((("2024-12-03", 15_000), ("2024-12-10", 5_000))):
        transfer_post(key=f"t{i}", kind=TransferKind.TRANSFER, unit_type=world.cea, debit=Leg(world.accounts[SD_2], Position.REGISTRY),
                      credit=Leg(world.accounts[SD_1], Position.REGISTRY), quantity=q, effective_at=when(day))
    rows = risk_rows(user=world.province_sd, year=2023, today=D(2024, 12, 16))
    by = {r["entity"].uscc: r for r in rows}
    # SD_1: outstanding 100,000, holds 25,000 + 20,000 = 45,000 → shortfall 55,000 (s = 0.55); 15 days → u = 75/90;
    #   net purchases (30 days to 12-16) +20,000 → b = 1 − 20,000/55,000 = 0.6364;
    #   100 × (0.22 + 0.20833 + 0.09545) = 52.38 → 52
    assert (by[SD_1]["holdings_t"], by[SD_1]["net_purchases_t"], by[SD_1]["index"].score) == (45_000, 20_000, 52)
    # SD_2: holds 60,000 ≥ 50,000 → no shortfall; flagged → 20
    assert (by[SD_2]["holdings_t"], by[SD_2]["net_purchases_t"], by[SD_2]["index"].score) == (60_000, -20_000, 20)
    assert rows[0]["entity"].uscc == SD_1
    assert risk_rows(user=world.entity_sd1_user, year=2023) is None
    assert risk_rows(user=world.province_zj, year=2023) == []

    w = weekly_net_purchases(user=world.province_sd, province="37", year=2023, as_of=D(2024, 12, 16))
    assert w["weeks"][0] == (D(2024, 12, 1), D(2024, 12, 7))
    assert len(w["weeks"]) == 3  # up to 12-16
    assert {e.uscc: (per, tot) for e, per, tot in w["rows"]} == {SD_1: ([15_000, 5_000, 0], 20_000), SD_2: ([-15_000, -5_000, 0], -20_000)}
    assert weekly_net_purchases(user=world.entity_sd1_user, province="37", year=2023) is None

    page = client_for(world.province_sd).get("/compliance/2023/monitoring/")
    assert page.status_code == 200
    assert SD_1 in page.content.decode()
    assert client_for(world.entity_sd1_user).get("/compliance/2023/monitoring/").status_code == 404


def test_real_outcome_counts():
    # data/cets-verification-entities/cets_public_info_coverage_stats.json, fulfillment_year_stats 2023
    assert real_outcomes(year=2023) == {"records": 2107, "on_time": 2103, "late": 2, "incomplete": 2}
    assert real_outcomes(year=2019) is None
