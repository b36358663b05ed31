"""Browser: the national authority looks up a CCER serial and reads its block's history on one page."""

from __future__ import annotations

import pytest

from tests.browser import chrome, login, require_browser, wait_text
from tests.registry.test_serials import ccer, post  # noqa: F401  (the fixture is reused)

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    yield from chrome()


@pytest.mark.django_db(transaction=True)
def test_a_serials_history_in_the_browser(world, ccer, browser, live_server):  # noqa: F811
    from cets.registry.models import AccountKind, TransferKind
    from cets.registry.services import system_account

    (a, b, _c), ut = ccer
    post(TransferKind.ISSUE, ut, system_account("ccer", AccountKind.NATIONAL_TOTAL), a, 1000, "i1")
    post(TransferKind.TRANSFER, ut, a, b, 300, "t1")
    post(TransferKind.CANCELLATION, ut, b, system_account("ccer", AccountKind.CANCELLATION), 200, "x1")
    login(browser, live_server, world.mee.username)
    browser.get(live_server.url + "/registry/")
    browser.find_element(By.ID, "serial-blocks-link").click()
    browser.find_element(By.ID, "serial").send_keys("CCER-A110004-2023-000000150")
    browser.find_element(By.ID, "block-find").click()
    wait_text(browser, "cancellation", "block-steps")
    steps = browser.find_element(By.ID, "block-steps").text
    assert [k for k in ("create", "issue", "transfer", "cancellation") if k in steps] == ["create", "issue", "transfer", "cancellation"]
    assert "CCER-A110004-2023-000000001-000000200" in steps and b.number in steps
    assert "retired" in browser.find_element(By.ID, "block-summary").text
    # an unknown serial is refused with its code, on the same page
    browser.find_element(By.ID, "serial").clear()
    browser.find_element(By.ID, "serial").send_keys("CCER-A110004-2023-000009999")
    browser.find_element(By.ID, "block-find").click()
    wait_text(browser, "R1002", "block-error")
    # the retired block is on the public portal
    browser.get(live_server.url + "/public/retired-serials/")
    wait_text(browser, "CCER-A110004-2023-000000001-000000200")
