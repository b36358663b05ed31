"""Browser walk (issue 15, forms that help; issue 14, the blacklist of 《碳排放权交易管理暂行条例》 Art. 24/25): the national
authority types part of a verification body's name into the blacklist form's credit-code field, sees the body among the
suggestions (an entity-only lookup would not find it), picks it, sees its name before deciding, and decides; the
decision is then listed on the supervision page. Screenshot in ``var/screenshots/``."""

from __future__ import annotations

import pytest

from tests.browser import SHOTS, chrome_with_screenshots, login, require_browser, wait, wait_text

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from tests.supervision.conftest import sup  # noqa: E402,F401


@pytest.fixture(scope="module")
def browser():
    yield from chrome_with_screenshots()


@pytest.mark.django_db(transaction=True)
def test_the_authority_finds_a_verification_body_by_name_and_blacklists_it(sup, browser, live_server):  # noqa: F811
    from cets.parties.models import Organisation
    from cets.supervision.models import BlacklistEntry
    from tests.conftest import uscc_for

    body = Organisation.objects.create(uscc=uscc_for(91, "1210000"), name="鲁北核查技术服务中心", kind=Organisation.Kind.VERIFIER, province="37")
    from tests.web.conftest import PASSWORD, with_password

    login(browser, live_server, with_password(sup.web.mee).username, PASSWORD)
    browser.get(live_server.url + "/supervision/")
    form = browser.find_element(By.CSS_SELECTOR, "form[action$='/supervision/blacklist/']")
    field = form.find_element(By.NAME, "uscc")
    result = form.find_element(By.XPATH, ".//input[@name='uscc']/following-sibling::span[contains(@class,'lookup-result')]")
    field.send_keys("鲁北核查")
    wait(browser, lambda d: result.find_elements(By.CSS_SELECTOR, "button.lookup-pick"))
    picks = result.find_elements(By.CSS_SELECTOR, "button.lookup-pick")
    assert [p.get_attribute("data-value") for p in picks] == [body.uscc]
    picks[0].click()
    wait(browser, lambda d: field.get_attribute("value") == body.uscc)
    wait(browser, lambda d: "鲁北核查技术服务中心" in result.text)
    browser.save_screenshot(str(SHOTS / "blacklist-lookup.png"))
    Select(form.find_element(By.NAME, "effect")).select_by_value("verification")
    form.find_element(By.NAME, "decision_reference").send_keys("环气候〔2025〕21号")
    form.find_element(By.NAME, "reason").send_keys("出具虚假核查报告")
    browser.execute_script("arguments[0].value = '2025-04-01'", form.find_element(By.NAME, "starts_on"))
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_text(browser, "环气候〔2025〕21号")
    entry = BlacklistEntry.objects.get(decision_reference="环气候〔2025〕21号")
    assert (entry.subject_id, entry.effect, entry.lifted_on) == (body.pk, "verification", None)
