"""Looks and language in headless Chromium (issue 15), 1,400 px wide: the charts drawn (obligation vs holdings on the
entity's page, compliance progress on the province's page, the market's price history), every page's tables whole
(no column hidden, nothing wider than the window: a wide table scrolls in its own box), one language per page,
and the API docs (Swagger UI from the project's own static files under its CSP). Screenshots go to var/screenshots/
for a reviewer (looks-*.png)."""

from __future__ import annotations

import pytest

from tests.browser import SHOTS, chrome_with_screenshots, login, require_browser, wait_text
from tests.web.conftest import PASSWORD, SD_2, with_password

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402

# a column is hidden when its header is not displayed; the page is too wide when the document scrolls sideways
LAYOUT = """
const hidden = [...document.querySelectorAll('main table th, main table td')].filter(c => getComputedStyle(c).display === 'none'
    || getComputedStyle(c).visibility === 'hidden').length;
return {hidden: hidden, wide: document.documentElement.scrollWidth - window.innerWidth, width: window.innerWidth,
        tables: document.querySelectorAll('main table').length};
"""


@pytest.fixture(scope="module")
def browser():
    yield from chrome_with_screenshots()


def sign_in(browser, live_server, user):
    login(browser, live_server, with_password(user).username, PASSWORD)


def look(browser, live_server, path: str, shot: str) -> dict:
    browser.get(live_server.url + path)
    browser.find_element(By.CSS_SELECTOR, "main.page")
    layout = browser.execute_script(LAYOUT)
    browser.save_screenshot(str(SHOTS / f"looks-{shot}.png"))
    assert layout["hidden"] == 0, (path, layout)
    assert layout["wide"] <= 0, (path, layout)
    return layout


def chinese(browser) -> bool:
    browser.find_element(By.XPATH, "//button[normalize-space()='中文']").click()
    wait_text(browser, "重点排放单位")
    return True


@pytest.mark.django_db(transaction=True)
def test_entity_sees_its_obligation_against_its_holdings(web, browser, live_server):
    sign_in(browser, live_server, web.entity_sd1)
    layout = look(browser, live_server, "/", "entity-en")
    assert layout["width"] >= 1300
    chart = browser.find_element(By.CSS_SELECTOR, "svg.chart")
    text = chart.text or chart.get_attribute("textContent")
    assert "Surrender obligation" in text and "Held now (t)" in text
    assert "700,000" in text  # the obligation
    assert len(chart.find_elements(By.CSS_SELECTOR, "rect")) >= 3
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "surrender obligation" in body and "应清缴配额量" in body  # the official term under the English name
    assert "已核定发放" not in body  # the stage in English only
    chinese(browser)
    browser.save_screenshot(str(SHOTS / "looks-entity-zh.png"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "应清缴配额量" in body and "surrender obligation" not in body and "final allocation" not in body


@pytest.mark.django_db(transaction=True)
def test_province_pages_chart_progress_and_keep_every_column(web, browser, live_server):
    sign_in(browser, live_server, web.province_sd)
    look(browser, live_server, "/", "province-en")
    chart = browser.find_element(By.CSS_SELECTOR, "svg.chart")
    text = chart.get_attribute("textContent")
    assert "Shandong" in text and "Surrendered (t)" in text
    assert "700,000" in text  # Σ surrendered in Shandong
    for path, shot in ((f"/entities/{SD_2}/", "entity-record-en"), ("/entities/", "entities-en"), ("/compliance/surrenders/", "surrenders-en"),
                       ("/compliance/2023/", "compliance-2023-en"), ("/trading/market/", "market-en"), ("/public/", "public-en"),
                       ("/public/surrender/", "public-surrender-en")):
        look(browser, live_server, path, shot)
    chinese(browser)
    look(browser, live_server, "/", "province-zh")
    assert "山东" in browser.find_element(By.CSS_SELECTOR, "svg.chart").get_attribute("textContent")


@pytest.mark.django_db(transaction=True)
def test_api_docs_render_from_our_own_static_files(web, browser, live_server):
    sign_in(browser, live_server, web.mee)
    browser.get(live_server.url + "/api/v1/docs")
    wait_text(browser, "cets API")
    assert browser.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock")  # the operations are listed
    scripts = [s.get_attribute("src") for s in browser.find_elements(By.TAG_NAME, "script") if s.get_attribute("src")]
    assert scripts and all(s.startswith(live_server.url + "/static/") for s in scripts), scripts
    browser.save_screenshot(str(SHOTS / "looks-api-docs.png"))
