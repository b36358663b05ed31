"""Browser: the national authority funds the reserve (one person proposes, another approves), decides a trigger's
alert, and the decisions appear on the public portal."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser import chrome, login, require_browser, wait_text
from tests.conftest import signing_code

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    yield from chrome()


def fill(form, **values):
    for name, value in values.items():
        el = form.find_element(By.NAME, name)
        el.clear()
        el.send_keys(value)


@pytest.mark.django_db(transaction=True)
def test_the_authoritys_reserve_decision_in_the_browser(world, browser, live_server):
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create
    from cets.supervision.stabilisation import stabilisation_triggers_check
    from tests.compliance.helpers import load_daily_stats

    mee2 = member_create(username="mee2", organisation=Organisation.objects.get(name="生态环境部"), role=Role.NATIONAL_AUTHORITY,
                         password="test-password-123")
    load_daily_stats("2025-10")
    stabilisation_triggers_check(market="national", day=dt.date(2025, 10, 20))  # the end-of-day run: price below the low trigger
    login(browser, live_server, world.mee.username)
    assert "market stabilisation alerts to decide" in browser.find_element(By.ID, "inbox").text
    browser.find_element(By.LINK_TEXT, "Reserve and stabilisation").click()
    wait_text(browser, "price below the trigger", "alerts")
    fill(browser.find_element(By.ID, "form-fund"), key="fund-2025", unit_type="CEA-2023", year="2025", decision_ref="环气候〔2025〕30号")
    browser.find_element(By.ID, "form-fund").submit()
    wait_text(browser, "fund-2025", "reserve-pending")
    assert "another person approves" in browser.find_element(By.ID, "reserve-pending").text
    # the alert's decision, with the proposal it led to
    alerts = browser.find_element(By.ID, "alerts")
    fill(alerts, decision="注入储备，暂不出售", decision_reference="环气候〔2025〕31号", proposal_key="fund-2025")
    alerts.find_element(By.TAG_NAME, "form").submit()
    wait_text(browser, "注入储备，暂不出售", "reserve-decisions")

    login(browser, live_server, mee2.username)
    browser.get(live_server.url + "/supervision/reserve/")
    wait_text(browser, "fund-2025", "reserve-pending")
    # signing: a wrong dynamic code is refused (R1201) and nothing moves; the approver's own code executes it
    right = signing_code(mee2)
    browser.find_element(By.CSS_SELECTOR, "#reserve-pending input[name=otp_token]").send_keys(f"{(int(right) + 1) % 1_000_000:06d}")
    browser.find_element(By.CSS_SELECTOR, "#reserve-pending button.approve").click()
    wait_text(browser, "R1201")
    assert "200000" not in browser.find_element(By.ID, "reserve-holdings").text
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.get(user=mee2).throttle_reset()  # as after the throttle's delay (1 s after one failure)
    browser.find_element(By.CSS_SELECTOR, "#reserve-pending input[name=otp_token]").send_keys(signing_code(mee2))
    browser.find_element(By.CSS_SELECTOR, "#reserve-pending button.approve").click()
    wait_text(browser, "200000", "reserve-holdings")  # floor(10,000,000 × 0.02)
    assert "环气候〔2025〕30号" in browser.find_element(By.ID, "reserve-decisions").text
    browser.get(live_server.url + "/public/stabilisation/")
    wait_text(browser, "环气候〔2025〕30号")
    wait_text(browser, "环气候〔2025〕31号")
