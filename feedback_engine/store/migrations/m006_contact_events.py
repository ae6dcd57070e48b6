"""Migration 006: who changed a customer's contact state, and when (``contact_events``).

One row per change of ``customers.unsubscribed_at`` / ``suppressed_at``: ``unsubscribed``
(cli, web), ``resubscribed`` and ``unsuppressed`` (cli, with ``--by``), ``suppressed`` (by the
notify job after a permanent SMTP rejection). ``detail`` keeps the reason, e.g. the
suppression reason that an ``unsuppressed`` event cleared. ``unsubscribe_events`` stays as is.
"""

from __future__ import annotations

import sqlite3

from feedback_engine.store.migrations._sql import run_sql

SCHEMA = """
CREATE TABLE contact_events (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    at TEXT NOT NULL,
    by TEXT NOT NULL,                  -- a person ($USER / --by), 'web' or 'notify'
    event TEXT NOT NULL CHECK (event IN ('unsubscribed', 'resubscribed', 'suppressed', 'unsuppressed')),
    detail TEXT
);
CREATE INDEX contact_events_customer ON contact_events(customer_id, id);
"""


def migrate(conn: sqlite3.Connection) -> None:
    run_sql(conn, SCHEMA)
