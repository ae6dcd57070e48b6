"""Numbered schema migrations, applied in order, each in one transaction.

A migration is a function ``(conn: sqlite3.Connection) -> None`` in a module of this package.
Applied migrations are recorded in ``_migrations``; an old database file is upgraded in place,
never rebuilt. Add a migration by appending to ``MIGRATIONS`` (never edit one that has landed).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from feedback_engine.errors import StoreError
from feedback_engine.store.migrations import (
    m001_ingest,
    m002_nlp,
    m003_themes,
    m004_loop,
    m005_ingest_owner,
    m006_contact_events,
    m007_theme_edits,
    m008_accounts,
    m009_theme_anchors,
    m010_customer_attributes,
    m011_alerts,
    m012_item_theme_edits,
    m013_sources,
    m014_clauses,
    m015_views,
    m016_theme_settings,
)

if TYPE_CHECKING:
    from feedback_engine.store import Store

Migration = Callable[[sqlite3.Connection], None]

MIGRATIONS: list[tuple[str, Migration]] = [
    ("001_ingest", m001_ingest.migrate),
    ("002_nlp", m002_nlp.migrate),
    ("003_themes", m003_themes.migrate),
    ("004_loop", m004_loop.migrate),
    ("005_ingest_owner", m005_ingest_owner.migrate),
    ("006_contact_events", m006_contact_events.migrate),
    ("007_theme_edits", m007_theme_edits.migrate),
    ("008_accounts", m008_accounts.migrate),
    ("009_theme_anchors", m009_theme_anchors.migrate),
    ("010_customer_attributes", m010_customer_attributes.migrate),
    ("011_alerts", m011_alerts.migrate),
    ("013_sources", m013_sources.migrate),
    ("012_item_theme_edits", m012_item_theme_edits.migrate),
    ("014_clauses", m014_clauses.migrate),
    ("015_views", m015_views.migrate),
    ("016_theme_settings", m016_theme_settings.migrate),
]


def apply_migrations(store: Store) -> list[str]:
    conn = store.conn
    conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    conn.commit()
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    unknown = done - {name for name, _ in MIGRATIONS}
    if unknown:
        raise StoreError(
            f"This database was written by a newer feedback_engine (migrations {sorted(unknown)}). "
            "Upgrade feedback_engine to open it."
        )
    applied = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                conn.rollback()  # another process applied it meanwhile
                continue
            fn(conn)
            now = datetime.now(UTC).replace(microsecond=0).isoformat()
            conn.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (name, now))
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
        applied.append(name)
    return applied
