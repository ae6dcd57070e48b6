"""The SQL theme table (themes.aggregate) gives every figure of queries.figures, on varied data:
multi-sentence items with mixed and tied sentence labels, items in a theme as a whole only,
merged themes, scores, times in several ISO forms, and each filter (real SQLite, no models)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from feedback_engine import Engine
from feedback_engine.themes import aggregate, metrics
from feedback_engine.themes import queries as tq

NOW = "2026-11-20T12:00:00+00:00"
LABELS = ("negative", "neutral", "positive")


def _time(rng: random.Random, base: datetime) -> str:
    moment = base - timedelta(days=rng.randint(0, 70), hours=rng.randint(0, 23), minutes=rng.choice([0, 30]))
    form = rng.randint(0, 3)
    if form == 0:
        return moment.isoformat()
    if form == 1:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if form == 2:
        return (moment + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00")
    return moment.strftime("%Y-%m-%d")


def build(engine: Engine, seed: int = 3, items: int = 400) -> None:
    rng = random.Random(seed)
    base = datetime.fromisoformat(NOW)
    store = engine.store
    with store.transaction() as conn:
        for tid in range(1, 7):
            conn.execute(
                "INSERT INTO themes (id, label, status, merged_into, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (tid, f"T{tid}", "merged" if tid == 6 else "active", 2 if tid == 6 else None, NOW, NOW),
            )
        for cid, segment in ((1, "smb"), (2, "enterprise"), (3, None)):
            conn.execute(
                "INSERT INTO customers (id, email, segment, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (cid, f"c{cid}@example.com", segment, NOW, NOW),
            )
        for fid in range(1, items + 1):
            conn.execute(
                "INSERT INTO feedback (id, natural_key, channel, platform, customer_id, text, nps, csat, rating, "
                "created_at, ingested_at, raw, content_hash) VALUES (?, ?, ?, ?, ?, 'x', ?, ?, ?, ?, ?, '{}', 'h')",
                (
                    fid,
                    f"k{fid}",
                    rng.choice(["survey", "review", "social"]),
                    rng.choice(["typeform", "appstore", "generic"]),
                    rng.choice([1, 2, 3, None]),
                    rng.choice([None, rng.randint(0, 10)]),
                    rng.choice([None, rng.randint(1, 5)]),
                    rng.choice([None, rng.randint(1, 5)]),
                    _time(rng, base),
                    NOW,
                ),
            )
            label = rng.choice([*LABELS, None])
            conn.execute(
                "INSERT INTO analysis (feedback_id, content_hash, language, is_english, redacted_text, sentiment, "
                "sentiment_score, analyzed_at) VALUES (?, 'h', ?, 1, 'x', ?, ?, ?)",
                (fid, rng.choice(["en", "de"]), label, None if label is None else rng.uniform(-1, 1), NOW),
            )
            n_sent = rng.choice([0, 0, 1, 2, 3, 4])
            for idx in range(n_sent):
                lab = rng.choice([*LABELS, None])
                score = rng.choice([-0.5, 0.5, 0.9, -0.9, 0.0]) if lab else None  # equal strengths: tie breaks
                conn.execute(
                    "INSERT INTO sentences (feedback_id, idx, text, redacted_text, sentiment, sentiment_score) "
                    "VALUES (?, ?, 's', 's', ?, ?)",
                    (fid, idx, lab, score),
                )
            themes = rng.sample(range(1, 7), rng.choice([0, 1, 1, 2]))
            for theme in themes:
                if rng.random() < 0.7:
                    conn.execute(
                        "INSERT OR IGNORE INTO theme_assignments (feedback_id, sentence_idx, theme_id, assigned_at) "
                        "VALUES (?, -1, ?, ?)",
                        (fid, theme, NOW),
                    )
                for idx in range(n_sent):
                    if rng.random() < 0.6:
                        conn.execute(
                            "INSERT OR IGNORE INTO theme_assignments (feedback_id, sentence_idx, theme_id, assigned_at)"
                            " VALUES (?, ?, ?, ?)",
                            (fid, idx, theme, NOW),
                        )


def _same(fast: dict, slow: dict) -> None:
    assert fast.keys() == slow.keys()
    for key, value in slow.items():
        if isinstance(value, float):
            assert fast[key] == pytest.approx(value, abs=1.5e-3), key
        else:
            assert fast[key] == value, key


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory):
    with Engine(Path(tmp_path_factory.mktemp("aggregate")) / "agg.db") as eng:
        build(eng)
        yield eng


def test_every_figure_matches_the_python_definition(engine):
    conn = engine.store.conn
    ref = tq.parse_time(NOW)
    slow = tq.theme_figures(conn, None, ref)
    fast = aggregate.theme_table(conn, ref)
    assert fast.keys() == slow.keys() and 6 not in fast  # the merged theme counts for its survivor
    assert sum(s["volume"] for s in slow.values()) > 200
    mixed = conn.execute(
        "SELECT count(*) FROM (SELECT t.feedback_id FROM theme_assignments t JOIN sentences s ON "
        "s.feedback_id = t.feedback_id AND s.idx = t.sentence_idx GROUP BY t.theme_id, t.feedback_id "
        "HAVING count(DISTINCT s.sentiment) > 1)"
    ).fetchone()[0]
    assert mixed > 20  # the tie rules are exercised
    for theme in slow:
        _same(fast[theme], slow[theme])
    assert aggregate.theme_table(conn, None)[1].keys() == tq.theme_figures(conn, [1])[1].keys()  # no windows


@pytest.mark.parametrize(
    "keep",
    [
        {"channel": "review"},
        {"platform": "appstore"},
        {"language": "de"},
        {"segment": "smb"},
        {"since": "2026-10-01", "until": "2026-11-01"},
        {"channel": "survey", "segment": "enterprise", "language": "en"},
    ],
)
def test_filters_keep_the_same_members_as_the_python_definition(engine, keep):
    conn = engine.store.conn
    where, params = [], []
    for name, column in (("channel", "f.channel"), ("platform", "f.platform"), ("language", "a.language")):
        if name in keep:
            where.append(f"{column} = ?")
            params.append(keep[name])
    if "segment" in keep:
        where.append("c.segment = ?")
        params.append(keep["segment"])
    kept = {
        r[0]
        for r in conn.execute(
            "SELECT f.id FROM feedback f LEFT JOIN analysis a ON a.feedback_id = f.id "
            "LEFT JOIN customers c ON c.id = f.customer_id" + (" WHERE " + " AND ".join(where) if where else ""),
            params,
        )
    }
    start, end = aggregate.day_bounds(keep.get("since"), keep.get("until"))
    ref = end or tq.parse_time(NOW)
    slow = {}
    for theme, group in tq.theme_members(conn).items():
        members = [
            m
            for m in group.values()
            if m.feedback_id in kept
            and (start is None or (m.created is not None and m.created >= start))
            and (end is None or (m.created is not None and m.created <= end))
        ]
        if members:
            slow[theme] = tq.figures(members, ref)
    fast = aggregate.theme_table(
        conn,
        ref,
        aggregate.Filters(
            channel=keep.get("channel"),
            platform=keep.get("platform"),
            language=keep.get("language"),
            segment=keep.get("segment"),
            since=start,
            until=end,
        ),
    )
    assert fast.keys() == slow.keys() and slow
    for theme in slow:
        _same(fast[theme], slow[theme])


def test_themes_list_and_the_filtered_table_read_it(engine):
    listed = {r["id"]: r for r in engine.themes.list(now=NOW)}
    assert set(listed) == {1, 2, 3, 4, 5}
    table = aggregate.theme_table(engine.store.conn, metrics.reference_time(engine.store, NOW))
    assert listed[2]["volume"] == table[2]["volume"]
    filtered = {r["id"]: r for r in engine.browse.themes(platform="appstore")}
    assert all(filtered[t]["volume"] <= listed[t]["volume"] for t in listed)
    assert sum(r["volume"] for r in filtered.values()) < sum(r["volume"] for r in listed.values())
