"""What the ingest stage reads back from its tables: the database status, runs, quarantine."""

from __future__ import annotations

from typing import Any

from feedback_engine.store import Store


def status(store: Store) -> dict[str, Any]:
    """Items per channel and platform, customers, edits, quarantine, runs and the last run."""
    s = store
    by_source = s.query(
        "SELECT channel, platform, count(*) AS items, min(created_at) AS first, max(created_at) AS last"
        " FROM feedback GROUP BY channel, platform ORDER BY channel, platform"
    )
    channels = {row["channel"]: 0 for row in by_source}
    for row in by_source:
        channels[row["channel"]] += row["items"]
    last = s.query(
        "SELECT id, kind, platform, source, started_at, finished_at, status, records, added, updated,"
        " unchanged, quarantined, skipped, error FROM ingest_runs ORDER BY id DESC LIMIT 1"
    )
    return {
        "database": str(s.path) if s.path else ":memory:",
        "feedback": sum(channels.values()),
        "channels": channels,
        "platforms": by_source,
        "customers": s.scalar("SELECT count(*) FROM customers"),
        "consenting_customers": s.scalar(
            "SELECT count(*) FROM customers WHERE consent = 1 AND unsubscribed_at IS NULL AND suppressed_at IS NULL"
        ),
        "edited_versions": s.scalar("SELECT count(*) FROM feedback_history"),
        "quarantined": s.scalar("SELECT count(*) FROM quarantine"),
        "runs": s.scalar("SELECT count(*) FROM ingest_runs"),
        "failed_runs": s.scalar("SELECT count(*) FROM ingest_runs WHERE status = 'failed'"),
        "last_ingest": last[0] if last else None,
    }


def run_exists(store: Store, run_id: int) -> bool:
    return store.scalar("SELECT 1 FROM ingest_runs WHERE id = ?", (run_id,)) is not None


def quarantined(store: Store, run_id: int | None = None, *, limit: int | None = None) -> list[dict[str, Any]]:
    """Quarantined records, newest run first, optionally of one run and at most ``limit``."""
    sql = "SELECT id, run_id, source, location, reason, raw, created_at FROM quarantine"
    params: list[Any] = []
    if run_id is not None:
        sql += " WHERE run_id = ?"
        params.append(run_id)
    sql += " ORDER BY run_id DESC, id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return store.query(sql, params)
