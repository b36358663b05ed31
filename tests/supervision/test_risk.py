"""The compliance risk index (履约风险指数) in supervision: the formula with the credit term (golden cases by hand from the
pack's weights), the selector over the database, the page for authorities and the exchange (read-only), the API, the
redirect from the old compliance URL, and the weekly net-purchase report (2021–2022 notice, seed 001, §五(二))."""

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from cets.allocation.services import special_treatment_set
from cets.compliance.models import Obligation
from cets.compliance.selectors import real_outcomes
from cets.parties.models import Organisation, Role
from cets.parties.services import member_create
from cets.registry.models import Position, TransferKind
from cets.registry.services import Leg, transfer_post
from cets.rules.packs import load_pack
from cets.supervision import services
from cets.supervision.risk import HIGH, LOW, MEDIUM, RiskParams, report_weeks, risk_index, weekly_net
from cets.supervision.selectors import risk_params, risk_rows, weekly_net_purchases
from tests.compliance.helpers import issue
from tests.conftest import SD_1, SD_2, client_for, when

P = RiskParams(Decimal("0.35"), Decimal("0.20"), Decimal("0.15"), Decimal("0.15"), 90, 60, 30, weight_credit=Decimal("0.15"), credit_saturation=3,
               credit_lookback_days=1095)
D = dt.date


def test_risk_index_golden():
    # outstanding 100,000, holdings 40,000 → shortfall 60,000, s = 0.6; 15 days left of a 90-day horizon → u = 75/90 = 0.8333…;
    # net purchases 15,000 → b = 1 − 15,000/60,000 = 0.75; not flagged, no credit record.
    # 100 × (0.35 × 0.6 + 0.20 × 0.8333… + 0.15 × 0.75) = 21 + 16.667 + 11.25 = 48.92 → 49 → medium (30 ≤ 49 < 60)
    kw = dict(outstanding_t=100_000, usable_holdings_t=40_000, net_purchases_t=15_000, days_to_deadline=15, p=P)
    r = risk_index(flagged=False, **kw)
    assert (r.score, r.level, r.shortfall_t) == (49, MEDIUM, 60_000)
    # flagged as well: + 15 → 63.92 → 64 → high
    assert (risk_index(flagged=True, **kw).score, risk_index(flagged=True, **kw).level) == (64, HIGH)
    # two credit records in the window: + 100 × 0.15 × 2/3 = 10 → 58.92 → 59 (medium); five saturate at 3: + 15 → 64 (high)
    assert risk_index(flagged=False, credit_records=2, **kw).score == 59
    assert (risk_index(flagged=False, credit_records=5, **kw).score, risk_index(flagged=False, credit_records=5, **kw).level) == (64, HIGH)
    # covered by holdings: only the flag and the credit records count; 200 days left: no urgency
    covered = dict(outstanding_t=100_000, usable_holdings_t=100_000, net_purchases_t=0, days_to_deadline=200, p=P)
    assert (risk_index(flagged=False, **covered).score, risk_index(flagged=False, **covered).level) == (0, LOW)
    assert (risk_index(flagged=True, credit_records=3, **covered).score, risk_index(flagged=True, credit_records=3, **covered).level) == (30, MEDIUM)
    # past the deadline, nothing held, selling: 100 × (0.35 + 0.20 + 0.15) = 70; flagged with 3 records as well: 100, never above
    past = dict(outstanding_t=10, usable_holdings_t=0, net_purchases_t=-5, days_to_deadline=-3, p=P)
    assert risk_index(flagged=False, **past).score == 70
    assert risk_index(flagged=True, credit_records=9, **past).score == 100
    # nothing outstanding, no flag, no record → 0 whatever else
    assert risk_index(outstanding_t=0, usable_holdings_t=0, net_purchases_t=0, days_to_deadline=1, flagged=False, p=P).score == 0


def test_pack_params_and_weeks():
    assert risk_params(load_pack("national/supervision-2021-2026")) == P
    assert risk_params(load_pack("beijing/supervision-2023-2026")) == P
    weights = load_pack("national/supervision-2021-2026").data["risk_index"]
    assert sum(Decimal(weights[k]) for k in weights if k.startswith("weight_")) == 1
    weeks = report_weeks(D(2024, 12, 1), D(2024, 12, 31))
    assert weeks == [(D(2024, 12, 1), D(2024, 12, 7)), (D(2024, 12, 8), D(2024, 12, 14)), (D(2024, 12, 15), D(2024, 12, 21)),
                     (D(2024, 12, 22), D(2024, 12, 28)), (D(2024, 12, 29), D(2024, 12, 31))]
    assert weekly_net([(D(2024, 12, 2), 500), (D(2024, 12, 7), -200), (D(2024, 12, 30), 7), (D(2024, 11, 30), 99)], weeks) == [300, 0, 0, 0, 7]


def _setup(world):
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
    # SD_1's credit records: one inside the three-year window before 2024-12-16 (from 2021-12-17 on), one before it
    for on, ref in ((D(2024, 6, 1), "鲁环罚〔2024〕7号"), (D(2021, 3, 1), "鲁环罚〔2021〕2号")):
        services.credit_record_create(actor=world.province_sd, subject_id=world.sd1.pk, kind="late_report", reason="未按时报告", source_reference=ref,
                                      recorded_on=on)
    exchange_org = Organisation.objects.create(kind=Organisation.Kind.EXCHANGE, name="交易机构")
    return member_create(username="xchg", organisation=exchange_org, role=Role.EXCHANGE_OPERATOR, password="test-password-123")


def test_risk_rows_credit_term_and_weekly_report_on_the_database(world):
    exchange = _setup(world)
    rows = risk_rows(user=world.province_sd, year=2023, today=D(2024, 12, 16))
    by = {r["entity"].uscc: r for r in rows}
    # SD_1: outstanding 100,000, holds 25,000 + 20,000 = 45,000 → shortfall 55,000 (s = 0.55); 15 days → u = 75/90;
    #   net purchases (30 days to 12-16) +20,000 → b = 1 − 20,000/55,000 = 0.6364; one credit record in the window → c = 1/3;
    #   100 × (0.35 × 0.55 + 0.20 × 0.8333 + 0.15 × 0.6364 + 0.15 × 0.3333) = 19.25 + 16.667 + 9.545 + 5 = 50.46 → 50
    assert (by[SD_1]["holdings_t"], by[SD_1]["net_purchases_t"], by[SD_1]["credit_records"], by[SD_1]["index"].score) == (45_000, 20_000, 1, 50)
    # SD_2: holds 60,000 ≥ 50,000 → no shortfall; flagged → 15
    assert (by[SD_2]["holdings_t"], by[SD_2]["net_purchases_t"], by[SD_2]["credit_records"], by[SD_2]["index"].score) == (60_000, -20_000, 0, 15)
    assert rows[0]["entity"].uscc == SD_1
    assert by[SD_1]["index"].credit == Decimal(1) / 3  # without the record SD_1 would score 45: the credit term is 5 of its 50
    assert risk_rows(user=world.entity_sd1_user, year=2023) is None
    assert risk_rows(user=world.province_zj, year=2023) == []
    # the exchange sees the whole market, read-only; the registry too
    assert [r["entity"].uscc for r in risk_rows(user=exchange, year=2023, today=D(2024, 12, 16))] == [SD_1, SD_2]
    assert len(risk_rows(user=world.registry_a, year=2023, today=D(2024, 12, 16))) == 2

    w = weekly_net_purchases(user=world.province_sd, province="37", year=2023, as_of=D(2024, 12, 16))
    assert w["weeks"][0] == (D(2024, 12, 1), D(2024, 12, 7))
    assert len(w["weeks"]) == 3  # up to 12-16
    assert {e.uscc: (per, tot) for e, per, tot in w["rows"]} == {SD_1: ([15_000, 5_000, 0], 20_000), SD_2: ([-15_000, -5_000, 0], -20_000)}
    assert weekly_net_purchases(user=world.entity_sd1_user, province="37", year=2023) is None
    assert weekly_net_purchases(user=exchange, province="37", year=2023, as_of=D(2024, 12, 16))["rows"][0][2] == 20_000


def test_risk_page_api_and_old_url(world):
    exchange = _setup(world)
    page = client_for(world.province_sd).get("/supervision/risk/?year=2023")
    assert page.status_code == 200
    body = page.content.decode()
    assert SD_1 in body and 'class="risk-row"' in body
    assert 'id="nav-risk"' in client_for(world.province_sd).get("/").content.decode()  # the navigation of the dashboard links it
    # the exchange: the page (no form that writes) and the API
    xp = client_for(exchange).get("/supervision/risk/?year=2023&province=37")
    assert xp.status_code == 200 and SD_2 in xp.content.decode() and 'method="post"' not in xp.content.decode().split("<main", 1)[-1]
    api = client_for(exchange).get("/api/v1/supervision/risk?year=2023")
    assert api.status_code == 200
    assert [(r["uscc"], r["credit_records"]) for r in api.json()] in ([(SD_1, 1), (SD_2, 0)], [(SD_2, 0), (SD_1, 1)])
    weekly = client_for(exchange).get("/api/v1/supervision/risk/weekly?year=2023&province=37")
    assert weekly.status_code == 200 and {r["uscc"] for r in weekly.json()["rows"]} == {SD_1, SD_2}
    # others: 404 on the page, R0502 on the API; a province outside its own for the weekly report: R0502
    assert client_for(world.entity_sd1_user).get("/supervision/risk/?year=2023").status_code == 404
    assert client_for(world.entity_sd1_user).get("/api/v1/supervision/risk?year=2023").status_code == 403
    assert client_for(world.province_zj).get("/api/v1/supervision/risk/weekly?year=2023&province=37").status_code == 403
    assert client_for(world.province_sd).get("/supervision/risk/?market=nowhere").status_code == 404
    # the old compliance URL redirects, keeping the query
    old = client_for(world.province_sd).get("/compliance/2023/monitoring/?province=37")
    assert old.status_code == 301 and old["Location"].startswith("/supervision/risk/?") and "year=2023" in old["Location"]


def test_real_outcome_counts():
    # data/cets-verification-entities/cets_public_info_coverage_stats.json, fulfillment_year_stats 2023
    assert real_outcomes(year=2023) == {"records": 2107, "on_time": 2103, "late": 2, "incomplete": 2}
    assert real_outcomes(year=2019) is None


@given(st.integers(0, 10**9), st.integers(-10**9, 10**9), st.integers(-10**9, 10**9), st.integers(-400, 400), st.booleans(), st.integers(0, 20))
def test_risk_index_bounded_and_credit_never_lowers_it(outstanding, holdings, net, days, flagged, records):
    r = risk_index(outstanding_t=outstanding, usable_holdings_t=holdings, net_purchases_t=net, days_to_deadline=days, flagged=flagged, p=P,
                   credit_records=records)
    assert 0 <= r.score <= 100 and r.level in (HIGH, MEDIUM, LOW)
    more = risk_index(outstanding_t=outstanding, usable_holdings_t=holdings, net_purchases_t=net, days_to_deadline=days, flagged=flagged, p=P,
                      credit_records=records + 1)
    assert more.score >= r.score
