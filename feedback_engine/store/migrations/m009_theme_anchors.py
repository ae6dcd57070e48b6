"""Migration 009: a theme's anchor terms.

``themes.anchors``: a JSON list of word stems that name the theme's subject ("bag", "luggage" for
lost luggage), found when the themes are fitted (:mod:`feedback_engine.themes.anchors`). A
sentence that names one is placed in the theme even when its wording is far from the centroid.
NULL for themes fitted before this migration (they get anchors at the next refit).
"""

from __future__ import annotations

import sqlite3

from feedback_engine.store.migrations._sql import run_sql

SCHEMA = """
ALTER TABLE themes ADD COLUMN anchors TEXT;
"""


def migrate(conn: sqlite3.Connection) -> None:
    run_sql(conn, SCHEMA)
