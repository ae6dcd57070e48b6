"""Migration 004: action backlog, notification outbox, deliveries, unsubscribe events.

Contract of the loop stage:
- ``actions`` are tied to themes (``action_themes``, resolved through ``themes.merged_into`` when
  read, so actions follow the surviving theme) and optionally to items (``action_items``).
  ``action_history`` keeps every change (who, when, field, from, to, note).
- ``notifications`` is the outbox: one row per (customer, action), ``idem_key`` unique, so
  planning twice never queues a customer twice for the same action.
- ``emails`` is one outgoing message; it carries one notification or a digest of several
  (``notifications.email_id``). Its ``raw`` bytes are rendered once, so retries resend the very
  same message (same Message-ID). ``status``: queued -> sending -> sent | unconfirmed | retry |
  bounced | cancelled. ``sending`` is committed before the last bytes go to the SMTP server; a
  row found in ``sending`` by a later run becomes ``unconfirmed`` (counted as sent, never resent).
- ``delivery_attempts`` logs every try; ``unsubscribe_events`` every opt-out (cli, web, one-click).
The notify job's lock is a file next to the database (``<db>.notify.lock``), not a table: the
operating system releases it when the process dies, so a killed job never leaves a stale lock.
"""

from __future__ import annotations

import sqlite3

from feedback_engine.store.migrations._sql import run_sql

SCHEMA = """
CREATE TABLE actions (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL,         -- what was done: the text customers read
    owner TEXT,
    due_date TEXT,                     -- YYYY-MM-DD
    status TEXT NOT NULL DEFAULT 'proposed'
        CHECK (status IN ('proposed', 'planned', 'in_progress', 'shipped', 'declined')),
    shipped_at TEXT,                   -- set when the status becomes shipped
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX actions_status ON actions(status, due_date);

CREATE TABLE action_themes (
    action_id INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    theme_id INTEGER NOT NULL REFERENCES themes(id),
    PRIMARY KEY (action_id, theme_id)
);
CREATE INDEX action_themes_theme ON action_themes(theme_id);

CREATE TABLE action_items (
    action_id INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    feedback_id INTEGER NOT NULL REFERENCES feedback(id) ON DELETE CASCADE,
    PRIMARY KEY (action_id, feedback_id)
);

CREATE TABLE action_history (
    id INTEGER PRIMARY KEY,
    action_id INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    by TEXT NOT NULL,
    field TEXT NOT NULL,               -- status, owner, due_date, created
    from_value TEXT,
    to_value TEXT,
    note TEXT
);
CREATE INDEX action_history_action ON action_history(action_id, id);

CREATE TABLE emails (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    to_address TEXT NOT NULL,
    from_address TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    template TEXT NOT NULL,            -- e.g. you_said_we_did.v1
    raw BLOB NOT NULL,                 -- the rendered message, sent as is on every attempt
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'sending', 'sent', 'unconfirmed', 'retry', 'bounced', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    sending_at TEXT,
    sent_at TEXT
);
CREATE INDEX emails_status ON emails(status, next_attempt_at);
CREATE INDEX emails_customer ON emails(customer_id, status);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    idem_key TEXT NOT NULL UNIQUE,     -- action:<id>:customer:<id>
    action_id INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    feedback_ids TEXT NOT NULL,        -- JSON [id, ...]: the matching items (first one is quoted)
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'assigned', 'cancelled')),
    email_id INTEGER REFERENCES emails(id),
    cancel_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (customer_id, action_id)
);
CREATE INDEX notifications_pending ON notifications(status, customer_id);
CREATE INDEX notifications_email ON notifications(email_id);

CREATE TABLE delivery_attempts (
    id INTEGER PRIMARY KEY,
    email_id INTEGER NOT NULL REFERENCES emails(id),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    outcome TEXT CHECK (outcome IN ('accepted', 'transient', 'permanent', 'unconfirmed')),
    smtp_code INTEGER,
    detail TEXT
);
CREATE INDEX delivery_attempts_email ON delivery_attempts(email_id);

CREATE TABLE unsubscribe_events (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    at TEXT NOT NULL,
    source TEXT NOT NULL,              -- cli, api, web, one-click
    detail TEXT
);
CREATE INDEX unsubscribe_events_customer ON unsubscribe_events(customer_id);
"""


def migrate(conn: sqlite3.Connection) -> None:
    run_sql(conn, SCHEMA)
