"""Browser test of the exchange: in headless Chromium (Selenium) against a live server, an entity logs
in, enters a listing quote through the order form and sees it on the best-five board; another entity
takes part of it with the board's take button and sees the rest.

Skipped when Chromium or chromedriver is missing, unless CETS_TEST_BROWSER=required (CI), when a
missing browser fails the run (as tests/web/test_browser.py). The clock is the fixture's (2024-11-04
10:00 Asia/Shanghai): ``mock.patch`` replaces ``django.utils.timezone.now`` for the live server's
thread too.
"""

from __future__ import annotations

import pytest

from tests.browser import chrome, require_browser, wait
from tests.browser import login as shared_login
from tests.trading.conftest import PASSWORD

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    yield from chrome()


def login(browser, live_server, username: str) -> None:
    shared_login(browser, live_server, username, PASSWORD)  # with the dynamic code: an entity moves units and money


@pytest.mark.django_db(transaction=True)
def test_entity_places_a_quote_and_sees_it_on_the_board(exchange, browser, live_server):
    from cets.trading.models import Order, Trade

    login(browser, live_server, exchange.sd1_user.username)
    browser.find_element(By.LINK_TEXT, "Trading").click()  # the nav link
    wait(browser, EC.presence_of_element_located((By.ID, "board")))
    browser.find_element(By.CSS_SELECTOR, "input[name=side][value=S]").click()
    browser.find_element(By.ID, "id_price").send_keys("96.50")
    browser.find_element(By.ID, "id_quantity_t").send_keys("1000")
    browser.find_element(By.XPATH, "//button[normalize-space()='Submit order']").click()
    wait(browser, EC.text_to_be_present_in_element((By.ID, "board"), "96.50"))
    quote = Order.objects.get(kind="place")
    assert (quote.status, quote.price_fen, quote.quantity_t) == ("resting", 9_650, 1_000)
    row = browser.find_element(By.CSS_SELECTOR, f"#board li[data-quote='{quote.seq}']")
    assert "1,000 t" in row.text
    assert "mine" in row.text  # marked as one's own, with no take button
    assert "(take)" not in row.text  # no take button (an absent element would cost the implicit wait)

    login(browser, live_server, exchange.sd2_user.username)
    browser.get(live_server.url + "/trading/?instrument=CEA23")
    row = browser.find_element(By.CSS_SELECTOR, f"#board li[data-quote='{quote.seq}']")
    qty = row.find_element(By.NAME, "quantity_t")
    qty.clear()
    qty.send_keys("400")
    row.find_element(By.TAG_NAME, "button").click()
    wait(browser, EC.text_to_be_present_in_element((By.ID, "board"), "600 t"))
    t = Trade.objects.get()
    assert (t.quantity_t, t.price_fen, t.amount_fen) == (400, 9_650, 3_860_000)  # 400 t × 96.50 CNY = 38,600.00 CNY
