"""Debian's Chromium, headless, driven by chromedriver: the one way the browser tests start it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
#: Browser tests are skipped only when Chromium or chromedriver are not installed (`.ci/run` installs them).
needs_browser = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER), reason="Debian's chromium and chromium-driver are not installed"
)


def start_chromium(profile: Path, window: str | None = None, *, logs: bool = False) -> Any:
    """A headless Chromium with its own profile folder, quiet (no sync, updates or background traffic).

    ``logs``: keep the console (``driver.get_log("browser")``) and the network events
    (``driver.get_log("performance")``), to assert no errors and no request off the machine."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    flags = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
    ]
    if window:
        flags.append(f"--window-size={window}")
    for flag in flags:
        options.add_argument(flag)
    if logs:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    return driver
