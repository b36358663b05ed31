"""End to end over real data: `cets demo --no-serve` runs compliance year 2023 (power), then 2024 (power, steel,
cement, aluminium), then the Beijing pilot's 2023 year (generated units), then the ledger is proved.

The demo runs once for this module, through the command line (in the test database), and the database is
flushed afterwards; its idempotency is its own test (a second run that must change nothing).
The demo is defined on SQLite (the README's `make demo`); on PostgreSQL it runs when
``CETS_TEST_E2E_PG=1`` (several minutes, most of it the ~3,800 exchange commands of the 2023 trading day
and the ~550 of 2024's at one round trip per statement; not measured on PostgreSQL with 2024), so that `make test` stays well under its 15-minute budget.
"""

import json
import os

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

from cets.registry.audit import audit_verify
from cets.registry.models import Holding, Transfer, TransferKind, UnitType
from cets.registry.selectors import unit_type_totals
from tests.conftest import DATA

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(connection.vendor == "postgresql" and os.environ.get("CETS_TEST_E2E_PG") != "1",
                       reason="the demo year runs on SQLite; set CETS_TEST_E2E_PG=1 to run it on PostgreSQL too"),
]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    import cets.demo.run as demo_run
    from cets.cli import main

    runs = []
    original = demo_run.run_demo

    def recording(**kw):
        runs.append(original(**kw))
        return runs[-1]

    with django_db_blocker.unblock():
        demo_run.run_demo = recording
        try:
            assert main(["demo", "--no-serve"]) == 0
        finally:
            demo_run.run_demo = original
        yield runs[0]
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def unblocked(demo, django_db_blocker):
    with django_db_blocker.unblock():
        yield demo


def test_summary_counts(unblocked):
    c = unblocked.counts
    assert c["entities"] == 2104
    assert c["import_problems"] == 1
    assert "91570522087163776E" in unblocked.import_problems[0]
    assert 4_800_000_000 <= c["verified_emissions_t"] <= 5_200_000_000
    assert c["pre_allocated_t"] < c["final_allocated_t"]
    assert c["surrendered_ccer_t"] > 0
    # the real 2023 outcome (fulfillment_year_stats: 2,107 units, 2,103 on time, 2 overdue, 2 incomplete),
    # reproduced over the 2,104 entities: the same late and incomplete counts, everyone else on time
    real = json.loads((DATA / "cets-verification-entities" / "cets_public_info_coverage_stats.json").read_text())
    y2023 = next(r for r in real["fulfillment_year_stats"] if r["year"] == "2023")
    assert (c["outcome_late"], c["outcome_incomplete"]) == (y2023["overdue"], y2023["incomplete"])
    assert c["outcome_on_time"] == c["entities"] - y2023["overdue"] - y2023["incomplete"]


def test_beijing_year_by_hand(unblocked):
    """The Beijing 2023 year (cets.demo.beijing, generated units) computed by hand from the pack (±20% cap, 70%
    pre-allocation, floor): allocations 833,000 + 171,000 + 426,800 + 76,000 + 252,000 + 336,600 + 77,600 = 2,173,000 t over
    determined emissions 820,000 + 160,000 + 396,000 (the spot check's) + 95,000 + 240,000 + 330,000 + 77,349 = 2,118,349 t; the
    seventh unit is the services data centre whose 77,349 t the platform computed from its months (beijing/services-2023:
    fuel 188.7073496 + electricity (144,000 − 18,000 green) MWh × 0.604 = 76,104 + heat 9,600 GJ × 0.11 = 1,056 → 77,349),
    allocated 80,000 × 0.97 = 77,600 (within 0.8–1.2 × 77,349), pre-allocated 70% × 76,000 = 53,200; five units surrender
    in time, one is collected after 2024-11-15 (160,000 t), one holds 76,000 t of 95,000 t (incomplete). The first unit's
    carbon-inclusion period (20,000,000 vkm × 8 L/100 km ÷ 100 × 2.3 kg/L ÷ 1000 = 3,680 t − 3,000,000 kWh × 0.604 t/MWh
    ÷ 1000 = 1,812 t → 1,868 t, pack placeholders) is issued and surrendered within its cap (5% × 820,000 = 41,000 t),
    the rest of its 820,000 t in BEA."""
    import csv
    from decimal import ROUND_HALF_UP, Decimal

    from cets.allocation.models import EntityAllocation
    from cets.demo.beijing import ENTITIES, uscc

    b = unblocked.counts_beijing
    # the fine's price: the real BEA days of 2024-05-16 … 2024-11-15 (beijing/compliance-2023-2024 penalty.price_window),
    # volume-weighted, half-up to the fen, read here straight from the file
    rows = [r for r in csv.DictReader((DATA / "cn-pilots-bj-tj-gd-hb" / "beijing_bea_daily.csv").open(encoding="utf-8"))
            if "2024-05-16" <= r["trade_date"] <= "2024-11-15"]
    volume = sum(int(r["volume_t"]) for r in {r["trade_date"]: r for r in rows}.values())
    amount = sum(Decimal(r["amount_cny"]) for r in {r["trade_date"]: r for r in rows}.values())
    price_fen = int((amount * 100 / volume).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    # pre-issued by 07-15 before determination: floor(0.7 × prev) for the six units that completed the previous compliance,
    # 553,000 + 105,000 + 280,000 + 0 + 161,000 + 234,500 + 53,200 (the data centre) = 1,386,700; the final issue
    # 2,173,000 − 1,386,700 = 786,300
    assert b == {"entities": 7, "determined_t": 2_118_349, "allocated_t": 2_173_000, "issued_t": 2_173_000, "surrendered_t": 2_099_349,
                 "preissued_t": 1_386_700, "true_up_t": 786_300,
                 "outcome_on_time": 5, "outcome_collected": 1, "outcome_incomplete": 1, "general_reports_accepted": 1,
                 "pcer_issued_t": 1_868, "fines": 1, "fine_price_fen": price_fen, "fine_fen": 3 * (95_000 - 76_000) * price_fen}
    got = {a.entity.uscc: (a.sector, a.final_allocation_t, a.pre_allocation_t)
           for a in EntityAllocation.objects.filter(market="beijing", year=2023).select_related("entity")}
    assert got[uscc(ENTITIES[3].first17)] == ("power", 76_000, 0)
    assert got[uscc(ENTITIES[2].first17)] == ("power", 426_800, 280_000)
    assert got[uscc(ENTITIES[6].first17)] == ("services", 77_600, 53_200)
    from cets.mrv.models import AnnualReport, FacilityMonthlyFiling

    dc = AnnualReport.objects.get(market="beijing", year=2023, entity__uscc=uscc(ENTITIES[6].first17))
    assert (dc.sector, dc.emissions_t, dc.pack_id, dc.missing) == ("services", 77_349, "beijing/services-2023", [])
    assert dc.facilities[0]["details"]["green_electricity_mwh"] == "18000.000" and dc.facilities[0]["details"]["e_electricity_t"] == "76104.00"
    assert FacilityMonthlyFiling.objects.filter(market="beijing", year=2023, status="accepted", reviewed_by__username="bj-chaoyang").count() == 12
    assert {"bj-bureau", "bj-bureau-2", "bj-chaoyang", "bj-etda", "bj-entity", "bj-general", "bj-datacentre"} <= {row[0] for row in unblocked.logins}
    from cets.allocation.models import PreIssue
    from cets.registry.models import Proposal

    pre = Proposal.objects.get(key="allocation-beijing-2023-preissue-demo-2023-pre")  # proposed by the bureau, signed by its second user
    assert (pre.kind, pre.status, pre.proposed_by.username, pre.decided_by.username) == ("free_allocation", "executed", "bj-bureau", "bj-bureau-2")
    assert PreIssue.objects.get(entity__uscc=uscc(ENTITIES[0].first17)).pre_issue_t == 553_000  # floor(0.7 × 790,000)
    assert PreIssue.objects.get(entity__uscc=uscc(ENTITIES[6].first17)).pre_issue_t == 53_200  # floor(0.7 × 76,000)
    from cets.parties.access import organisation_scope
    from cets.parties.models import Membership, Organisation

    etda = Membership.objects.get(user__username="bj-etda").user   # 经开区 sees its one unit (大兴 area, our code 11ETDA) only
    assert list(Organisation.objects.filter(organisation_scope(etda), kind="entity").values_list("uscc", flat=True)) == [uscc(ENTITIES[4].first17)]
    from cets.compliance.models import SurrenderApplication

    first = uscc(ENTITIES[0].first17)
    used = {(a.unit_type.code, a.quantity)
            for a in SurrenderApplication.objects.filter(obligation__entity__uscc=first, obligation__market="beijing", status="approved")}
    assert used == {("PCER-2023", 1_868), ("BEA-2023", 818_132)}


def test_second_run_changed_nothing(unblocked):
    from cets.demo.run import run_demo

    entries = Transfer.objects.count()
    holdings = sorted(Holding.objects.values_list("account_id", "unit_type_id", "position", "quantity"))
    assert entries > 10_000
    again = run_demo(log=lambda m: None)
    assert Transfer.objects.count() == entries
    assert sorted(Holding.objects.values_list("account_id", "unit_type_id", "position", "quantity")) == holdings
    assert again.counts["final_allocated_t"] == unblocked.counts["final_allocated_t"]
    assert again.counts["outcome_on_time"] == unblocked.counts["outcome_on_time"]
    keys = ("entities", "surrendered_cea_t", "surrendered_ccer_t", "outcome_on_time", "outcome_late", "outcome_incomplete", "exchange_trades",
            "exchange_volume_t", "entities_power", "entities_steel", "entities_cement", "entities_aluminium")
    assert {k: again.counts_2024[k] for k in keys} == {k: unblocked.counts_2024[k] for k in keys}
    assert again.sectors_2024 == unblocked.sectors_2024
    assert again.counts_beijing == unblocked.counts_beijing
    assert again.counts_supervision["credit_sync_created"] == 0
    assert {k: v for k, v in again.counts_supervision.items() if k != "credit_sync_created"} == \
        {k: v for k, v in unblocked.counts_supervision.items() if k != "credit_sync_created"}


def test_conservation_per_vintage(unblocked):
    for row in unit_type_totals():
        assert row["created_t"] == row["national_total_t"] + row["issued_t"], row
        assert row["issued_t"] == row["circulating_t"] + row["surrendered_t"] + row["cancelled_t"] + row["deducted_t"] + row["carried_over_t"], row
        assert row["balanced"], row["problems"]
    assert not Holding.objects.filter(quantity__lt=0).exists()
    cea = UnitType.objects.get(code="CEA-2023")
    issued = (Transfer.objects.filter(unit_type=cea, kind=TransferKind.ISSUE).aggregate(q=Sum("quantity"))["q"]
              - (Transfer.objects.filter(unit_type=cea, kind=TransferKind.CLAWBACK).aggregate(q=Sum("quantity"))["q"] or 0))
    from cets.allocation.models import EntityAllocation

    assert issued == EntityAllocation.objects.filter(year=2023, market="national").aggregate(q=Sum("final_allocation_t"))["q"]


def test_every_allocation_follows_the_formula(unblocked):
    from cets.allocation.formulas import PowerRules, UnitInput, allocate
    from cets.allocation.models import EntityAllocation, UnitAllocation
    from cets.rules.packs import load_pack

    rules = PowerRules.from_pack(load_pack("national/power-2023-2024"), 2023)
    lines = list(UnitAllocation.objects.filter(year=2023).select_related("unit__entity"))
    _, ents = allocate([UnitInput(u.unit.entity.uscc, u.unit.code, u.category, u.generation_mwh, u.heat_supplied_gj, u.load_factor,
                                  u.verified_emissions_t, u.prev_verified_emissions_t) for u in lines], rules)
    stored = {a.entity.uscc: a.final_allocation_t for a in EntityAllocation.objects.filter(year=2023, market="national").select_related("entity")}
    assert {e.entity_uscc: e.final_allocation_t for e in ents} == stored


def test_audit_verify_passes_then_fails_on_tampering(unblocked):
    from cets.cli import main

    assert audit_verify().ok
    assert main(["audit", "verify"]) == 0
    h = Holding.objects.filter(quantity__gt=0, account__kind="entity").order_by("pk").first()
    with connection.cursor() as cur:
        cur.execute("update registry_holding set quantity = quantity + 1 where id = %s", [h.pk])
    try:
        r = audit_verify()
        assert not r.ok
        assert any(f"stored {h.quantity + 1} but journal gives {h.quantity}" in p for p in r.problems)
        assert main(["audit", "verify"]) == 1
    finally:
        with connection.cursor() as cur:
            cur.execute("update registry_holding set quantity = quantity - 1 where id = %s", [h.pk])
    assert audit_verify().ok


# --- compliance year 2024: power, steel, cement, aluminium ----------------------------------------------------


def _selection_2024() -> dict[str, set[str]]:
    """The demo's selection rule, recomputed from the real disclosures: every valid credit code of the 2024
    rows of 发电 (power) and 钢铁 (steel); of 建材 those named …水泥… (cement), of 有色金属 those named …铝…
    (aluminium), by the entity's first name in the file (the name the import keeps)."""
    import csv

    from cets.core.uscc import uscc_province

    first: dict[tuple[str, str], str] = {}
    with (DATA / "cets-verification-entities" / "verification_targets.csv").open(encoding="utf-8-sig", newline="") as f:
        for r in csv.DictReader(f):
            if r["year"] == "2024":
                first.setdefault((r["industry"], r["target_uscc"]), r["target_entity_name"])
    rule = {"power": ("发电", ""), "steel": ("钢铁", ""), "cement": ("建材", "水泥"), "aluminium": ("有色金属", "铝")}
    return {s: {u for (ind, u), name in first.items() if ind == i and c in name and uscc_province(u)} for s, (i, c) in rule.items()}


def test_2024_four_sectors_with_the_selected_entities(unblocked):
    from cets.allocation.models import EntityAllocation
    from cets.parties.models import EmitterListEntry

    want = _selection_2024()
    assert {s: len(v) for s, v in want.items()} == {"power": 1893, "steel": 480, "cement": 636, "aluminium": 48}
    for sector, usccs in want.items():
        listed = set(EmitterListEntry.objects.filter(market="national", year=2024, sector=sector, included=True).values_list("entity__uscc", flat=True))
        allocated = set(EntityAllocation.objects.filter(market="national", year=2024, sector=sector).values_list("entity__uscc", flat=True))
        assert listed == usccs == allocated, sector
    rows = {r.sector: r for r in unblocked.sectors_2024}
    assert [r.sector for r in unblocked.sectors_2024] == ["power", "steel", "cement", "aluminium"]
    assert {s: r.entities for s, r in rows.items()} == {s: len(v) for s, v in want.items()}
    # power: pre-allocation then final; industries 2024: allocation = verified emissions, no pre-allocation
    assert 0 < rows["power"].pre_allocated_t < rows["power"].allocated_t
    for s in ("steel", "cement", "aluminium"):
        assert rows[s].pre_allocated_t == 0
        assert rows[s].allocated_t == rows[s].verified_t == rows[s].issued_t
    assert 1_400_000_000 <= rows["steel"].verified_t <= 1_800_000_000
    assert 750_000_000 <= rows["cement"].verified_t <= 1_000_000_000
    assert 4_300_000_000 <= rows["power"].verified_t <= 4_900_000_000


def test_2024_issued_equals_final_allocation(unblocked):
    from cets.allocation.models import EntityAllocation

    cea = UnitType.objects.get(code="CEA-2024")
    issued = (Transfer.objects.filter(unit_type=cea, kind=TransferKind.ISSUE).aggregate(q=Sum("quantity"))["q"]
              - (Transfer.objects.filter(unit_type=cea, kind=TransferKind.CLAWBACK).aggregate(q=Sum("quantity"))["q"] or 0))
    allocs = EntityAllocation.objects.filter(market="national", year=2024)
    assert issued == allocs.aggregate(q=Sum("final_allocation_t"))["q"] == allocs.aggregate(q=Sum("issued_t"))["q"]
    assert not allocs.exclude(stage=EntityAllocation.Stage.FINAL_ISSUED).exists()
    assert sum(r.issued_t for r in unblocked.sectors_2024) == issued


def test_2024_one_obligation_per_entity_with_its_sector_breakdown(unblocked):
    from cets.allocation.models import EntityAllocation
    from cets.compliance.models import Obligation

    per_entity: dict[int, dict[str, int]] = {}
    for eid, sector, t in EntityAllocation.objects.filter(market="national", year=2024).values_list("entity_id", "sector", "obligation_t"):
        per_entity.setdefault(eid, {})[sector] = t
    obs = list(Obligation.objects.filter(market="national", year=2024))
    assert len(obs) == len({o.entity_id for o in obs}) == len(per_entity) == unblocked.counts_2024["entities"]
    for o in obs:
        assert o.sectors == per_entity[o.entity_id]
        assert sum(o.sectors.values()) == o.obligation_t
        assert o.offset_cap_t == o.obligation_t * 5 // 100
    two = [o for o in obs if len(o.sectors) > 1]
    assert len(two) >= 50
    assert all("power" in o.sectors for o in two)  # e.g. the 63 entities on both the power and the steel list


def test_2024_outcome_like_the_real_one_and_surrender_within_the_rules(unblocked):
    from cets.compliance.models import Obligation, SurrenderApplication

    c = unblocked.counts_2024
    # the real 2024 outcome (fulfillment_year_stats 2024: 2,066 units, 2,064 on time, 1 overdue, 1 incomplete)
    real = json.loads((DATA / "cets-verification-entities" / "cets_public_info_coverage_stats.json").read_text())
    y2024 = next(r for r in real["fulfillment_year_stats"] if r["year"] == "2024")
    assert (c["outcome_late"], c["outcome_incomplete"]) == (y2024["overdue"], y2024["incomplete"])
    assert c["outcome_on_time"] == c["entities"] - y2024["overdue"] - y2024["incomplete"]
    assert sum(r.on_time + r.late + r.incomplete for r in unblocked.sectors_2024) >= c["entities"]
    assert 0 < c["surrendered_ccer_t"]
    for o in Obligation.objects.filter(market="national", year=2024):
        apps = SurrenderApplication.objects.filter(obligation=o, status=SurrenderApplication.Status.APPROVED)
        ccer = apps.filter(unit_type__instrument="CCER").aggregate(q=Sum("quantity"))["q"] or 0
        assert ccer <= o.offset_cap_t
        assert (apps.aggregate(q=Sum("quantity"))["q"] or 0) <= o.obligation_t
    total = sum(r.surrendered_t for r in unblocked.sectors_2024)
    assert total == c["surrendered_cea_t"] + c["surrendered_ccer_t"]


def test_2024_trading_day_around_the_real_close(unblocked):
    from cets.trading.models import DailyQuote, Order, Trade

    trades = Trade.objects.filter(market="national", instrument="CEA24")
    assert {t.trading_day.isoformat() for t in trades} == {"2025-12-10"}
    assert 100 <= trades.count() <= 400
    assert all(abs(t.price_fen - 5_849) <= 4 for t in trades)  # the real CEA24 close of 2025-12-10: 58.49 CNY/t
    q = DailyQuote.objects.get(market="national", instrument="CEA24", date="2025-12-10")
    assert abs(q.close_fen - 5_849) <= 4
    assert Order.objects.filter(market="national", instrument="CEA24").count() <= 1_000


def test_2024_whatif_runs_of_the_drafts(unblocked):
    """The demo's what-if runs (issue 17): the base side equals the stored 2024 allocation per sector; under the
    2026 drafts' intensity method each industry's total stays at its verified emissions (the balance value is
    solved so, §四(二)2); nothing the runs touch was written (the e2e audit and conservation tests above)."""
    from cets.allocation.models import EntityAllocation

    runs = unblocked.whatif_2024
    assert set(runs) == {"power", "industry"}
    for run in runs.values():
        stored = dict(EntityAllocation.objects.filter(market="national", year=2024, sector__in=[s.sector for s in run.sectors])
                      .values_list("sector").annotate(t=Sum("final_allocation_t")))
        assert {t.key: t.base_t for t in run.totals("sector")} == stored
        assert run.price_fen > 0 and "cea_daily_by_trade_method.csv" in run.price_source
    for t in runs["industry"].totals("sector"):
        assert abs(t.draft_t - t.verified_t) <= 10 and t.base_t == t.verified_t
    assert runs["power"].grand_total().draft_t != runs["power"].grand_total().base_t


def test_supervision_over_the_demo_records(unblocked):
    """cets.demo.supervision: surveillance over the demo's real trade log (the largest trade of 2024-12-10 is between two
    participants recorded as related → a wash-trade alert, referred by the exchange → a blacklist decision), a report from the
    public closed with a false-reporting finding, credit records — all visible on the public portal and the supervision pages."""
    from django.test import Client

    from cets.parties.models import Membership, Role
    from cets.supervision.models import BlacklistEntry, FalseReportingFinding, PublicReport, SurveillanceDecision

    c = unblocked.counts_supervision
    assert c["surveillance_days"] == 2 and c["alerts"] >= 1 and c["alerts_referred"] == 1
    assert (c["blacklist"], c["reports"], c["findings"], c["related"]) == (1, 1, 1, 2)
    assert c["credit_records"] >= 2  # the blacklist's and the finding's at least
    referred = SurveillanceDecision.objects.get(outcome="refer")
    black = BlacklistEntry.objects.get()
    assert referred.rule == "wash_trade" and referred.alert_key in black.internal_note
    finding = FalseReportingFinding.objects.get()
    report = PublicReport.objects.get()
    assert (report.status, report.subject) == ("closed", finding.subject)
    assert finding.fine_min_fen <= finding.fine_fen == 50_000_000 <= finding.fine_max_fen
    public = Client()
    assert black.subject.name in public.get("/public/blacklist/").content.decode()
    assert finding.subject.name in public.get("/public/false-reporting/").content.decode()
    assert finding.subject.name in public.get("/public/credit-records/").content.decode()
    status = public.get(f"/public/reports/{report.receipt}/").content.decode()
    assert finding.decision_reference in status and report.reporter_name not in status
    exchange = Client()
    exchange.force_login(Membership.objects.get(role=Role.EXCHANGE_OPERATOR, user__username="exchange").user)
    assert 'data-rule="wash_trade"' in exchange.get(f"/supervision/surveillance/?day={referred.day:%Y-%m-%d}").content.decode()
    risk = exchange.get("/supervision/risk/?year=2024").content.decode()
    assert 'class="risk-row"' in risk
