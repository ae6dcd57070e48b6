"""Migration 014: opinion clauses of sentences (``clauses``), each with its own sentiment, and the
polarity of each aspect term (``sentences.aspect_sentiment``, ``analysis.aspect_sentiment``).

A sentence with two opinions ("Love the design, hate the battery drain.") is split into clauses by
the analyze stage (:mod:`feedback_engine.nlp.clauses`); each clause gets its sentiment and the
aspect terms inside it, so "design" reads positive and "battery drain" negative. Only sentences of
two or more clauses have rows; a sentence without rows is one clause (its own ``sentences`` row).
Written with the item's ``sentences`` rows, in the same transaction, and replaced with them.

- ``sentence_idx`` is ``sentences.idx``; ``idx`` the clause's position in its sentence;
- ``start_char`` / ``end_char``: offsets into ``feedback.text`` (like ``sentences``);
- ``joined_by``: how the clause joins the one before it, NULL for the first, ``contrast`` ("but",
  "although", "however" ...) or ``juxtaposition`` (a semicolon, a dash, "..., hate ...");
- ``aspects``: JSON list of the lemmatised aspect terms inside the clause.

``aspect_sentiment`` (sentences and analysis): JSON ``{term: {"label": ..., "score": ...}}``, each
aspect term with the sentiment of its own clause (of its sentence when that is one clause; over
several mentions, the mean score and the majority label). NULL for rows analysed before this
migration and for items in another language.
"""

from __future__ import annotations

import sqlite3

from feedback_engine.store.migrations._sql import run_sql

SCHEMA = """
CREATE TABLE clauses (
    feedback_id INTEGER NOT NULL REFERENCES feedback(id) ON DELETE CASCADE,
    sentence_idx INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    start_char INTEGER,
    end_char INTEGER,
    redacted_text TEXT,
    joined_by TEXT CHECK (joined_by IN ('contrast', 'juxtaposition')),
    sentiment TEXT CHECK (sentiment IN ('negative', 'neutral', 'positive')),
    sentiment_score REAL,
    aspects TEXT,
    PRIMARY KEY (feedback_id, sentence_idx, idx)
);
ALTER TABLE sentences ADD COLUMN aspect_sentiment TEXT;
ALTER TABLE analysis ADD COLUMN aspect_sentiment TEXT;
"""


def migrate(conn: sqlite3.Connection) -> None:
    run_sql(conn, SCHEMA)
