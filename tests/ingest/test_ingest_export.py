"""feedback_rows: the export contract with the NLP stage, before and after analysis."""

from __future__ import annotations

from feedback_engine.ingest.export import EXPORT_COLUMNS
from tests.ingest.conftest import SURVEYS

ANALYSIS = """
CREATE TABLE IF NOT EXISTS analysis (
    feedback_id INTEGER PRIMARY KEY REFERENCES feedback(id), content_hash TEXT, language TEXT, is_english INTEGER,
    redacted_text TEXT, sentiment TEXT, sentiment_score REAL, sentiment_probs TEXT, aspects TEXT, embedding BLOB,
    model_version TEXT, analyzed_at TEXT
)"""
SENTENCES = """
CREATE TABLE IF NOT EXISTS sentences (
    feedback_id INTEGER REFERENCES feedback(id), idx INTEGER, start_char INTEGER, end_char INTEGER, text TEXT,
    redacted_text TEXT, sentiment TEXT, sentiment_score REAL, aspects TEXT, embedding BLOB,
    PRIMARY KEY (feedback_id, idx)
)"""


def test_rows_have_the_contract_columns_before_analysis(engine):
    engine.ingest_surveys(SURVEYS / "plain_id_text.csv")
    rows = list(engine.feedback_rows())
    assert len(rows) == 25
    assert list(rows[0]) == EXPORT_COLUMNS
    assert {rows[0][c] for c in ("sentiment", "sentiment_score", "theme_id", "theme_label", "redacted_text")} == {None}


def test_analysis_language_theme_survivor_and_sentences(engine):
    engine.ingest_surveys(SURVEYS / "plain_id_text.csv")
    conn = engine.store.conn
    conn.execute(ANALYSIS)
    conn.execute(SENTENCES)
    conn.execute(
        "INSERT INTO analysis (feedback_id, content_hash, language, is_english, redacted_text, sentiment,"
        " sentiment_score, model_version, analyzed_at) VALUES (1, 'h', 'de', 0, 'redacted', 'positive', 0.8, 'v1', 'now')"
    )
    conn.execute(
        "INSERT INTO sentences (feedback_id, idx, start_char, end_char, text, redacted_text, sentiment, sentiment_score)"
        " VALUES (1, 0, 0, 10, 'First one.', 'First one.', 'positive', 0.7), (1, 1, 11, 20, 'Second.', 'Second.',"
        " 'negative', -0.5), (3, 0, 0, 5, 'Third', 'Third', 'neutral', 0.0)"
    )
    conn.execute(
        "INSERT INTO themes (id, label, status, merged_into, created_at, updated_at) VALUES"
        " (2, 'Billing', 'active', NULL, 'now', 'now'), (1, 'Invoices', 'merged', 2, 'now', 'now')"
    )
    conn.execute(
        "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, assigned_at) VALUES"
        " (1, -1, 1, 'now'), (1, 0, 1, 'now')"
    )
    conn.commit()
    rows = {r["id"]: r for r in engine.feedback_rows(sentences=True)}
    first = rows[1]
    assert (first["language"], first["source_language"], first["sentiment"], first["redacted_text"]) == (
        "de", None, "positive", "redacted",
    )  # fmt: skip
    assert (first["theme_id"], first["theme_label"]) == (2, "Billing")  # merged theme resolved to its survivor
    assert [(s["idx"], s["sentiment"], s["theme_id"]) for s in first["sentences"]] == [
        (0, "positive", 2),
        (1, "negative", None),
    ]
    assert rows[2]["sentences"] == [] and rows[2]["sentiment"] is None
    assert [s["text"] for s in rows[3]["sentences"]] == ["Third"]
