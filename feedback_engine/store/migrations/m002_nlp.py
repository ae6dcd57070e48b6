"""Migration 002: analysis results per item (``analysis``) and per sentence (``sentences``).

Contract shared with export and themes:
- ``analysis.content_hash`` is the ``feedback.content_hash`` that was analysed; an edited item
  (hash changed) is analysed again, replacing its row and its sentences.
- ``sentiment`` is NULL for non-English items (``is_english = 0``): they count as "other language".
- ``embedding`` is float32 little-endian, L2-normalised, 384-d (MiniLM), stored once so that a
  theme refit never re-embeds. ``redacted_text`` is what every display and email shows.
"""

from __future__ import annotations

import sqlite3

from feedback_engine.store.migrations._sql import run_sql

SCHEMA = """
CREATE TABLE analysis (
    feedback_id INTEGER PRIMARY KEY REFERENCES feedback(id) ON DELETE CASCADE,
    content_hash TEXT NOT NULL,
    language TEXT,
    is_english INTEGER CHECK (is_english IN (0, 1)),
    redacted_text TEXT,
    sentiment TEXT CHECK (sentiment IN ('negative', 'neutral', 'positive')),
    sentiment_score REAL,
    sentiment_probs TEXT,             -- JSON {"negative": p, "neutral": p, "positive": p}
    aspects TEXT,                     -- JSON list of lemmatised aspect terms
    embedding BLOB,                   -- float32 LE, unit length, 384-d
    model_version TEXT,               -- sentiment / embedder / spaCy versions used
    analyzed_at TEXT NOT NULL
);
CREATE INDEX analysis_sentiment ON analysis(sentiment);
CREATE INDEX analysis_language ON analysis(is_english, language);

CREATE TABLE sentences (
    feedback_id INTEGER NOT NULL REFERENCES feedback(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    start_char INTEGER,
    end_char INTEGER,
    text TEXT,
    redacted_text TEXT,
    sentiment TEXT CHECK (sentiment IN ('negative', 'neutral', 'positive')),
    sentiment_score REAL,
    aspects TEXT,
    embedding BLOB,
    PRIMARY KEY (feedback_id, idx)
);
"""


def migrate(conn: sqlite3.Connection) -> None:
    run_sql(conn, SCHEMA)
