"""Browser test of the second factor's enrolment (issue 16), in headless Chromium against a live server: an entity's
user without a device signs in with its password, is held on ``/security/second-factor/`` (the notice in Chinese,
then English), cannot reach ``/holder/`` yet, starts the enrolment, reads the shown secret as an authenticator app
would, types the current code, and then reaches ``/holder/`` (a page of a role that needs the factor) in a session
verified with it. A wrong code first is refused with L0501.

Skipped when Chromium or chromedriver is missing, unless CETS_TEST_BROWSER=required (as tests/web/test_browser.py).
"""

from __future__ import annotations

import base64

import pytest

from tests.browser import chrome, require_browser, wait, wait_text
from tests.web.conftest import PASSWORD, with_password

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    yield from chrome()


def code_from_secret(secret: str, *, other: bool = False) -> str:
    """What an authenticator app shows for the base32 ``secret`` now (RFC 6238, 30 s, 6 digits); ``other``: a code it
    does not show now or in the neighbouring steps."""
    from django_otp.oath import TOTP

    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    now = TOTP(key)
    if not other:
        return f"{now.token():06d}"
    near = set()
    for k in (-1, 0, 1):
        t = TOTP(key)
        t.time = now.time + 30 * k
        near.add(f"{t.token():06d}")
    return next(c for c in (f"{i:06d}" for i in range(1000)) if c not in near)


def enrol_in_browser(browser) -> None:
    """On ``/security/second-factor/`` (where a sign-in without a device lands): start, read the secret as an
    authenticator app would, type its current code, and wait to be sent on."""
    browser.find_element(By.CSS_SELECTOR, "#totp-start button[type=submit]").click()
    wait(browser, EC.presence_of_element_located((By.ID, "totp-secret")))
    secret = browser.find_element(By.ID, "totp-secret").text.strip()
    browser.find_element(By.ID, "id_code").send_keys(code_from_secret(secret))
    browser.find_element(By.CSS_SELECTOR, "#totp-confirm button[type=submit]").click()
    wait(browser, EC.invisibility_of_element_located((By.ID, "totp-confirm")))


@pytest.mark.django_db(transaction=True)
def test_entity_user_enrols_its_authenticator_and_reaches_the_holder_page(web, browser, live_server):
    from axes.utils import reset
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cets.parties.models import SecurityEvent

    reset()
    username = with_password(web.entity_sd1).username
    browser.delete_all_cookies()
    browser.get(live_server.url + "/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.NAME, "password").submit()
    wait(browser, EC.presence_of_element_located((By.ID, "enrol-required")))
    assert "/security/second-factor/" in browser.current_url
    assert "动态口令" in browser.find_element(By.ID, "enrol-required").text or "second factor" in browser.find_element(By.ID, "enrol-required").text
    browser.find_element(By.XPATH, "//button[normalize-space()='English']").click()
    wait_text(browser, "before you continue, enrol a second factor", "enrol-required")

    browser.get(live_server.url + "/holder/")  # held: back on the enrolment page
    wait(browser, EC.presence_of_element_located((By.ID, "enrol-required")))
    assert "/security/second-factor/" in browser.current_url

    browser.find_element(By.CSS_SELECTOR, "#totp-start button[type=submit]").click()
    wait(browser, EC.presence_of_element_located((By.ID, "totp-secret")))
    secret = browser.find_element(By.ID, "totp-secret").text.strip()
    uri = browser.find_element(By.ID, "totp-uri").text.strip()
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri

    browser.find_element(By.ID, "id_code").send_keys(code_from_secret(secret, other=True))
    browser.find_element(By.CSS_SELECTOR, "#totp-confirm button[type=submit]").click()
    wait_text(browser, "L0501")
    assert not TOTPDevice.objects.filter(user=web.entity_sd1, confirmed=True).exists()

    device = TOTPDevice.objects.get(user=web.entity_sd1, confirmed=False)
    device.throttle_reset()  # django-otp's throttle after the wrong code (1 s): as if the user waited a moment
    assert browser.find_element(By.ID, "totp-secret").text.strip() == secret  # the same device is being enrolled
    field = browser.find_element(By.ID, "id_code")
    field.clear()  # the refused code may still be in the field
    field.send_keys(code_from_secret(secret))
    button = browser.find_element(By.CSS_SELECTOR, "#totp-confirm button[type=submit]")
    button.click()
    wait(browser, EC.staleness_of(button))
    wait(browser, EC.url_contains("/holder/"))  # sent on to where it was going
    wait_text(browser, "Trusted account list")
    assert TOTPDevice.objects.filter(user=web.entity_sd1, confirmed=True).count() == 1
    assert SecurityEvent.objects.filter(kind="totp_enrolled", user=web.entity_sd1).exists()
    assert SecurityEvent.objects.filter(kind="totp_failed", code="L0501", user=web.entity_sd1).exists()

    browser.get(live_server.url + "/security/second-factor/")
    wait_text(browser, "this session is verified", "totp-active")
