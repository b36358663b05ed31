"""Browser test of holder protection (issue 16), in headless Chromium against a live server: an entity's user signs
in with password and TOTP code, adds another holder's account to the trusted account list (waiting for its
activation delay), instructs a transfer to it once active (held, due after the delay), cancels it, and reads the
notices of each step (unread count in the navigation, mark all read).

Skipped when Chromium or chromedriver is missing, unless CETS_TEST_BROWSER=required (as tests/web/test_browser.py).
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser import chrome, require_browser, wait_text
from tests.web.conftest import PASSWORD, SD_1, SD_2, with_password

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    yield from chrome()


def totp_now(device) -> str:
    from django_otp.oath import TOTP

    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


@pytest.mark.django_db(transaction=True)
def test_holder_trusts_an_account_instructs_a_transfer_cancels_it_and_reads_the_notices(web, browser, live_server):
    from django.utils import timezone

    from cets.parties.services import totp_device_ensure
    from cets.registry.models import Account, DelayedTransfer, Holding, TrustedAccount

    user = with_password(web.entity_sd1)
    device, _ = totp_device_ensure(user=user)
    mine, theirs = Account.objects.get(holder__uscc=SD_1), Account.objects.get(holder__uscc=SD_2)
    registry_before = Holding.objects.get(account=mine, position="registry").quantity

    # sign in: password and the dynamic code (the holder's role needs it)
    browser.delete_all_cookies()
    browser.get(live_server.url + "/login/")
    browser.find_element(By.NAME, "username").send_keys(user.username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.NAME, "otp_token").send_keys(totp_now(device))
    browser.find_element(By.NAME, "password").submit()
    browser.find_element(By.XPATH, "//button[normalize-space()='English']").click()
    wait_text(browser, "Key emitting entities")

    # the trusted account list: add the other holder's account; it waits for the activation delay
    browser.find_element(By.ID, "nav-holder").click()
    wait_text(browser, "Trusted account list")
    browser.find_element(By.ID, "id_trusted_account").send_keys(theirs.number)
    browser.find_element(By.ID, "trusted-add").click()
    wait_text(browser, "waiting", "trusted")
    entry = TrustedAccount.objects.get(account=mine, trusted=theirs)
    assert entry.active_from > timezone.now() + dt.timedelta(days=6)

    # a transfer to it before activation is refused (R0801) on the registry page
    def instruct(key_hint: str) -> None:
        browser.get(live_server.url + "/registry/")
        form = browser.find_element(By.CSS_SELECTOR, "form[action$='/registry/transfer/']")
        form.find_element(By.NAME, "to_account").send_keys(theirs.number)
        form.find_element(By.NAME, "unit_type").send_keys("CEA-2023")
        form.find_element(By.NAME, "quantity").send_keys("1000")
        form.find_element(By.NAME, "reference").send_keys(key_hint)
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    instruct("too early")
    wait_text(browser, "R0801")
    # the delay passes (the clock of the test moves the entry's activation into the past)
    TrustedAccount.objects.filter(pk=entry.pk).update(active_from=timezone.now() - dt.timedelta(minutes=1))
    instruct("bilateral sale")
    wait_text(browser, "Transfer instructed")
    d = DelayedTransfer.objects.get()
    assert (d.status, d.quantity, d.to_account_id) == ("pending", 1000, theirs.pk)
    assert Holding.objects.get(account=mine, position="pending").quantity == 1000

    # the instruction is listed with its due time; the holder cancels it and the units come back
    browser.find_element(By.ID, "nav-holder").click()
    row = browser.find_element(By.CSS_SELECTOR, f"#delayed tr[data-key='{d.key}']")
    assert "pending" in row.text and timezone.localtime(d.due_at).strftime("%Y-%m-%d %H:%M") in row.text
    row.find_element(By.TAG_NAME, "button").click()
    wait_text(browser, "cancelled", "delayed")
    d.refresh_from_db()
    assert d.status == "cancelled"
    assert Holding.objects.get(account=mine, position="registry").quantity == registry_before
    assert Holding.objects.get(account=mine, position="pending").quantity == 0

    # the notices: the unread count in the navigation, each step listed, then all marked read
    count = int(browser.find_element(By.ID, "unread-count").text)
    assert count >= 5  # trusted entry, instruction, its hold, the cancellation, the return
    browser.find_element(By.ID, "nav-notifications").click()
    wait_text(browser, "Notifications")
    table = browser.find_element(By.ID, "notifications").text
    assert f"{theirs.number} added to your trusted account list" in table
    assert "Transfer of 1,000 t CEA-2023 due" in table and "Transfer of 1,000 t CEA-2023 cancelled" in table
    assert "1,000 t CEA-2023 moved registry position → pending (position move)" in table  # the ledger's notice of the hold
    browser.find_element(By.ID, "mark-all-read").click()
    wait_text(browser, "marked read")
    assert not browser.find_elements(By.ID, "unread-count")
