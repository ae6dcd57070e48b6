"""Migration 008: people who use the web app, their sessions and API tokens, and login attempts.

- ``users``: one row per person (email, role viewer/editor/admin, an argon2 password hash);
  ``disabled_at`` set keeps the row (history names them) but refuses logins and sessions.
- ``web_sessions``: a login; only the SHA-256 of the cookie's token is stored, with the session's
  CSRF token, when it expires, and when it was revoked (logout, password change, ``users revoke``).
- ``api_tokens``: per-user tokens for ``/api/...`` (stored as SHA-256 too).
- ``login_attempts``: failed and successful logins, for rate limiting by email and by client.
"""

from __future__ import annotations

import sqlite3

from feedback_engine.store.migrations._sql import run_sql

SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    disabled_at TEXT
);
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    client TEXT
);
CREATE INDEX web_sessions_user ON web_sessions(user_id);
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL COLLATE NOCASE,
    client TEXT NOT NULL,
    at TEXT NOT NULL,
    ok INTEGER NOT NULL
);
CREATE INDEX login_attempts_email ON login_attempts(email, at);
CREATE INDEX login_attempts_client ON login_attempts(client, at);
"""


def migrate(conn: sqlite3.Connection) -> None:
    run_sql(conn, SCHEMA)
