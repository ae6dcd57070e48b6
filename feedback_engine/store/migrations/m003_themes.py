"""Migration 003: themes and the assignment of items (and their sentences) to themes.

Contract shared by the NLP and loop stages:
- ``themes.id`` is stable: refits map new clusters onto the old ids they continue.
- A merged theme keeps its row with ``status='merged'`` and ``merged_into`` pointing at the
  survivor; readers resolve ids through ``merged_into`` (actions follow the surviving theme).
- ``theme_assignments`` has one row per item (``sentence_idx = -1``) and one per sentence of a
  multi-sentence item, so an item can count for several themes with each sentence's sentiment.
- ``theme_outliers`` lists items examined but left in no theme (they count against coverage).
"""

from __future__ import annotations

import sqlite3

from feedback_engine.store.migrations._sql import run_sql

SCHEMA = """
CREATE TABLE themes (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL,
    description TEXT,
    origin TEXT NOT NULL DEFAULT 'discovered' CHECK (origin IN ('discovered', 'seeded', 'manual')),
    label_pinned INTEGER NOT NULL DEFAULT 0,     -- 1 after a human rename: refits never relabel it
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'merged', 'retired')),
    merged_into INTEGER REFERENCES themes(id),
    terms TEXT,                                   -- JSON [[term, weight], ...]
    quotes TEXT,                                  -- JSON [feedback_id, ...] representative items
    centroid BLOB,                                -- float32 unit vector
    seed_embedding BLOB,                          -- seeded themes: embedding of "name: description"
    size INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX themes_status ON themes(status);

CREATE TABLE theme_assignments (
    feedback_id INTEGER NOT NULL REFERENCES feedback(id) ON DELETE CASCADE,
    sentence_idx INTEGER NOT NULL DEFAULT -1,     -- -1: the item as a whole
    theme_id INTEGER NOT NULL REFERENCES themes(id),
    probability REAL,
    source TEXT NOT NULL DEFAULT 'fit' CHECK (source IN ('fit', 'assigned', 'seed', 'manual')),
    assigned_at TEXT NOT NULL,
    PRIMARY KEY (feedback_id, sentence_idx)
);
CREATE INDEX theme_assignments_theme ON theme_assignments(theme_id);

-- Items that were looked at but fit no theme (the outlier bucket), so that ``analyze`` does not
-- retry them on every run; a refit clears and rebuilds this table.
CREATE TABLE theme_outliers (
    feedback_id INTEGER PRIMARY KEY REFERENCES feedback(id) ON DELETE CASCADE,
    similarity REAL,                              -- cosine to the nearest theme centroid
    checked_at TEXT NOT NULL
);
"""


def migrate(conn: sqlite3.Connection) -> None:
    run_sql(conn, SCHEMA)
