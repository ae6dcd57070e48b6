"""Run a block of SQL statement by statement inside the caller's transaction.

``executescript`` commits first, which would break a migration's atomicity, so split the block
into complete statements (triggers included) with :func:`sqlite3.complete_statement`.
"""

from __future__ import annotations

import sqlite3


def run_sql(conn: sqlite3.Connection, block: str) -> None:
    statement = ""
    for line in block.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            if statement.strip():
                conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in migration: {statement[:80]!r}")
