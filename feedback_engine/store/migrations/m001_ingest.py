"""Migration 001: customers, feedback (+ edit history, FTS5 index), ingest runs, quarantine."""

from __future__ import annotations

import sqlite3

from feedback_engine.store.migrations._sql import run_sql

SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    email TEXT,                      -- normalised: trimmed, lower-cased
    platform TEXT,                   -- for handles: twitter, reddit, appstore, googleplay, trustpilot, ...
    handle TEXT,                     -- platform user name / id
    display_name TEXT,
    consent INTEGER CHECK (consent IN (0, 1)),   -- NULL: unknown (never contact)
    consent_source TEXT,             -- which file/run gave the consent answer
    unsubscribed_at TEXT,
    suppressed_at TEXT,
    suppressed_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (email IS NOT NULL OR handle IS NOT NULL)
);
CREATE UNIQUE INDEX customers_email ON customers(email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX customers_handle ON customers(platform, handle) WHERE handle IS NOT NULL;

CREATE TABLE ingest_runs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('survey', 'review', 'social')),
    platform TEXT,
    source TEXT NOT NULL,            -- file path as given
    source_sha256 TEXT,
    options TEXT,                    -- JSON: column mapping and flags used
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    records INTEGER NOT NULL DEFAULT 0,
    added INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    quarantined INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,   -- not feedback by design (e.g. retweets)
    error TEXT
);

CREATE TABLE feedback (
    id INTEGER PRIMARY KEY,
    natural_key TEXT NOT NULL UNIQUE,  -- platform:external_id[:question], or platform:sha256 of content
    channel TEXT NOT NULL CHECK (channel IN ('survey', 'review', 'social')),
    platform TEXT NOT NULL,            -- typeform, surveymonkey, appstore, googleplay, twitter, reddit, generic, ...
    source TEXT,                       -- file the item last came from
    run_id INTEGER REFERENCES ingest_runs(id),
    external_id TEXT,
    response_id TEXT,                  -- surveys: several answers of one response share it
    question TEXT,                     -- surveys: the question the text answers
    customer_id INTEGER REFERENCES customers(id),
    text TEXT NOT NULL,
    title TEXT,
    rating INTEGER CHECK (rating BETWEEN 1 AND 5),
    nps INTEGER CHECK (nps BETWEEN 0 AND 10),
    csat INTEGER CHECK (csat BETWEEN 1 AND 5),
    language TEXT,                     -- as given by the source, if any
    url TEXT,
    created_at TEXT,                   -- when the customer wrote it (UTC ISO 8601)
    source_updated_at TEXT,            -- when the source says it was last edited
    ingested_at TEXT NOT NULL,
    updated_at TEXT,                   -- when we last changed this row
    raw TEXT NOT NULL,                 -- the source record as JSON
    content_hash TEXT NOT NULL         -- sha256 of text/title/rating/scores: detects edits
);
CREATE INDEX feedback_channel ON feedback(channel, platform);
CREATE INDEX feedback_customer ON feedback(customer_id);
CREATE INDEX feedback_created ON feedback(created_at);
CREATE INDEX feedback_response ON feedback(response_id) WHERE response_id IS NOT NULL;

CREATE TABLE feedback_history (
    id INTEGER PRIMARY KEY,
    feedback_id INTEGER NOT NULL REFERENCES feedback(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    title TEXT,
    rating INTEGER,
    nps INTEGER,
    csat INTEGER,
    source_updated_at TEXT,
    raw TEXT,
    replaced_at TEXT NOT NULL,
    replaced_by_run INTEGER REFERENCES ingest_runs(id)
);
CREATE INDEX feedback_history_item ON feedback_history(feedback_id);

CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES ingest_runs(id),
    source TEXT NOT NULL,
    location TEXT NOT NULL,            -- "line 14", "record 3", "entry 7 (id 1234)"
    reason TEXT NOT NULL,
    raw TEXT NOT NULL,                 -- the record as read (undecodable bytes as \\x escapes)
    created_at TEXT NOT NULL
);
CREATE INDEX quarantine_run ON quarantine(run_id);

CREATE VIRTUAL TABLE feedback_fts USING fts5(
    title, text, content='feedback', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER feedback_ai AFTER INSERT ON feedback BEGIN
    INSERT INTO feedback_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
END;
CREATE TRIGGER feedback_ad AFTER DELETE ON feedback BEGIN
    INSERT INTO feedback_fts(feedback_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
END;
CREATE TRIGGER feedback_au AFTER UPDATE OF title, text ON feedback BEGIN
    INSERT INTO feedback_fts(feedback_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
    INSERT INTO feedback_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
END;
"""


def migrate(conn: sqlite3.Connection) -> None:
    run_sql(conn, SCHEMA)
