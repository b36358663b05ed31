"""Browser journey of the compliance risk index (in headless Chromium against a live server): the exchange operator signs
in (with its dynamic code), follows "Compliance risk index" in the navigation, reads the index (read-only: no form that
writes) and the weekly net-purchase report of Shandong; the Shandong authority reaches the same page from the old compliance
URL. Figures by hand in tests/supervision/test_risk.py (SD_1 50, SD_2 15 on 2024-12-16; here "today" is the real day, after
the deadline, so only the order and the credit record are asserted)."""

from __future__ import annotations

import pytest

from tests.browser import SHOTS, chrome_with_screenshots, login, require_browser, wait_text
from tests.conftest import SD_1, SD_2

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from tests.supervision.test_risk import _setup  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    yield from chrome_with_screenshots()


@pytest.mark.django_db(transaction=True)
def test_exchange_and_province_read_the_risk_index(world, browser, live_server):
    exchange = _setup(world)
    login(browser, live_server, exchange.username)
    browser.find_element(By.ID, "nav-risk").click()
    wait_text(browser, "Compliance risk index")
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.risk-row")
    assert [r.get_attribute("data-uscc") for r in rows] == [SD_1, SD_2]
    assert rows[0].find_elements(By.TAG_NAME, "td")[-1].text == "1"  # SD_1's credit record in the window
    main = browser.find_element(By.TAG_NAME, "main")
    assert not main.find_elements(By.CSS_SELECTOR, "form[method='post']")
    Select(browser.find_element(By.NAME, "province")).select_by_value("37")
    browser.find_element(By.CSS_SELECTOR, "#risk-filter button[type='submit']").click()
    wait_text(browser, "Weekly net purchases in the last month before the deadline")
    browser.save_screenshot(str(SHOTS / "risk-1-exchange.png"))

    login(browser, live_server, world.province_sd.username)
    browser.get(live_server.url + "/compliance/2023/monitoring/")
    wait_text(browser, "Compliance risk index")
    assert "/supervision/risk/" in browser.current_url
    assert SD_1 in browser.find_element(By.ID, "risk").text
    assert not browser.find_elements(By.NAME, "province")  # a province sees its own weekly report, no picker
    wait_text(browser, "Weekly net purchases in the last month before the deadline")
    browser.save_screenshot(str(SHOTS / "risk-2-province.png"))
