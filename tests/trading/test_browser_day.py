"""Browser journey of the trading day (issue 15): in headless Chromium against a live server, the exchange
operator finds the day of 2024-11-04 left open on the morning of 11-05, closes it and opens 11-05 from the
trading-day page; an entity places an order on the open board; the operator closes the day and the board
shows it closed. Screenshots go to var/screenshots/. Clock and market: tests/trading/conftest.py."""

from __future__ import annotations

import pytest

from tests.browser import SHOTS, chrome_with_screenshots, login, require_browser, wait_text

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402

pytestmark = pytest.mark.usefixtures("long_sessions")  # the tests move the clock


@pytest.fixture(scope="module")
def browser():
    yield from chrome_with_screenshots()


@pytest.mark.django_db(transaction=True)
def test_operator_opens_the_day_entity_trades_operator_closes(exchange, clock, browser, live_server):
    from cets.trading.models import DailyQuote, Order

    clock.set("2024-11-05", 9, 20)
    login(browser, live_server, exchange.operator.username)
    browser.get(live_server.url + "/trading/?instrument=CEA23")
    assert "day 2024-11-04 left open" in browser.find_element(By.ID, "day-state").text  # the real state, not 开市
    browser.save_screenshot(str(SHOTS / "day-1-board-left-open.png"))
    browser.find_element(By.ID, "nav-day").click()
    wait_text(browser, "State of each trading subject")
    browser.find_element(By.XPATH, "//button[normalize-space()='Close 2024-11-04']").click()
    wait_text(browser, "trading day 2024-11-04 closed")
    assert DailyQuote.objects.filter(date="2024-11-04", instrument="CEA23").exists()
    browser.find_element(By.XPATH, "//button[normalize-space()='Open the day']").click()
    wait_text(browser, "trading day 2024-11-05 opened")
    browser.save_screenshot(str(SHOTS / "day-2-operator-opened.png"))

    clock.set("2024-11-05", 10)
    login(browser, live_server, exchange.sd1_user.username)
    browser.get(live_server.url + "/trading/?instrument=CEA23")
    assert browser.find_element(By.ID, "day-state").text == "open"
    browser.find_element(By.CSS_SELECTOR, "input[name=side][value=S]").click()
    browser.find_element(By.ID, "id_price").send_keys("96.50")
    browser.find_element(By.ID, "id_quantity_t").send_keys("1000")
    browser.find_element(By.XPATH, "//button[normalize-space()='Submit order']").click()
    wait_text(browser, "96.50", "board")
    assert Order.objects.get(kind="place").status == "resting"
    browser.save_screenshot(str(SHOTS / "day-3-entity-order.png"))

    clock.set("2024-11-05", 15, 30)
    login(browser, live_server, exchange.operator.username)
    browser.get(live_server.url + "/trading/day/")
    browser.find_element(By.XPATH, "//button[normalize-space()='Close 2024-11-05']").click()
    wait_text(browser, "trading day 2024-11-05 closed")
    browser.save_screenshot(str(SHOTS / "day-4-operator-closed.png"))
    assert Order.objects.get(kind="place").status == "expired"
    browser.get(live_server.url + "/trading/?instrument=CEA23")
    assert browser.find_element(By.ID, "day-state").text == "closed"
