"""Browser test of CCER trading: in headless Chromium against a live server, the trader of a CCER project owner
picks the voluntary market on the exchange's pages, enters a listing quote for its project's credits, and an
entity takes it with the board's take button: the trade settles (units and funds) and shows on the holder's
orders and trades page of that market.

Skipped when Chromium or chromedriver is missing, unless CETS_TEST_BROWSER=required (CI), as
tests/trading/test_browser.py. The clock is the fixture's (2025-06-09 10:00 Asia/Shanghai).
"""

from __future__ import annotations

import pytest

from tests.browser import chrome, require_browser, wait
from tests.trading.conftest import PASSWORD

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    yield from chrome()


def login(browser, live_server, username: str) -> None:
    browser.delete_all_cookies()
    browser.get(live_server.url + "/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.NAME, "password").submit()
    wait(browser, lambda b: "/login/" not in b.current_url)  # signed in: the login page is gone
    english = browser.find_element(By.XPATH, "//button[normalize-space()='English']")
    english.click()  # whatever the browser's own language
    wait(browser, EC.staleness_of(english))  # the language switch has reloaded the page (a later get would race it)
    wait(browser, EC.presence_of_element_located((By.LINK_TEXT, "Trading")))


@pytest.mark.django_db(transaction=True)
def test_a_ccer_holder_places_a_quote_that_trades(ccer, browser, live_server):
    from cets.registry.models import Holding, Position
    from cets.trading.models import Order, Trade

    x = ccer
    code = x.ccer.code
    login(browser, live_server, x.ccer_trader.username)
    browser.find_element(By.LINK_TEXT, "Trading").click()
    wait(browser, EC.presence_of_element_located((By.ID, "market-pick")))
    browser.find_element(By.CSS_SELECTOR, "#market-pick a[data-market=ccer]").click()
    wait(browser, EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), code))
    browser.find_element(By.CSS_SELECTOR, "input[name=side][value=S]").click()
    browser.find_element(By.ID, "id_price").send_keys("91.50")
    browser.find_element(By.ID, "id_quantity_t").send_keys("1200")
    browser.find_element(By.XPATH, "//button[normalize-space()='Submit order']").click()
    wait(browser, EC.text_to_be_present_in_element((By.ID, "board"), "91.50"))
    quote = Order.objects.get(kind="place", market="ccer")
    assert (quote.status, quote.instrument, quote.price_fen, quote.quantity_t) == ("resting", code, 9_150, 1_200)

    login(browser, live_server, x.sd2_user.username)
    browser.get(live_server.url + f"/trading/?market=ccer&instrument={code}")
    row = browser.find_element(By.CSS_SELECTOR, f"#board li[data-quote='{quote.seq}']")
    qty = row.find_element(By.NAME, "quantity_t")
    qty.clear()
    qty.send_keys("700")
    row.find_element(By.TAG_NAME, "button").click()
    wait(browser, EC.text_to_be_present_in_element((By.ID, "board"), "500 t"))  # the quote's rest (not a substring of 1,200 t)
    t = Trade.objects.get()
    # 700 t × 91.50 CNY = 64,050.00 CNY; delivered from the project owner's CCER account to SD_2's
    assert (t.market, t.instrument, t.quantity_t, t.amount_fen) == ("ccer", code, 700, 6_405_000)
    assert Holding.objects.get(account=x.ccer_buyer_acc, unit_type=x.ccer, position=Position.TRADING).quantity == 700

    login(browser, live_server, x.ccer_trader.username)
    browser.get(live_server.url + "/trading/orders/?market=ccer")
    wait(browser, EC.presence_of_element_located((By.ID, "orders")))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "64,050.00" in body and code in body, body[:2000]  # the holder's trade in the voluntary market
