"""Browser (issue 17): a pilot market's bureau runs a paid allocation auction — one person clears the bids and proposes,
a second approves — and sees the winners' payment in its treasury fund account; the allowances are issued to the winner."""

from __future__ import annotations

import pytest

from tests.browser import chrome, login, require_browser, wait_text
from tests.conftest import signing_code
from tests.registry.test_reserve_funds import beijing  # noqa: F401  (fixture)

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    yield from chrome()


@pytest.mark.django_db(transaction=True)
def test_the_bureau_runs_a_paid_allocation_auction_in_the_browser(beijing, browser, live_server):  # noqa: F811
    """By hand: 5,000 t at a floor of 9,000 fen/t; B0 bids 3,000 @ 10,489 and B1 4,000 @ 10,000: uniform price 10,000,
    B0 3,000 and B1 2,000 → 5,000 × 100.00 CNY = 500,000.00 CNY into BEIJING-FUND-TREASURY."""
    from cets.registry.models import Holding
    from cets.trading.funds import funds_deposit

    bj = beijing
    a0, a1, _ = bj.accs
    for i, a in enumerate((a0, a1)):
        funds_deposit(key=f"bjd{i}", holder=a.holder, amount_fen=100_000_000, actor=None, market="beijing")
    login(browser, live_server, bj.b1.username)
    browser.find_element(By.ID, "nav-paid-allocation").click()
    wait_text(browser, "Paid allocation by auction")
    form = browser.find_element(By.ID, "form-paid-auction")
    for name, value in {"key": "bj-pa-2023", "unit_type": "BEA-2023", "quantity_t": "5000", "floor_fen": "9000", "decision_ref": "京环发〔2024〕Z号",
                        "bids": f"{a0.number},10489,3000\n{a1.number},10000,4000"}.items():
        form.find_element(By.NAME, name).send_keys(value)
    form.submit()
    wait_text(browser, "bj-pa-2023", "paid-pending")
    assert "500,000.00" in browser.find_element(By.ID, "paid-pending").text
    login(browser, live_server, bj.b2.username)
    browser.get(live_server.url + "/supervision/paid-allocation/?market=beijing")
    wait_text(browser, "bj-pa-2023", "paid-pending")
    browser.find_element(By.CSS_SELECTOR, "#paid-pending input[name=otp_token]").send_keys(signing_code(bj.b2))
    browser.find_element(By.CSS_SELECTOR, "#paid-pending button.approve").click()
    wait_text(browser, "500,000.00", "treasury-available")
    assert "BEIJING-FUND-TREASURY" in browser.find_element(By.ID, "treasury").text
    assert "bj-pa-2023" in browser.find_element(By.ID, "paid-decisions").text
    assert Holding.objects.get(account=a1, unit_type=bj.ut, position="registry").quantity == 2_000
