"""The one storage entry point: :class:`Store`, built on ``sqlite_utils.Database``.

Nothing else in feedback_engine opens SQLite. Every ingestor, stage and command is handed a
``Store``; it opens the file (WAL mode, foreign keys on), applies pending numbered migrations
in transactions, and offers :meth:`Store.transaction` for atomic batches.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from feedback_engine.errors import StoreError
from feedback_engine.store.migrations import apply_migrations

__all__ = ["Store", "utcnow"]


def utcnow() -> str:
    """Current UTC time as ISO 8601 text with seconds, the format every table uses."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Store:
    """A feedback database: ``Store("feedback.db")`` or ``Store(memory=True)``.

    ``store.db`` is the ``sqlite_utils.Database``; ``store.conn`` its connection.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        memory: bool = False,
        migrate: bool = True,
        timeout: float = 30.0,
    ) -> None:
        if path is None and not memory:
            raise StoreError("No database given. Pass a path (e.g. feedback.db) or memory=True.")
        self.path = None if memory else Path(path)  # type: ignore[arg-type]
        try:
            if memory:
                conn = sqlite3.connect(":memory:", timeout=timeout, check_same_thread=False)
            else:
                assert self.path is not None
                if self.path.is_dir():
                    raise StoreError(f"{self.path} is a folder, not a database file. Pass a file path with --db.")
                if not self.path.parent.exists():
                    raise StoreError(
                        f"The folder {self.path.parent} does not exist. Create it or pass another --db path."
                    )
                conn = sqlite3.connect(str(self.path), timeout=timeout, check_same_thread=False)
            conn.execute("PRAGMA foreign_keys = ON")
            if not memory:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            self.db = sqlite_utils.Database(conn)
            if migrate:
                self.migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"Cannot open {self.path or ':memory:'} as a feedback database ({exc}). "
                "Make sure --db points at a feedback_engine SQLite file."
            ) from exc

    # -- plumbing -----------------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    def migrate(self) -> list[str]:
        """Apply pending migrations, each in its own transaction; returns the names applied."""
        return apply_migrations(self)

    @property
    def schema_version(self) -> int:
        row = self.conn.execute("SELECT count(*) FROM _migrations").fetchone()
        return int(row[0])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``with store.transaction():`` commits on success, rolls back on error; nests as savepoints."""
        conn = self.conn
        if conn.in_transaction:
            name = f"sp_{id(object())}"
            conn.execute(f"SAVEPOINT {name}")
            try:
                yield conn
            except BaseException:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
                raise
            conn.execute(f"RELEASE {name}")
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def ping(self) -> None:
        """Run a trivial query; :class:`StoreError` when the database cannot answer."""
        try:
            self.conn.execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"The database does not answer ({exc}). Check the file and its permissions.") from exc

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        """Rows of a parameterised query as dicts."""
        return list(self.db.query(sql, params))

    def scalar(self, sql: str, params: Any = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def close(self) -> None:
        try:
            if self.conn.in_transaction:
                self.conn.rollback()
            self.conn.close()
        except sqlite3.ProgrammingError:
            pass

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path) if self.path else ':memory:'!r})"
