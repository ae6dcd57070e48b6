"""Migration 007: merges that can be undone, and a history of theme edits.

- ``theme_assignments.merged_from``: the theme an assignment belonged to before ``themes merge``
  moved it to the survivor (NULL when it never moved), so ``themes unmerge`` can put it back.
- ``theme_edits``: one row per rename, merge, unmerge, split, with who and when.
- ``action_exclusions``: a customer or an item a person took out of an action's recipients
  (``actions exclude``), with who, when and why; the notify job never writes to them for it.
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
CREATE TABLE action_exclusions (
    id INTEGER PRIMARY KEY,
    action_id INTEGER NOT NULL REFERENCES actions(id),
    customer_id INTEGER REFERENCES customers(id),
    feedback_id INTEGER REFERENCES feedback(id),
    at TEXT NOT NULL,
    by TEXT NOT NULL,
    note TEXT,
    CHECK ((customer_id IS NULL) != (feedback_id IS NULL))
);
CREATE UNIQUE INDEX action_exclusions_customer ON action_exclusions(action_id, customer_id) WHERE customer_id IS NOT NULL;
CREATE UNIQUE INDEX action_exclusions_item ON action_exclusions(action_id, feedback_id) WHERE feedback_id IS NOT NULL;
"""


def migrate(conn: sqlite3.Connection) -> None:
    run_sql(conn, SCHEMA)
