"""The authorities' deadlines dashboard: due, late and missing items in their jurisdiction."""

import datetime as dt
from decimal import Decimal

import pytest

from cets.core.errors import CetsError
from tests.conftest import SD_1, ZJ_1, client_for
from tests.mrv.test_reporting import COAL, _filled

TODAY = dt.date(2024, 4, 15)


@pytest.fixture
def year_2023(world):
    from cets.mrv.services import dq_plan_submit, monthly_filings_upload
    from cets.parties.models import EmitterListEntry, GeneratingUnit
    from cets.parties.services import units_upsert

    for o in (world.sd1, world.sd2, world.zj1):
        EmitterListEntry.objects.create(year=2023, sector="power", entity=o, province=o.province)
    units_upsert(units=[GeneratingUnit(entity=world.sd1, code="#1", category="I", rated_capacity_mw=Decimal(600))])
    dq_plan_submit(entity=world.sd1, year=2023, summary="方案", actor=world.entity_sd1_user, on=dt.date(2023, 1, 3))
    monthly_filings_upload(entity=world.sd1, year=2023, file_name="m.xlsx", on=dt.date(2023, 12, 20), actor=world.entity_sd1_user,
                           data=_filled(world.entity_sd1_user, world.sd1, 2023, lambda m: COAL if m <= 11 else None))
    return world


def test_counts_and_items_in_jurisdiction(year_2023):
    from cets.mrv.selectors import deadline_items

    w = year_2023
    counts, items = deadline_items(user=w.province_sd, year=2023, today=TODAY)
    # plans due 2022-12-31: SD_1 filed 2023-01-03 (late), SD_2 none (missing)
    assert counts["dq_plan"] == {"late": 1, "missing": 1}
    # SD_1 #1: Jan–Oct filed 2023-12-20 after month end + 40 days (late), Nov (due 2024-01-09) on time,
    # Dec (due 2023-12-31 + 40 = 2024-02-09) missing on 2024-04-15
    assert counts["monthly_filing"] == {"late": 10, "on_time": 1, "missing": 1}
    # annual reports due 2024-03-31: none generated and signed
    assert counts["annual_report"] == {"missing": 2}
    assert "monthly_review" not in counts  # no national review window is set
    assert all(i["province"] == "37" for i in items)
    assert all(i["state"] != "on_time" for i in items)
    dec = next(i for i in items if i["kind"] == "monthly_filing" and i["state"] == "missing")
    assert dec["subject"] == "#1 2023-12"
    assert dec["due"] == dt.date(2024, 2, 9)
    assert [i["due"] for i in items] == sorted(i["due"] for i in items)
    zj_counts, zj_items = deadline_items(user=w.province_zj, year=2023, today=TODAY)
    assert zj_counts == {"dq_plan": {"missing": 1}, "annual_report": {"missing": 1}}
    assert {i["entity"].uscc for i in zj_items} == {ZJ_1}
    nat, _ = deadline_items(user=w.mee, year=2023, today=TODAY)
    assert nat["dq_plan"] == {"late": 1, "missing": 2}
    # as of 2023-03-13 only January and February have ended: January (due 03-12) is missing then, February (due 04-09)
    # is due; the filings of 2023-12-20 do not count yet, and reports are not yet due
    mid, _ = deadline_items(user=w.province_sd, year=2023, today=dt.date(2023, 3, 13))
    assert mid["monthly_filing"] == {"missing": 1, "due": 1}
    assert "annual_report" not in mid
    with pytest.raises(CetsError):
        deadline_items(user=w.entity_sd1_user, year=2023, today=TODAY)


def test_page_and_api(year_2023):
    w = year_2023
    r = client_for(w.province_sd).get("/mrv/deadlines/?year=2023&kind=monthly_filing")
    assert r.status_code == 200
    assert "#1 2023-12" in r.content.decode()
    assert ZJ_1 not in r.content.decode()
    assert client_for(w.entity_sd1_user).get("/mrv/deadlines/?year=2023").status_code == 404
    j = client_for(w.province_sd).get("/api/v1/mrv/deadlines?year=2023").json()
    assert j["counts"]["dq_plan"] == {"late": 1, "missing": 1}
    assert {i["entity_uscc"] for i in j["items"]} <= {SD_1, "91370100163155357D"}
    assert client_for(w.entity_sd1_user).get("/api/v1/mrv/deadlines?year=2023").status_code == 403


def test_verified_year_shows_nothing_missing(world):
    """A year verified outside the platform (official disclosures, unit-year data) has no plan, monthly filing or
    annual report on the platform: those are counted ``verified``, never ``missing``; an entity without
    verified data keeps its missing items. Only the power list's entities carry the power pack's duties."""
    from cets.mrv.models import UnitYearData, VerificationRecord
    from cets.mrv.selectors import deadline_items
    from cets.parties.models import EmitterListEntry, GeneratingUnit, Organisation

    for o in (world.sd1, world.sd2, world.zj1):
        EmitterListEntry.objects.create(year=2023, sector="power", entity=o, province=o.province)
    EmitterListEntry.objects.create(year=2023, sector="steel", entity=world.sd1, province="37")  # no duplicate duties
    u1 = GeneratingUnit.objects.create(entity=world.sd1, code="#1", category="I", rated_capacity_mw=Decimal(600))
    GeneratingUnit.objects.create(entity=world.sd2, code="#1", category="I", rated_capacity_mw=Decimal(300))
    UnitYearData.objects.create(unit=u1, year=2023, generation_mwh=Decimal(1), heat_supplied_gj=Decimal(0), load_factor=Decimal("0.8"),
                                verified_emissions_t=100_000)
    body = Organisation.objects.create(kind=Organisation.Kind.VERIFIER, name="核查机构", uscc="91110000000000001X")
    VerificationRecord.objects.create(year=2023, sector="power", entity=world.sd2, verifier=body, list_id="L1", on_time=True, conforming=True)
    counts, items = deadline_items(user=world.province_sd, year=2023, today=TODAY)
    assert counts == {"dq_plan": {"verified": 2}, "monthly_filing": {"verified": 24}, "annual_report": {"verified": 2}}
    assert items == []
    nat, nat_items = deadline_items(user=world.mee, year=2023, today=TODAY)
    assert nat["dq_plan"] == {"verified": 2, "missing": 1}
    assert nat["annual_report"] == {"verified": 2, "missing": 1}
    assert {i["entity"].uscc for i in nat_items} == {ZJ_1}
