"""The year's duties of steel, cement and aluminium entities per facility, and the trace from monthly filings to the
allocation line: plan → months → annual report (the accounting guideline's formulas) → verification per facility →
FacilityYearData → allocation. Every figure below is computed by hand from the packs' defaults (see the comments)."""

import datetime as dt
from decimal import Decimal as D

import pytest

from cets.core.errors import CetsError, InputError

YEAR = 2024


def _line(source, material, quantity=None, part="", **kw):
    from cets.mrv.facility_services import LineIn

    return LineIn(source=source, part=part, material=material, quantity=None if quantity is None else D(quantity),
                  **{k: D(v) for k, v in kw.items()})


# One month of each facility, the same every month of 2024.
STEEL_MONTH = [
    _line("fuel", "焦炭", "1000"),                              # enterprise: coke bought, formula (1)
    _line("process_input", "焦炭", "600", part="ironmaking"),   # formula (2), ironmaking
    _line("process_input", "焦炭", "100", part="sintering"),    # formula (2), sintering
    _line("product", "生铁", "900", part="ironmaking"),         # the ironmaking product (8.2.1)
    _line("electricity", "电力", "2000", part="ironmaking"),    # 附录E auxiliary item, not an emission
]
CEMENT_MONTH = [
    _line("fuel", "烟煤", "500"),
    _line("clinker", "熟料", "1000"),
    _line("clinker_content", "氧化钙", measured_value="0.65"),
    _line("clinker_content", "氧化镁", measured_value="0.02"),
]
ALUMINIUM_MONTH = [
    _line("anode", "炭阳极", "400"),
    _line("product", "原铝液", "1000"),
]

# By hand (tCO2; defaults of the packs national/<sector>-accounting-2024-2026):
# steel, coke A.1: NCV 28.435 GJ/t × CC 0.02942 tC/GJ = 0.8365577 tC/t.
#   E企业 = 12 × 1000 × 0.8365577 × 44/12 = 1000 × 0.8365577 × 44 = 36808.5388 → 36809 (C.5 *1, 四舍五入)
#   E炼铁 = 600 × 0.8365577 × 44 = 22085.12328 → 22085.12; E烧结 = 100 × 0.8365577 × 44 = 3680.85388 → 3680.85
#   intensity emissions = 22085.12 + 3680.85 = 25765.97 → 25766 t; ironmaking product 12 × 900 = 10800 t
STEEL = (36809, 25766, 10800)
# cement, 烟煤 23.736 GJ/t × 0.02618 tC/GJ × OF 0.99 = 0.6151943952 tC/t; fuel 12 × 500 × that × 44/12 = 13534.2766944
#   carbonate 12 × 1000 × (0.65 × 44/56 + 0.02 × 44/40) = 12000 × 0.532714285714… = 6392.571428571…
#   line = 19926.848122… → 19927 (intensity emissions = the line's emissions); clinker 12000 t
CEMENT = (19927, 19927, 12000)
# aluminium, anode 12 × 400 × (1 − 0.02 − 0.004) × 44/12 = 4684.8 × 44/12 = 17177.6
#   PFC 12 × 1000 × (0.034 × 6630 + 0.0034 × 11100) / 1000 = 12 × 263.16 = 3157.92
#   total 20335.52 → 20336; intensity emissions (anode + PFC) 20335.52 → 20336; molten aluminium 12000 t
ALUMINIUM = (20336, 20336, 12000)


MONTHS = {"steel": STEEL_MONTH, "cement": CEMENT_MONTH, "aluminium": ALUMINIUM_MONTH}
EXPECTED = {"steel": STEEL, "cement": CEMENT, "aluminium": ALUMINIUM}


def _file_year(ns, sector):
    from cets.mrv.facility_services import facility_month_file

    for m in range(1, 13):
        facility_month_file(facility=ns.facilities[sector], year=YEAR, month=m, lines=MONTHS[sector], actor=ns.users[sector],
                            on=dt.date(2025, 5, 20))


def test_filed_months_to_allocation_lines_by_hand(industry):
    from cets.allocation.models import EntityAllocation, FacilityAllocation
    from cets.allocation.services import allocation_compute
    from cets.mrv.facility_services import FacilityFigures, facility_annual_report_generate, facility_verification_record, facility_year_data_from_verification
    from cets.mrv.models import FacilityYearData
    from cets.mrv.services import annual_report_sign, verification_assign
    from cets.rules.markets import load_market

    ns, w = industry, industry.world
    packs = {e.sector: e.pack for e in load_market("national").packs if e.kind == "allocation" and YEAR in e.years}
    for sector, (emissions, intensity_t, output) in EXPECTED.items():
        _file_year(ns, sector)
        rep = facility_annual_report_generate(entity=ns.entities[sector], year=YEAR, actor=ns.users[sector])  # sector from the list entry
        assert rep.sector == sector and rep.missing == [] and rep.emissions_t == emissions
        assert rep.due_on == dt.date(2025, 6, 30)  # cycle pack 2024 annual_report (seed 003 §二(六))
        [fac] = rep.facilities
        assert (fac["emissions_t"], fac["intensity_emissions_t"], fac["output_t"]) == (emissions, intensity_t, output)
        annual_report_sign(report_id=rep.pk, actor=ns.users[sector], on=dt.date(2025, 6, 20))
        [a] = verification_assign(year=YEAR, province="37", entities=[ns.entities[sector]], bodies=[ns.body], seed=f"s-{sector}", actor=w.province_sd)
        assert a.sector == sector  # from the entity's list entry, not a default
        code = ns.facilities[sector].code
        facility_verification_record(assignment_id=a.pk, actor=ns.verifier, conforming=True, completed_on=dt.date(2025, 8, 1),
                                     figures=[FacilityFigures(code, fac["emissions_t"], fac["intensity_emissions_t"], fac["output_t"])])
        assert facility_year_data_from_verification(assignment_id=a.pk, actor=w.province_sd) == 1
        fyd = FacilityYearData.objects.get(facility=ns.facilities[sector], year=YEAR)
        assert (fyd.verified_emissions_t, fyd.intensity_emissions_t, fyd.output_t, fyd.assignment_id) == (emissions, intensity_t, output, a.pk)
        allocation_compute(year=YEAR, pack_id=packs[sector])
        line = FacilityAllocation.objects.get(facility=ns.facilities[sector], year=YEAR)
        # 2024: allocation = verified emissions (verified_emissions mechanism); the intensity is the verified one
        assert line.allocation_t == emissions and line.verified_emissions_t == emissions
        assert line.intensity == (D(intensity_t) / D(output)).quantize(D("0.00000001"))
        assert EntityAllocation.objects.get(entity=ns.entities[sector], year=YEAR, sector=sector).final_allocation_t == emissions
    # the steel line by hand: 25766 / 10800 = 2.38574074…
    assert FacilityAllocation.objects.get(facility=ns.facilities["steel"]).intensity == D("2.38574074")


def test_plans_per_facility_with_cycle_deadlines(industry):
    from cets.mrv.facility_services import facility_plan_submit
    from cets.mrv.services import dq_plan_review

    ns, w = industry, industry.world
    p25 = facility_plan_submit(facility=ns.facilities["steel"], year=2025, summary="高炉煤气计量", actor=ns.users["steel"], on=dt.date(2025, 6, 1))
    assert (p25.version, p25.due_on, p25.facility_id) == (1, dt.date(2025, 6, 30), ns.facilities["steel"].pk)  # seed 003 §二(四)
    p26 = facility_plan_submit(facility=ns.facilities["cement"], year=2026, summary="x", actor=ns.users["cement"], on=dt.date(2025, 12, 1))
    assert p26.due_on == dt.date(2025, 12, 31)
    assert facility_plan_submit(facility=ns.facilities["cement"], year=2024, summary="x", actor=ns.users["cement"], on=dt.date(2025, 1, 1)).due_on is None
    with pytest.raises(CetsError) as e:  # another entity's facility
        facility_plan_submit(facility=ns.facilities["steel"], year=2025, summary="x", actor=ns.users["cement"], on=dt.date(2025, 6, 1))
    assert e.value.code == "M0302"
    dq_plan_review(plan_id=p25.pk, actor=w.province_sd, approve=False, comment="补充焦炭检测", on=dt.date(2025, 6, 5))
    v2 = facility_plan_submit(facility=ns.facilities["steel"], year=2025, summary="高炉煤气计量；焦炭检测", actor=ns.users["steel"], on=dt.date(2025, 6, 6))
    assert v2.version == 2
    assert dq_plan_review(plan_id=v2.pk, actor=w.province_sd, approve=True, comment="", on=dt.date(2025, 6, 10)).status == "approved"


def test_month_due_dates_from_the_packs():
    from cets.mrv.facility_services import month_due

    # from July 2025: month end + 40 calendar days (seed 003 §二(五)); 2025-07-31 + 40 = 2025-09-09
    assert month_due(market="national", sector="steel", year=2025, month=7) == dt.date(2025, 9, 9)
    # January–June 2025: back-filled by 2025-10-31 (cycle step monthly_backfill)
    assert month_due(market="national", sector="cement", year=2025, month=3) == dt.date(2025, 10, 31)
    # 2024: no monthly clock; due with the 2024 report (2025-06-30)
    assert month_due(market="national", sector="aluminium", year=2024, month=12) == dt.date(2025, 6, 30)


def test_month_refusals_numbered_and_nothing_written(industry):
    from cets.mrv.facility_services import facility_month_file, facility_month_review
    from cets.mrv.models import FacilityMonthlyFiling

    ns, w = industry, industry.world
    fac, user = ns.facilities["steel"], ns.users["steel"]
    bad = [_line("fuel", "焦炭", "-1"), _line("bogus", "焦炭", "1"), _line("process_input", "焦炭", "1", part="nowhere"),
           _line("fuel", "焦炭", "2"), _line("fuel", "焦炭", "5", ncv="30")]
    with pytest.raises(InputError) as e:
        facility_month_file(facility=fac, year=YEAR, month=1, lines=bad, actor=user, on=dt.date(2025, 2, 1))
    codes = [p.en.split()[0] for p in e.value.problems]
    assert codes == ["M0404", "M0401", "M0402", "M0406", "M0406"]
    with pytest.raises(InputError) as e:  # coke NCV is the A.1 default (6.2.2.2): a guideline refusal with its clause
        facility_month_file(facility=fac, year=YEAR, month=1, lines=[_line("fuel", "焦炭", "5", ncv="30")], actor=user, on=dt.date(2025, 2, 1))
    assert e.value.problems[0].en.startswith("M0104") and "6.2.2.2" in e.value.problems[0].zh
    with pytest.raises(CetsError) as e:
        facility_month_file(facility=fac, year=YEAR, month=13, lines=STEEL_MONTH, actor=user, on=dt.date(2025, 2, 1))
    assert e.value.code == "M0303"
    with pytest.raises(CetsError) as e:
        facility_month_file(facility=fac, year=YEAR, month=1, lines=[], actor=user, on=dt.date(2025, 2, 1))
    assert e.value.code == "M0305"
    with pytest.raises(CetsError) as e:  # power has no facility accounting pack
        from cets.parties.models import Facility

        other = Facility.objects.create(entity=ns.entities["steel"], sector="power", code="P1", kind="x")
        facility_month_file(facility=other, year=YEAR, month=1, lines=STEEL_MONTH, actor=user, on=dt.date(2025, 2, 1))
    assert e.value.code == "M0301"
    assert not FacilityMonthlyFiling.objects.exists()
    f = facility_month_file(facility=fac, year=YEAR, month=1, lines=STEEL_MONTH, actor=user, on=dt.date(2025, 2, 1), evidence=[("a.pdf", "00" * 32)])
    assert f.lines.count() == 5 and f.due_on == dt.date(2025, 6, 30)
    facility_month_review(filing_id=f.pk, actor=w.province_sd, accept=True, comment="", on=dt.date(2025, 2, 3))
    with pytest.raises(CetsError) as e:
        facility_month_file(facility=fac, year=YEAR, month=1, lines=STEEL_MONTH, actor=user, on=dt.date(2025, 2, 4))
    assert e.value.code == "M0304"
    with pytest.raises(CetsError) as e:
        facility_month_review(filing_id=f.pk, actor=w.province_sd, accept=True, comment="", on=dt.date(2025, 2, 5))
    assert e.value.code == "M0306"


def test_verification_refusals_and_handover_conditions(industry):
    from cets.mrv.facility_services import FacilityFigures, facility_annual_report_generate, facility_verification_record, facility_year_data_from_verification
    from cets.mrv.services import annual_report_sign, verification_assign, verification_notify, verification_objection_decide, verification_objection_file

    ns, w = industry, industry.world
    [a] = verification_assign(year=YEAR, province="37", entities=[ns.entities["cement"]], bodies=[ns.body], seed="s", actor=w.province_sd)
    fig = [FacilityFigures("L1", *CEMENT)]
    with pytest.raises(CetsError) as e:  # no submitted report yet
        facility_verification_record(assignment_id=a.pk, actor=ns.verifier, figures=fig, conforming=True, completed_on=dt.date(2025, 8, 1))
    assert e.value.code == "V0403"
    _file_year(ns, "cement")
    rep = facility_annual_report_generate(entity=ns.entities["cement"], year=YEAR, actor=ns.users["cement"])
    annual_report_sign(report_id=rep.pk, actor=ns.users["cement"], on=dt.date(2025, 6, 20))
    for figs, code in (([FacilityFigures("XX", *CEMENT)], "V0401"), ([], "V0401"), ([FacilityFigures("L1", 100, 101, 5)], "V0402"),
                       ([FacilityFigures("L1", 100, 50, 0)], "V0402"), ([FacilityFigures("L1", True, 0, 5)], "V0402"),
                       ([FacilityFigures("L1", 10**16, 0, 5)], "V0402")):
        with pytest.raises(CetsError) as e:
            facility_verification_record(assignment_id=a.pk, actor=ns.verifier, figures=figs, conforming=True, completed_on=dt.date(2025, 8, 1))
        assert e.value.code == code
    with pytest.raises(CetsError) as e:
        facility_verification_record(assignment_id=a.pk, actor=ns.users["cement"], figures=fig, conforming=True, completed_on=dt.date(2025, 8, 1))
    assert e.value.code == "R0502"
    facility_verification_record(assignment_id=a.pk, actor=ns.verifier, figures=fig, conforming=False, completed_on=dt.date(2025, 8, 1))
    with pytest.raises(CetsError) as e:  # a 不符合 conclusion is not handed to allocation
        facility_year_data_from_verification(assignment_id=a.pk, actor=w.province_sd)
    assert e.value.code == "V0404"
    verification_notify(assignment_id=a.pk, actor=w.province_sd, on=dt.date(2025, 8, 4))
    verification_objection_file(assignment_id=a.pk, actor=ns.users["cement"], on=dt.date(2025, 8, 5), text="排放量核算无误")
    verification_objection_decide(assignment_id=a.pk, actor=w.province_sd, on=dt.date(2025, 8, 8), upheld=True)
    with pytest.raises(CetsError) as e:
        facility_year_data_from_verification(assignment_id=a.pk, actor=w.province_zj)
    assert e.value.code == "R0502"
    assert facility_year_data_from_verification(assignment_id=a.pk, actor=w.province_sd) == 1
    with pytest.raises(CetsError) as e:
        facility_year_data_from_verification(assignment_id=a.pk, actor=w.province_sd)
    assert e.value.code == "V0405"


def test_sector_is_named_or_listed(industry, world):
    from cets.mrv.services import verification_assign

    with pytest.raises(CetsError) as e:  # sd1 is on no 2024 list: no sector to take
        verification_assign(year=YEAR, province="37", entities=[world.sd1], bodies=[industry.body], seed="s", actor=world.province_sd)
    assert e.value.code == "M0308"
    [a] = verification_assign(year=YEAR, province="37", entities=[world.sd1], bodies=[industry.body], seed="s", actor=world.province_sd, sector="power")
    assert a.sector == "power"


def test_cycle_observes_the_back_filling_of_facility_months(industry):
    from cets.compliance.cycle import observe
    from cets.mrv.facility_services import facility_month_file
    from cets.rules.cycle import cycle_steps

    ns = industry
    [step] = [s for s in cycle_steps("national", 2025) if s.step == "monthly_backfill"]
    assert step.event == "facility_months" and step.due == dt.date(2025, 10, 31)
    listed = {s: {e.pk: "37"} for s, e in ns.entities.items()}
    for m in range(1, 7):
        facility_month_file(facility=ns.facilities["steel"], year=2025, month=m, lines=STEEL_MONTH, actor=ns.users["steel"], on=dt.date(2025, 9, m))
    o = observe(step, market="national", year=2025, listed=listed, today=dt.date(2025, 10, 1))
    assert (o.done, o.total, o.complete, o.done_on) == (1, 3, False, dt.date(2025, 9, 6))
    for m in range(1, 6):  # five of six months are not the back-filling
        facility_month_file(facility=ns.facilities["aluminium"], year=2025, month=m, lines=ALUMINIUM_MONTH, actor=ns.users["aluminium"],
                            on=dt.date(2025, 9, 10))
    assert observe(step, market="national", year=2025, listed=listed, today=dt.date(2025, 10, 1)).done == 1
