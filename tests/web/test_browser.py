"""Browser tests: the main pages in headless Chromium (Selenium), against a live server.

Skipped when Chromium or chromedriver is missing, unless CETS_TEST_BROWSER=required (CI), when a
missing browser fails the run.
"""

from __future__ import annotations

import pytest

from tests.browser import chrome, require_browser, totp_token, wait
from tests.web.conftest import PASSWORD, SD_1, ZJ_1, with_password

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    yield from chrome()


def login(browser, live_server, user):
    username = with_password(user).username
    browser.delete_all_cookies()
    browser.get(live_server.url + "/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    token = totp_token(username)  # a role that needs the second factor signs in with its code
    if token is not None:
        browser.find_element(By.NAME, "otp_token").send_keys(token)
    browser.find_element(By.NAME, "password").submit()
    browser.find_element(By.XPATH, "//button[normalize-space()='English']")


@pytest.mark.django_db(transaction=True)
def test_provincial_officer_walks_the_main_pages(web, browser, live_server):
    login(browser, live_server, web.province_sd)
    assert "/login/" not in browser.current_url
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "鲁网测一号热电有限公司" in body or "山东" in body
    assert "浙网测燃气热电有限公司" not in body
    browser.get(live_server.url + "/entities/")
    rows = browser.find_element(By.TAG_NAME, "body").text
    assert "鲁网测二号发电有限公司" in rows
    assert "浙网测燃气热电有限公司" not in rows
    browser.get(live_server.url + f"/entities/{SD_1}/")
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "应发配额量" in page
    assert "预分配配额量" in page
    browser.get(live_server.url + f"/entities/{ZJ_1}/")
    assert "浙网测燃气热电有限公司" not in browser.find_element(By.TAG_NAME, "body").text  # 404, nothing revealed


@pytest.mark.django_db(transaction=True)
def test_language_switch_in_the_browser(web, browser, live_server):
    login(browser, live_server, web.mee)
    browser.find_element(By.XPATH, "//button[normalize-space()='English']").click()
    wait(browser, EC.text_to_be_present_in_element((By.TAG_NAME, "body"), "Key emitting entities"))
    browser.find_element(By.XPATH, "//button[normalize-space()='中文']").click()
    wait(browser, EC.text_to_be_present_in_element((By.TAG_NAME, "body"), "重点排放单位"))
