"""Browser walk (issue 15, review-then-sign): registry operator A proposes a deduction on the registry page and is
told it waits for a second approval; operator B sees the readable summary (kind in words, who proposed, the decision
reference, from which holder and account, unit type, tonnes, holdings before → after), enters a wrong dynamic code
(refused with R1201, nothing executed), then the right one (signed and executed: the holding falls by the quantity).
Screenshots in ``var/screenshots/``."""

from __future__ import annotations

import pytest

from tests.browser import SHOTS, chrome_with_screenshots, login, require_browser, totp_token, wait_text

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    yield from chrome_with_screenshots()


@pytest.mark.django_db(transaction=True)
def test_a_second_operator_reviews_and_signs_a_deduction(world, browser, live_server):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cets.registry.models import AccountKind, Holding, Position, Proposal, TransferKind
    from cets.registry.services import Leg, system_account, transfer_post
    from tests.conftest import SD_1

    account = world.accounts[SD_1]
    transfer_post(key="seed", kind=TransferKind.ISSUE, unit_type=world.cea, debit=Leg(system_account("national", AccountKind.NATIONAL_TOTAL),
                  Position.REGISTRY), credit=Leg(account, Position.REGISTRY), quantity=500)

    def total() -> int:
        return sum(Holding.objects.filter(account=account).values_list("quantity", flat=True))

    # A proposes
    login(browser, live_server, world.registry_a.username)
    browser.get(live_server.url + "/registry/")
    form = browser.find_element(By.CSS_SELECTOR, "form[action$='/registry/deduction/']")
    for name, value in (("account", account.number), ("unit_type", "CEA-2023"), ("quantity", "30"), ("reason", "鲁环罚〔2025〕7号")):
        form.find_element(By.NAME, name).send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_text(browser, "Proposed and waiting for a second approval")
    p = Proposal.objects.get(kind="deduction")
    assert p.status == "proposed"
    assert "your own proposal" in browser.find_element(By.ID, f"proposal-{p.pk}").text

    # B reviews the summary
    login(browser, live_server, world.registry_b.username)
    browser.get(live_server.url + "/registry/")
    card = browser.find_element(By.ID, f"proposal-{p.pk}")
    text = card.text
    for shown in ("deduction on a decision", "ra", "鲁环罚〔2025〕7号", account.number, world.sd1.name, "CEA-2023", "30", "500 → 470"):
        assert shown in text, shown
    assert "{'" not in browser.page_source
    browser.save_screenshot(str(SHOTS / "registry-review-sign.png"))

    # a wrong code: refused, nothing executed
    right = totp_token(world.registry_b.username)
    card.find_element(By.NAME, "otp_token").send_keys(f"{(int(right) + 1) % 1_000_000:06d}")
    card.find_element(By.XPATH, ".//button[@value='approve']").click()
    wait_text(browser, "R1201")
    assert Proposal.objects.get(pk=p.pk).status == "proposed" and total() == 500

    # the right code: signed and executed (the device's throttle after the failure has passed: a person retypes)
    TOTPDevice.objects.filter(user=world.registry_b).update(throttling_failure_timestamp=None)
    card = browser.find_element(By.ID, f"proposal-{p.pk}")
    card.find_element(By.NAME, "otp_token").send_keys(totp_token(world.registry_b.username))
    card.find_element(By.XPATH, ".//button[@value='approve']").click()
    wait_text(browser, "Signed and executed")
    assert Proposal.objects.get(pk=p.pk).status == "executed" and total() == 470
    browser.save_screenshot(str(SHOTS / "registry-signed.png"))
