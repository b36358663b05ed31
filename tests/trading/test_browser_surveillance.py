"""Browser test of supervision's enforcement in headless Chromium against a live server (market:
tests/trading/conftest.py, clock 2024-11-04 10:00): the national authority opens market surveillance, sees the
wash-trade alert between two related participants with its orders, refers it with a reason; then records a
false-reporting finding (Measures Art. 43, fine 20,000.00 CNY in 10,000–30,000) on the supervision page, and an
anonymous visitor finds it on the public portal."""

from __future__ import annotations

import pytest

from tests.browser import chrome, login, require_browser, wait, wait_text
from tests.conftest import SD_1, client_for

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    yield from chrome()


@pytest.mark.django_db(transaction=True)
def test_authority_reviews_an_alert_and_a_finding_reaches_the_public_portal(exchange, browser, live_server):
    from cets.supervision import enforcement
    from cets.supervision.models import FalseReportingFinding, SurveillanceDecision

    x = exchange
    a, b = client_for(x.sd1_user, verified=True), client_for(x.sd2_user, verified=True)
    q = a.post("/api/v1/trading/orders", {"instrument": "CEA23", "method": "listing", "side": "S", "price": "96.00", "quantity_t": 1_000},
               content_type="application/json", HTTP_IDEMPOTENCY_KEY="s1").json()
    assert b.post("/api/v1/trading/take", {"quote": q["seq"], "quantity_t": 1_000, "key": "t1"}, content_type="application/json").status_code == 200
    for org in (x.w.sd1, x.w.sd2):
        enforcement.related_participant_set(actor=x.operator, organisation_id=org.pk, group="某能源集团", basis="同一实际控制人")

    login(browser, live_server, x.w.mee.username)
    browser.get(live_server.url + "/supervision/surveillance/?day=2024-11-04")
    wait_text(browser, "wash_trade", "alerts")
    row = browser.find_element(By.CSS_SELECTOR, "tr.alert-row[data-rule=wash_trade]")
    row.find_element(By.TAG_NAME, "summary").click()  # drill down to the orders
    assert str(q["seq"]) in row.text
    row.find_element(By.CSS_SELECTOR, "select[name=outcome] option[value=refer]").click()
    row.find_element(By.NAME, "reason").send_keys("同一集团内对倒，移交调查")
    row.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_text(browser, "refer: 同一集团内对倒", "alerts")
    assert SurveillanceDecision.objects.get().outcome == "refer"

    login(browser, live_server, x.w.province_sd.username)
    browser.get(live_server.url + "/supervision/")
    f = browser.find_element(By.ID, "finding-form")
    for name, value in (("uscc", SD_1), ("year", "2024"), ("decision_reference", "鲁环罚〔2025〕11号"), ("facts", "篡改燃煤检测报告"), ("fine", "20000.00")):
        f.find_element(By.NAME, name).send_keys(value)
    f.find_element(By.CSS_SELECTOR, "select[name=rules] option[value=measures_43]").click()
    f.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    # the page says what was recorded, in its language
    wait(browser, lambda b: any(t in b.find_element(By.TAG_NAME, "body").text for t in ("已记录，见下方列表。", "Recorded: see the lists below.")))
    assert FalseReportingFinding.objects.get().fine_fen == 2_000_000

    browser.delete_all_cookies()
    browser.get(live_server.url + "/public/false-reporting/")
    wait_text(browser, "鲁环罚〔2025〕11号")
    assert "10,000.00 – 30,000.00" in browser.find_element(By.TAG_NAME, "body").text
