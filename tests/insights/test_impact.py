"""Impact of shipped actions: a planted halving of a theme's complaints after the ship date is
found (ratio inside its interval, verdict significant); no effect gives no significant verdict
beyond the rate; a recent action says how many items came in since; shown in `actions show`."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
from click.testing import CliRunner

from feedback_engine.cli import main
from tests.insights.conftest import Item

START = date(2025, 6, 2)
SHIP = START + timedelta(days=30)
THEMES = {"refunds": 0.15, "login": 0.15, "search": 0.2}


def _items(rng: np.random.Generator, days: int = 60, drop: float = 0.0) -> list[Item]:
    """60 days of items; after SHIP each negative refunds item is kept with probability 1 - drop."""
    names = [*THEMES, None]
    probs = [*THEMES.values(), 1 - sum(THEMES.values())]
    out = []
    for i in range(days):
        d = START + timedelta(days=i)
        for _ in range(int(rng.poisson(80))):
            theme = names[int(rng.choice(4, p=probs))]
            neg = rng.random() < (0.6 if theme == "refunds" else 0.3)
            if theme == "refunds" and neg and d >= SHIP and rng.random() < drop:
                continue
            sentiment = "negative" if neg else "neutral"
            out.append(Item(d, theme, sentiment, int(rng.integers(0, 11)), hour=int(rng.integers(0, 24))))
    return out


def _ship(p, theme: str, at: str) -> int:
    e = p.engine
    aid = e.actions.add(themes=[p.theme_ids[theme]], title="Faster refunds", description="Refunds in 2 days.")
    e.actions.update(aid, status="shipped")
    with e.store.transaction() as conn:
        conn.execute("UPDATE actions SET shipped_at = ? WHERE id = ?", (at, aid))
    return aid


def test_planted_drop_in_complaints_is_found(make_planted):
    p = make_planted(_items(np.random.default_rng(21), drop=0.5), list(THEMES))
    aid = _ship(p, "refunds", f"{SHIP.isoformat()}T00:00:00Z")
    r = p.engine.insights.impact(aid)
    a = r["actions"][0]
    assert a["verdict"] == "fewer complaints, significant"
    ratio = a["complaints_vs_others"]
    lo, hi = ratio["ci"]
    assert lo < 0.5 < hi < 0.8  # the planted halving lies in the interval
    assert a["share_negative_did"]["did"] < 0 and a["share_negative_did"]["ci"][1] < 0
    assert a["before"]["complaints"] == ratio["counts"][0] > 2 * ratio["counts"][1] * 0.8
    volume = a["volume_vs_others"]  # half the complaints (60% of the theme) gone: 0.7 of the volume
    assert volume["ci"][0] < 0.7 < volume["ci"][1] and volume["counts"] == [
        a["before"]["members"],
        a["after"]["members"],
    ]
    assert a["after"]["days"] == 28.0 and a["themes"] == [p.theme_ids["refunds"]]
    assert p.engine.insights.impact()["actions"][0]["action_id"] == aid  # every shipped action


def test_no_effect_gives_no_significant_verdict_beyond_the_rate(make_planted):
    significant = 0
    for seed in range(5):
        p = make_planted(_items(np.random.default_rng(300 + seed), drop=0.0), list(THEMES))
        aid = _ship(p, "refunds", f"{SHIP.isoformat()}T00:00:00Z")
        significant += p.engine.insights.impact(aid)["actions"][0]["verdict"].endswith(", significant")
    assert significant <= 1  # a 95% interval: 5% false alarms per action


def test_recent_action_and_cli(make_planted):
    items = _items(np.random.default_rng(22), days=32)
    p = make_planted(items, list(THEMES))
    aid = _ship(p, "refunds", f"{(SHIP + timedelta(days=1)).isoformat()}T23:00:00Z")
    since = sum(1 for it in items if it.theme == "refunds" and it.day == SHIP + timedelta(days=1) and it.hour >= 23)
    a = p.engine.insights.impact(aid)["actions"][0]
    assert a["verdict"] == f"no measurable change yet: {since} items since"
    db = str(p.engine.store.path)
    out = CliRunner().invoke(main, ["--db", db, "insights", "impact", str(aid)])
    assert out.exit_code == 0 and f"Impact: no measurable change yet: {since} items since" in out.output
    out = CliRunner().invoke(main, ["--db", db, "actions", "show", str(aid)])
    assert out.exit_code == 0 and "Impact: no measurable change yet" in out.output
    shown = json.loads(CliRunner().invoke(main, ["--db", db, "actions", "show", str(aid), "--json"]).output)
    assert shown["impact"]["verdict"] == a["verdict"]
    out = CliRunner().invoke(main, ["--db", db, "insights", "impact", "99"])
    assert out.exit_code == 1 and out.stderr.startswith("Error: No action 99")


def test_cli_shows_the_counted_change(make_planted):
    p = make_planted(_items(np.random.default_rng(23), drop=0.5), list(THEMES))
    aid = _ship(p, "refunds", f"{SHIP.isoformat()}T00:00:00Z")
    out = CliRunner().invoke(main, ["--db", str(p.engine.store.path), "actions", "show", str(aid)])
    assert out.exit_code == 0, out.output
    assert "Impact: fewer complaints, significant" in out.output
    assert "complaints vs other themes: x0." in out.output and "share negative:" in out.output and "NPS:" in out.output
