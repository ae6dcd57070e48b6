"""Migration 012: an item moved by hand to another theme, or out of all themes, stays there.

- ``theme_item_pins``: one row per item a person placed by hand (``themes move``). A pinned item
  is in exactly the themes of its ``source = 'manual'`` assignments: in one theme after a move to
  it, in none after a move out of all themes.
- The trigger ``theme_assignments_pinned`` holds that rule for every writer: an automatic
  assignment (fit, assign, seed) of a pinned item to a theme it was not placed in by hand is
  skipped, and the item is recorded as examined but left in no theme (``theme_outliers``), so
  ``analyze`` does not retry it on every run. Refits delete and rewrite every non-manual
  assignment; the trigger is why a move survives them without the stage knowing about pins.
  Merges move the manual assignment to the survivor (an ``UPDATE``), and the rule follows it.
- ``theme_edits`` is rebuilt (SQLite cannot change a CHECK): the edit ``move`` is allowed,
  ``theme_id`` may be NULL (an item moved out of all themes from no theme), and ``feedback_id``
  names the item of an item edit, so an item's page lists its history.
"""

from __future__ import annotations

import sqlite3

from feedback_engine.store.migrations._sql import run_sql

SCHEMA = """
CREATE TABLE theme_item_pins (
    feedback_id INTEGER PRIMARY KEY REFERENCES feedback(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    by TEXT NOT NULL
);
CREATE TRIGGER theme_assignments_pinned BEFORE INSERT ON theme_assignments
WHEN NEW.source != 'manual'
 AND EXISTS (SELECT 1 FROM theme_item_pins p WHERE p.feedback_id = NEW.feedback_id)
 AND NOT EXISTS (SELECT 1 FROM theme_assignments t WHERE t.feedback_id = NEW.feedback_id
                 AND t.source = 'manual' AND t.theme_id = NEW.theme_id)
BEGIN
    INSERT OR IGNORE INTO theme_outliers (feedback_id, checked_at)
    SELECT NEW.feedback_id, NEW.assigned_at
    WHERE NOT EXISTS (SELECT 1 FROM theme_assignments t WHERE t.feedback_id = NEW.feedback_id);
    SELECT RAISE(IGNORE);
END;
CREATE TABLE theme_edits_new (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    by TEXT NOT NULL,
    edit TEXT NOT NULL CHECK (edit IN ('rename', 'merge', 'unmerge', 'split', 'move')),
    theme_id INTEGER REFERENCES themes(id),
    feedback_id INTEGER REFERENCES feedback(id) ON DELETE SET NULL,
    detail TEXT NOT NULL
);
INSERT INTO theme_edits_new (id, at, by, edit, theme_id, detail)
SELECT id, at, by, edit, theme_id, detail FROM theme_edits;
DROP TABLE theme_edits;
ALTER TABLE theme_edits_new RENAME TO theme_edits;
CREATE INDEX theme_edits_theme ON theme_edits(theme_id, id);
CREATE INDEX theme_edits_item ON theme_edits(feedback_id, id) WHERE feedback_id IS NOT NULL;
"""


def migrate(conn: sqlite3.Connection) -> None:
    run_sql(conn, SCHEMA)
