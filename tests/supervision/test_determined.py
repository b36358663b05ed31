"""Emissions determined on a false-reporting finding become the surrender basis (Measures 2021 Art. 39 "测算其温室气体实际
排放量，并将该排放量作为碳排放配额清缴的依据"; draft Measures, seed 002, Art. 43), through the one obligation path
(compliance.services.obligations_create reading mrv.selectors.authority_determinations).

Golden case by hand (national/power-2023-2024: offset cap 5 %, floor): SD_1's 2023 allocation gives an obligation of the
verified 100,000 t (offset cap 5,000 t). The province finds the report false (Measures Art. 43, fine 3万元) and determines
123,457 t: the obligation becomes 123,457 t, offset cap floor(0.05 × 123,457) = floor(6,172.85) = 6,172 t; with 100,000 t
surrendered 23,457 t are outstanding. An entity on two lists (power 80,000 + steel 20,000) determined at 150,000 t keeps the
shares: 120,000 + 30,000."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cets.allocation.models import EntityAllocation
from cets.compliance.models import Obligation
from cets.compliance.selectors import statuses
from cets.compliance.services import obligations_create
from cets.compliance.services.obligations import scaled_sectors
from cets.core.errors import CetsError
from cets.mrv.selectors import authority_determinations, determined_emissions
from cets.parties.models import Organisation
from cets.supervision import enforcement
from cets.supervision.models import CreditRecord, FalseReportingFinding
from tests.compliance.helpers import issue, surrender
from tests.conftest import SD_1, client_for

PACK = "national/power-2023-2024"


def _allocation(entity, *, sector: str = "power", emissions: int):
    return EntityAllocation.objects.create(entity=entity, year=2023, sector=sector, pack_id=PACK, verified_emissions_t=emissions, obligation_t=emissions,
                                           pre_allocation_computed_t=0, pre_allocation_t=0, initial_allocation_t=emissions, shortfall_topup_t=0,
                                           final_allocation_t=emissions, issue_delta_t=emissions)


def _find(world, subject, **over):
    kw = dict(actor=world.province_sd, subject_id=subject.pk, year=2023, rules_applied="measures_43", decision_reference="鲁环罚〔2024〕11号",
              facts="篡改燃煤元素碳含量检测报告，逾期未改正", fine_fen=3_000_000, decided_on=dt.date(2024, 10, 8)) | over
    return enforcement.false_reporting_find(**kw)


def test_scaled_sectors():
    assert scaled_sectors({"power": 80, "steel": 20}, 150) == {"power": 120, "steel": 30}
    assert scaled_sectors({"a": 1, "b": 1, "c": 1}, 4) == {"a": 2, "b": 1, "c": 1}
    assert scaled_sectors({"power": 100_000}, 123_457) == {"power": 123_457}
    assert scaled_sectors({"x": 0, "y": 0}, 5) == {"x": 5, "y": 0}
    assert sum(scaled_sectors({"a": 7, "b": 3, "c": 11}, 1_000_003).values()) == 1_000_003


def test_finding_after_the_obligation_raises_it_to_the_determined_emissions(world):
    _allocation(world.sd1, emissions=100_000)
    assert obligations_create(year=2023, pack_id=PACK) == 1
    ob = Obligation.objects.get(entity=world.sd1, year=2023)
    assert (ob.obligation_t, ob.offset_cap_t, ob.sectors) == (100_000, 5_000, {"power": 100_000})
    issue(world, SD_1, world.cea, 100_000)
    surrender(world, world.sd1, world.entity_sd1_user, 2023, "CEA-2023", 100_000, "2024-10-09", "s1")
    f = _find(world, world.sd1, determined_emissions_t=123_457)
    ob.refresh_from_db()
    assert (ob.obligation_t, ob.offset_cap_t, ob.sectors) == (123_457, 6_172, {"power": 123_457})
    assert statuses(year=2023, today=dt.date(2024, 10, 10))[world.sd1.pk].outstanding_t == 23_457
    assert authority_determinations(market="national", year=2023) == {world.sd1.pk: 123_457}
    assert determined_emissions(market="national", year=2023, entity_ids=[world.sd1.pk]) == {world.sd1.pk: 123_457}
    assert CreditRecord.objects.filter(source_key=f"supervision.finding:{f.pk}").count() == 1
    # a rerun of the year's obligations keeps the determined figure (one path); the allocation itself is not touched
    assert obligations_create(year=2023, pack_id=PACK) == 0
    ob.refresh_from_db()
    assert ob.obligation_t == 123_457
    assert EntityAllocation.objects.get(entity=world.sd1, year=2023).obligation_t == 100_000
    # a later finding of the same year replaces the figure; another year's finding does not touch 2023
    _find(world, world.sd1, determined_emissions_t=110_000, decision_reference="鲁环罚〔2024〕12号", decided_on=dt.date(2024, 10, 20))
    _find(world, world.sd1, year=2024, determined_emissions_t=1, decision_reference="鲁环罚〔2025〕1号")
    ob.refresh_from_db()
    assert (ob.obligation_t, ob.offset_cap_t) == (110_000, 5_500)


def test_finding_before_the_obligation_and_two_sectors(world):
    _find(world, world.sd2, determined_emissions_t=150_000)
    _allocation(world.sd2, emissions=80_000)
    _allocation(world.sd2, sector="steel", emissions=20_000)
    _allocation(world.zj1, emissions=40_000)
    assert obligations_create(year=2023, pack_id=PACK) == 2
    by = {o.entity_id: o for o in Obligation.objects.filter(year=2023)}
    assert (by[world.sd2.pk].obligation_t, by[world.sd2.pk].sectors, by[world.sd2.pk].offset_cap_t) == (150_000, {"power": 120_000, "steel": 30_000}, 7_500)
    assert by[world.zj1.pk].obligation_t == 40_000  # no finding: the verified emissions


def test_determined_emissions_only_on_an_entity_and_through_the_api(world):
    body = Organisation.objects.create(kind=Organisation.Kind.VERIFIER, name="某核查机构", uscc="91110000MA00TEST01")
    before = FalseReportingFinding.objects.count()
    with pytest.raises(CetsError) as e:
        _find(world, body, actor=world.mee, rules_applied="regulations_23", fine_fen=20_000_000, determined_emissions_t=1_000)
    assert e.value.code == "G1001"
    assert FalseReportingFinding.objects.count() == before
    _allocation(world.sd1, emissions=100_000)
    obligations_create(year=2023, pack_id=PACK)
    c = client_for(world.province_sd)
    r = c.post("/api/v1/supervision/false-reporting", {"uscc": SD_1, "year": 2023, "rules": "measures_43", "decision_reference": "鲁环罚〔2024〕13号",
                                                        "facts": "瞒报", "fine_fen": 1_000_000, "determined_emissions_t": 104_321},
               content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json()["determined_emissions_t"] == 104_321
    assert Obligation.objects.get(entity=world.sd1, year=2023).obligation_t == 104_321
    bad = c.post("/api/v1/supervision/false-reporting", {"uscc": SD_1, "year": 2023, "rules": "measures_43", "decision_reference": "x", "facts": "y",
                                                          "fine_fen": 1_000_000, "determined_emissions_t": "5"}, content_type="application/json")
    assert bad.status_code == 422
    # the page's form: a non-integer is refused before anything is written, an integer is recorded
    page = c.post("/supervision/finding/", {"uscc": SD_1, "year": "2023", "rules": "measures_43", "decision_reference": "鲁环罚〔2024〕14号",
                                             "facts": "瞒报", "fine": "10000", "determined_emissions_t": "1.5"})
    assert page.status_code == 302 and Obligation.objects.get(entity=world.sd1, year=2023).obligation_t == 104_321
    c.post("/supervision/finding/", {"uscc": SD_1, "year": "2023", "rules": "measures_43", "decision_reference": "鲁环罚〔2024〕15号",
                                     "facts": "瞒报", "fine": "10000", "determined_emissions_t": "107000"})
    assert Obligation.objects.get(entity=world.sd1, year=2023).obligation_t == 107_000


@given(st.dictionaries(st.sampled_from(["power", "steel", "cement", "aluminium"]), st.integers(0, 10**9), min_size=1), st.integers(0, 10**10))
def test_scaled_sectors_sum_to_the_total_and_keep_the_shares(sectors, total):
    out = scaled_sectors(sectors, total)
    assert set(out) == set(sectors) and sum(out.values()) == total and min(out.values()) >= 0
    old = sum(sectors.values())
    if old:
        for s, q in sectors.items():  # each sector within one tonne of its exact share
            assert abs(out[s] * old - total * q) < old
