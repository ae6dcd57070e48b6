"""Migration 007: merges that can be undone, and a history of theme edits.

- ``theme_assignments.merged_from``: the theme an assignment belonged to before ``themes merge``
  moved it to the survivor (NULL when it never moved), so ``themes unmerge`` can put it back.
- ``theme_edits``: one row per rename, merge, unmerge, split, with who and when.
"""

from __future__ import annotations

import sqlite3

from feedback_engine.store.migrations._sql import run_sql

SCHEMA = """
ALTER TABLE theme_assignments ADD COLUMN merged_from INTEGER REFERENCES themes(id);
CREATE TABLE theme_edits (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    by TEXT NOT NULL,
    edit TEXT NOT NULL CHECK (edit IN ('rename', 'merge', 'unmerge', 'split')),
    theme_id INTEGER NOT NULL REFERENCES themes(id),
    detail TEXT NOT NULL
);
CREATE INDEX theme_edits_theme ON theme_edits(theme_id, id);
"""


def migrate(conn: sqlite3.Connection) -> None:
    run_sql(conn, SCHEMA)
