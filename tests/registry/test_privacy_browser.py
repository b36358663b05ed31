"""Privacy on the ledger in the browser (issue 16): after a trade, the seller signs in and reads its own entity
page; the journal names the exchange for the delivery, and nothing of the buyer (account number, name, credit
code) is on the page. The registry operator's view is tested through the client in test_privacy.py."""

from __future__ import annotations

import pytest

from cets.registry.privacy import EXCHANGE_LABEL
from tests.browser import chrome, login, require_browser, wait_text
from tests.conftest import SD_1, SD_2
from tests.registry.test_privacy import _trade
from tests.trading.conftest import clock, exchange, market  # noqa: F401 (fixtures)

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    yield from chrome()


@pytest.mark.django_db(transaction=True)
def test_the_seller_sees_the_exchange_on_its_journal(exchange, browser, live_server):  # noqa: F811
    x = exchange
    _trade(x)
    login(browser, live_server, x.sd1_user.username)
    browser.get(live_server.url + f"/entities/{SD_1}/")
    wait_text(browser, EXCHANGE_LABEL, "journal")
    journal = browser.find_element(By.ID, "journal").text
    assert "400" in journal
    page = browser.find_element(By.TAG_NAME, "body").text
    for trace in (x.w.accounts[SD_2].number, x.w.sd2.name, SD_2):
        assert trace not in page
    assert x.w.accounts[SD_1].number in journal  # its own account is named
