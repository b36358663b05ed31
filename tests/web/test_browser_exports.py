"""Browser walk: a registry operator signs in, opens the account applications, sees the "Export XLSX" button beside
the search, and the workbook the button posts for (with the search's filters) holds the listed applications, an
injected formula kept as text. Screenshot: var/screenshots/exports-applications.png."""

from __future__ import annotations

import base64
import io

import pytest

from tests.browser import SHOTS, chrome_with_screenshots, require_browser
from tests.web.test_browser_applications import operator_login

require_browser()

from selenium.webdriver.common.by import By  # noqa: E402

INJECTED = "=cmd|' /C calc'!A0"
KYC = {"phone": "13800000000", "address": "北京市朝阳区某路1号", "occupation": "工程师", "funds_source": "工资收入",
       "bank_account": "6222020000000000000", "risk_acknowledged": True}

FETCH = """
const done = arguments[arguments.length - 1];
const form = document.querySelector('form[role=search]');
const data = new FormData(form);
data.append('format', 'xlsx');
fetch(location.href, {method: 'POST', body: data, credentials: 'same-origin'}).then(async r => {
  const bytes = new Uint8Array(await r.arrayBuffer());
  let s = ''; for (const b of bytes) s += String.fromCharCode(b);
  done([r.status, r.headers.get('Content-Type'), btoa(s)]);
});
"""


@pytest.fixture(scope="module")
def browser():
    yield from chrome_with_screenshots()


@pytest.mark.django_db(transaction=True)
def test_a_registry_operator_exports_the_applications_from_the_page(world, browser, live_server):
    from openpyxl import load_workbook

    from cets.registry.services import application_submit

    for i, (pid, name) in enumerate((("11010519850102123X", INJECTED), ("110105198501021248", "王小明"))):
        application_submit(holder_kind="individual", name=name, resident_id=pid, kyc=dict(KYC), username=f"bx-{i}", password="a-long-password-1",
                           documents=[("identity_card", "id.png", b"\x89PNG\r\n\x1a\n" + bytes(64))])
    operator_login(browser, live_server, world.registry_a)
    browser.get(live_server.url + "/registry/applications/")
    button = browser.find_element(By.ID, "applications-xlsx")
    assert button.text == "Export XLSX"
    browser.save_screenshot(str(SHOTS / "exports-applications.png"))
    browser.set_script_timeout(20)
    status, ctype, data = browser.execute_async_script(FETCH)
    assert status == 200 and ctype.startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(base64.b64decode(data))).active
    names = {row[2].value: row[2] for row in ws.iter_rows(min_row=2)}
    assert set(names) == {INJECTED, "王小明"} and names[INJECTED].data_type == "s"
    shown = {td.text for td in browser.find_elements(By.CSS_SELECTOR, "#applications tbody tr td:nth-child(3)")}
    assert shown == set(names)
