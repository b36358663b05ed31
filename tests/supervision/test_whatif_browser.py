"""Browser journey of a what-if run (issue 17): in headless Chromium against a live server, the national authority
opens the what-if page, ticks the 2025–2026 draft power and 2026 draft steel packs, runs them against
national/2024 and downloads the XLSX; the Zhejiang provincial authority runs the same and sees its province only.
Figures by hand in tests/allocation/test_whatif.py. Screenshots go to var/screenshots/."""

from __future__ import annotations

import io
import urllib.request

import pytest

from tests.browser import SHOTS, chrome_with_screenshots, login, require_browser, wait_text
from tests.conftest import SD_1, ZJ_1

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402

from tests.allocation.test_whatif import DRAFT_POWER, DRAFT_STEEL, year2024  # noqa: E402,F401 (fixture)


@pytest.fixture(scope="module")
def browser():
    yield from chrome_with_screenshots()


def _run(browser, live_server):
    browser.get(live_server.url + "/supervision/")
    browser.find_element(By.ID, "whatif-link").click()
    wait_text(browser, "Draft packs")
    for pid in (DRAFT_POWER, DRAFT_STEEL):
        browser.find_element(By.CSS_SELECTOR, f"input[name='pack'][value='{pid}']").click()
    base = browser.find_element(By.NAME, "base")
    base.clear()
    base.send_keys("national/2024")
    browser.find_element(By.ID, "whatif-run").click()
    wait_text(browser, "By province")


def _download(browser) -> bytes:
    href = browser.find_element(By.ID, "whatif-download").get_attribute("href")
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in browser.get_cookies())
    with urllib.request.urlopen(urllib.request.Request(href, headers={"Cookie": cookie})) as resp:  # noqa: S310 (the live test server)
        assert resp.headers["Content-Type"].startswith("application/vnd.openxmlformats")
        return resp.read()


@pytest.mark.django_db(transaction=True)
def test_authorities_run_a_draft_and_download_it(year2024, browser, live_server):  # noqa: F811
    from openpyxl import load_workbook

    w = year2024
    login(browser, live_server, w.mee.username)
    _run(browser, live_server)
    sectors = browser.find_element(By.ID, "whatif-sectors").text
    assert "238,700" in sectors and "200,000" in sectors and "−440" in sectors
    assert SD_1 in browser.find_element(By.ID, "whatif-entities").text
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart rect")
    browser.save_screenshot(str(SHOTS / "whatif-1-national.png"))
    wb = load_workbook(io.BytesIO(_download(browser)))
    totals = {r[0]: r for r in wb["行业汇总"].iter_rows(min_row=4, values_only=True)}
    assert totals["power"][3:5] == (239_140, 238_700)

    login(browser, live_server, w.province_zj.username)
    _run(browser, live_server)
    entities = browser.find_element(By.ID, "whatif-entities").text
    assert ZJ_1 in entities and SD_1 not in entities
    browser.save_screenshot(str(SHOTS / "whatif-2-province.png"))
    wb = load_workbook(io.BytesIO(_download(browser)))
    assert {r[0] for r in wb["重点排放单位"].iter_rows(min_row=4, values_only=True)} == {ZJ_1}
