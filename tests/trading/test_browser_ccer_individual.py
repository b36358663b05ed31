"""Browser test (issue 17): a natural person whose account opening the registry reviewed opens its CCER account on its
holder page, and buys CCER on the voluntary market's exchange by taking a project owner's quote from the board; the
trade settles delivery versus payment into the person's CCER account.

Skipped when Chromium or chromedriver is missing, unless CETS_TEST_BROWSER=required (CI). The clock is the fixture's
(2025-06-09 10:00 Asia/Shanghai)."""

from __future__ import annotations

import pytest

from tests.browser import chrome, require_browser, wait, wait_text
from tests.browser import login as shared_login

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    yield from chrome()


@pytest.mark.django_db(transaction=True)
def test_an_individual_buys_ccer_in_the_browser(ccer, browser, live_server):
    from cets.registry.models import Account, Holding, Position
    from cets.trading import entry
    from cets.trading.funds import funds_deposit
    from cets.trading.models import Trade
    from tests.trading.test_ccer_individuals import _reviewed

    x = ccer
    code = x.ccer.code
    person, user = _reviewed(x.w, "individual")
    quote = entry.place(user=x.ccer_trader, key="q-owner", instrument=code, method="listing", side="S", price_fen=9_150, quantity_t=1_000, market="ccer")

    shared_login(browser, live_server, user.username, "a-long-password-1")
    browser.get(live_server.url + "/holder/")
    wait(browser, EC.presence_of_element_located((By.ID, "market-accounts")))
    browser.find_element(By.ID, "open-ccer").click()
    wait_text(browser, "CCER-", "market-accounts")
    acc = Account.objects.get(holder=person, market="ccer")
    assert acc.kind == "individual" and acc.number in browser.find_element(By.ID, "market-accounts").text
    funds_deposit(key="dep-person", holder=person, amount_fen=5_000_000, actor=x.operator, market="ccer")  # the bank confirms the money

    browser.get(live_server.url + f"/trading/?market=ccer&instrument={code}")
    row = browser.find_element(By.CSS_SELECTOR, f"#board li[data-quote='{quote.seq}']")
    qty = row.find_element(By.NAME, "quantity_t")
    qty.clear()
    qty.send_keys("300")
    row.find_element(By.TAG_NAME, "button").click()
    wait(browser, EC.text_to_be_present_in_element((By.ID, "board"), "700 t"))  # the quote's rest
    t = Trade.objects.get()
    # 300 t × 91.50 CNY = 27,450.00 CNY into the person's CCER account
    assert (t.market, t.instrument, t.quantity_t, t.amount_fen) == ("ccer", code, 300, 2_745_000)
    assert Holding.objects.get(account=acc, unit_type=x.ccer, position=Position.TRADING).quantity == 300
    browser.get(live_server.url + "/trading/orders/?market=ccer")
    wait(browser, EC.presence_of_element_located((By.ID, "orders")))
    assert "27,450.00" in browser.find_element(By.TAG_NAME, "body").text
