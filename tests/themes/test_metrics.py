"""Theme stats, edits, errors and the themes CLI on hand-made rows (no models loaded)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from feedback_engine import Engine
from feedback_engine.cli import main
from feedback_engine.errors import AnalysisError, NotFoundError
from feedback_engine.store import Store
from feedback_engine.themes import metrics as theme_stats
from feedback_engine.themes.stage import ThemeStage

NOW = "2026-11-20T12:00:00Z"


def _vec(i: int) -> bytes:
    v = np.zeros(384, dtype="<f4")
    v[i] = 1.0
    return v.tobytes()


def build(store: Store) -> None:
    """Two themes; item 5 has two sentences, one per theme (support praised, price criticised)."""
    rows = [
        # id, channel, created_at, nps, text, sentiment, score, theme
        (1, "survey", "2026-11-19T10:00:00Z", 2, "Refund never came", "negative", -0.9, 1),
        (2, "review", "2026-11-18T10:00:00Z", None, "Charged twice", "negative", -0.7, 1),
        (3, "review", "2026-11-10T10:00:00Z", None, "Refund was quick", "positive", 0.8, 1),
        (4, "social", "2026-10-01T10:00:00Z", 10, "Support was great", "positive", 0.9, 2),
        (5, "survey", "2026-11-15T10:00:00Z", 9, "Support was great. Price is too high.", "neutral", 0.0, 2),
    ]
    with store.transaction():
        for theme_id, label in ((1, "Billing: refund, charged twice"), (2, "Support: help, agent")):
            store.execute(
                "INSERT INTO themes (id, label, terms, quotes, centroid, size, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
                (
                    theme_id,
                    label,
                    json.dumps([[label.split(":")[0].lower(), 0.5]]),
                    json.dumps([theme_id]),
                    _vec(theme_id),
                    NOW,
                    NOW,
                ),
            )
        for fid, channel, created, nps, text, sentiment, score, theme in rows:
            store.execute(
                "INSERT INTO feedback (id, natural_key, channel, platform, text, nps, created_at, ingested_at, raw, "
                "content_hash) VALUES (?, ?, ?, 'generic', ?, ?, ?, ?, '{}', 'h')",
                (fid, f"generic:{fid}", channel, text, nps, created, NOW),
            )
            store.execute(
                "INSERT INTO analysis (feedback_id, content_hash, language, is_english, redacted_text, sentiment, "
                "sentiment_score, embedding, analyzed_at) VALUES (?, 'h', 'en', 1, ?, ?, ?, ?, ?)",
                (fid, text, sentiment, score, _vec(theme), "2026-11-20T00:00:00Z"),
            )
            store.execute(
                "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, source, assigned_at) "
                "VALUES (?, -1, ?, 0.9, 'fit', ?)",
                (fid, theme, NOW),
            )
        for idx, (text, sentiment, score, theme) in enumerate(
            [("Support was great.", "positive", 0.9, 2), ("Price is too high.", "negative", -0.8, 1)]
        ):
            store.execute(
                "INSERT INTO sentences (feedback_id, idx, text, redacted_text, sentiment, sentiment_score, embedding) "
                "VALUES (5, ?, ?, ?, ?, ?, ?)",
                (idx, text, text, sentiment, score, _vec(theme)),
            )
            store.execute(
                "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, source, assigned_at) "
                "VALUES (5, ?, ?, 0.8, 'fit', ?)",
                (idx, theme, NOW),
            )


@pytest.fixture
def built(tmp_path: Path):
    path = tmp_path / "stats.db"
    store = Store(path)
    build(store)
    yield store, path
    store.close()


def test_stats_count_items_per_theme_with_sentence_sentiment(built):
    store, _ = built
    themes = {t["id"]: t for t in theme_stats.list_themes(store, now=NOW)}
    billing, support = themes[1], themes[2]
    # item 5 counts for billing through its negative price sentence
    assert billing["volume"] == 4 and support["volume"] == 2
    assert billing["share_negative"] == 0.75  # items 1, 2 and 5's price sentence
    assert support["share_negative"] == 0.0 and support["share_positive"] == 1.0
    assert billing["mean_sentiment"] == round((-0.9 - 0.7 + 0.8 - 0.8) / 4, 3)
    assert billing["mean_nps"] == 5.5 and billing["nps"] == 0.0  # NPS 2 (detractor) and 9 (promoter)
    assert support["nps"] == 100.0
    # trend: last 7 days (Nov 13-20] vs (Nov 6-13]
    assert billing["change_7d"] == {"current": 3, "previous": 1, "change": 2, "pct": 2.0}
    assert billing["trend"] == "+200% 7d"
    assert billing["change_30d"]["current"] == 4 and billing["change_30d"]["previous"] == 0
    assert support["change_30d"] == {"current": 1, "previous": 1, "change": 0, "pct": 0.0}
    assert billing["top_channels"] == [
        {"channel": "review", "items": 2},
        {"channel": "survey", "items": 2},
    ]  # ties by name


def test_now_defaults_to_newest_item(built):
    store, _ = built
    assert theme_stats.reference_time(store).isoformat() == "2026-11-19T10:00:00+00:00"


def test_show_has_quotes_terms_and_sentiment_by_channel(built):
    store, _ = built
    shown = theme_stats.show_theme(store, 1, now=NOW)
    assert shown["quotes"][0]["feedback_id"] == 1 and shown["quotes"][0]["redacted_text"] == "Refund never came"
    assert shown["terms"] == [{"term": "billing", "weight": 0.5}]
    by_channel = {r["channel"]: r for r in shown["sentiment_by_channel"]}
    assert by_channel["survey"]["negative"] == 2 and by_channel["review"]["positive"] == 1


def test_merge_moves_assignments_and_show_follows_the_chain(built):
    store, _ = built
    out = ThemeStage().merge(store, [1, 2])
    assert out["id"] == 1 and out["merged"] == [2]  # billing is larger
    assert store.scalar("SELECT count(*) FROM theme_assignments WHERE theme_id = 2") == 0
    shown = theme_stats.show_theme(store, 2, now=NOW)
    assert shown["id"] == 1 and shown["requested_id"] == 2
    assert [t["id"] for t in theme_stats.list_themes(store, now=NOW)] == [1]
    assert theme_stats.list_themes(store, now=NOW)[0]["volume"] == 5


def test_errors_say_what_to_do(tmp_path: Path, built):
    store, _ = built
    with pytest.raises(NotFoundError, match=r"^Theme 99 does not exist\. Run `feedback-engine themes list`"):
        theme_stats.show_theme(store, 99)
    empty = Store(tmp_path / "empty.db")
    with pytest.raises(AnalysisError, match="Run `feedback-engine analyze`"):
        theme_stats.list_themes(empty)
    with pytest.raises(AnalysisError, match="Run `feedback-engine analyze`"):
        ThemeStage().update(empty)
    empty.close()


def test_cli_list_show_rename_merge(built):
    store, path = built
    store.execute("UPDATE feedback SET created_at = '2026-11-20T12:00:00Z' WHERE id = 3")  # newest item = NOW
    store.execute("UPDATE analysis SET redacted_text = 'Refund \x1b[31mnever\x07 came' WHERE feedback_id = 1")
    store.conn.commit()
    runner = CliRunner()
    result = runner.invoke(main, ["--db", str(path), "themes", "list"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "id  label                           volume  negative  sentiment  trend\n"
        "--  ------------------------------  ------  --------  ---------  ----------\n"
        "1   Billing: refund, charged twice  4       75%       -0.40      new (4) 7d\n"
        "2   Support: help, agent            2       0%        0.90       new (1) 7d\n"
    )
    result = runner.invoke(main, ["--db", str(path), "themes", "show", "1"])
    assert result.exit_code == 0, result.output
    assert "  #1 [survey, negative] Refund  [31mnever  came\n" in result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    result = runner.invoke(main, ["--db", str(path), "themes", "list", "--json"])
    assert [t["id"] for t in json.loads(result.output)] == [1, 2]
    result = runner.invoke(main, ["--db", str(path), "themes", "rename", "2", "Customer support"])
    assert result.output == "Theme 2 renamed to Customer support.\n"
    result = runner.invoke(main, ["--db", str(path), "themes", "merge", "1", "2", "--into", "2"])
    assert result.exit_code == 0, result.output
    assert result.output == "Merged 1 into theme 2 (Customer support), 5 items.\n"
    result = runner.invoke(main, ["--db", str(path), "themes", "show", "99"])
    assert result.exit_code == 1
    assert result.output == ("Error: Theme 99 does not exist. Run `feedback-engine themes list` to see theme ids.\n")


def test_cli_before_analyze(tmp_path: Path):
    Store(tmp_path / "new.db").close()  # an existing database with nothing analysed yet
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "new.db"), "themes", "list"])
    assert result.exit_code == 1
    assert "Run `feedback-engine analyze` first" in result.output


def test_status_reports_themes_coverage_and_drift(built):
    store, path = built
    with store.transaction() as conn:  # one item placed after the fit, faintly: it fits no theme well
        conn.execute(
            "UPDATE theme_assignments SET source = 'assigned', probability = 0.31 WHERE feedback_id = 1 AND sentence_idx = -1"
        )
    themes = Engine(store).status()["themes"]
    assert themes["active_themes"] >= 1 and themes["english_items"] >= 1
    assert (themes["new_items"], themes["unfit_items"]) == (1, 1)
    assert 0.0 <= themes["coverage"] <= themes["placed_share"] <= 1.0
    general = themes["general"]  # every English item without a confident theme, by its sentiment
    assert sum(general.values()) == themes["english_items"] - themes["confident_items"]
    result = CliRunner().invoke(main, ["--db", str(path), "status"])
    assert result.exit_code == 0, result.output
    assert "Themes: " in result.output and "have a confident theme" in result.output
    assert "Since the last theme fit: 1 new items, 1 fit no theme well" in result.output
    assert f"No clear theme: {general['praise']} general praise, {general['complaint']} general complaint" in (
        result.output
    )
