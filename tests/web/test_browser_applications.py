"""Browser walk (issue 17): a natural person applies for a registry account on the public form with an identity
card scan, one registry operator finds the application by the whole identity number and proposes approval, a second
approves it on the registry page (four eyes), and the person logs in and sees the account. The identity number is
never in any page the browser receives."""

from __future__ import annotations

import re

import pytest

from tests.browser import chrome, require_browser, totp_token, wait, wait_text
from tests.web.test_browser_second_factor import enrol_in_browser

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

PID = "11010519850102123X"
MASKED = "110105********123X"
PW = "test-password-123"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(scope="module")
def browser():
    yield from chrome()


def english(browser):
    browser.find_element(By.XPATH, "//button[normalize-space()='English']").click()
    wait_text(browser, "Public information")


def operator_login(browser, live_server, user):
    from django_otp.oath import TOTP

    from cets.parties.services import totp_device_ensure

    device, _ = totp_device_ensure(user=user)
    browser.delete_all_cookies()
    browser.get(live_server.url + "/login/")
    browser.find_element(By.NAME, "username").send_keys(user.username)
    browser.find_element(By.NAME, "password").send_keys(PW)
    browser.find_element(By.NAME, "otp_token").send_keys(f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}")
    browser.find_element(By.NAME, "password").submit()
    wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, "form.logout")))
    english(browser)


def no_pid(browser):
    assert PID not in browser.page_source and PID.lower() not in browser.page_source


@pytest.mark.django_db(transaction=True)
def test_an_individual_opens_an_account_from_application_to_approval(world, browser, live_server, tmp_path):
    scan = tmp_path / "id-card.png"
    scan.write_bytes(PNG)
    # 1. the person applies on the public form
    browser.delete_all_cookies()
    browser.get(live_server.url + "/registry/apply/")
    english(browser)
    Select(browser.find_element(By.NAME, "holder_kind")).select_by_value("individual")
    fields = {"name": "王小明", "resident_id": PID, "phone": "13800000000", "address": "北京市朝阳区某路1号", "occupation": "engineer",
              "funds_source": "salary", "bank_account": "6222020000000000000", "username": "wangxm", "password": "a-long-password-1"}
    for name, value in fields.items():
        browser.find_element(By.NAME, name).send_keys(value)
    browser.find_element(By.NAME, "identity_card").send_keys(str(scan))
    browser.find_element(By.NAME, "risk_acknowledged").click()
    browser.find_element(By.ID, "apply-submit").click()
    wait_text(browser, "received")
    ref = re.search(r"APP-\d{8}-[0-9A-F]{8}", browser.find_element(By.TAG_NAME, "body").text).group(0)
    no_pid(browser)
    # 2. a registry operator finds it by the whole number and proposes approval
    operator_login(browser, live_server, world.registry_a)
    browser.get(live_server.url + "/registry/")
    browser.find_element(By.ID, "nav-applications").click()
    browser.find_element(By.ID, "q").send_keys(PID)
    browser.find_element(By.ID, "q").submit()
    wait_text(browser, ref, "applications")
    assert MASKED in browser.find_element(By.ID, "applications").text
    no_pid(browser)
    browser.find_element(By.LINK_TEXT, ref).click()
    wait_text(browser, "identity card")
    assert MASKED in browser.find_element(By.ID, "application").text
    no_pid(browser)
    browser.find_element(By.ID, "propose").click()
    wait_text(browser, "Proposed for approval")
    # 3. the same operator cannot approve; a second one does, on the registry page
    browser.get(live_server.url + "/registry/")
    wait_text(browser, "your own proposal")
    operator_login(browser, live_server, world.registry_b)
    browser.get(live_server.url + "/registry/")
    row = browser.find_element(By.XPATH, "//article[contains(@class, 'proposal')][h3[contains(., 'account opening')]]")
    no_pid(browser)
    row.find_element(By.NAME, "otp_token").send_keys(totp_token(world.registry_b.username))
    row.find_element(By.XPATH, ".//button[@value='approve']").click()
    wait_text(browser, "Signed and executed")
    browser.get(live_server.url + f"/registry/applications/{ref}/")
    wait_text(browser, "NATIONAL-ID-", "app-account")
    account = browser.find_element(By.ID, "app-account").text
    # 4. the person logs in with the login chosen in the application and sees the account
    browser.delete_all_cookies()
    browser.get(live_server.url + "/login/")
    browser.find_element(By.NAME, "username").send_keys("wangxm")
    browser.find_element(By.NAME, "password").send_keys("a-long-password-1")
    browser.find_element(By.NAME, "password").submit()
    # a holder's user moves units: without a device it is first held on the enrolment of its second factor
    wait(browser, EC.presence_of_element_located((By.ID, "enrol-required")))
    enrol_in_browser(browser)
    wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, "form.logout")))
    browser.get(live_server.url + "/registry/")
    wait_text(browser, account)
    no_pid(browser)
