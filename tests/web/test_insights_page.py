"""The Insights page: a planted NPS driver is shown with its interval and flagged; with nothing to
analyse each block says why; untrusted labels are escaped; viewers may read it, visitors may not."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from feedback_engine.web.app import build_app
from tests.insights.conftest import build
from tests.insights.test_drivers import THEMES, _responses

from . import seed
from .test_pages import SETTINGS, Browser, logged_in


def _site(tmp_path: Path, effect: bool):
    items = _responses(np.random.default_rng(3), 600, effect=effect)
    planted = build(tmp_path, items, THEMES)
    planted.engine.themes.rename(planted.theme_ids["pricing"], "<img src=x onerror=alert(1)> pricing")
    planted.engine.accounts.add(seed.USERS["viewer"], "viewer", seed.PASSWORD)
    path = planted.engine.store.path
    planted.engine.close()
    return build_app(path, SETTINGS, quiet=True), planted.theme_ids


def _row(page: str, theme_id: int) -> str:
    return page[page.index(f'<tr><td><a href="/themes/{theme_id}">') :].split("</tr>", 1)[0]


def test_a_planted_nps_driver_is_shown_with_its_interval(tmp_path: Path):
    app, ids = _site(tmp_path, effect=True)
    assert Browser(app).get("/insights").status_code == 303  # a login first
    response = logged_in(app, "viewer").get("/insights")
    assert response.status_code == 200
    page = response.text
    assert "What drives NPS" in page and "600 responses" in page
    bugs = _row(page, ids["bugs"])
    assert bugs.rstrip().endswith("<td>yes</td>") and "[" in bugs  # flagged, with an interval
    assert "<td>yes</td>" not in _row(page, ids["support"])
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt; pricing" in page
    assert "Customers at risk" in page and "No shipped actions yet." in page


def test_without_a_planted_effect_no_theme_is_flagged(tmp_path: Path):
    app, ids = _site(tmp_path, effect=False)
    page = logged_in(app, "viewer").get("/insights?score=nps").text
    assert all("<td>yes</td>" not in _row(page, ids[t]) for t in THEMES)
    assert logged_in(app, "viewer").get("/insights?score=csat").text.count("No csat responses yet.") == 1
