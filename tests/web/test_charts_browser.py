"""Charts in a real browser: the theme page draws its trend and sentiment-by-channel charts with
the app's own plotly.js (no request leaves loopback, no console error); without JavaScript the
sparkline and the table remain."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from feedback_engine.loop.settings import Settings
from feedback_engine.store import Store
from feedback_engine.web.server import make_server

from . import seed
from .browser import needs_browser, start_chromium
from .test_app_browser import login, no_script_ran, shot

pytestmark = needs_browser


@pytest.fixture
def served(tmp_path: Path):
    db_path = tmp_path / "feedback.db"
    ids = seed.build(db_path)
    with Store(db_path) as store:
        fid = seed.add_item(store, "Refund late again. Still waiting", ids["refunds"], None, day=9)
        with store.transaction() as conn:
            conn.execute("UPDATE feedback SET channel = 'review' WHERE id = ?", (fid,))
    settings = Settings.from_env({"FEEDBACK_ENGINE_SECRET": "charts-browser-secret-0123456789-abcdef"})
    server = make_server(db_path, host="127.0.0.1", port=0, settings=settings, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", ids
    server.shutdown()
    server.server_close()


def _requested(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_theme_page_draws_plotly_charts_offline(served, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, ids = served
    driver = start_chromium(tmp_path / "profile", window="1280,1400", logs=True)
    try:
        login(driver, base, "viewer")
        driver.get_log("browser")
        driver.get_log("performance")
        driver.get(f"{base}/themes/{ids['refunds']}")
        WebDriverWait(driver, 20).until(
            lambda d: (
                d.find_elements(By.CSS_SELECTOR, "#trend-chart[data-drawn] svg.main-svg")
                and d.find_elements(By.CSS_SELECTOR, "#channel-chart[data-drawn] svg.main-svg")
            )
        )
        bars = driver.find_elements(By.CSS_SELECTOR, "#trend-chart .barlayer .point")
        assert len(bars) == 12  # one bar per week
        assert not driver.find_element(By.ID, "trend-fallback").is_displayed()  # the chart replaces the sparkline
        assert driver.find_element(By.ID, "by-channel").is_displayed()  # the table stays, with its counts
        ticks = " ".join(t.text for t in driver.find_elements(By.CSS_SELECTOR, "#channel-chart .ytick text"))
        assert "survey" in ticks and "review" in ticks
        no_script_ran(driver)
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
        urls = _requested(driver)
        assert any("/static/vendor/plotly-" in u for u in urls)
        assert {urlsplit(u).hostname for u in urls if not u.startswith("data:")} == {"127.0.0.1"}
        shot(driver, tmp_path, "theme-charts")
    finally:
        driver.quit()


def test_without_javascript_the_sparkline_and_table_remain(served, tmp_path):
    from selenium.webdriver.common.by import By

    base, ids = served
    driver = start_chromium(tmp_path / "profile-nojs", window="1280,1200")
    try:
        login(driver, base, "viewer")
        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
        driver.get(f"{base}/themes/{ids['refunds']}")
        assert driver.find_element(By.ID, "trend-fallback").is_displayed()
        assert driver.find_elements(By.CSS_SELECTOR, "#trend-fallback svg.spark")
        assert not driver.find_elements(By.CSS_SELECTOR, "#trend-chart svg")
        assert "survey" in driver.find_element(By.ID, "by-channel").text
        shot(driver, tmp_path, "theme-no-js")
    finally:
        driver.quit()
