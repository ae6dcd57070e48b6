"""The ``sources`` table: settings, cursor and last pull of each API source (the only SQL of the connectors)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from feedback_engine.store import Store, utcnow

_COLUMNS = (
    "name, kind, settings, cursor, created_at, updated_at, last_pull_at, last_status, last_error, last_run_id,"
    " last_added, last_records"
)


def _row(row: dict[str, Any]) -> dict[str, Any]:
    row["settings"] = json.loads(row["settings"] or "{}")
    row["cursor"] = json.loads(row["cursor"]) if row["cursor"] else None
    return row


def add(store: Store, name: str, kind: str, settings: dict[str, Any]) -> bool:
    """Insert a source; False when the name is taken."""
    now = utcnow()
    try:
        with store.transaction() as conn:
            conn.execute(
                "INSERT INTO sources (name, kind, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (name, kind, json.dumps(settings, sort_keys=True), now, now),
            )
    except sqlite3.IntegrityError:
        return False
    return True


def get(store: Store, name: str) -> dict[str, Any] | None:
    rows = store.query(f"SELECT {_COLUMNS} FROM sources WHERE name = ?", (name,))
    return _row(rows[0]) if rows else None


def all_sources(store: Store) -> list[dict[str, Any]]:
    return [_row(r) for r in store.query(f"SELECT {_COLUMNS} FROM sources ORDER BY name")]


def remove(store: Store, name: str) -> bool:
    with store.transaction() as conn:
        return conn.execute("DELETE FROM sources WHERE name = ?", (name,)).rowcount > 0


def save_cursor(conn: sqlite3.Connection, name: str, cursor: Any) -> None:
    """Inside the caller's transaction (the one that writes the rows the cursor covers)."""
    conn.execute(
        "UPDATE sources SET cursor = ?, updated_at = ? WHERE name = ?",
        (json.dumps(cursor, sort_keys=True), utcnow(), name),
    )


def record_pull(
    store: Store, name: str, *, status: str, error: str | None, run_id: int | None, added: int, records: int
) -> None:
    with store.transaction() as conn:
        conn.execute(
            "UPDATE sources SET last_pull_at = ?, last_status = ?, last_error = ?, last_run_id = ?, last_added = ?,"
            " last_records = ? WHERE name = ?",
            (utcnow(), status, error, run_id, added, records, name),
        )


def last_pulls(store: Store) -> list[dict[str, Any]]:
    """Each source's last pull, for ``status``."""
    return store.query(
        "SELECT name, kind, last_pull_at, last_status, last_error, last_added, last_records FROM sources ORDER BY name"
    )
