"""Shared set-up of the browser tests (headless Chromium through Selenium).

``require_browser()`` skips the calling module when Chromium or chromedriver is missing, unless
CETS_TEST_BROWSER=required (CI), when a missing browser fails the run. ``chrome()`` starts one
headless browser (use it in a module-scoped fixture).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def require_browser() -> None:
    if not (CHROMIUM and DRIVER):
        if os.environ.get("CETS_TEST_BROWSER") == "required":
            raise RuntimeError("CETS_TEST_BROWSER=required but chromium/chromedriver are not installed")
        pytest.skip("chromium and chromedriver not installed", allow_module_level=True)


def chrome():
    """Yield a headless Chromium driver, quit afterwards."""
    from selenium import webdriver

    opts = webdriver.ChromeOptions()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic", "--window-size=1400,1800"):
        opts.add_argument(arg)
    opts.binary_location = CHROMIUM
    d = webdriver.Chrome(service=webdriver.ChromeService(DRIVER), options=opts)
    d.implicitly_wait(5)
    yield d
    d.quit()


SHOTS = Path(__file__).resolve().parents[1] / "var" / "screenshots"


def chrome_with_screenshots():
    """Like :func:`chrome`, with the screenshot folder ``var/screenshots/`` created first."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield from chrome()


def totp_token(username: str) -> str | None:
    """The dynamic code ``username`` signs in with when its role needs a second factor
    (:data:`cets.parties.access.SECOND_FACTOR_ROLES`; the device is created if it has none), else None. A code of a
    step the device has used already is refused (RFC 6238 replay), so after a sign-in in the same 30 s the next step's
    code is given (within the device's tolerance)."""
    import time

    from django.contrib.auth import get_user_model
    from django_otp.oath import TOTP

    from cets.parties.access import SECOND_FACTOR_ROLES, membership_of
    from cets.parties.services import totp_device_ensure

    user = get_user_model().objects.filter(username=username).first()
    m = membership_of(user) if user is not None else None
    if m is None or m.role not in SECOND_FACTOR_ROLES:
        return None
    device, _ = totp_device_ensure(user=user)
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if device.last_t is not None and device.last_t >= totp.t():
        totp.time = time.time() + device.step
    return f"{totp.token():06d}"


def login(browser, live_server, username: str, password: str = "test-password-123") -> None:
    """Log in through the login page — with the user's dynamic code when its role needs one (:func:`totp_token`) —
    and switch the page language to English (whatever the browser's own)."""
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    browser.get(live_server.url + "/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(password)
    token = totp_token(username)
    if token is not None:
        browser.find_element(By.NAME, "otp_token").send_keys(token)
    from selenium.webdriver.support import expected_conditions as EC

    password = browser.find_element(By.NAME, "password")
    password.submit()
    # submit() does not wait for the next page: the login page has its own language switch, so a find before the
    # post has landed took the login page's button, which went stale under the click (about 1 run in 4). Wait for
    # the login page to be gone and the signed-in page to be loaded, then find the switch on that page.
    wait(browser, EC.staleness_of(password))
    wait(browser, lambda d: "/login/" not in d.current_url and d.execute_script("return document.readyState") == "complete")
    english = wait(browser, EC.element_to_be_clickable((By.XPATH, "//button[normalize-space()='English']")))
    english.click()  # whatever the browser's own language
    wait(browser, EC.staleness_of(english))  # the switch has reloaded the page (a later get would race it)
    wait_text(browser, "Key emitting entities")


def wait_text(browser, text: str, element_id: str | None = None) -> None:
    """Wait until ``text`` shows in the page (or in the element with ``element_id``)."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    where = (By.ID, element_id) if element_id else (By.TAG_NAME, "body")
    # while the page navigates, the old body can vanish under the check ("Node … does not belong to the
    # document"): that is not a failure, the wait simply looks again
    WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException, WebDriverException)).until(
        EC.text_to_be_present_in_element(where, text))


def wait(browser, condition, timeout: int = 15):
    """``WebDriverWait(browser, timeout).until(condition)`` that looks again, instead of failing, while the page
    navigates under the check (a stale element, or Chrome's "Node … does not belong to the document")."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, ignored_exceptions=(StaleElementReferenceException, WebDriverException)).until(condition)
