"""Migration 004_loop: placeholder, filled in by its stage (never edit once landed)."""

from __future__ import annotations

import sqlite3


def migrate(conn: sqlite3.Connection) -> None:
    return None
