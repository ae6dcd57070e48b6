"""A unit with opposite opinions counts for each of its themes with the polarity of the clause about
that theme ("Support was lovely but the price went up" is negative for price, positive for support)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from feedback_engine.store import Store, utcnow
from feedback_engine.themes.queries import stance, subject_stems, theme_members

MIXED = json.dumps(
    {
        "support": {"label": "positive", "score": 0.91},
        "price": {"label": "negative", "score": -0.85},
        "boss": {"label": "negative", "score": -0.85},
    }
)


def test_the_clause_naming_the_theme_gives_its_polarity():
    assert stance(MIXED, frozenset({"price", "increase"})) == ("negative", -0.85)
    assert stance(MIXED, frozenset({"support", "ticket"})) == ("positive", 0.91)
    assert stance(MIXED, frozenset({"export"})) is None  # no term names the theme: the unit's own label
    one_sided = json.dumps(
        {"price": {"label": "negative", "score": -0.8}, "plan": {"label": "negative", "score": -0.6}}
    )
    assert stance(one_sided, frozenset({"price"})) is None  # not mixed: nothing to choose
    both = json.dumps(
        {"price": {"label": "negative", "score": -0.8}, "price plan": {"label": "positive", "score": 0.6}}
    )
    assert stance(both, frozenset({"price"})) is None  # the theme's terms read both ways: undecided
    assert stance("not json", frozenset({"price"})) is None and stance(None, frozenset({"price"})) is None


def _theme(store: Store, label: str, terms: list, anchors: list) -> int:
    now = utcnow()
    cur = store.execute(
        "INSERT INTO themes (label, origin, status, terms, quotes, centroid, anchors, size, created_at, updated_at) "
        "VALUES (?, 'discovered', 'active', ?, '[]', ?, ?, 0, ?, ?)",
        (label, json.dumps(terms), np.ones(4, "<f4").tobytes(), json.dumps(anchors), now, now),
    )
    return int(cur.lastrowid)


def test_a_mixed_item_reads_as_its_clause_about_the_theme_it_is_in(tmp_path: Path):
    with Store(tmp_path / "f.db") as store:
        price = _theme(store, "Price: increase", [["price", 0.9], ["increase", 0.5]], ["price"])
        support = _theme(store, "Support: ticket", [["support", 0.9]], ["support"])
        export = _theme(store, "Export: csv", [["export", 0.9]], ["csv"])
        now = utcnow()
        text = "Support was lovely but the price went up 40% and I can't justify it to my boss."
        ids = {}
        for n, theme in enumerate((price, support, export)):  # the same words, placed in each theme
            fid = store.execute(
                "INSERT INTO feedback (natural_key, channel, platform, text, created_at, ingested_at, raw, "
                "content_hash) VALUES (?, 'survey', 'generic', ?, ?, ?, '{}', ?)",
                (f"t:{n}", text, now, now, f"h{n}"),
            ).lastrowid
            store.execute(
                "INSERT INTO analysis (feedback_id, content_hash, language, is_english, redacted_text, sentiment, "
                "sentiment_score, aspects, aspect_sentiment, model_version, analyzed_at) "
                "VALUES (?, ?, 'en', 1, ?, 'negative', -0.42, '[]', ?, 'test', ?)",
                (fid, f"h{n}", text, MIXED, now),
            )
            store.execute(
                "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, source, assigned_at) "
                "VALUES (?, -1, ?, 0.8, 'fit', ?)",
                (fid, theme, now),
            )
            ids[theme] = fid
        fid = store.execute(  # a review whose second sentence is the mixed one, placed sentence by sentence
            "INSERT INTO feedback (natural_key, channel, platform, text, created_at, ingested_at, raw, content_hash) "
            "VALUES ('t:9', 'survey', 'generic', ?, ?, ?, '{}', 'h9')",
            ("Great app. " + text, now, now),
        ).lastrowid
        store.execute(
            "INSERT INTO analysis (feedback_id, content_hash, language, is_english, redacted_text, sentiment, "
            "sentiment_score, aspects, model_version, analyzed_at) "
            "VALUES (?, 'h9', 'en', 1, ?, 'positive', 0.3, '[]', 'test', ?)",
            (fid, "Great app. " + text, now),
        )
        store.execute(
            "INSERT INTO sentences (feedback_id, idx, text, redacted_text, sentiment, sentiment_score, aspects, "
            "aspect_sentiment) VALUES (?, 1, ?, ?, 'negative', -0.42, '[]', ?)",
            (fid, text, text, MIXED),
        )
        store.execute(
            "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, source, assigned_at) "
            "VALUES (?, 1, ?, 0.8, 'fit', ?)",
            (fid, support, now),
        )
        assert subject_stems(store.conn)[price] == {"price", "increase"}
        members = theme_members(store.conn)
        assert members[price][ids[price]].sentiment() == ("negative", -0.85)
        assert members[support][ids[support]].sentiment() == ("positive", 0.91)
        assert members[export][ids[export]].sentiment() == ("negative", -0.42)
        assert members[support][fid].sentiment() == (
            "positive",
            0.91,
        )  # its sentence there, read for support  # no clause about export: the item's
