"""Browser walk (issue 15, forms that help): a registry operator types part of a holder's name into the deduction
form's account field, sees the suggestions, picks one and sees the holder's name and account kind before posting;
a holder types a payee's account number on the holder protection page and sees the payee's name before adding it to
its trusted accounts. Screenshots in ``var/screenshots/``."""

from __future__ import annotations

import pytest

from tests.browser import SHOTS, chrome_with_screenshots, login, require_browser, wait, wait_text

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    yield from chrome_with_screenshots()


def result_of(form, name: str):
    """The lookup result next to the field ``name`` of ``form``."""
    return form.find_element(By.XPATH, f".//input[@name='{name}']/following-sibling::span[contains(@class,'lookup-result')]")


@pytest.mark.django_db(transaction=True)
def test_an_operator_finds_the_account_by_the_holders_name_and_sees_it_before_posting(world, browser, live_server):
    from cets.registry.models import AccountKind, Position, Proposal, TransferKind
    from cets.registry.services import Leg, system_account, transfer_post
    from tests.conftest import SD_2

    account = world.accounts[SD_2]
    transfer_post(key="seed", kind=TransferKind.ISSUE, unit_type=world.cea, debit=Leg(system_account("national", AccountKind.NATIONAL_TOTAL),
                  Position.REGISTRY), credit=Leg(account, Position.REGISTRY), quantity=500)
    login(browser, live_server, world.registry_a.username)
    browser.get(live_server.url + "/registry/")
    form = browser.find_element(By.CSS_SELECTOR, "form[action$='/registry/deduction/']")
    field = form.find_element(By.NAME, "account")
    field.send_keys("山东测试二")  # part of the holder's name
    wait(browser, lambda d: result_of(form, "account").find_elements(By.CSS_SELECTOR, "button.lookup-pick"))
    picks = result_of(form, "account").find_elements(By.CSS_SELECTOR, "button.lookup-pick")
    assert [p.get_attribute("data-value") for p in picks] == [account.number]
    assert "山东测试二电厂" in picks[0].text
    browser.save_screenshot(str(SHOTS / "lookup-suggestions.png"))
    picks[0].click()
    wait(browser, lambda d: field.get_attribute("value") == account.number)
    wait(browser, lambda d: "山东测试二电厂" in result_of(form, "account").text and "entity" in result_of(form, "account").text)
    assert result_of(form, "account").find_element(By.CSS_SELECTOR, ".lookup-match").is_displayed()
    unit = form.find_element(By.NAME, "unit_type")
    unit.send_keys("CEA-20")
    wait(browser, lambda d: result_of(form, "unit_type").find_elements(By.CSS_SELECTOR, "button.lookup-pick"))
    result_of(form, "unit_type").find_element(By.CSS_SELECTOR, "button.lookup-pick").click()
    wait(browser, lambda d: unit.get_attribute("value") == "CEA-2023")
    browser.save_screenshot(str(SHOTS / "lookup-holder-name.png"))
    csp = [e["message"] for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
    assert csp == []  # htmx runs under the CSP ('self' only): no inline style, no eval
    form.find_element(By.NAME, "quantity").send_keys("30")
    form.find_element(By.NAME, "reason").send_keys("鲁环罚〔2025〕8号")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_text(browser, "Proposed and waiting for a second approval")
    p = Proposal.objects.get(kind="deduction")
    assert account.number in str(p.payload)


@pytest.mark.django_db(transaction=True)
def test_a_holder_sees_the_payees_name_before_trusting_the_account(world, browser, live_server):
    from tests.conftest import ZJ_1

    payee = world.accounts[ZJ_1]
    login(browser, live_server, world.entity_sd1_user.username)
    browser.get(live_server.url + "/holder/")
    field = browser.find_element(By.ID, "id_trusted_account")
    field.send_keys(payee.number)
    form = field.find_element(By.XPATH, "./ancestor::form")
    wait(browser, lambda d: "浙江测试电厂" in result_of(form, "trusted_account").text)
    browser.save_screenshot(str(SHOTS / "lookup-payee.png"))
    browser.find_element(By.ID, "trusted-add").click()
    wait_text(browser, f"Done: {payee.number}")
    from cets.registry.models import TrustedAccount

    assert TrustedAccount.objects.filter(trusted=payee).exists()
