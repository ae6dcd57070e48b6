"""Drivers: a theme with a planted NPS effect is found with its size inside the interval; with no
planted effect nothing is flagged beyond the stated rate; per segment when customers carry one."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
from click.testing import CliRunner

from feedback_engine.cli import main
from tests.insights.conftest import Item

START = date(2025, 5, 1)
THEMES = ["bugs", "pricing", "support"]
BASE = (0.3, 0.3, 0.4)  # detractor, passive, promoter: NPS +10
HURT = (0.6, 0.25, 0.15)  # bugs: NPS -45, a planted effect of -55 points


def _nps(rng: np.random.Generator, probs: tuple[float, float, float]) -> int:
    group = int(rng.choice(3, p=probs))
    return (
        int(rng.integers(0, 7)) if group == 0 else (int(rng.integers(7, 9)) if group == 1 else int(rng.integers(9, 11)))
    )


def _responses(rng: np.random.Generator, n: int, effect: bool, segment_of=None) -> list[Item]:
    out = []
    for i in range(n):
        theme = [None, *THEMES][int(rng.choice(4, p=[0.4, 0.2, 0.2, 0.2]))]
        seg = segment_of(i) if segment_of else None
        hurt = effect and theme == "bugs" and (seg in (None, "enterprise"))
        out.append(
            Item(
                START + timedelta(days=i % 30),
                theme,
                "neutral",
                _nps(rng, HURT if hurt else BASE),
                email=f"c{i}@ex.test",
            )
        )
    return out


def test_planted_nps_effect_is_found(make_planted):
    rng = np.random.default_rng(11)
    items = _responses(rng, 3000, effect=True)
    p = make_planted(items, THEMES)
    r = p.engine.insights.drivers("nps")
    assert r["responses"] == 3000 and r["overall"]["n"] == 3000
    assert [d["label"] for d in r["drivers"]] == ["bugs"]
    bugs = r["drivers"][0]
    lo, hi = bugs["ols_ci"]
    assert lo < -55 < hi and hi < -35  # the planted effect lies in the interval
    assert bugs["loo_impact"] < 0 and bugs["loo_ci"][1] < 0
    n_bugs = sum(1 for it in items if it.theme == "bugs")
    assert bugs["responses"] == n_bugs
    codes = np.array([100 if it.nps >= 9 else (-100 if it.nps <= 6 else 0) for it in items])
    in_bugs = np.array([it.theme == "bugs" for it in items])
    expected_loo = codes.mean() - codes[~in_bugs].mean()
    assert abs(bugs["loo_impact"] - expected_loo) < 1e-3
    assert "lowers the NPS by" in bugs["text"] and f"{n_bugs} of 3000 responses" in bugs["text"]
    assert r["by_segment"] == {}  # the segment column exists (migration 010) but no customer has one


def test_no_planted_effect_flags_nothing_beyond_the_rate(make_planted):
    flagged = 0
    for seed in range(5):
        p = make_planted(_responses(np.random.default_rng(200 + seed), 1500, effect=False), THEMES)
        flagged += len(p.engine.insights.drivers("nps")["drivers"])
    assert flagged <= 1  # BH at 5% over 3 themes x 5 seeds


def test_by_segment_and_cli(make_planted):
    rng = np.random.default_rng(12)
    seg = lambda i: "enterprise" if i % 2 else "smb"  # noqa: E731
    p = make_planted(_responses(rng, 4000, effect=True, segment_of=seg), THEMES)
    with p.engine.store.transaction() as conn:
        conn.execute(
            "UPDATE customers SET segment = CASE WHEN CAST(substr(email, 2, instr(email, '@') - 2) AS INTEGER) % 2 = 1 THEN 'enterprise' ELSE 'smb' END"
        )
    r = p.engine.insights.drivers("nps")
    assert set(r["by_segment"]) == {"enterprise", "smb"}
    assert [d["label"] for d in r["by_segment"]["enterprise"]["drivers"]] == ["bugs"]
    assert r["by_segment"]["smb"]["drivers"] == []
    only = p.engine.insights.drivers("nps", segment="smb")
    assert only["responses"] == 2000 and only["drivers"] == [] and only["by_segment"] is None
    db = str(p.engine.store.path)
    out = CliRunner().invoke(main, ["--db", db, "insights", "drivers"])
    assert out.exit_code == 0, out.output
    assert "Driver: bugs: lowers the NPS by" in out.output and "Segment enterprise: 2000 responses" in out.output
    out = CliRunner().invoke(main, ["--db", db, "insights", "drivers", "--score", "csat", "--json"])
    assert out.exit_code == 0 and json.loads(out.output)["overall"]["n"] == 0


def test_member_pairs_is_the_membership_of_theme_members(make_planted):
    """drivers read membership without sentiment (themes.queries.member_pairs): the same items per
    theme as theme_members, merges included."""
    from feedback_engine.themes import queries as tq

    p = make_planted(_responses(np.random.default_rng(13), 400, effect=False), THEMES)
    conn = p.engine.store.conn
    with p.engine.store.transaction():
        conn.execute(
            "UPDATE themes SET status = 'merged', merged_into = ? WHERE id = ?",
            (p.theme_ids["bugs"], p.theme_ids["pricing"]),
        )
    members = {(fid, tid) for tid, group in tq.theme_members(conn).items() for fid in group}
    assert set(tq.member_pairs(conn)) == members
    assert {t for _, t in members} == {p.theme_ids["bugs"], p.theme_ids["support"]}
    scored = set(tq.member_pairs(conn, scored="nps"))
    assert scored == members  # every response here carries an NPS
