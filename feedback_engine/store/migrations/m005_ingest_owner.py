"""Migration 005: which process runs an import (``ingest_runs.pid`` and ``host``).

A killed import leaves its run row in ``running``; its committed batches are kept (and a rerun
is idempotent). Knowing the process lets a later ``ingest`` or ``status`` on the same host mark
such a run ``failed`` with the reason "interrupted" instead of showing it running forever.
"""

from __future__ import annotations

import sqlite3

from feedback_engine.store.migrations._sql import run_sql

SCHEMA = """
ALTER TABLE ingest_runs ADD COLUMN pid INTEGER;
ALTER TABLE ingest_runs ADD COLUMN host TEXT;
"""


def migrate(conn: sqlite3.Connection) -> None:
    run_sql(conn, SCHEMA)
