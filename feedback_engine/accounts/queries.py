"""The SQL of the accounts stage (tables from migration 008)."""

from __future__ import annotations

from typing import Any

from feedback_engine.store import Store

USER_COLUMNS = "id, email, role, created_at, updated_at, disabled_at"


def user_by_email(store: Store, email: str) -> dict[str, Any] | None:
    rows = store.query(f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = ?", (email,))
    return rows[0] if rows else None


def users(store: Store) -> list[dict[str, Any]]:
    return store.query(f"SELECT {USER_COLUMNS} FROM users ORDER BY email")


def insert_user(store: Store, email: str, role: str, password_hash: str, now: str) -> int:
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO users (email, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            (email, role, password_hash, now, now),
        )
    return int(cur.lastrowid or 0)


def update_user(store: Store, user_id: int, now: str, **fields: Any) -> None:
    allowed = {"role", "password_hash", "disabled_at"}
    sets = [f"{name} = ?" for name in fields if name in allowed]
    values = [value for name, value in fields.items() if name in allowed]
    with store.transaction() as conn:
        conn.execute(f"UPDATE users SET {', '.join(sets)}, updated_at = ? WHERE id = ?", (*values, now, user_id))


def insert_session(store: Store, token_hash: str, user_id: int, csrf: str, now: str, expires: str, client: str) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO web_sessions (token_hash, user_id, csrf_token, created_at, expires_at, client) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (token_hash, user_id, csrf, now, expires, client),
        )


def session(store: Store, token_hash: str, now: str) -> dict[str, Any] | None:
    """The live session with this token hash and its user, or None (unknown, expired, revoked, disabled)."""
    rows = store.query(
        "SELECT s.csrf_token, s.expires_at, u.id, u.email, u.role FROM web_sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ? AND u.disabled_at IS NULL",
        (token_hash, now),
    )
    return rows[0] if rows else None


def revoke_session(store: Store, token_hash: str, now: str) -> None:
    with store.transaction() as conn:
        conn.execute(
            "UPDATE web_sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL", (now, token_hash)
        )


def revoke_user_sessions(store: Store, user_id: int, now: str) -> int:
    with store.transaction() as conn:
        cur = conn.execute(
            "UPDATE web_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?",
            (now, user_id, now),
        )
    return cur.rowcount


def record_attempt(store: Store, email: str, client: str, now: str, ok: bool) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO login_attempts (email, client, at, ok) VALUES (?, ?, ?, ?)", (email, client, now, int(ok))
        )


def failures_since(store: Store, email: str, client: str, since: str) -> tuple[int, int]:
    """Failed logins since ``since``: (for this email, from this client)."""
    by_email = store.scalar("SELECT count(*) FROM login_attempts WHERE email = ? AND ok = 0 AND at > ?", (email, since))
    by_client = store.scalar(
        "SELECT count(*) FROM login_attempts WHERE client = ? AND ok = 0 AND at > ?", (client, since)
    )
    return int(by_email), int(by_client)


def insert_api_token(store: Store, user_id: int, token_hash: str, name: str, now: str) -> int:
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO api_tokens (user_id, token_hash, name, created_at) VALUES (?, ?, ?, ?)",
            (user_id, token_hash, name, now),
        )
    return int(cur.lastrowid or 0)


def api_token_user(store: Store, token_hash: str) -> dict[str, Any] | None:
    rows = store.query(
        "SELECT u.id, u.email, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id "
        "WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.disabled_at IS NULL",
        (token_hash,),
    )
    return rows[0] if rows else None
