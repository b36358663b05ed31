"""Beijing accounting beyond power (京环发〔2024〕8号 二(一)): services (data centres included), heat production and supply
and cement by the common structure of the DB11/T standards — fossil fuel combustion, purchased electricity net of green
electricity ("2023年度通过市场化手段购买使用的绿电碳排放量核算为零"), purchased heat, and for cement the clinker process
(the national cement pack's parameters). Golden cases by hand from the formulas of
:func:`cets.mrv.accounting_industry.combustion_year` and the values of the packs ``beijing/<sector>-2023``; then a Beijing
services unit through monthly data → district check → report → commissioned verification → determination → allocation
on the database, and its report page."""

import csv
import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cets.core.errors import CetsError, InputError
from cets.mrv.accounting_industry import ActivityRow, IndustryRules, facility_years, guideline_refusals
from cets.rules.packs import load_pack

DATA = Path(__file__).resolve().parents[2] / "data" / "cn-emission-factors" / "fossil_fuel_default_parameters.csv"
PACKS = ("beijing/services-2023", "beijing/heat-2023", "beijing/cement-2023")


def rules(pack_id: str) -> IndustryRules:
    return IndustryRules.from_pack(load_pack(pack_id))


def row(n, source, material, quantity=None, month=1, facility="F1", **kw):
    return ActivityRow(row_no=n, entity_uscc="91110105MA0TEST001", facility_id=facility, year=2023, month=month, source=source, part="",
                       material=material, quantity=None if quantity is None else D(quantity), **{k: D(v) for k, v in kw.items()})


# -- golden cases, by hand ----------------------------------------------------------------------------------------

# A data centre's month: 柴油 10 t (backup generators), 天然气 2 × 10^4 Nm3, purchased electricity 1,000 MWh of which 400 MWh
# green, purchased heat 500 GJ. Pack values (beijing/services-2023): 柴油 NCV 43.33 GJ/t, CC 0.0202 tC/GJ, OF 0.98; 天然气
# 389.31 GJ/10^4 Nm3, 0.0153, 0.99; electricity 0.604 tCO2/MWh; heat 0.11 tCO2/GJ.
#   C = 10 × 43.33 × 0.0202 × 0.98 + 2 × 389.31 × 0.0153 × 0.99 = 8.5776068 + 11.79375714 = 20.37136394 tC
#   E燃烧 = 20.37136394 × 44/12 = 74.6950011133… → 74.70 (2 decimals)
#   E电 = (1000 − 400) × 0.604 = 362.4;  E热 = 500 × 0.11 = 55
#   E = 74.6950011… + 362.4 + 55 = 492.0950011… → 492 t
SERVICES_MONTH = [("fuel", "柴油", "10"), ("fuel", "天然气", "2"), ("electricity", "电力", "1000"), ("green_electricity", "绿电", "400"),
                  ("heat", "热力", "500")]


def test_services_fuel_green_electricity_and_heat_by_hand():
    rs = [row(i, *r) for i, r in enumerate(SERVICES_MONTH, start=1)]
    r = rules("beijing/services-2023")
    assert guideline_refusals(rs, r) == []
    [fy] = facility_years(rs, r)
    assert (fy.sector, fy.emissions_t, fy.output_t) == ("services", 492, D("0"))
    assert fy.details["e_fuel_t"] == D("74.70") and fy.details["e_electricity_t"] == D("362.40") and fy.details["e_heat_t"] == D("55.00")
    assert (fy.details["electricity_mwh"], fy.details["green_electricity_mwh"], fy.details["heat_gj"]) == (D("1000.000"), D("400.000"), D("500.00"))
    assert fy.exact["e_total_t"].quantize(D("0.0000001")) == D("492.0950011")
    # the same month without the green electricity: (1000 − 0) × 0.604 = 604 → 74.695 + 604 + 55 = 733.695 → 734
    [no_green] = facility_years([x for x in rs if x.source != "green_electricity"], r)
    assert no_green.emissions_t == 734


def test_measured_fuel_parameters_replace_the_defaults():
    # 柴油 10 t with measured NCV 42 GJ/t, CC 0.02 tC/GJ, OF 1: 10 × 42 × 0.02 × 1 × 44/12 = 8.4 × 44/12 = 30.8 t
    r = rules("beijing/services-2023")
    rs = [row(1, "fuel", "柴油", "10", ncv="42", carbon_content="0.02", oxidation_rate="1")]
    assert guideline_refusals(rs, r) == []
    [fy] = facility_years(rs, r)
    assert (fy.emissions_t, fy.details["e_fuel_t"]) == (31, D("30.80"))


def test_heat_plant_year_with_heat_supplied_as_output():
    # 天然气 100 × 10^4 Nm3: 100 × 389.31 × 0.0153 × 0.99 × 44/12 = 589.687857 × 44/12 = 2162.188809; electricity 200 MWh × 0.604
    # = 120.8; E = 2282.988809 → 2283 t; output: heat supplied 300,000 GJ (the pack's product)
    r = rules("beijing/heat-2023")
    rs = [row(1, "fuel", "天然气", "100"), row(2, "electricity", "电力", "200"), row(3, "product", "供热量", "300000")]
    assert guideline_refusals(rs, r) == []
    [fy] = facility_years(rs, r)
    assert (fy.sector, fy.emissions_t, fy.output_t, fy.details["e_fuel_t"], fy.details["e_electricity_t"]) == (
        "heat", 2283, D("300000.00"), D("2162.19"), D("120.80"))
    assert r.output_required and not rules("beijing/services-2023").output_required


def test_cement_line_with_the_national_clinker_process_by_hand():
    # 烟煤 500 t: 500 × 23.204 × 0.02618 × 0.93 × 44/12 = 282.4785348 tC × 44/12 = 1035.7546276
    # clinker 1000 t, CaO 0.65, MgO 0.02 (non-carbonate oxides default 0, national/cement-accounting-2024-2026):
    #   1000 × (0.65 × 44/56 + 0.02 × 44/40) = 510.7142857… + 22 = 532.7142857…
    # electricity 5000 MWh of which 1000 green: 4000 × 0.604 = 2416
    # E = 1035.7546276 + 532.7142857 + 2416 = 3984.4689133 → 3984 t; output 1000 t clinker
    r = rules("beijing/cement-2023")
    rs = [row(1, "fuel", "烟煤", "500"), row(2, "clinker", "熟料", "1000"), row(3, "clinker_content", "氧化钙", measured_value="0.65"),
          row(4, "clinker_content", "氧化镁", measured_value="0.02"), row(5, "electricity", "电力", "5000"), row(6, "green_electricity", "绿电", "1000")]
    assert guideline_refusals(rs, r) == []
    [fy] = facility_years(rs, r)
    assert (fy.sector, fy.emissions_t, fy.output_t) == ("cement", 3984, D("1000.00"))
    assert (fy.details["e_fuel_t"], fy.details["e_carbonate_t"], fy.details["e_electricity_t"], fy.details["e_heat_t"]) == (
        D("1035.75"), D("532.71"), D("2416.00"), D("0.00"))
    # a month with clinker but no measured CaO/MgO (no default): M0108, as in the national pack
    refused = guideline_refusals([row(1, "clinker", "熟料", "1000")], r)
    assert {x.check.code for x in refused} == {"M0108"}


def test_green_electricity_above_purchased_and_unknown_materials_are_refused():
    r = rules("beijing/services-2023")
    rs = [row(1, "electricity", "电力", "100"), row(2, "green_electricity", "绿电", "60"), row(3, "green_electricity", "绿电", "50", month=2)]
    refused = guideline_refusals(rs, r)
    assert [(x.row_no, x.check.code) for x in refused] == [(3, "M0701")]  # month 2 has green 50 > purchased 0; month 1: 60 ≤ 100
    # services have no product and no clinker; electricity rows carry no parameter
    bad = guideline_refusals([row(1, "product", "供热量", "10"), row(2, "electricity", "电力", "10", ncv="1")], r)
    assert [(x.row_no, x.check.code) for x in bad] == [(1, "M0106"), (2, "M0104")]


# -- the packs ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pack_id", PACKS)
def test_pack_values_sources_and_unconfirmed(pack_id):
    p = load_pack(pack_id)
    assert (p.kind, p.market, p.years) == ("accounting", "beijing", (2023,)) or (p.kind, p.market, list(p.years)) == ("accounting", "beijing", [2023])
    r = IndustryRules.from_pack(p)
    assert (r.electricity_factor, r.heat_factor, r.green_counts_zero) == (D("0.604"), D("0.11"), True)
    for key in ("pack", "purchased_electricity.grid_factor", "purchased_heat.factor", "fuels.烟煤.ncv", "accounting.emissions_rounding"):
        assert p.is_unconfirmed(key), key
    assert not p.is_unconfirmed("purchased_electricity.green_counts_zero")  # the notice's own words (seed 004 二(一))
    assert p.text("verification.selection") == "commissioned" and p.decimal("reporting.monthly_filing_days") == D("20")
    with DATA.open(encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert len(r.fuels) == len(table) == 27
    for t in table:
        f = r.fuels[t["fuel"]]
        assert (f.ncv, f.carbon_content, f.oxidation_rate) == (
            D(t["default_ncv"]), D(t["default_carbon_content_tc_per_gj"]), D(t["default_oxidation_rate_pct"]) / 100)


def test_cement_process_values_are_the_national_packs():
    bj, nat = load_pack("beijing/cement-2023"), load_pack("national/cement-accounting-2024-2026")
    for key in ("accounting.co2_cao_numerator", "accounting.co2_cao_denominator", "accounting.co2_mgo_numerator", "accounting.co2_mgo_denominator",
                "parameters.非碳酸盐氧化钙.default", "parameters.非碳酸盐氧化镁.default", "parameters.生料非燃料碳.default"):
        assert bj.decimal(key) == nat.decimal(key), key
    assert bj.is_unconfirmed("accounting.co2_cao_denominator")


def test_packs_are_found_for_their_sectors_and_pass_the_check():
    from cets.cli import main
    from cets.rules.packs import pack_for

    for sector in ("services", "heat", "cement"):
        assert pack_for("beijing", sector, 2023, kind="accounting").id == f"beijing/{sector}-2023"
    assert main(["rules", "check"]) == 0


# -- a Beijing services unit through the year, on the database ------------------------------------------------------

def _lines(month_rows):
    from cets.mrv.facility_services import LineIn

    return [LineIn(source=s, material=m, quantity=D(q)) for s, m, q in month_rows]


def _file_year(ns):
    from cets.mrv.facility_services import facility_month_file

    return [facility_month_file(facility=ns.facility, year=2023, month=m, lines=_lines(SERVICES_MONTH), actor=ns.user, on=dt.date(2024, 1, 10),
                                market="beijing") for m in range(1, 13)]


def test_beijing_services_unit_report_verification_determination_allocation(bj):
    from cets.allocation.models import EntityAllocation
    from cets.allocation.services import allocation_basis_import, allocation_compute
    from cets.core.tables import UploadedTable
    from cets.mrv.facility_services import (
        FacilityFigures,
        facility_annual_report_generate,
        facility_month_file,
        facility_month_review,
        facility_verification_record,
        facility_year_data_from_verification,
    )
    from cets.mrv.models import FacilityYearData
    from cets.mrv.selectors import determined_emissions
    from cets.mrv.services import annual_report_sign, verification_commission

    ns = bj
    filings = _file_year(ns)
    f12 = filings[-1]
    # month due: month end + 20 calendar days (京环发〔2024〕8号 三(一)1): 2023-12-31 + 20 = 2024-01-20
    assert (f12.due_on, f12.pack_id, f12.market) == (dt.date(2024, 1, 20), "beijing/services-2023", "beijing")
    # the district checks its own units' months; another district may not (R0502)
    with pytest.raises(CetsError) as e:
        facility_month_review(filing_id=filings[0].pk, actor=ns.haidian, accept=True, comment="", on=dt.date(2024, 1, 25))
    assert e.value.code == "R0502"
    facility_month_review(filing_id=filings[0].pk, actor=ns.chaoyang, accept=True, comment="", on=dt.date(2024, 1, 25))
    # green electricity above the month's purchased electricity is refused with the pack as clause, nothing written
    with pytest.raises(InputError) as e:
        facility_month_file(facility=ns.facility, year=2023, month=2, lines=_lines([("electricity", "电力", "10"), ("green_electricity", "绿电", "11")]),
                            actor=ns.user, on=dt.date(2024, 2, 1), market="beijing")
    assert "M0701" in e.value.problems[0].zh
    # the report is computed from the stored months: 12 × 492.0950011… = 5905.140013… → 5905 t
    rep = facility_annual_report_generate(entity=ns.unit, year=2023, actor=ns.user, market="beijing")
    assert (rep.sector, rep.emissions_t, rep.missing, rep.pack_id) == ("services", 5905, [], "beijing/services-2023")
    assert rep.due_on == dt.date(2024, 6, 15)  # beijing/cycle-2023-2024 first_report (三(一)1)
    [fac] = rep.facilities
    assert (fac["facility_id"], fac["emissions_t"], fac["output_t"]) == ("DC1", 5905, 0)
    # 12 × 74.6950011… = 896.34 (fuel); 12 × 362.4 = 4348.8 (electricity net of green); 12 × 55 = 660 (heat)
    assert (fac["details"]["e_fuel_t"], fac["details"]["e_electricity_t"], fac["details"]["e_heat_t"]) == ("896.34", "4348.80", "660.00")
    assert fac["details"]["green_electricity_mwh"] == "4800.000"
    annual_report_sign(report_id=rep.pk, actor=ns.user, on=dt.date(2024, 6, 10))
    # the unit commissions its verification body (三(二)); the sector comes from its list entry
    a = verification_commission(entity=ns.unit, year=2023, body=ns.body, actor=ns.user, market="beijing")
    assert (a.sector, a.commissioned_by_id) == ("services", ns.unit.pk)
    facility_verification_record(assignment_id=a.pk, actor=ns.verifier, conforming=True, completed_on=dt.date(2024, 6, 20),
                                 figures=[FacilityFigures("DC1", 5905, 5905, 0)])  # services have no output: 0 accepted
    assert determined_emissions(market="beijing", year=2023, entity_ids=[ns.unit.pk]) == {ns.unit.pk: 5905}
    assert facility_year_data_from_verification(assignment_id=a.pk, actor=ns.bureau) == 1
    assert FacilityYearData.objects.get(facility=ns.facility, year=2023).verified_emissions_t == 5905
    # allocation reads the determined emissions: historical total 8000 × 1 = 8000, capped at floor(1.2 × 5905) = 7086 (二(二))
    allocation_basis_import(pack_id="beijing/emitters-2023-2024", year=2023, actor=ns.bureau,
                            path=UploadedTable(name="basis.csv", data=f"entity_uscc,method,base,activity,factor,prev_allocation_t,prev_compliant\n"
                                                                     f"{ns.unit.uscc},historical_total,8000,,1,0,no\n".encode()))
    allocation_compute(year=2023, pack_id="beijing/emitters-2023-2024", actor=ns.bureau)
    ea = EntityAllocation.objects.get(market="beijing", year=2023, entity=ns.unit)
    assert (ea.sector, ea.verified_emissions_t, ea.initial_allocation_t, ea.final_allocation_t, ea.obligation_t) == ("services", 5905, 8000, 7086, 5905)


def test_output_zero_refused_where_the_sector_has_an_output(bj):
    from cets.mrv.facility_services import FacilityFigures, facility_annual_report_generate, facility_month_file, facility_verification_record
    from cets.mrv.services import annual_report_sign, verification_commission
    from cets.parties.models import Facility
    from cets.parties.services import emitter_list_entries_ensure

    ns = bj
    emitter_list_entries_ensure(market="beijing", entries=[(2023, "heat", ns.unit.pk, "11", "test")])
    ns.facility.delete()
    heat = Facility.objects.create(entity=ns.unit, sector="heat", code="H1", kind="boiler_house")
    for m in range(1, 13):
        facility_month_file(facility=heat, year=2023, month=m, lines=_lines([("fuel", "天然气", "100"), ("product", "供热量", "25000")]), actor=ns.user,
                            on=dt.date(2024, 1, 10), market="beijing")
    rep = facility_annual_report_generate(entity=ns.unit, year=2023, actor=ns.user, market="beijing", sector="heat")
    # 12 × 2162.188809 = 25946.265708 → 25946 t; heat supplied 12 × 25000 = 300000 GJ
    assert (rep.emissions_t, rep.facilities[0]["output_t"]) == (25946, 300000)
    annual_report_sign(report_id=rep.pk, actor=ns.user, on=dt.date(2024, 6, 10))
    a = verification_commission(entity=ns.unit, year=2023, body=ns.body, actor=ns.user, market="beijing", sector="heat")
    with pytest.raises(CetsError) as e:
        facility_verification_record(assignment_id=a.pk, actor=ns.verifier, conforming=True, completed_on=dt.date(2024, 6, 20),
                                     figures=[FacilityFigures("H1", 25946, 25946, 0)])
    assert e.value.code == "V0402"


def test_report_page_shows_the_lines_of_the_beijing_unit(bj):
    from django.urls import reverse

    from cets.mrv.facility_services import facility_annual_report_generate
    from tests.conftest import client_for

    ns = bj
    _file_year(ns)
    facility_annual_report_generate(entity=ns.unit, year=2023, actor=ns.user, market="beijing")
    c = client_for(ns.user)
    page = c.get(reverse("mrv:facilities") + "?year=2023", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "beijing" in page and "5905" in page  # the market is found from the unit's list entry
    for label, value in (("Fossil fuel combustion (t CO2)", "896.34"), ("Purchased electricity, net of green electricity (t CO2)", "4348.80"),
                         ("Purchased heat (t CO2)", "660.00"), ("Green electricity counted as zero (MWh)", "4800.000")):
        assert label in page and value in page
    zh = c.get(reverse("mrv:facilities") + "?year=2023&market=beijing", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "化石燃料燃烧" in zh
    # the month form of the Beijing facility, with the combustion sources
    month = c.get(reverse("mrv:facility_month", args=[ns.facility.pk, 2023, 3]) + "?market=beijing").content.decode()
    assert "green_electricity" in month
    # filing a month through the form
    r = c.post(reverse("mrv:facility_month", args=[ns.facility.pk, 2023, 3]), {
        "market": "beijing", "rows": "2", "source-0": "electricity", "material-0": "电力", "quantity-0": "50",
        "source-1": "green_electricity", "material-1": "绿电", "quantity-1": "50"})
    assert r.status_code == 302 and "market=beijing" in r["Location"]


def test_cli_compute_with_a_beijing_pack(tmp_path):
    """`cets mrv compute --pack beijing/services-2023`: the golden month above through the command (492 t)."""
    from cets.cli import main

    src, out = tmp_path / "dc.csv", tmp_path / "out.csv"
    head = "entity_uscc,facility_id,month,source,part,material,quantity,ncv_gj_per_unit,carbon_content_tc_per_gj,oxidation_rate,measured_value\n"
    src.write_text(head + "".join(f"91110105MA0BJD007A,DC1,2023-01,{s},,{m},{q},,,,\n" for s, m, q in SERVICES_MONTH), encoding="utf-8")
    assert main(["mrv", "compute", "--pack", "beijing/services-2023", "--input", str(src), "--out", str(out)]) == 0
    [r] = list(csv.DictReader(out.open(encoding="utf-8")))
    assert (r["sector"], r["emissions_t"], r["e_fuel_t"], r["e_electricity_t"], r["e_heat_t"], r["green_electricity_mwh"]) == (
        "services", "492", "74.70", "362.40", "55.00", "400.000")


def test_api_beijing_services_months_report_and_outcome(bj):
    """The same chain through the API: months with ``market`` "beijing", the district's check, the report, the body's figures
    (output 0 for services)."""
    from cets.mrv.services import verification_commission
    from tests.conftest import client_for

    ns = bj
    c = client_for(ns.user)
    lines = [{"source": s, "material": m, "quantity": q} for s, m, q in SERVICES_MONTH]
    ids = []
    for m in range(1, 13):
        r = c.post(f"/api/v1/mrv/facilities/{ns.facility.pk}/months/2023/{m}", {"lines": lines, "market": "beijing"}, content_type="application/json")
        assert r.status_code == 200, r.content
        ids.append(r.json()["id"])
    # without the market the national packs apply, which have no services accounting: refused (M0301), nothing filed
    r = c.post(f"/api/v1/mrv/facilities/{ns.facility.pk}/months/2023/1", {"lines": lines}, content_type="application/json")
    assert r.status_code >= 400 and "M0301" in r.content.decode()
    assert client_for(ns.haidian).post(f"/api/v1/mrv/facility-filings/{ids[0]}/review", {"accept": True}, content_type="application/json").status_code == 403
    r = client_for(ns.chaoyang).post(f"/api/v1/mrv/facility-filings/{ids[0]}/review", {"accept": True}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    r = c.post(f"/api/v1/mrv/facility-reports/{ns.unit.uscc}/2023", {"market": "beijing"}, content_type="application/json")
    assert r.status_code == 200 and (r.json()["emissions_t"], r.json()["sector"], r.json()["pack_id"]) == (5905, "services", "beijing/services-2023")
    assert c.post(f"/api/v1/mrv/reports/{r.json()['id']}/sign", content_type="application/json").status_code == 200
    a = verification_commission(entity=ns.unit, year=2023, body=ns.body, actor=ns.user, market="beijing")
    body = {"figures": [{"facility_id": "DC1", "verified_emissions_t": 5905, "intensity_emissions_t": 5905, "output_t": 0}], "conforming": True,
            "completed_on": "2024-06-20"}
    r = client_for(ns.verifier).post(f"/api/v1/mrv/assignments/{a.pk}/facility-outcome", body, content_type="application/json")
    assert r.status_code == 200 and r.json()["verified_emissions_t"] == 5905


def test_district_checks_its_units_months_on_the_review_page(bj):
    """京环发〔2024〕8号 三(一)1: the district bureau checks the monthly data of its units — on the facility review page of the
    Beijing market (found from the unit's list entry), not another district's."""
    from django.urls import reverse

    from cets.mrv.models import FacilityMonthlyFiling
    from tests.conftest import client_for

    ns = bj
    [f1, *_] = _file_year(ns)
    cy = client_for(ns.chaoyang)
    page = cy.get(reverse("mrv:facility_review") + "?year=2023", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "beijing" in page and "北京测试数据中心有限公司" in page and "green_electricity 绿电 400" in page
    assert "北京测试数据中心有限公司" not in client_for(ns.haidian).get(reverse("mrv:facility_review") + "?year=2023&market=beijing").content.decode()
    r = cy.post(reverse("mrv:facility_action", args=["month_review"]), {"year": "2023", "market": "beijing", "filing_id": str(f1.pk), "accept": "1"})
    assert r.status_code == 302 and "market=beijing" in r["Location"]
    f1.refresh_from_db()
    assert (f1.status, f1.reviewed_by_id) == (FacilityMonthlyFiling.Status.ACCEPTED, ns.chaoyang.pk)


@settings(max_examples=60, deadline=None)
@given(bought=st.integers(min_value=0, max_value=10**7), green_share=st.integers(min_value=0, max_value=100),
       heat=st.integers(min_value=0, max_value=10**6), diesel=st.integers(min_value=0, max_value=10**4))
def test_green_electricity_removes_exactly_its_share(bought, green_share, heat, diesel):
    """Invariant of 二(一): green electricity (≤ the purchased) lowers the exact total by green × the electricity factor and
    nothing else; the total is never below the fuel and heat terms."""
    r = rules("beijing/services-2023")
    green = bought * green_share // 100
    base = [row(1, "fuel", "柴油", str(diesel)), row(2, "electricity", "电力", str(bought)), row(3, "heat", "热力", str(heat))]
    with_green = base + [row(4, "green_electricity", "绿电", str(green))]
    assert guideline_refusals(with_green, r) == []
    from cets.core.quantities import exact

    [a], [b] = facility_years(base, r), facility_years(with_green, r)
    with exact():  # the figures carry more digits than the default context keeps; ×44/12 repeats, so equal to 1e-20 t
        assert abs(a.exact["e_total_t"] - b.exact["e_total_t"] - green * r.electricity_factor) < D("1e-20")
        assert b.exact["e_total_t"] >= b.exact["e_fuel_t"] + b.exact["e_heat_t"]
        assert b.exact["e_electricity_t"] == (bought - green) * D("0.604")
