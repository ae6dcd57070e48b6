"""Write customer attributes (:class:`~feedback_engine.ingest.customers.CustomerRecord`) into ``customers``.

Matching: a row's normalised e-mail finds the customer with that address; else its
``(platform, handle)`` finds the customer the social or review ingest created for that author.
A row that matches nobody creates a customer (with no consent: an import of CRM data never makes
anyone contactable). When a row matched by e-mail also names a handle the customer lacks (or the
reverse), the missing key is filled in unless another customer already holds it.

Idempotent: a matched customer whose stored attributes already equal the row's is ``unchanged``
(nothing written); ``updated`` otherwise. Within one file a later row for the same customer wins.
Each import is an ``ingest_runs`` row of kind ``customers``; bad rows go to ``quarantine`` with
their location and reason, as for every import (``feedback-engine quarantine list --run N``).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from typing import Any

from feedback_engine.ingest.customers import ATTRIBUTE_COLUMNS, CustomerRecord
from feedback_engine.ingest.loader import IngestReport, begin_run, finish_run
from feedback_engine.ingest.records import Quarantined
from feedback_engine.progress import NullProgress, Progress
from feedback_engine.store import Store, utcnow

__all__ = ["CustomerLoader"]

_COLUMN = {"name": "display_name"}  # record attribute -> customers column, where they differ
_QUARANTINE = "INSERT INTO quarantine (run_id, source, location, reason, raw, created_at) VALUES (?, ?, ?, ?, ?, ?)"
_SELECT = "id, email, platform, handle, display_name, " + ", ".join(c for c in ATTRIBUTE_COLUMNS if c != "name")


class CustomerLoader:
    """One customer import run into ``store`` (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        *,
        source: str,
        options: dict[str, Any],
        source_sha256: str | None = None,
        progress: Progress | None = None,
        batch_size: int = 5000,
    ) -> None:
        self.store = store
        self.report = IngestReport(kind="customers", platform=None, source=source)
        self.options = options
        self.sha256 = source_sha256
        self.progress = progress or NullProgress()
        self.batch_size = batch_size
        self._now = utcnow()

    def run(self, items: Iterable[CustomerRecord | Quarantined], expected: int | None = None) -> IngestReport:
        started = time.perf_counter()
        report = self.report
        begin_run(self.store, report, self.sha256, self.options, self._now)
        known = {
            (r[0], r[1], r[2])
            for r in self.store.conn.execute(
                "SELECT location, reason, raw FROM quarantine WHERE source = ?", (report.source,)
            )
        }
        self.progress.start(expected, f"ingest {report.source}")
        batch: list[CustomerRecord | Quarantined] = []
        try:
            for item in items:
                batch.append(item)
                if len(batch) >= self.batch_size:
                    self._flush(batch, known)
                    batch = []
            self._flush(batch, known)
        except BaseException as exc:
            report.error = str(exc) or type(exc).__name__
            self._finish("failed", started)
            raise
        finally:
            self.progress.finish()
        self._finish("done", started)
        return report

    def _finish(self, status: str, started: float) -> None:
        finish_run(self.store, self.report, status, started)

    def _flush(self, batch: list[CustomerRecord | Quarantined], known: set[tuple[str, str, str]]) -> None:
        if not batch:
            return
        with self.store.transaction() as conn:
            for item in batch:
                if isinstance(item, Quarantined):
                    self._quarantine(conn, item, known)
                    continue
                try:
                    with self.store.transaction():
                        self._write(conn, item)
                except (sqlite3.IntegrityError, sqlite3.DataError, UnicodeEncodeError, OverflowError) as exc:
                    self._quarantine(
                        conn, Quarantined(item.location, f"rejected by the database: {exc}", item.raw), known
                    )
        self.progress.advance(len(batch))

    def _quarantine(self, conn: sqlite3.Connection, q: Quarantined, known: set[tuple[str, str, str]]) -> None:
        self.report.quarantined += 1
        key = (q.location, q.reason, q.raw)
        if key in known:
            return
        known.add(key)
        conn.execute(_QUARANTINE, (self.report.run_id, self.report.source, q.location, q.reason, q.raw, self._now))

    def _find(self, conn: sqlite3.Connection, rec: CustomerRecord) -> dict[str, Any] | None:
        cursor = None
        if rec.email:
            cursor = conn.execute(f"SELECT {_SELECT} FROM customers WHERE email = ?", (rec.email,))
            row = cursor.fetchone()
            if row is not None:
                return dict(zip([d[0] for d in cursor.description], row, strict=True))
        if rec.handle:
            cursor = conn.execute(
                f"SELECT {_SELECT} FROM customers WHERE platform = ? AND handle = ?", (rec.platform, rec.handle)
            )
            row = cursor.fetchone()
            if row is not None:
                return dict(zip([d[0] for d in cursor.description], row, strict=True))
        return None

    def _write(self, conn: sqlite3.Connection, rec: CustomerRecord) -> None:
        attrs = rec.attributes()
        values = {_COLUMN.get(k, k): v for k, v in attrs.items()}
        stamp = self._now
        source = self.report.source
        found = self._find(conn, rec)
        if found is None:
            columns = ["email", "platform", "handle", *values, "attributes_hash", "attributes_source", "attributes_at"]
            columns += ["created_at", "updated_at"]
            params = [rec.email, rec.platform if rec.handle else None, rec.handle, *values.values()]
            params += [rec.digest(), source, stamp, stamp, stamp]
            conn.execute(
                f"INSERT INTO customers ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", params
            )
            self.report.added += 1
            return
        changes: dict[str, Any] = {}
        for column, value in values.items():
            if column == "display_name" and value is None:
                continue  # a blank name never erases the one the feedback gave
            if found.get(column) != value:
                changes[column] = value
        if rec.email and not found["email"] and not _taken(conn, "email = ?", (rec.email,)):
            changes["email"] = rec.email
        if (
            rec.handle
            and not found["handle"]
            and not _taken(conn, "platform = ? AND handle = ?", (rec.platform, rec.handle))
        ):
            changes["platform"], changes["handle"] = rec.platform, rec.handle
        if not changes:
            self.report.unchanged += 1
            return
        changes.update(attributes_hash=rec.digest(), attributes_source=source, attributes_at=stamp, updated_at=stamp)
        assignments = ", ".join(f"{c} = ?" for c in changes)
        conn.execute(f"UPDATE customers SET {assignments} WHERE id = ?", [*changes.values(), found["id"]])
        self.report.updated += 1


def _taken(conn: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> bool:
    return conn.execute(f"SELECT 1 FROM customers WHERE {where}", params).fetchone() is not None
