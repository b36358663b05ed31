"""Browser walk of Beijing carbon inclusion (碳普惠, PCER; 京环发〔2024〕8号 三(三)): the project owner registers a
petrol-to-electric project, the Beijing bureau approves it, the owner submits a monitoring period and sees the
calculation line by line, the bureau confirms it, a registry operator proposes creating the units, a second signs it
on the registry page, the second proposes the issuance to the owner and the first signs it — the owner sees the
reduction issued and the units in its account. Golden value from the pack's placeholders: 100,000 vkm × 8 L/100 km ÷
100 × 2.3 kg/L ÷ 1000 = 18.4 t; 15,000 kWh × 0.604 t/MWh ÷ 1000 = 9.06 t; floor(9.34) = 9 t."""

from __future__ import annotations

import pytest

from tests.browser import chrome, login, require_browser, totp_token, wait_text
from tests.compliance.test_beijing import bj  # noqa: F401  (fixture)

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    yield from chrome()


@pytest.fixture(scope="module")
def second_browser():
    yield from chrome()


def _click(browser, element_id: str, text: str):
    browser.find_element(By.ID, element_id).click()
    wait_text(browser, text)


def _sign(browser, live_server, proposal_key: str, user):
    browser.get(live_server.url + "/registry/")
    row = browser.find_element(By.XPATH, f"//article[contains(@class, 'proposal')][h3/code[normalize-space()='{proposal_key}']]")
    row.find_element(By.NAME, "otp_token").send_keys(totp_token(user.username))
    row.find_element(By.XPATH, ".//button[@value='approve']").click()
    wait_text(browser, "Signed and executed")


@pytest.mark.django_db(transaction=True)
def test_owner_bureau_registry_issue_pcer(bj, browser, second_browser, live_server):  # noqa: F811
    from cets.mrv.models import PcerPeriod, PcerProject
    from cets.registry.models import Holding, Position

    # 1. the owner registers a project
    login(browser, live_server, bj.users[2].username)
    browser.find_element(By.ID, "nav-pcer").click()
    wait_text(browser, "Register a project")
    browser.find_element(By.NAME, "name").send_keys("油改电网约车示范")
    Select(browser.find_element(By.NAME, "methodology")).select_by_value("ev_conversion")
    browser.find_element(By.NAME, "location").send_keys("北京市朝阳区")
    _click(browser, "pcer-register-submit", "Project registered")
    project = PcerProject.objects.get()
    # 2. the Beijing bureau sees it in its inbox and approves it
    login(browser, live_server, bj.bureau.username)
    wait_text(browser, "carbon-inclusion projects to approve")
    browser.find_element(By.ID, "nav-pcer").click()
    _click(browser, f"pcer-approve-{project.pk}", "Project approved")
    # 3. the owner submits a monitoring period and sees the calculation
    login(browser, live_server, bj.users[2].username)
    browser.get(live_server.url + "/mrv/pcer/")
    form = browser.find_element(By.ID, f"pcer-period-form-{project.pk}")
    browser.execute_script("arguments[0].value='2024-01-01'; arguments[1].value='2024-06-30';",
                           form.find_element(By.NAME, "start"), form.find_element(By.NAME, "end"))
    form.find_element(By.NAME, "a_vehicle_km").send_keys("100000")
    form.find_element(By.NAME, "a_electricity_kwh").send_keys("1.5")
    form.find_element(By.NAME, "submit").click()
    wait_text(browser, "P0102")                                   # whole numbers only; nothing stored
    assert PcerPeriod.objects.count() == 0
    form = browser.find_element(By.ID, f"pcer-period-form-{project.pk}")
    browser.execute_script("arguments[0].value='2024-01-01'; arguments[1].value='2024-06-30';",
                           form.find_element(By.NAME, "start"), form.find_element(By.NAME, "end"))
    form.find_element(By.NAME, "a_vehicle_km").send_keys("100000")
    form.find_element(By.NAME, "a_electricity_kwh").send_keys("15000")
    form.find_element(By.NAME, "submit").click()
    wait_text(browser, "9 t CO2e reduction")
    period = PcerPeriod.objects.get()
    lines = browser.find_element(By.ID, f"pcer-period-{period.pk}").text
    assert "100000 km × 8 L/100 km ÷ 100 × 2.3 kg CO2/L ÷ 1000 = 18.4 t" in lines
    assert "15000 kWh × 0.604 t CO2/MWh ÷ 1000 = 9.06 t" in lines and "max(0, floor(18.4 t − 9.06 t)) = 9 t" in lines
    # 4. the bureau confirms the reduction
    login(browser, live_server, bj.bureau.username)
    browser.get(live_server.url + "/mrv/pcer/")
    _click(browser, f"pcer-confirm-{period.pk}", "Reduction confirmed")
    # 5. registry: A proposes creating the units, B signs; B proposes the issuance, A signs
    ra, rb = bj.w.registry_a, bj.w.registry_b
    login(browser, live_server, ra.username)
    wait_text(browser, "confirmed carbon-inclusion reductions to issue")
    browser.get(live_server.url + "/mrv/pcer/")
    _click(browser, f"pcer-issue-{period.pk}", "vintage_create")
    login(second_browser, live_server, rb.username)
    _sign(second_browser, live_server, f"pcer-create-{period.pk}", rb)
    second_browser.get(live_server.url + "/mrv/pcer/")
    _click(second_browser, f"pcer-issue-{period.pk}", "Proposed for a second registry operator's approval: issue")
    _sign(browser, live_server, f"pcer-issue-{period.pk}", ra)
    assert Holding.objects.get(account=bj.acc[2], unit_type__code="PCER-2024", position=Position.REGISTRY).quantity == 9
    # 6. the owner sees it issued
    login(browser, live_server, bj.users[2].username)
    browser.get(live_server.url + "/mrv/pcer/")
    wait_text(browser, "issued", f"pcer-period-{period.pk}")
