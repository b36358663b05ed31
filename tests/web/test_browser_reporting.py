"""Browser walk of units that do not report (京环发〔2024〕8号 五(二)): the Beijing bureau sees in its inbox that
reports are missing, opens the page, orders the general reporting unit that filed nothing to correct within a
deadline, and fines a key emitting unit whose correction period ended without its verified report — CNY 50,000.01
refused (C1207), CNY 50,000 (the pack's ceiling) decided."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser import chrome, login, require_browser, wait_text
from tests.compliance.test_beijing import bj  # noqa: F401  (fixture)
from tests.compliance.test_reporting_penalty import rp  # noqa: F401  (fixture)

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    yield from chrome()


@pytest.mark.django_db(transaction=True)
def test_bureau_orders_and_fines(rp, browser, live_server):  # noqa: F811
    from django.utils import timezone

    from cets.compliance.models import ReportingEnforcement
    from cets.compliance.services.reporting import reporting_order

    today = timezone.localdate()
    bj1, bj3 = rp.orgs[0], rp.orgs[2]
    past = reporting_order(entity_id=bj1.pk, market="beijing", year=2023, duty="verification", correct_by=today - dt.timedelta(days=5),
                           reference="京环责改〔2024〕7号", actor=rp.bureau, on=today - dt.timedelta(days=35))
    login(browser, live_server, rp.bureau.username)
    browser.get(live_server.url + "/?year=2023")
    browser.find_element(By.ID, "nav-reporting").click()
    browser.get(live_server.url + "/compliance/reporting/?market=beijing&year=2023")
    row = browser.find_element(By.ID, f"reporting-{bj3.pk}-general_reports")
    assert "not filed" in row.text
    browser.execute_script("arguments[0].value = arguments[1];", row.find_element(By.NAME, "correct_by"), (today + dt.timedelta(days=30)).isoformat())
    row.find_element(By.NAME, "reference").send_keys("京环责改〔2024〕8号")
    row.find_element(By.NAME, "order").click()
    wait_text(browser, "Order to correct issued.")
    assert "京环责改〔2024〕8号" in browser.find_element(By.ID, f"reporting-{bj3.pk}-general_reports").text
    row = browser.find_element(By.ID, f"reporting-{bj1.pk}-verification")
    row.find_element(By.NAME, "fine_cny").send_keys("50000.01")
    row.find_element(By.NAME, "reference").send_keys("京环罚〔2024〕5号")
    row.find_element(By.NAME, "fine").click()
    wait_text(browser, "C1207")
    row = browser.find_element(By.ID, f"reporting-{bj1.pk}-verification")
    row.find_element(By.NAME, "fine_cny").send_keys("50000")
    row.find_element(By.NAME, "reference").send_keys("京环罚〔2024〕5号")
    row.find_element(By.NAME, "fine").click()
    wait_text(browser, "Fine decided.")
    assert "CNY 50,000.00" in browser.find_element(By.ID, f"reporting-{bj1.pk}-verification").text
    assert ReportingEnforcement.objects.get(pk=past.pk).fine_fen == 5_000_000
