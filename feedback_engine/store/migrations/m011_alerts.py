"""Migration 011: alerts of the insights stage (``feedback-engine alerts --send``).

One row per alert (``key`` unique: kind, theme, day, e.g. ``volume:7:2025-04-03``), so a spike
found again by the next cron run is never recorded or sent twice. ``detail`` is the flag as
JSON with its counts and the quotes sent. Each delivery channel has its own state:
``none`` (not configured when the alert was recorded) | ``pending`` -> ``sent``, or ``retry``
(with ``*_next_at``, exponential backoff) after a failed send -- an alert whose send failed stays
due, nothing is lost. The email digest is marked ``sending`` once the SMTP server is ready for
its body; a row a later run finds in ``sending`` becomes ``unconfirmed`` (counted as sent, never
resent), as the notify job does.
"""

from __future__ import annotations

import sqlite3

from feedback_engine.store.migrations._sql import run_sql

SCHEMA = """
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,                -- volume, negative, channel_crossing, new_theme
    theme_id INTEGER REFERENCES themes(id),
    day TEXT,                          -- YYYY-MM-DD, NULL for the window as a whole
    summary TEXT NOT NULL,             -- the flag's one line: theme, counted change, p and q
    detail TEXT NOT NULL,              -- JSON: the flag and its quotes (redacted text)
    created_at TEXT NOT NULL,
    email_status TEXT NOT NULL DEFAULT 'none'
        CHECK (email_status IN ('none', 'pending', 'retry', 'sending', 'sent', 'unconfirmed')),
    email_attempts INTEGER NOT NULL DEFAULT 0,
    email_next_at TEXT,
    email_error TEXT,
    email_sent_at TEXT,
    webhook_status TEXT NOT NULL DEFAULT 'none'
        CHECK (webhook_status IN ('none', 'pending', 'retry', 'sending', 'sent', 'unconfirmed')),
    webhook_attempts INTEGER NOT NULL DEFAULT 0,
    webhook_next_at TEXT,
    webhook_error TEXT,
    webhook_sent_at TEXT
);
CREATE INDEX alerts_email ON alerts(email_status, email_next_at);
CREATE INDEX alerts_webhook ON alerts(webhook_status, webhook_next_at);
"""


def migrate(conn: sqlite3.Connection) -> None:
    run_sql(conn, SCHEMA)
