"""Browser test: a Beijing data centre (services, beijing/services-2023) files December through the monthly form — green
electricity above the purchased electricity first (M0701), then a correct month —, computes its 2023 report and sees how
it was computed (fuel, electricity net of green, heat), submits it; the verification body it commissioned records the
per-facility figures (output 0: services have none). Headless Chromium against a live server."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser import chrome, login, require_browser, wait_text
from tests.mrv.test_beijing_sectors import SERVICES_MONTH, _lines

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
def test_beijing_data_centre_month_report_lines_and_verification(bj, browser, live_server):
    from cets.mrv.facility_services import facility_month_file
    from cets.mrv.models import AnnualReport, VerificationAssignment
    from cets.mrv.services import verification_commission

    ns = bj
    for m in range(1, 12):  # January–November filed earlier; December through the page
        facility_month_file(facility=ns.facility, year=2023, month=m, lines=_lines(SERVICES_MONTH), actor=ns.user, on=dt.date(2024, 1, 10),
                            market="beijing")
    login(browser, live_server, "bj-dc")
    browser.get(f"{live_server.url}/mrv/facilities/?year=2023")
    wait_text(browser, "beijing")  # the market of the unit's list entry
    browser.find_element(By.XPATH, f"//a[contains(@href, '/mrv/facilities/{ns.facility.pk}/2023/12/')]").click()
    wait_text(browser, "green_electricity")
    _fill(browser, 0, source="electricity", material="电力", quantity="100")
    _fill(browser, 1, source="green_electricity", material="绿电", quantity="150")
    browser.find_element(By.NAME, "file").click()
    wait_text(browser, "M0701")
    for i, (source, material, quantity) in enumerate(SERVICES_MONTH):
        _fill(browser, i, source=source, material=material, quantity=quantity)
    browser.find_element(By.NAME, "file").click()
    wait_text(browser, "Month filed.")
    browser.find_element(By.NAME, "generate").click()
    wait_text(browser, "5905", "report-services")  # 12 × 492.0950011… t, computed from the twelve months
    for label, value in (("Fossil fuel combustion (t CO2)", "896.34"), ("Purchased electricity, net of green electricity (t CO2)", "4348.80"),
                         ("Purchased heat (t CO2)", "660.00"), ("Green electricity counted as zero (MWh)", "4800.000")):
        wait_text(browser, label, "report-lines-services-DC1")
        wait_text(browser, value, "report-lines-services-DC1")
    browser.find_element(By.NAME, "sign").click()
    wait_text(browser, "Submitted", "report-services")
    assert AnnualReport.objects.get(entity=ns.unit, year=2023, market="beijing").signed_on is not None

    a = verification_commission(entity=ns.unit, year=2023, body=ns.body, actor=ns.user, market="beijing")
    login(browser, live_server, "vbj")
    browser.get(f"{live_server.url}/mrv/facilities/verify/")
    wait_text(browser, "Facility verification")
    assert browser.find_element(By.NAME, "emissions-DC1").get_attribute("value") == "5905"
    assert browser.find_element(By.NAME, "output-DC1").get_attribute("value") == "0"
    browser.find_element(By.NAME, "record").click()
    wait_text(browser, "conforming", f"assignment-{a.pk}")
    a = VerificationAssignment.objects.get(pk=a.pk)
    assert (a.verified_emissions_t, a.conforming, a.sector) == (5905, True, "services")
