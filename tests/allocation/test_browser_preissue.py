"""Browser walk of Beijing's pre-issue and final issue of free allowances (京环发〔2024〕8号 三(三)2: pre-issue by 07-15,
final by 09-15), four eyes inside the bureau: bureau user 1 sees the pre-issue computed line by line from the stored
basis (A: floor(0.7 × 95,001) = 66,500; B not compliant: 0; C 21,000; E 56,000 — tests/allocation/test_beijing_preissue.py)
and proposes it; bureau user 2 finds it in its inbox, reviews and signs it on the registry page with its dynamic code;
the emissions are determined, user 1 computes the allocation and proposes the final issue (E's true-up −8,000 is
returned to the market's total account); user 2 signs; the page shows pre-issued, final and true-up per entity and each
entity holds its final allocation. Screenshots in var/screenshots/."""

from __future__ import annotations

import pytest

from tests.browser import SHOTS, chrome_with_screenshots, login, require_browser, totp_token, wait_text

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402

from tests.allocation.test_beijing_preissue import PACK, A, B, C, E, _determine, _held, bj  # noqa: E402,F401 (fixture)


@pytest.fixture(scope="module")
def browser():
    yield from chrome_with_screenshots()


def _sign(browser, live_server, user, proposal):
    login(browser, live_server, user.username)
    wait_text(browser, "free allocation issuances awaiting your approval")  # the inbox
    browser.get(live_server.url + "/registry/")
    card = browser.find_element(By.ID, f"proposal-{proposal.pk}")
    assert "pilot market free allocation" in card.text and "BEA-2023" in card.text
    card.find_element(By.NAME, "otp_token").send_keys(totp_token(user.username))
    card.find_element(By.XPATH, ".//button[@value='approve']").click()
    wait_text(browser, "Signed and executed")


@pytest.mark.django_db(transaction=True)
def test_bureau_preissues_then_issues_the_final_allocation_four_eyes(world, bj, browser, live_server):  # noqa: F811
    from cets.allocation.models import EntityAllocation, PreIssue
    from cets.registry.models import Proposal

    x = bj
    page = f"{live_server.url}/allocation/basis/?scope={PACK}:2023"
    login(browser, live_server, x.bureau.username)
    browser.get(page)
    preview = browser.find_element(By.ID, "preissue-preview")
    assert "66,500" in preview.find_element(By.CSS_SELECTOR, f"tr[data-entity='{A}']").text
    assert "95,001" in preview.text and "143,500" in preview.text
    browser.save_screenshot(str(SHOTS / "preissue-1-preview.png"))
    browser.find_element(By.ID, "preissue-propose").click()
    wait_text(browser, "Pre-issue proposed")
    p = Proposal.objects.get(kind="free_allocation")
    assert p.status == Proposal.Status.PROPOSED and not _held(x)

    _sign(browser, live_server, x.bureau2, p)
    assert _held(x) == {A: 66_500, C: 21_000, E: 56_000}
    browser.get(page)
    browser.find_element(By.ID, "issuance-record").click()
    wait_text(browser, "Outcome recorded")
    assert set(PreIssue.objects.values_list("status", flat=True)) == {"executed"}
    assert "66,500" in browser.find_element(By.CSS_SELECTOR, f"#bases tr[data-entity='{A}']").text
    assert not browser.find_elements(By.ID, "preissue-propose")  # one pre-issue per year

    # 09-15: the emissions are determined; the bureau computes and proposes the final issue
    _determine(world, x)
    login(browser, live_server, x.bureau.username)
    browser.get(page)
    browser.find_element(By.ID, "compute").click()
    wait_text(browser, "Allocation computed: 4 entities")
    browser.find_element(By.ID, "final-propose").click()
    wait_text(browser, "Final issue proposed")
    f = Proposal.objects.filter(kind="free_allocation").exclude(pk=p.pk).get()
    _sign(browser, live_server, x.bureau2, f)
    browser.get(page)
    browser.find_element(By.ID, "issuance-record").click()
    wait_text(browser, "Outcome recorded")
    e_row = browser.find_element(By.CSS_SELECTOR, f"#bases tr[data-entity='{E}']").text
    assert "56,000" in e_row and "48,000" in e_row and "-8,000" in e_row
    assert "120,000" in browser.find_element(By.CSS_SELECTOR, f"#bases tr[data-entity='{B}']").text
    browser.save_screenshot(str(SHOTS / "preissue-2-final.png"))
    assert _held(x) == {A: 88_200, B: 120_000, C: 40_000, E: 48_000}
    assert set(EntityAllocation.objects.values_list("stage", flat=True)) == {EntityAllocation.Stage.FINAL_ISSUED}
