"""One definition of theme membership and figures: themes list/show, actions list/show and the
recipients of an action agree on every theme's volume and mean sentiment.

A real SQLite database with hand-made analysis rows (no models loaded): multi-sentence items whose
sentences land in other themes than the item, a merge chain A -> B -> C written the way older
databases hold it (assignments still on A and B), a merge done by ``themes merge``, a rename and
an item moved to another theme by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from feedback_engine import Engine
from feedback_engine.loop.recipients import recipients_for
from feedback_engine.store import Store
from feedback_engine.themes import edits as theme_store

NOW = "2026-11-20T12:00:00Z"

# feedback id -> (item theme, item label, item score, [(sentence theme, label, score)], channel, created, nps)
ITEMS: dict[int, tuple[int, str, float, list[tuple[int, str, float]], str, str, int | None]] = {
    1: (1, "negative", -0.9, [], "survey", "2026-11-19T10:00:00Z", 2),
    2: (2, "neutral", 0.1, [(2, "negative", -0.8), (4, "positive", 0.9)], "review", "2026-11-18T10:00:00Z", None),
    3: (3, "positive", 0.7, [], "social", "2026-11-10T10:00:00Z", 9),
    4: (4, "positive", 0.8, [(4, "positive", 0.9), (1, "negative", -0.7)], "survey", "2026-11-15T10:00:00Z", 10),
    5: (5, "negative", -0.5, [], "review", "2026-10-01T10:00:00Z", None),
    6: (6, "negative", -0.3, [(6, "negative", -0.4), (5, "negative", -0.9)], "survey", "2026-11-01T10:00:00Z", 3),
    7: (4, "positive", 0.6, [], "social", "2026-11-12T10:00:00Z", None),
    8: (3, "neutral", 0.0, [(3, "negative", -0.6), (4, "positive", 0.5)], "review", "2026-11-16T10:00:00Z", 7),
    9: (5, "negative", -0.2, [(5, "neutral", 0.0), (5, "negative", -0.6)], "survey", "2026-11-17T10:00:00Z", None),
}
THEMES = {1: "Billing", 2: "Refunds", 3: "Payments", 4: "Support", 5: "Login", 6: "Sign-in"}


def build(store: Store) -> None:
    with store.transaction() as conn:
        for tid, label in THEMES.items():
            conn.execute(
                "INSERT INTO themes (id, label, terms, quotes, size, created_at, updated_at) VALUES (?, ?, '[]', ?, 0, ?, ?)",
                (tid, label, f"[{tid}]", NOW, NOW),
            )
        for fid, (theme, label, score, sentences, channel, created, nps) in ITEMS.items():
            cid = conn.execute(
                "INSERT INTO customers (email, display_name, consent, created_at, updated_at) VALUES (?, ?, 1, ?, ?)",
                (f"c{fid}@example.com", f"C{fid}", NOW, NOW),
            ).lastrowid
            conn.execute(
                "INSERT INTO feedback (id, natural_key, channel, platform, customer_id, text, nps, created_at, "
                "ingested_at, raw, content_hash) VALUES (?, ?, ?, 'generic', ?, ?, ?, ?, ?, '{}', 'h')",
                (fid, f"generic:{fid}", channel, cid, f"item {fid}", nps, created, NOW),
            )
            conn.execute(
                "INSERT INTO analysis (feedback_id, content_hash, language, is_english, redacted_text, sentiment, "
                "sentiment_score, aspects, analyzed_at) VALUES (?, 'h', 'en', 1, ?, ?, ?, '[\"invoice\"]', ?)",
                (fid, f"item {fid}", label, score, NOW),
            )
            conn.execute(
                "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, source, assigned_at) "
                "VALUES (?, -1, ?, 0.8, 'fit', ?)",
                (fid, theme, NOW),
            )
            for idx, (s_theme, s_label, s_score) in enumerate(sentences):
                conn.execute(
                    "INSERT INTO sentences (feedback_id, idx, text, redacted_text, sentiment, sentiment_score, aspects) "
                    "VALUES (?, ?, ?, ?, ?, ?, '[\"invoice\"]')",
                    (fid, idx, f"s{idx}", f"s{idx}", s_label, s_score),
                )
                conn.execute(
                    "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, source, assigned_at)"
                    " VALUES (?, ?, ?, 0.8, 'fit', ?)",
                    (fid, idx, s_theme, NOW),
                )
        # a chain A -> B -> C as older databases hold it: assignments still on A and B
        conn.execute("UPDATE themes SET status = 'merged', merged_into = 2 WHERE id = 1")
        conn.execute("UPDATE themes SET status = 'merged', merged_into = 3 WHERE id = 2")
        # an item moved by hand from Support to Login
        conn.execute("UPDATE theme_assignments SET theme_id = 5, source = 'manual' WHERE feedback_id = 7")
    theme_store.merge(store, [5, 6], into=5)  # `themes merge`: assignments move to the survivor
    theme_store.rename(store, 4, "Customer support")


@pytest.fixture
def engine(tmp_path: Path):
    store = Store(tmp_path / "consistency.db")
    build(store)
    engine = Engine(store)
    yield engine
    store.close()


def _members(engine: Engine, theme_id: int) -> set[int]:
    """Items a shipped action on ``theme_id`` reaches (every customer is eligible, all wrote before)."""
    aid = engine.actions.add(themes=[theme_id], title=f"Fix {theme_id}", description="Done.", by="t")
    engine.store.execute(
        "UPDATE actions SET status = 'shipped', shipped_at = '2027-01-01T00:00:00Z' WHERE id = ?", (aid,)
    )
    engine.store.conn.commit()
    recipients, excluded = recipients_for(engine.store.conn, aid, "2027-01-01T00:00:00Z")
    assert not excluded
    return {fid for r in recipients for fid in r.feedback_ids}


def test_every_view_reports_the_same_volume_and_mean_sentiment(engine):
    listed = {t["id"]: t for t in engine.themes.list(now=NOW)}
    assert sorted(listed) == [3, 4, 5]  # 1 -> 2 -> 3 and 6 -> 5 merged; 4 renamed
    assert listed[4]["label"] == "Customer support"
    # a theme's figures, reached by any id of its merge chain
    requested = {3: [1, 2, 3], 4: [4], 5: [5, 6]}
    expected_items = {3: {1, 2, 3, 4, 8}, 4: {2, 4, 8}, 5: {5, 6, 7, 9}}
    for tid, ids in requested.items():
        aids = [engine.actions.add(themes=[rid], title=f"Act on {rid}", description="Planned.", by="t") for rid in ids]
        for rid in ids:
            shown = engine.themes.show(rid, now=NOW)
            assert shown["id"] == tid
            assert shown["stats"]["volume"] == listed[tid]["volume"]
            assert shown["stats"]["mean_sentiment"] == listed[tid]["mean_sentiment"]
            assert shown["stats"]["share_negative"] == listed[tid]["share_negative"]
        for aid in aids:
            action = engine.actions.show(aid)
            (theme,) = action["themes"]
            assert theme["id"] == tid and theme["label"] == listed[tid]["label"]
            assert theme["volume"] == listed[tid]["volume"], (tid, theme, listed[tid])
            assert theme["sentiment"] == listed[tid]["mean_sentiment"], (tid, theme, listed[tid])
            assert action["items"] == listed[tid]["volume"]
            assert action["sentiment"] == listed[tid]["mean_sentiment"]
        for row in engine.actions.list(theme=tid):
            assert row["themes"][0]["volume"] == listed[tid]["volume"]
            assert row["themes"][0]["sentiment"] == listed[tid]["mean_sentiment"]
        reached = _members(engine, tid)
        assert reached == expected_items[tid]
        assert len(reached) == listed[tid]["volume"]


def test_figures_use_what_each_item_says_about_the_theme(engine):
    listed = {t["id"]: t for t in engine.themes.list(now=NOW)}
    # Payments (1 -> 2 -> 3): items 1 (-0.9), 2 (its refund sentence, -0.8), 3 (0.7),
    # 4 (its billing sentence, -0.7), 8 (its payments sentence, -0.6)
    assert listed[3]["volume"] == 5
    assert listed[3]["mean_sentiment"] == round((-0.9 - 0.8 + 0.7 - 0.7 - 0.6) / 5, 3)
    assert listed[3]["share_negative"] == 0.8
    # Login (6 merged in, item 7 moved in): 5 (-0.5), 6 (both sentences now in Login: -0.65), 7 (0.6),
    # 9 (mean of its two Login sentences: -0.3; label tie neutral/negative -> the strongest, negative)
    assert listed[5]["volume"] == 4
    assert listed[5]["mean_sentiment"] == round((-0.5 - 0.65 + 0.6 - 0.3) / 4, 3)
    assert listed[5]["share_negative"] == 0.75


def test_an_action_on_several_themes_counts_each_item_once(engine):
    listed = {t["id"]: t for t in engine.themes.list(now=NOW)}
    aid = engine.actions.add(themes=[1, 4], items=[5], title="Both", description="Done.", by="t")
    action = engine.actions.show(aid)
    assert [t["id"] for t in action["themes"]] == [3, 4]
    assert [t["volume"] for t in action["themes"]] == [listed[3]["volume"], listed[4]["volume"]]
    assert [t["sentiment"] for t in action["themes"]] == [listed[3]["mean_sentiment"], listed[4]["mean_sentiment"]]
    assert action["items"] == len({1, 2, 3, 4, 8} | {2, 4, 8} | {5})
    # items 2, 4 and 8 speak about both themes: each counts once, with its sentences in either theme
    per_item = {1: -0.9, 2: (-0.8 + 0.9) / 2, 3: 0.7, 4: (0.9 - 0.7) / 2, 8: (-0.6 + 0.5) / 2, 5: -0.5}
    assert action["sentiment"] == round(sum(per_item.values()) / len(per_item), 3)
