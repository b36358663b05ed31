"""Browser journey: the exchange operator signs in with its dynamic code, opens a participant's funds, records the
deposit the settlement bank confirmed, and sees the available funds and the entry (issue 15: funds deposit)."""

from __future__ import annotations

import pytest

from tests.browser import SHOTS, chrome_with_screenshots, login, require_browser, wait_text
from tests.conftest import SD_1

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    yield from chrome_with_screenshots()


@pytest.mark.django_db(transaction=True)
def test_operator_records_a_deposit(exchange, browser, live_server):
    from cets.trading.models import FundAccount

    holder = exchange.w.accounts[SD_1].holder
    before = FundAccount.objects.get(market="national", holder=holder).available_fen
    login(browser, live_server, exchange.operator.username)
    browser.get(live_server.url + f"/trading/funds/?participant={SD_1}")
    form = browser.find_element(By.ID, "deposit-form")
    form.find_element(By.NAME, "amount_cny").send_keys("2500.25")
    form.find_element(By.NAME, "bank_reference").send_keys("ICBC-20241105-001")
    browser.find_element(By.ID, "deposit-submit").click()
    wait_text(browser, "2,500.25")
    assert FundAccount.objects.get(market="national", holder=holder).available_fen == before + 250_025
    assert "2,500.25" in browser.find_element(By.ID, "entries").text
    browser.save_screenshot(str(SHOTS / "funds-deposit.png"))
