"""Migration 010: customer attributes from a CRM/billing export, customer import runs, loop holdouts.

- ``customers`` gains what a CRM or billing export says about a customer (``ingest customers``):
  ``external_id`` (the CRM's id), ``segment``, ``plan``, ``mrr`` (monthly recurring revenue; an
  ARR column is divided by 12), ``currency`` (ISO 4217, upper case), ``country``, ``signup_at``,
  ``churned_at`` (UTC ISO 8601), and ``attributes_hash`` / ``attributes_source`` /
  ``attributes_at``: the hash of the attributes last imported (a re-import of the same values
  changes nothing), the file they came from and when.
- ``ingest_runs.kind`` may be ``customers`` as well. SQLite cannot alter a CHECK constraint, and
  rebuilding ``ingest_runs`` would trip the foreign keys of ``feedback``, ``quarantine`` and
  ``feedback_history`` (measured: the deferred check fails at commit), so the constraint's text is
  widened in place through ``writable_schema`` -- the procedure SQLite's ALTER TABLE page gives for
  constraint changes that every existing row already satisfies -- and ``schema_version`` is bumped
  so that every connection reloads the schema.
- ``action_holdouts``: a shipped action's control group (``actions update --status shipped
  --holdout 10%``): the share of its recipients held back and the seed that picks them. Whether a
  customer is held back is a pure function of (seed, action, customer)
  (:func:`feedback_engine.loop.holdout.held_back`), so it is reproducible; the notify job records
  each held-back recipient as a notification cancelled with the reason ``holdout`` and never
  emails them for that action.
"""

from __future__ import annotations

import sqlite3

from feedback_engine.store.migrations._sql import run_sql

OLD_KIND = "CHECK (kind IN ('survey', 'review', 'social'))"
NEW_KIND = "CHECK (kind IN ('survey', 'review', 'social', 'customers'))"

SCHEMA = """
ALTER TABLE customers ADD COLUMN external_id TEXT;
ALTER TABLE customers ADD COLUMN segment TEXT;
ALTER TABLE customers ADD COLUMN plan TEXT;
ALTER TABLE customers ADD COLUMN mrr REAL;
ALTER TABLE customers ADD COLUMN currency TEXT;
ALTER TABLE customers ADD COLUMN country TEXT;
ALTER TABLE customers ADD COLUMN signup_at TEXT;
ALTER TABLE customers ADD COLUMN churned_at TEXT;
ALTER TABLE customers ADD COLUMN attributes_hash TEXT;
ALTER TABLE customers ADD COLUMN attributes_source TEXT;
ALTER TABLE customers ADD COLUMN attributes_at TEXT;
CREATE INDEX customers_segment ON customers(segment) WHERE segment IS NOT NULL;
CREATE INDEX customers_external ON customers(external_id) WHERE external_id IS NOT NULL;

CREATE TABLE action_holdouts (
    action_id INTEGER PRIMARY KEY REFERENCES actions(id) ON DELETE CASCADE,
    share REAL NOT NULL CHECK (share > 0 AND share < 1),
    seed INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
"""


def migrate(conn: sqlite3.Connection) -> None:
    run_sql(conn, SCHEMA)
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'ingest_runs'").fetchone()[0]
    if NEW_KIND in sql:
        return
    if OLD_KIND not in sql:
        raise RuntimeError("ingest_runs has an unexpected kind constraint; cannot widen it")
    version = int(conn.execute("PRAGMA schema_version").fetchone()[0])
    conn.execute("PRAGMA writable_schema = ON")
    try:
        conn.execute(
            "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'ingest_runs'",
            (OLD_KIND, NEW_KIND),
        )
        conn.execute(f"PRAGMA schema_version = {version + 1}")
    finally:
        conn.execute("PRAGMA writable_schema = OFF")
