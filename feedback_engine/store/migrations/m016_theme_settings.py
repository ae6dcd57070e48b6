"""Migration 016: what a theme fit learned about the corpus as a whole (``theme_settings``).

One row per key, its value JSON, written by each fit and read wherever evidence is read:

- ``product_words``: the stems customers use for the product as a whole, learned from the data
  (:func:`feedback_engine.themes.anchors.learn_product_words`: "medicine", "medication", "drug"
  in patient reviews). A sentence whose only subject is one of them ("This medication was not
  for me.") says nothing about an aspect, so it is not evidence for a theme unless it names that
  theme's own words (:mod:`feedback_engine.themes.evidence`).

A database that no fit has written since this migration has no rows: then only the fixed words for
the product (``GENERIC_ASPECTS``) count as generic, as before.
"""

from __future__ import annotations

import sqlite3

from feedback_engine.store.migrations._sql import run_sql

SCHEMA = """
CREATE TABLE theme_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""


def migrate(conn: sqlite3.Connection) -> None:
    run_sql(conn, SCHEMA)
