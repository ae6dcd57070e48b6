"""Migration 013: API sources (settings + cursor) and the ``support`` channel.

``sources`` holds one row per configured connector (``feedback-engine sources add``): its kind,
its settings as JSON (never a credential: only the *name* of the environment variable or file
that holds it), and its cursor (JSON: last id, timestamp or page token), which the pull writes in
the same transaction as the rows it covers. ``last_*`` describe the most recent pull.

The ``support`` channel (Zendesk tickets and satisfaction ratings) joins ``survey``, ``review``
and ``social`` in the CHECK constraints of ``feedback.channel`` and ``ingest_runs.kind``. SQLite
cannot ALTER a CHECK; rebuilding ``feedback`` would cascade-delete its history and analysis
under ``foreign_keys = ON``, which cannot be switched off inside the migration's transaction. So
the constraint text is widened in place, the documented way for changes that leave every stored
row valid (https://sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema
Changes"): ``writable_schema``, one UPDATE of the table's SQL, ``schema_version`` + 1.
"""

from __future__ import annotations

import re
import sqlite3

from feedback_engine.errors import StoreError
from feedback_engine.store.migrations._sql import run_sql

SCHEMA = """
CREATE TABLE sources (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,               -- appstore-rss, trustpilot, reddit, zendesk, x-recent, ...
    settings TEXT NOT NULL,           -- JSON; credentials only by env variable or file name
    cursor TEXT,                      -- JSON; advanced with the rows it covers
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_pull_at TEXT,
    last_status TEXT CHECK (last_status IN ('ok', 'failed')),
    last_error TEXT,
    last_run_id INTEGER REFERENCES ingest_runs(id) ON DELETE SET NULL,
    last_added INTEGER,
    last_records INTEGER
);
"""

_WIDEN = (("feedback", "channel"), ("ingest_runs", "kind"))


def _widened(sql: str, table: str, column: str) -> str:
    """``sql`` with ``'support'`` added to ``CHECK (column IN (...))`` (any values listed before)."""
    pattern = re.compile(rf"CHECK \({column} IN \(([^)]*)\)\)")
    match = pattern.search(sql)
    if match is None:
        raise StoreError(f"Cannot add the support channel: the {table} table has no CHECK on {column}.")
    values = [v.strip() for v in match.group(1).split(",")]
    if "'support'" in values:
        return sql
    listed = ", ".join([*values, "'support'"])
    return sql[: match.start()] + f"CHECK ({column} IN ({listed}))" + sql[match.end() :]


def migrate(conn: sqlite3.Connection) -> None:
    run_sql(conn, SCHEMA)
    version = int(conn.execute("PRAGMA schema_version").fetchone()[0])
    conn.execute("PRAGMA writable_schema = ON")
    try:
        for table, column in _WIDEN:
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
            conn.execute(
                "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                (_widened(sql[0], table, column), table),
            )
        conn.execute(f"PRAGMA schema_version = {version + 1}")
    finally:
        conn.execute("PRAGMA writable_schema = OFF")
