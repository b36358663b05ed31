"""Browser test: a steel entity files December through the monthly form (a refused line first, with its code), computes
and submits its 2024 annual report; the verification body records its conclusion per facility; the province hands the
verified figures to allocation. Headless Chromium against a live server (skipped without a browser unless required)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser import chrome, login, require_browser, wait_text
from tests.mrv.test_facility_duties import STEEL, STEEL_MONTH, YEAR

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    yield from chrome()


def _fill(browser, i, **cells):
    from selenium.webdriver.support.ui import Select

    for k, v in cells.items():
        if k == "source":
            Select(browser.find_element(By.NAME, f"source-{i}")).select_by_value(v)
        else:
            el = browser.find_element(By.NAME, f"{k}-{i}")
            el.clear()
            el.send_keys(v)


@pytest.mark.django_db(transaction=True)
def test_entity_month_and_report_then_verifier_conclusion(industry, browser, live_server):
    from cets.mrv.facility_services import facility_month_file
    from cets.mrv.models import AnnualReport, FacilityYearData, VerificationAssignment
    from cets.mrv.services import verification_assign

    ns, w = industry, industry.world
    fac = ns.facilities["steel"]
    for m in range(1, 12):  # January–November filed earlier; December through the page
        facility_month_file(facility=fac, year=YEAR, month=m, lines=STEEL_MONTH, actor=ns.users["steel"], on=dt.date(2025, 5, 20))
    login(browser, live_server, "e-steel")
    browser.get(f"{live_server.url}/mrv/facilities/?year={YEAR}")
    wait_text(browser, "Facility MRV duties")
    browser.find_element(By.XPATH, f"//a[contains(@href, '/mrv/facilities/{fac.pk}/{YEAR}/12/')]").click()
    wait_text(browser, "Monthly filing")
    _fill(browser, 0, source="fuel", material="焦炭", quantity="1000", ncv="30")  # coke NCV must be the default
    browser.find_element(By.NAME, "file").click()
    wait_text(browser, "M0104")
    _fill(browser, 0, ncv="")
    rows = [dict(source="process_input", part="ironmaking", material="焦炭", quantity="600"),
            dict(source="process_input", part="sintering", material="焦炭", quantity="100"),
            dict(source="product", part="ironmaking", material="生铁", quantity="900")]
    for i, cells in enumerate(rows, start=1):
        _fill(browser, i, **cells)
    browser.find_element(By.NAME, "file").click()
    wait_text(browser, "Month filed.")
    browser.find_element(By.NAME, "generate").click()
    wait_text(browser, str(STEEL[0]), "report-steel")  # 36809 t, computed from the twelve months
    browser.find_element(By.NAME, "sign").click()
    wait_text(browser, "Submitted", "report-steel")
    assert AnnualReport.objects.get(entity=ns.entities["steel"], year=YEAR).signed_on is not None

    [a] = verification_assign(year=YEAR, province="37", entities=[ns.entities["steel"]], bodies=[ns.body], seed="b", actor=w.province_sd)
    login(browser, live_server, "vb")
    browser.get(f"{live_server.url}/mrv/facilities/verify/")
    wait_text(browser, "Facility verification")
    assert browser.find_element(By.NAME, "emissions-W1").get_attribute("value") == str(STEEL[0])
    assert browser.find_element(By.NAME, "intensity-W1").get_attribute("value") == str(STEEL[1])
    browser.find_element(By.NAME, "record").click()
    wait_text(browser, "conforming", f"assignment-{a.pk}")
    a = VerificationAssignment.objects.get(pk=a.pk)
    assert (a.verified_emissions_t, a.conforming) == (STEEL[0], True)

    login(browser, live_server, "psd")
    browser.get(f"{live_server.url}/mrv/facilities/review/?year={YEAR}")
    wait_text(browser, "Facility MRV review")
    browser.find_element(By.NAME, "handover").click()
    wait_text(browser, "handed to allocation")
    fyd = FacilityYearData.objects.get(facility=fac, year=YEAR)
    assert (fyd.verified_emissions_t, fyd.intensity_emissions_t, fyd.output_t) == STEEL
