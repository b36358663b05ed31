"""Browser test (京环发〔2024〕8号 三(一)2): the general reporting unit files its 2023 report on its page (a refused
figure first, with its code), then the 朝阳区 district bureau sees it on its check list — the 海淀 district sees nothing —
returns it with a comment, the unit files again and the district accepts it. Headless Chromium against a live server."""

from __future__ import annotations

import pytest

from tests.browser import chrome, login, require_browser, wait_text

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402

from tests.mrv.test_general_reports import PDF, gbj  # noqa: E402,F401 (fixture)


@pytest.fixture(scope="module")
def browser():
    yield from chrome()


def _file(browser, live_server, tmp_path, tonnes: str, expect: str):
    browser.get(f"{live_server.url}/mrv/general-report/")
    wait_text(browser, "Annual emission report of a general reporting unit")
    evidence = tmp_path / "report.pdf"
    evidence.write_bytes(PDF)
    form = browser.find_element(By.ID, "general-beijing-2023")
    el = form.find_element(By.NAME, "emissions_t")
    el.clear()
    el.send_keys(tonnes)
    form.find_element(By.NAME, "evidence").send_keys(str(evidence))
    form.find_element(By.NAME, "file").click()
    wait_text(browser, expect)


@pytest.mark.django_db(transaction=True)
def test_unit_files_and_district_checks(gbj, browser, live_server, tmp_path):  # noqa: F811
    from cets.mrv.models import GeneralReport

    login(browser, live_server, "eg")
    _file(browser, live_server, tmp_path, "18600.5", "M0502")
    assert not GeneralReport.objects.exists()
    _file(browser, live_server, tmp_path, "18600", "Report filed.")
    r = GeneralReport.objects.get(entity=gbj.general)
    assert (r.emissions_t, r.status, r.evidence_name) == (18_600, "submitted", "report.pdf")

    login(browser, live_server, "hd")
    browser.get(f"{live_server.url}/mrv/general-reports/check/")
    wait_text(browser, "No report of a general reporting unit in your district.")
    assert gbj.general.name not in browser.find_element(By.TAG_NAME, "body").text

    login(browser, live_server, "cy")
    browser.get(f"{live_server.url}/mrv/general-reports/check/")
    wait_text(browser, gbj.general.name)
    row = browser.find_element(By.ID, f"general-report-{r.pk}")
    row.find_element(By.NAME, "return").click()
    wait_text(browser, "M0506")
    row = browser.find_element(By.ID, f"general-report-{r.pk}")
    row.find_element(By.NAME, "comment").send_keys("请补充燃气发票")
    row.find_element(By.NAME, "return").click()
    wait_text(browser, "Check recorded.")
    assert GeneralReport.objects.get(pk=r.pk).status == "returned"

    login(browser, live_server, "eg")
    browser.get(f"{live_server.url}/mrv/general-report/")
    wait_text(browser, "请补充燃气发票")
    _file(browser, live_server, tmp_path, "19000", "Report filed.")

    login(browser, live_server, "cy")
    browser.get(f"{live_server.url}/mrv/general-reports/check/")
    wait_text(browser, "19000", f"general-report-{r.pk}")
    browser.find_element(By.ID, f"general-report-{r.pk}").find_element(By.NAME, "accept").click()
    wait_text(browser, "Check recorded.")
    r = GeneralReport.objects.get(pk=r.pk)
    assert (r.status, r.emissions_t, r.checked_by.username) == ("accepted", 19_000, "cy")
