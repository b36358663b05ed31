"""Shared set-up of the browser tests (headless Chromium through Selenium).

``require_browser()`` skips the calling module when Chromium or chromedriver is missing, unless
CETS_TEST_BROWSER=required (CI), when a missing browser fails the run. ``chrome()`` starts one
headless browser (use it in a module-scoped fixture).
"""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def require_browser() -> None:
    if not (CHROMIUM and DRIVER):
        if os.environ.get("CETS_TEST_BROWSER") == "required":
            raise RuntimeError("CETS_TEST_BROWSER=required but chromium/chromedriver are not installed")
        pytest.skip("chromium and chromedriver not installed", allow_module_level=True)


def chrome():
    """Yield a headless Chromium driver, quit afterwards."""
    from selenium import webdriver

    opts = webdriver.ChromeOptions()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic", "--window-size=1400,1800"):
        opts.add_argument(arg)
    opts.binary_location = CHROMIUM
    d = webdriver.Chrome(service=webdriver.ChromeService(DRIVER), options=opts)
    d.implicitly_wait(5)
    yield d
    d.quit()
