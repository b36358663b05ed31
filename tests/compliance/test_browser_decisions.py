"""Browser journey of the province's compliance decisions (issue 15): in headless Chromium against a live
server on 2025-01-10 (after the 2023 deadline), the Shandong provincial authority approves an entity's
surrender from the surrender list, opens the obligation's non-compliance file and orders rectification by the
rule pack's deadline (2025-02-28). Screenshots go to var/screenshots/."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest

from tests.browser import SHOTS, chrome_with_screenshots, login, require_browser, wait_text
from tests.conftest import when

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402

from tests.compliance.test_decision_pages import pending  # noqa: E402,F401 (fixture)


@pytest.fixture(scope="module")
def browser():
    yield from chrome_with_screenshots()


@pytest.mark.django_db(transaction=True)
def test_province_approves_a_surrender_and_orders_rectification(world, pending, browser, live_server):  # noqa: F811
    from cets.compliance.models import RectificationOrder, SurrenderApplication

    ob, a, _b = pending
    at = when("2025-01-10", 10).astimezone(dt.UTC)
    with mock.patch("django.utils.timezone.now", lambda: at):
        login(browser, live_server, world.province_sd.username)
        browser.get(live_server.url + "/compliance/surrenders/")
        row = browser.find_element(By.CSS_SELECTOR, f"tr[data-application='{a.pk}']")
        assert "60,000" in row.text
        browser.save_screenshot(str(SHOTS / "compliance-1-surrenders.png"))
        row.find_element(By.XPATH, ".//button[normalize-space()='Approve']").click()
        wait_text(browser, "Surrender of 60,000 t approved.")
        assert SurrenderApplication.objects.get(pk=a.pk).status == "approved"
        browser.save_screenshot(str(SHOTS / "compliance-2-approved.png"))

        browser.get(live_server.url + f"/compliance/obligations/{ob.pk}/")
        assert browser.find_element(By.ID, "rectify-by").text == "2025-02-28"
        browser.find_element(By.NAME, "reference").send_keys("鲁环责改〔2025〕1号")
        browser.find_element(By.XPATH, "//button[normalize-space()='Issue the order']").click()
        wait_text(browser, "Rectification order issued.")
        browser.save_screenshot(str(SHOTS / "compliance-3-rectification.png"))
    order = RectificationOrder.objects.get()
    assert (order.deadline, order.unsurrendered_t, order.reference) == (dt.date(2025, 2, 28), 40_000, "鲁环责改〔2025〕1号")
