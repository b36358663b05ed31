"""Browser journey of the allocation table submission (issue 15): in headless Chromium against a live server
on 2025-08-01, the Shandong provincial authority records sending its stamped final power tables of 2024 (due
2025-07-31: shown late) and the registry operator records receipt (issue by 2025-08-15, 10 working days).
Screenshots go to var/screenshots/."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest

from tests.browser import SHOTS, chrome_with_screenshots, login, require_browser, wait_text
from tests.conftest import when

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from tests.allocation.test_sectors import POWER, two_lists  # noqa: E402,F401 (fixture)


@pytest.fixture(scope="module")
def browser():
    yield from chrome_with_screenshots()


@pytest.mark.django_db(transaction=True)
def test_province_submits_tables_and_the_registry_receives(two_lists, browser, live_server):  # noqa: F811
    from cets.allocation.models import AllocationSubmission
    from cets.allocation.services import allocation_compute

    w = two_lists
    allocation_compute(year=2024, pack_id=POWER)
    at = when("2025-08-01", 10).astimezone(dt.UTC)
    with mock.patch("django.utils.timezone.now", lambda: at):
        login(browser, live_server, w.province_sd.username)
        browser.get(live_server.url + "/allocation/submissions/")
        Select(browser.find_element(By.NAME, "scope")).select_by_value("national:power")
        browser.find_element(By.NAME, "year").send_keys("2024")
        Select(browser.find_element(By.NAME, "stage")).select_by_value("final")
        browser.save_screenshot(str(SHOTS / "allocation-1-province-form.png"))
        browser.find_element(By.XPATH, "//button[normalize-space()='Record the submission']").click()
        wait_text(browser, "Submission recorded")
        s = AllocationSubmission.objects.get()
        row = browser.find_element(By.CSS_SELECTOR, f"tr[data-submission='{s.pk}']")
        assert "2025-07-31" in row.text
        assert "late" in row.text
        browser.save_screenshot(str(SHOTS / "allocation-2-province-recorded.png"))

        login(browser, live_server, w.registry_a.username)
        browser.get(live_server.url + "/allocation/submissions/?status=waiting")
        browser.find_element(By.CSS_SELECTOR, f"tr[data-submission='{s.pk}'] button").click()
        wait_text(browser, "issue by 2025-08-15")
        browser.get(live_server.url + "/allocation/submissions/?status=received")
        assert "2025-08-15" in browser.find_element(By.CSS_SELECTOR, f"tr[data-submission='{s.pk}']").text
        browser.save_screenshot(str(SHOTS / "allocation-3-registry-received.png"))
    s.refresh_from_db()
    assert (s.received_on, s.issue_by) == (dt.date(2025, 8, 1), dt.date(2025, 8, 15))
