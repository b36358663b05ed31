"""A third market from data alone (issue 11): a market folder written to a temporary directory
(``market.toml`` + one pack, found through ``CETS_PACK_DIRS``) runs a year through the key-emitter list,
allocation, four-eyes issuance, the surrender obligation, surrender and the outcome summary, with no
Python change. Figures by hand: two widget makers, 2030 allocation = verified emissions (the pack's
``verified_emissions`` method): 120,000 t and 80,000 t; obligations the same; offset cap 5% floor → 6,000
and 4,000 t; SD_1 surrenders 120,000 TXA-2030 on time, SD_2 nothing → one on time, one open."""

import datetime as dt

import pytest

MARKET_TOML = '''
schema_version = 1
[market]
id = "widgetland"
name_zh = "小部件碳市场"
name_en = "Widgetland carbon market"
calendar = "cn_workdays"
jurisdiction_levels = ["national", "province"]
account_kinds = ["national_total", "entity", "surrender"]

[[instruments]]
code = "TXA"
home = true
name_zh = "小部件配额"
name_en = "widget allowance"
unit_type = "TXA-{vintage}"

[[sectors]]
code = "widgets"
name_zh = "小部件"
name_en = "widgets"

[[packs]]
kind = "allocation"
sector = "widgets"
years = [2030]
pack = "widgetland/widgets-2030"
mechanism = "verified_emissions"

[[packs]]
kind = "compliance"
sector = "widgets"
years = [2030]
pack = "widgetland/widgets-2030"
'''

PACK_TOML = '''
[pack]
id = "widgetland/widgets-2030"
market = "widgetland"
sector = "widgets"
years = [2030]
kind = "allocation"
schema_version = 1
title_en = "Widgetland 2030 allocation (test market)"

[allocation]
small_entity_threshold_t = "0"
special_cases = []

[method.2030]
kind = "verified_emissions"
pre_allocation = false

[rounding]
allocation = "floor"
pre_allocation = "floor"

[compliance.2030]
deadline = "2031-06-30"
offset_cap = "0.05"
offset_rounding = "floor"
usable_vintages = ["2030"]
'''


@pytest.fixture
def widgetland(tmp_path, monkeypatch):
    from cets.rules.markets import load_market
    from cets.rules.packs import load_pack

    folder = tmp_path / "widgetland"
    folder.mkdir()
    (folder / "market.toml").write_text(MARKET_TOML, encoding="utf-8")
    (folder / "widgets-2030.toml").write_text(PACK_TOML, encoding="utf-8")
    monkeypatch.setenv("CETS_PACK_DIRS", str(tmp_path))
    load_market.cache_clear()
    load_pack.cache_clear()
    yield "widgetland"
    load_market.cache_clear()
    load_pack.cache_clear()


def test_a_year_of_a_market_made_of_data(world, widgetland):
    from cets.allocation.models import EntityAllocation
    from cets.allocation.services import allocation_compute, allocation_issue_confirm, allocation_issue_propose
    from cets.compliance.models import Obligation
    from cets.compliance.selectors import outcome_counts
    from cets.compliance.services import obligations_create, surrender_approve, surrender_submit
    from cets.mrv.models import FacilityYearData
    from cets.parties.models import Facility
    from cets.parties.selectors import listed_entity_ids
    from cets.parties.services import emitter_list_entries_ensure
    from cets.registry.audit import audit_verify
    from cets.registry.services import account_open, proposal_approve, system_accounts_ensure, vintage_create
    from cets.rules.check import check_path
    from tests.conftest import when

    w = world
    checked, problems = check_path(None)  # the new market's files are valid packs, like the shipped ones
    assert checked >= 2
    assert [str(p) for p in problems] == []
    # the list
    emitter_list_entries_ensure(market=widgetland, entries=[(2030, "widgets", e.pk, e.province, "test") for e in (w.sd1, w.sd2)])
    assert listed_entity_ids(market=widgetland, year=2030, sector="widgets") == {w.sd1.pk, w.sd2.pk}
    # the registry of the market
    system_accounts_ensure(market=widgetland, provinces=["37"])
    for e in (w.sd1, w.sd2):
        account_open(holder=e, market=widgetland)
    txa = vintage_create(instrument="TXA", vintage="2030", cap_t=1_000_000, key="cap-txa-2030")
    # verified data and allocation
    for e, t in ((w.sd1, 120_000), (w.sd2, 80_000)):
        f = Facility.objects.create(entity=e, sector="widgets", code=f"WG-{e.pk}", kind="widget_line")
        FacilityYearData.objects.create(facility=f, year=2030, verified_emissions_t=t, intensity_emissions_t=t, output_t=1_000)
    assert allocation_compute(year=2030, pack_id="widgetland/widgets-2030")["final_allocation_t"] == 200_000
    p = allocation_issue_propose(year=2030, stage="final", unit_type=txa, actor=w.registry_a, market=widgetland, sector="widgets")
    proposal_approve(proposal_id=p.pk, approver=w.registry_b)
    assert allocation_issue_confirm(year=2030, stage="final", market=widgetland, sector="widgets") == 2
    assert set(EntityAllocation.objects.filter(market=widgetland).values_list("issued_t", flat=True)) == {120_000, 80_000}
    # obligations, surrender, outcomes
    assert obligations_create(year=2030, pack_id="widgetland/widgets-2030") == 2
    ob = Obligation.objects.get(entity=w.sd1, market=widgetland)
    assert (ob.obligation_t, ob.offset_cap_t, ob.sectors) == (120_000, 6_000, {"widgets": 120_000})
    app = surrender_submit(key="s-wg-1", entity=w.sd1, year=2030, unit_type_code="TXA-2030", quantity=120_000, actor=w.entity_sd1_user,
                           at=when("2031-05-06"))
    surrender_approve(application_id=app.pk, approver=w.province_sd, at=when("2031-05-07"))
    counts = outcome_counts(year=2030, market=widgetland, today=dt.date(2031, 5, 8))
    assert counts == {"on_time": 1, "open": 1}
    assert audit_verify().ok
