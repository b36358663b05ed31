"""Browser journey of a district authority (issue 13): the 朝阳区 bureau logs in, its dashboard and the entity list show
the 朝阳 unit and not the 海淀 one, and the 海淀 unit's page is not found for it. Screenshots go to var/screenshots/."""

from __future__ import annotations

import pytest

from tests.browser import SHOTS, chrome_with_screenshots, login, require_browser, wait_text

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402

from tests.parties.test_district_jurisdiction import beijing  # noqa: E402,F401 (fixture)


@pytest.fixture(scope="module")
def browser():
    yield from chrome_with_screenshots()


@pytest.mark.django_db(transaction=True)
def test_district_user_sees_its_district_only(beijing, browser, live_server):  # noqa: F811
    user, chaoyang, haidian = beijing
    login(browser, live_server, user.username)
    browser.get(live_server.url + "/entities/")
    wait_text(browser, chaoyang.name)
    body = browser.find_element(By.TAG_NAME, "body").text
    assert chaoyang.uscc in body and haidian.uscc not in body and haidian.name not in body
    browser.save_screenshot(str(SHOTS / "district-1-entities.png"))
    browser.get(live_server.url + f"/entities/{haidian.uscc}/")
    assert haidian.name not in browser.find_element(By.TAG_NAME, "body").text
    browser.get(live_server.url + f"/entities/{chaoyang.uscc}/")
    wait_text(browser, chaoyang.name)
