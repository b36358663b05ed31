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


@pytest.mark.django_db(transaction=True)
def test_the_authority_runs_an_auction_and_sees_the_treasury_fund_account(world, browser, live_server):
    """By hand: 50,000 t offered at a floor of 8,000 fen/t; SD1 bids 30,000 @ 9,000, SD2 30,000 @ 8,600: uniform price 8,600,
    SD1 30,000 and SD2 20,000 → 50,000 × 86.00 CNY = 4,300,000.00 CNY frozen at proposal, paid into the treasury on approval."""
    from cets.parties.models import Organisation, Role
    from cets.parties.services import member_create
    from cets.registry.services import proposal_approve, reserve_fund_propose
    from cets.trading.funds import funds_deposit
    from cets.trading.models import FundAccount
    from tests.conftest import SD_1, SD_2

    w = world
    mee2 = member_create(username="mee2", organisation=Organisation.objects.get(name="生态环境部"), role=Role.NATIONAL_AUTHORITY,
                         password="test-password-123")
    proposal_approve(proposal_id=reserve_fund_propose(key="fund", unit_type=w.cea, year=2025, decision_ref="d0", actor=w.mee).pk, approver=mee2)
    a1, a2 = w.accounts[SD_1], w.accounts[SD_2]
    for a in (a1, a2):
        funds_deposit(key=f"dep-{a.number}", holder=a.holder, amount_fen=300_000_000, actor=None)
    login(browser, live_server, w.mee.username)
    browser.get(live_server.url + "/supervision/reserve/")
    wait_text(browser, "200000", "reserve-holdings")
    form = browser.find_element(By.ID, "form-auction")
    fill(form, key="auction-2025-1", unit_type="CEA-2023", year="2025", quantity_t="50000", floor_fen="8000", decision_ref="环气候〔2025〕40号",
         bids=f"{a1.number},9000,30000\n{a2.number},8600,30000")
    form.submit()
    wait_text(browser, "auction-2025-1", "reserve-pending")
    assert "4,300,000.00" in browser.find_element(By.ID, "reserve-pending").text
    assert browser.find_element(By.ID, "treasury-available").text == "0.00"  # nothing paid before the second person approves
    login(browser, live_server, mee2.username)
    browser.get(live_server.url + "/supervision/reserve/")
    wait_text(browser, "auction-2025-1", "reserve-pending")
    browser.find_element(By.CSS_SELECTOR, "#reserve-pending input[name=otp_token]").send_keys(signing_code(mee2))
    browser.find_element(By.CSS_SELECTOR, "#reserve-pending button.approve").click()
    wait_text(browser, "4,300,000.00", "treasury-available")
    assert "NATIONAL-FUND-TREASURY" in browser.find_element(By.ID, "treasury").text
    assert "150000" in browser.find_element(By.ID, "reserve-holdings").text
    entries = browser.find_element(By.ID, "treasury-entries").text
    assert "2,580,000.00" in entries and "1,720,000.00" in entries  # 30,000 and 20,000 t × 86.00 CNY
    assert FundAccount.objects.get(kind="treasury", market="national").available_fen == 430_000_000
