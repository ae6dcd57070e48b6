"""The unsubscribe pages in a real browser: Debian's Chromium, headless, driven by chromedriver.

Skipped only when Chromium/chromedriver are not installed (`.ci/run` installs them on Debian).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from feedback_engine.loop.settings import Settings
from feedback_engine.loop.tokens import make_token
from feedback_engine.store import Store, utcnow
from feedback_engine.web.server import make_server

from .browser import needs_browser, start_chromium

pytestmark = needs_browser

SECRET = "browser-test-secret-0123456789-abcdef"


@pytest.fixture
def served(tmp_path: Path):
    db_path = tmp_path / "feedback.db"
    with Store(db_path) as store:
        now = utcnow()
        store.execute(
            "INSERT INTO customers (email, display_name, consent, created_at, updated_at) VALUES (?, ?, 1, ?, ?)",
            ("ann@example.com", "<b>Ann</b>", now, now),
        )
        store.conn.commit()
    settings = Settings.from_env({"FEEDBACK_ENGINE_SECRET": SECRET, "FEEDBACK_ENGINE_BASE_URL": "http://127.0.0.1"})
    server = make_server(db_path, host="127.0.0.1", port=0, settings=settings, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", db_path
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser(tmp_path: Path):
    driver = start_chromium(tmp_path / "chromium-profile")
    yield driver
    driver.quit()


def _unsubscribed_at(db_path: Path) -> str | None:
    with Store(db_path) as store:
        return store.scalar("SELECT unsubscribed_at FROM customers WHERE email = 'ann@example.com'")


def test_confirm_page_then_button_unsubscribes(served, browser):
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, db_path = served
    browser.get(f"{base}/unsubscribe?token={make_token(SECRET, 1)}")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Unsubscribe?"
    assert "a***@example.com" in browser.find_element(By.TAG_NAME, "body").text
    assert _unsubscribed_at(db_path) is None  # looking at the page changes nothing
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    # the old page's <body> goes stale while the POST navigates (or, mid-navigation, "does not belong to the
    # document"): look again until the new page is there
    WebDriverWait(browser, 20, ignored_exceptions=(StaleElementReferenceException, WebDriverException)).until(
        lambda d: "You are unsubscribed" in d.find_element(By.TAG_NAME, "body").text
    )
    assert _unsubscribed_at(db_path) is not None


def test_tampered_token_shows_error_page_and_runs_no_script(served, browser):
    from selenium.webdriver.common.by import By

    base, db_path = served
    good = make_token(SECRET, 1)
    for token in (good[:-3] + "xyz", "<img src=x onerror=alert(1)>"):
        browser.get(f"{base}/unsubscribe?token={token}")
        body = browser.find_element(By.TAG_NAME, "body").text
        assert "This unsubscribe link does not work" in body
        assert browser.find_elements(By.TAG_NAME, "form") == []
        assert browser.find_elements(By.TAG_NAME, "img") == []
    assert _unsubscribed_at(db_path) is None
