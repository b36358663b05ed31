"""Browser journey of Beijing's allocation on the database path (issue 13): in headless Chromium the Beijing
bureau uploads its approval basis, first a file with a wrong method (the row and column are shown, nothing is
recorded), then the right one, and computes the allocation: the entity whose spot-checked emissions are
100,000 t is cut from 150,000 t to 120,000 t (the 20% surplus cap). Screenshots go to var/screenshots/."""

from __future__ import annotations

import pytest

from tests.browser import SHOTS, chrome_with_screenshots, login, require_browser, wait_text

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from tests.allocation.test_beijing_db import BASIS, PACK, B, bj  # noqa: E402,F401 (fixture)


@pytest.fixture(scope="module")
def browser():
    yield from chrome_with_screenshots()


@pytest.mark.django_db(transaction=True)
def test_bureau_uploads_the_basis_and_computes(world, bj, browser, live_server, tmp_path):  # noqa: F811
    from cets.allocation.models import AllocationBasis, EntityAllocation

    bureau, _ents, good = bj
    bad = tmp_path / "bad.csv"
    bad.write_text(BASIS.replace("benchmark,0.5", "grandfathering,0.5"), encoding="utf-8")
    login(browser, live_server, bureau.username)
    browser.get(live_server.url + "/allocation/basis/")
    for path in (bad, good):
        Select(browser.find_element(By.CSS_SELECTOR, "#upload-h ~ form select[name=scope]")).select_by_value(f"{PACK}:2023")
        browser.find_element(By.NAME, "file").send_keys(str(path))
        browser.find_element(By.XPATH, "//button[normalize-space()='Upload']").click()
        if path == bad:
            wait_text(browser, "nothing was imported")
            assert "method" in browser.find_element(By.ID, "problems").text
            assert not AllocationBasis.objects.exists()
            browser.save_screenshot(str(SHOTS / "basis-1-bad-file.png"))
    wait_text(browser, "Approval basis recorded for 4 entities")
    browser.find_element(By.ID, "compute").click()
    wait_text(browser, "Allocation computed: 3 entities")
    row = browser.find_element(By.CSS_SELECTOR, f"tr[data-entity='{B}']").text
    assert "150,000" in row and "-30,000" in row and "120,000" in row
    browser.save_screenshot(str(SHOTS / "basis-2-computed.png"))
    assert EntityAllocation.objects.get(market="beijing", year=2023, entity__uscc=B).final_allocation_t == 120_000
