"""Emerging themes: a planted spike, a rise in share negative and a channel crossing are found;
data with no planted effect raises nothing beyond the stated false-alarm rate."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
from click.testing import CliRunner

from feedback_engine.cli import main
from tests.insights.conftest import Item, background, kinds

START = date(2025, 3, 3)  # a Monday; 35 days: 28 of baseline, 7 of window
DAYS = 35
SPIKE = START + timedelta(days=31)
SHARES = {"refunds": 0.08, "login": 0.08, "shipping": 0.06}


def _weekly(d: date) -> float:
    return 30.0 if d.weekday() >= 5 else 70.0  # weekends are quiet: the total volume moves by weekday


def test_planted_spike_is_flagged_with_its_counts(make_planted):
    rng = np.random.default_rng(1)
    items = background(rng, START, DAYS, SHARES, daily=_weekly)
    items += [Item(SPIKE, "refunds", "negative") for _ in range(25)]
    p = make_planted(items, list(SHARES))
    result = p.engine.insights.emerging()
    assert result["window"] == {"since": "2025-03-31", "until": "2025-04-06", "days": 7}
    flagged = kinds(result)
    assert ("volume", "refunds", SPIKE.isoformat()) in flagged
    assert all(label == "refunds" for _, label, _ in flagged), flagged
    spike = next(f for f in result["flags"] if f["day"] == SPIKE.isoformat() and f["kind"] == "volume")
    day_total = sum(1 for it in items if it.day == SPIKE)
    assert spike["n"] == day_total
    assert spike["observed"] == sum(1 for it in items if it.day == SPIKE and it.theme == "refunds")
    assert 2 < spike["expected"] < 12  # about 8% of the day's other items
    assert (
        f"{spike['observed']} items vs {spike['expected']:.1f} expected of {day_total} items that day" in spike["text"]
    )
    assert spike["q"] <= 0.05 and spike["p"] < spike["q"] + 1e-12
    share = spike["share"]
    assert share["ci"][0] > share["expected"] and share["observed"] == round(spike["observed"] / day_total, 4)
    assert len(spike["feedback_ids"]) == min(50, spike["observed"])


def test_rise_in_share_negative_is_flagged(make_planted):
    rng = np.random.default_rng(2)
    items = background(rng, START, DAYS, SHARES, negative=0.2)
    for it in items:
        if it.theme == "login" and it.day >= START + timedelta(days=28):
            it.sentiment = "negative" if rng.random() < 0.75 else "neutral"
    p = make_planted(items, list(SHARES))
    result = p.engine.insights.emerging()
    negative = [f for f in result["flags"] if f["kind"] == "negative"]
    assert negative and {f["label"] for f in negative} == {"login"}
    window = next(f for f in negative if f["day"] is None)
    assert window["observed"] > 2 * window["expected"]
    assert "negative vs" in window["text"] and "baseline" in window["text"]
    assert not [f for f in result["flags"] if f["kind"] == "volume"]


def test_theme_crossing_from_surveys_to_reviews(make_planted):
    rng = np.random.default_rng(3)
    items = background(rng, START, DAYS, SHARES)
    items += [Item(START + timedelta(days=30 + i % 5), "shipping", "negative", channel="review") for i in range(8)]
    p = make_planted(items, list(SHARES))
    result = p.engine.insights.emerging()
    crossing = [f for f in result["flags"] if f["kind"] == "channel_crossing"]
    assert [(f["label"], f["channel"], f["observed"]) for f in crossing] == [("shipping", "review", 8)]
    assert "none on review" in crossing[0]["text"]
    # the channel filter keeps to one channel's items: no crossing inside surveys alone
    assert not [f for f in p.engine.insights.emerging(channel="survey")["flags"] if f["kind"] == "channel_crossing"]


def test_new_theme_at_the_latest_refit(make_planted):
    rng = np.random.default_rng(4)
    items = background(rng, START, DAYS, SHARES)
    p = make_planted(items, list(SHARES))
    with p.engine.store.transaction() as conn:
        conn.execute("UPDATE themes SET created_at = '2025-04-05T00:00:00Z' WHERE id = ?", (p.theme_ids["shipping"],))
    new = p.engine.insights.emerging()["new_themes"]
    assert [t["label"] for t in new] == ["shipping"]
    window_items = sum(1 for it in items if it.theme == "shipping" and it.day >= START + timedelta(days=28))
    assert new[0]["window_items"] == window_items


def test_no_planted_effect_flags_nothing_beyond_the_fdr(make_planted):
    """Under the global null BH at 5% raises any flag in at most ~5% of runs; 6 seeds, at most 1."""
    runs_with_flags, tests = 0, 0
    for seed in range(6):
        rng = np.random.default_rng(100 + seed)
        p = make_planted(background(rng, START, DAYS, SHARES, daily=_weekly), list(SHARES))
        result = p.engine.insights.emerging()
        tests = result["tests"]
        runs_with_flags += bool(result["flags"])
    assert tests == 3 * (7 + 1) * 2  # 3 themes x (7 days + the window) x (volume, negative); no crossing
    assert runs_with_flags <= 1


def test_cli_emerging_json_and_table(make_planted):
    rng = np.random.default_rng(1)
    items = background(rng, START, DAYS, SHARES)
    items += [Item(SPIKE, "refunds", "negative") for _ in range(25)]
    p = make_planted(items, list(SHARES))
    db = str(p.engine.store.path)
    out = CliRunner().invoke(main, ["--db", db, "insights", "emerging", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert ("volume", "refunds", SPIKE.isoformat()) in kinds(data)
    out = CliRunner().invoke(
        main, ["--db", db, "insights", "emerging", "--since", "2025-04-03", "--until", "2025-04-04"]
    )
    assert out.exit_code == 0, out.output
    assert "Window 2025-04-03..2025-04-04" in out.output
    assert "[volume] refunds:" in out.output and "expected of" in out.output
    out = CliRunner().invoke(main, ["--db", db, "insights", "emerging", "--since", "bad"])
    assert out.exit_code == 2
