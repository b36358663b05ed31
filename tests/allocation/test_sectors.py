"""Allocation, issuance and obligations per (entity, market, sector, year) — issue 11.

An entity on both the power and the steel list of 2024 (2025 notice 环办气候函〔2025〕140号, seed 003) has
two allocations, each issued through its own four-eyes proposal, and one surrender obligation with a
per-sector breakdown whose 5% offset cap (Measures Art. 29) applies to the whole. Figures by hand:

- power, unit A of SD_1 (class I, 2024 benchmark 0.7910 tCO2/MWh, plan 附2; F 0.80 ≥ 0.65 → Ff 1):
  100,000 MWh × 0.7910 = 79,100 t; E 110,000 t; 20% cap: 0.8 × 110,000 = 88,000 → top-up 8,900, 应发 88,000;
  预分配 0.70 × 2023 emissions 100,000 = 70,000;
- steel, works W1 of SD_1 (2024: allocation = verified emissions, no pre-allocation): 300,000 t;
- obligation 2024 = 110,000 + 300,000 = 410,000 t; offset cap floor(5% × 410,000) = 20,500 t.
"""

from decimal import Decimal

import pytest

from cets.allocation.models import EntityAllocation, FacilityAllocation
from cets.allocation.services import allocation_compute, allocation_issue_confirm, allocation_issue_propose
from cets.compliance.models import Obligation
from cets.compliance.services import obligations_create
from cets.core.errors import CetsError
from cets.mrv.models import FacilityYearData, UnitYearData
from cets.mrv.services import unit_year_data_upsert
from cets.parties.models import Facility, GeneratingUnit
from cets.registry.models import Instrument, Transfer, TransferKind
from cets.registry.services import proposal_approve, vintage_create
from tests.conftest import SD_1

POWER, STEEL = "national/power-2023-2024", "national/steel-2024-2025"


@pytest.fixture
def two_lists(world):
    w = world
    u = GeneratingUnit.objects.create(entity=w.sd1, code="A", category="I", rated_capacity_mw=Decimal(600))
    unit_year_data_upsert(rows=[
        UnitYearData(unit=u, year=2024, generation_mwh=Decimal(100_000), heat_supplied_gj=Decimal(0), load_factor=Decimal("0.80"),
                     verified_emissions_t=110_000),
        UnitYearData(unit=u, year=2023, generation_mwh=Decimal(0), heat_supplied_gj=Decimal(0), load_factor=Decimal("0.80"),
                     verified_emissions_t=100_000),
    ])
    for entity, code, e, ie, out in ((w.sd1, "W1", 300_000, 180_000, 100_000), (w.sd2, "W2", 50_000, 30_000, 20_000)):
        f = Facility.objects.create(entity=entity, sector="steel", code=code, kind="integrated_works")
        FacilityYearData.objects.create(facility=f, year=2024, verified_emissions_t=e, intensity_emissions_t=ie, output_t=out)
    w.cea24 = vintage_create(instrument=Instrument.CEA, vintage="2024", cap_t=10_000_000, key="cap-test-2024")
    return w


def _issue(w, stage, sector):
    p = allocation_issue_propose(year=2024, stage=stage, unit_type=w.cea24, actor=w.registry_a, sector=sector)
    proposal_approve(proposal_id=p.pk, approver=w.registry_b)
    allocation_issue_confirm(year=2024, stage=stage, sector=sector)
    return p


def test_an_entity_on_two_lists_has_both_allocations(two_lists):
    w = two_lists
    assert allocation_compute(year=2024, pack_id=POWER)["final_allocation_t"] == 88_000
    assert allocation_compute(year=2024, pack_id=STEEL)["final_allocation_t"] == 350_000
    rows = {(a.entity.uscc, a.sector): a for a in EntityAllocation.objects.select_related("entity")}
    power, steel = rows[(SD_1, "power")], rows[(SD_1, "steel")]
    assert (power.initial_allocation_t, power.shortfall_topup_t, power.final_allocation_t, power.pre_allocation_t) == (79_100, 8_900, 88_000, 70_000)
    assert (steel.final_allocation_t, steel.pre_allocation_t, steel.obligation_t) == (300_000, 0, 300_000)
    assert steel.pack_id == STEEL
    assert len(steel.pack_sha256) == 64
    w1 = FacilityAllocation.objects.get(facility__code="W1")
    assert (w1.allocation_t, w1.intensity, w1.special) == (300_000, Decimal("1.8"), "")
    # recomputing one sector leaves the other alone
    allocation_compute(year=2024, pack_id=STEEL)
    assert EntityAllocation.objects.filter(entity=w.sd1, year=2024).count() == 2


def test_each_sector_is_issued_by_its_own_proposal(two_lists):
    w = two_lists
    allocation_compute(year=2024, pack_id=POWER)
    allocation_compute(year=2024, pack_id=STEEL)
    # steel 2024 has no pre-allocation: its final stage is issued straight from the computation
    p = _issue(w, "final", "steel")
    assert p.key == "allocation-national-steel-2024-final"
    # power still needs its pre-allocation first
    with pytest.raises(CetsError) as e:
        allocation_issue_propose(year=2024, stage="final", unit_type=w.cea24, actor=w.registry_a, sector="power")
    assert e.value.code == "A0103"
    _issue(w, "pre", "power")
    _issue(w, "final", "power")
    issued = {a.sector: a.issued_t for a in EntityAllocation.objects.filter(entity=w.sd1)}
    assert issued == {"power": 88_000, "steel": 300_000}
    assert sum(t.quantity for t in Transfer.objects.filter(kind=TransferKind.ISSUE, unit_type=w.cea24)) == 88_000 + 300_000 + 50_000


def test_one_obligation_with_a_sector_breakdown_and_one_offset_cap(two_lists):
    w = two_lists
    allocation_compute(year=2024, pack_id=POWER)
    allocation_compute(year=2024, pack_id=STEEL)
    assert obligations_create(year=2024, pack_id=POWER) == 2
    ob = Obligation.objects.get(entity=w.sd1, year=2024)
    assert ob.market == "national"
    assert ob.sectors == {"power": 110_000, "steel": 300_000}
    assert ob.obligation_t == 410_000
    assert ob.offset_cap_t == 20_500
    assert Obligation.objects.get(entity=w.sd2, year=2024).sectors == {"steel": 50_000}
    assert obligations_create(year=2024, pack_id=POWER) == 0  # idempotent


def test_a_sector_allocated_later_updates_the_obligation(two_lists):
    w = two_lists
    allocation_compute(year=2024, pack_id=POWER)
    obligations_create(year=2024, pack_id=POWER)
    assert Obligation.objects.get(entity=w.sd1, year=2024).obligation_t == 110_000
    allocation_compute(year=2024, pack_id=STEEL)
    obligations_create(year=2024, pack_id=POWER)
    ob = Obligation.objects.get(entity=w.sd1, year=2024)
    assert (ob.obligation_t, ob.offset_cap_t) == (410_000, 20_500)


def test_every_mechanism_a_market_names_is_known():
    from cets.allocation.mechanisms import MECHANISMS
    from cets.rules.markets import markets

    named = {e.mechanism for m in markets() for e in m.packs if e.kind == "allocation"}
    assert named
    assert named <= set(MECHANISMS)


def test_a_pack_for_a_year_it_does_not_cover_is_refused(world):
    with pytest.raises(CetsError) as e:
        allocation_compute(year=2025, pack_id="beijing/emitters-2023-2024")
    assert e.value.code == "A0117"


def test_province_submits_tables_and_the_registry_issues_within_ten_working_days(two_lists):
    """国环规气候〔2024〕1号 二(二): final tables of 2024 due 2025-07-31; the registry issues within 10 working
    days of receipt. Received Friday 2025-08-01 → 10 working days (core calendar; no holiday then) → 2025-08-15."""
    import datetime as dt

    from cets.allocation.services import allocation_submission_receive, allocation_submission_record

    w = two_lists
    allocation_compute(year=2024, pack_id=POWER)
    with pytest.raises(CetsError) as e:
        allocation_submission_record(market="national", sector="power", year=2024, stage="final", province="33", actor=w.province_zj)
    assert e.value.code == "A0124"  # Zhejiang has no power allocation here
    with pytest.raises(CetsError) as e:
        allocation_submission_record(market="national", sector="power", year=2024, stage="final", province="37", actor=w.province_zj)
    assert e.value.code == "R0502"
    s = allocation_submission_record(market="national", sector="power", year=2024, stage="final", province="37", actor=w.province_sd,
                                     on=dt.date(2025, 8, 1))
    assert (s.due, s.late, s.entities) == (dt.date(2025, 7, 31), True, 1)
    assert s.total_t == EntityAllocation.objects.get(entity=w.sd1, sector="power").final_issue_t
    with pytest.raises(CetsError) as e:
        allocation_submission_receive(submission_id=s.pk, actor=w.province_sd)
    assert e.value.code == "R0502"
    r = allocation_submission_receive(submission_id=s.pk, actor=w.registry_a, on=dt.date(2025, 8, 1))
    assert r.issue_by == dt.date(2025, 8, 15)
    with pytest.raises(CetsError) as e:
        allocation_submission_receive(submission_id=s.pk, actor=w.registry_b)
    assert e.value.code == "A0125"


def test_submissions_over_the_api(two_lists, client):
    from tests.conftest import client_for

    w = two_lists
    allocation_compute(year=2024, pack_id=STEEL)
    sd = client_for(w.province_sd)
    r = sd.post("/api/v1/allocation/2024/submissions", {"sector": "steel", "stage": "final", "province": "37", "submitted_on": "2025-09-30"},
                content_type="application/json")
    assert r.status_code == 200
    assert r.json()["late"] is False
    assert r.json()["total_t"] == 350_000
    assert client_for(w.province_zj).get("/api/v1/allocation/2024/submissions").json() == []
    ra = client_for(w.registry_a, verified=True)
    r = ra.post(f"/api/v1/allocation/submissions/{r.json()['id']}/receipt", {"received_on": "2025-10-09"}, content_type="application/json")
    assert r.status_code == 200
    # 10 working days from Thu 2025-10-09: Saturday 2025-10-11 is a make-up working day after the National Day
    # holiday (国务院办公厅 2025 holiday notice), so: 10, 11, 13–17, 20, 21, 22 → 2025-10-22
    assert r.json()["issue_by"] == "2025-10-22"


def test_the_entity_page_explains_each_sector(two_lists):
    from tests.conftest import client_for

    w = two_lists
    allocation_compute(year=2024, pack_id=POWER)
    allocation_compute(year=2024, pack_id=STEEL)
    page = client_for(w.province_sd).get(f"/entities/{SD_1}/?year=2024").content.decode()
    assert '<h3 class="sector">发电</h3>' in page  # the sector in the page's language only
    assert '<h3 class="sector">钢铁</h3>' in page
    english = client_for(w.province_sd).get(f"/entities/{SD_1}/?year=2024", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<h3 class="sector">power generation</h3>' in english
    assert "W1" in page  # the steel works line
    assert "88,000" in page  # power 应发
    assert "300,000" in page  # steel allocation = verified emissions
