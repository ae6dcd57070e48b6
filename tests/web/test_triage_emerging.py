"""Triage shows the insights stage's emerging flags: a planted spike is listed with its counts and
its theme is marked; a quiet database shows no Emerging section."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np

from feedback_engine.web.app import build_app
from tests.insights.conftest import Item, background, build
from tests.insights.test_emerging import DAYS, SHARES, SPIKE, START

from . import seed
from .test_pages import SETTINGS, logged_in


def _site(tmp_path: Path, spike: int):
    rng = np.random.default_rng(1)
    items = background(rng, START, DAYS, SHARES, daily=lambda d: 30.0 if d.weekday() >= 5 else 70.0)
    items += [Item(SPIKE, "refunds", "negative") for _ in range(spike)]
    planted = build(tmp_path, items, list(SHARES))
    planted.engine.accounts.add(seed.USERS["viewer"], "viewer", seed.PASSWORD)
    path = planted.engine.store.path
    planted.engine.close()
    return build_app(path, SETTINGS, quiet=True), planted.theme_ids


def test_triage_lists_a_planted_spike_and_marks_its_theme(tmp_path: Path):
    app, theme_ids = _site(tmp_path, spike=25)
    page = logged_in(app, "viewer").get("/").text
    assert "Emerging (" in page
    assert f'<a href="/themes/{theme_ids["refunds"]}">' in page
    assert "expected of" in page and SPIKE.isoformat() in page  # the counted change, not a bare percentage
    row = page[page.index(f'<td><a href="/themes/{theme_ids["refunds"]}">') :].split("</td>", 1)[0]
    assert 'class="badge emerging"' in row
    for quiet in ("login", "shipping"):
        other = page[page.index(f'<td><a href="/themes/{theme_ids[quiet]}">') :].split("</td>", 1)[0]
        assert "badge emerging" not in other


def test_triage_without_a_rise_shows_no_emerging_section(tmp_path: Path):
    app, _ = _site(tmp_path, spike=0)
    page = logged_in(app, "viewer").get("/").text
    assert "Emerging (" not in page and "badge emerging" not in page
    assert START + timedelta(days=DAYS) > SPIKE
