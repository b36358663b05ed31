"""Browser walk (issue 15): the Shandong official forwards a compliance notice delivered to the province, the
registry operator issues the compliance certificate once the obligation is surrendered in full, and the entity opens
its certificate PDF from its dashboard. Screenshots in ``var/screenshots/``."""

from __future__ import annotations

import pytest

from tests.browser import SHOTS, chrome_with_screenshots, login, require_browser, wait, wait_text

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    yield from chrome_with_screenshots()


@pytest.mark.django_db(transaction=True)
def test_forward_the_notice_issue_the_certificate_and_the_entity_opens_its_pdf(world, browser, live_server):
    from cets.allocation.services import special_treatment_set
    from cets.compliance.models import ComplianceCertificate, ComplianceNotice
    from cets.compliance.services import compliance_notices_issue, obligations_create
    from cets.parties.models import Role
    from cets.parties.services import member_create
    from cets.registry.reports import pdf_available
    from tests.compliance.helpers import issue, surrender
    from tests.compliance.test_documents import allocate
    from tests.conftest import SD_2, when

    allocate(world.sd2, 40_001)
    special_treatment_set(entity=world.sd2, year=2023, kind="compliance_risk", reason="司法冻结 judicial freeze", actor=world.province_sd)
    obligations_create(year=2023, pack_id="national/power-2023-2024")
    compliance_notices_issue(year=2023, actor=world.registry_a, at=when("2024-11-01"))
    notice = ComplianceNotice.objects.get(obligation__entity=world.sd2)
    assert notice.delivered_to == "province"
    entity_user = member_create(username="esd2", organisation=world.sd2, role=Role.ENTITY, password="test-password-123")

    # the province forwards the notice from its page
    login(browser, live_server, world.province_sd.username)
    browser.get(live_server.url + f"/compliance/notices/{notice.pk}/")
    browser.find_element(By.ID, "forward-submit").click()
    wait_text(browser, "forwarded to the entity on")
    assert not browser.find_elements(By.ID, "forward-form")
    browser.save_screenshot(str(SHOTS / "compliance-notice-forwarded.png"))

    # the entity surrenders in full (its own journey is another test's); the registry issues the certificate
    issue(world, SD_2, world.cea, 40_001)
    surrender(world, world.sd2, entity_user, 2023, "CEA-2023", 40_001, "2024-12-10", "full")
    login(browser, live_server, world.registry_a.username)
    browser.get(live_server.url + "/compliance/2023/")
    row = browser.find_element(By.XPATH, f"//tr[.//code[normalize-space()='{SD_2}']]")
    row.find_element(By.CSS_SELECTOR, "button.certificate-issue").click()
    wait_text(browser, f"Compliance certificate LYZM-2023-{SD_2} issued")
    browser.save_screenshot(str(SHOTS / "compliance-certificate-issued.png"))
    cert = ComplianceCertificate.objects.get(obligation__entity=world.sd2)

    # the entity reaches its notice and its certificate from its dashboard
    login(browser, live_server, entity_user.username)
    browser.get(live_server.url + "/?year=2023")
    link = browser.find_element(By.CSS_SELECTOR, "a.certificate-pdf-link")
    assert cert.number in link.text
    assert browser.find_element(By.CSS_SELECTOR, "a.notice-pdf-link")
    browser.save_screenshot(str(SHOTS / "compliance-entity-documents.png"))
    href = link.get_attribute("href")
    status = browser.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin'}).then(function (r) { done(r.status + ' ' + r.headers.get('content-type')); });", href)
    if pdf_available():  # WeasyPrint installed (as in CI)
        assert status == "200 application/pdf"
    link.click()
    wait(browser, lambda d: d.current_url.endswith(f"/compliance/certificates/{cert.pk}/pdf/"))
