"""SQL of the emerging/alerts/drivers/impact analyses (parameters only; no analysis logic).

Theme membership is never defined here: members come from
:func:`feedback_engine.themes.queries.theme_members` (and quotes from
:func:`feedback_engine.themes.evidence.theme_evidence`), the one definition every surface reads.
What this module reads on its own is what membership does not cover: all items per day and
channel (the denominator of a theme's share), scored responses, shipped actions, customers'
``segment`` when that column exists, and the ``alerts`` table (migration 011), which only the
insights stage writes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from feedback_engine.themes import queries as tq
from feedback_engine.themes.queries import Member

__all__ = [
    "Filters",
    "members",
    "daily_totals",
    "theme_rows",
    "last_fit",
    "has_customer_column",
    "segments_of",
    "redacted_texts",
    "scored_items",
    "shipped_actions",
    "action_theme_ids",
]

SCORE_COLUMNS = {"nps": "nps", "csat": "csat", "rating": "rating"}


@dataclass(frozen=True)
class Filters:
    """Date range (inclusive days, UTC), channel and customer segment every analysis accepts."""

    since: date | None = None
    until: date | None = None
    channel: str | None = None
    segment: str | None = None

    def where(self, alias: str = "f") -> tuple[str, list[Any]]:
        """A SQL condition on ``feedback`` (``alias``) and its parameters."""
        parts, args = ["1 = 1"], []
        if self.since is not None:
            parts.append(f"{alias}.created_at >= ?")
            args.append(self.since.isoformat())
        if self.until is not None:
            parts.append(f"substr({alias}.created_at, 1, 10) <= ?")
            args.append(self.until.isoformat())
        if self.channel:
            parts.append(f"{alias}.channel = ?")
            args.append(self.channel)
        if self.segment:
            parts.append(f"{alias}.customer_id IN (SELECT id FROM customers WHERE segment = ?)")
            args.append(self.segment)
        return " AND ".join(parts), args


def day_of(created: datetime | None) -> date | None:
    return created.astimezone(UTC).date() if created is not None else None


def members(
    conn: sqlite3.Connection, filters: Filters | None = None, *, dates: bool = True
) -> dict[int, dict[int, Member]]:
    """Surviving theme id -> its members (themes.queries), kept to the filters' channel, segment
    and, when ``dates``, date range."""
    f = filters or Filters()
    since = f.since.isoformat() if dates and f.since else None
    before = (f.until + timedelta(days=1)).isoformat() if dates and f.until else None
    groups = tq.theme_members(conn, created_since=since, created_before=before)
    if not f.channel and not f.segment:
        return groups  # the dates were applied in SQL
    seg_ids = segment_items(conn, f.segment) if f.segment else None
    return {
        tid: {
            fid: m
            for fid, m in group.items()
            if (not f.channel or m.channel == f.channel) and (seg_ids is None or fid in seg_ids)
        }
        for tid, group in groups.items()
    }


def scored_pairs(conn: sqlite3.Connection, score: str, filters: Filters) -> list[tuple[int, int]]:
    """(feedback id, surviving theme id) of the items with that score under the filters
    (:func:`feedback_engine.themes.queries.member_pairs`: the same membership, without sentiment)."""
    pairs = tq.member_pairs(
        conn,
        scored=SCORE_COLUMNS[score],
        channel=filters.channel,
        created_since=filters.since.isoformat() if filters.since else None,
        created_before=(filters.until + timedelta(days=1)).isoformat() if filters.until else None,
    )
    if filters.segment:
        keep = segment_items(conn, filters.segment)
        pairs = [p for p in pairs if p[0] in keep]
    return pairs


def daily_totals(conn: sqlite3.Connection, filters: Filters) -> dict[date, int]:
    """All items per day (UTC) under the filters: the denominator of a theme's daily share."""
    where, args = filters.where()
    sql = f"SELECT substr(f.created_at, 1, 10), count(*) FROM feedback f WHERE f.created_at IS NOT NULL AND {where} GROUP BY 1"
    out: dict[date, int] = {}
    for day, n in conn.execute(sql, args):
        try:
            out[date.fromisoformat(day)] = int(n)
        except (TypeError, ValueError):
            continue
    return out


def newest_day(conn: sqlite3.Connection) -> date | None:
    value = conn.execute("SELECT max(created_at) FROM feedback").fetchone()[0]
    parsed = tq.parse_time(value)
    return day_of(parsed)


def theme_rows(conn: sqlite3.Connection) -> dict[int, dict[str, Any]]:
    """Theme id -> id, label, origin, status, created_at."""
    rows = conn.execute("SELECT id, label, origin, status, created_at FROM themes")
    return {
        int(r[0]): {"id": int(r[0]), "label": r[1], "origin": r[2], "status": r[3], "created_at": r[4]} for r in rows
    }


def last_fit(conn: sqlite3.Connection) -> tuple[str | None, str | None]:
    """(the latest fit's time, the first fit's time): discovered themes are created at a fit."""
    first, last = conn.execute(
        "SELECT min(created_at), max(created_at) FROM themes WHERE origin = 'discovered'"
    ).fetchone()
    return last, first


def has_customer_column(conn: sqlite3.Connection, name: str) -> bool:
    return any(r[1] == name for r in conn.execute("PRAGMA table_info(customers)"))


def segment_items(conn: sqlite3.Connection, segment: str) -> set[int]:
    sql = "SELECT f.id FROM feedback f JOIN customers c ON c.id = f.customer_id WHERE c.segment = ?"
    return {int(r[0]) for r in conn.execute(sql, (segment,))}


def segments_of(conn: sqlite3.Connection, feedback_ids: Iterable[int] | None = None) -> dict[int, str]:
    """Feedback id -> its customer's segment (only where both are known)."""
    sql = (
        "SELECT f.id, c.segment FROM feedback f JOIN customers c ON c.id = f.customer_id "
        "WHERE c.segment IS NOT NULL AND c.segment != ''"
    )
    out = {int(fid): str(seg) for fid, seg in conn.execute(sql)}
    if feedback_ids is not None:
        wanted = set(feedback_ids)
        out = {k: v for k, v in out.items() if k in wanted}
    return out


def redacted_texts(conn: sqlite3.Connection, feedback_ids: Iterable[int]) -> dict[int, str]:
    """Feedback id -> its redacted text (what every display shows), for quotes."""
    ids = sorted({int(f) for f in feedback_ids})
    out: dict[int, str] = {}
    for start in range(0, len(ids), tq.CHUNK):
        chunk = ids[start : start + tq.CHUNK]
        sql = f"SELECT feedback_id, redacted_text FROM analysis WHERE feedback_id IN ({','.join('?' * len(chunk))})"
        for fid, text in conn.execute(sql, chunk):
            if text and str(text).strip():
                out[int(fid)] = str(text).strip()
    return out


def scored_items(conn: sqlite3.Connection, score: str, filters: Filters) -> list[tuple[int, int, str | None]]:
    """(feedback id, score value, created_at) of every item with that score under the filters."""
    column = SCORE_COLUMNS[score]
    where, args = filters.where()
    sql = (
        f"SELECT f.id, f.{column}, f.created_at FROM feedback f WHERE f.{column} IS NOT NULL AND {where} ORDER BY f.id"
    )
    return [(int(a), int(b), c) for a, b, c in conn.execute(sql, args)]


def items_between(conn: sqlite3.Connection, start: str, end: str, filters: Filters) -> list[tuple[int, int | None]]:
    """(feedback id, nps) of every item created in [start, end) under the channel/segment filters."""
    where, args = Filters(channel=filters.channel, segment=filters.segment).where()
    sql = f"SELECT f.id, f.nps FROM feedback f WHERE f.created_at >= ? AND f.created_at < ? AND {where}"
    return [(int(a), b) for a, b in conn.execute(sql, [start, end, *args])]


def shipped_actions(conn: sqlite3.Connection, action_id: int | None = None) -> list[dict[str, Any]]:
    sql = "SELECT id, title, status, shipped_at FROM actions WHERE status = 'shipped' AND shipped_at IS NOT NULL"
    args: list[Any] = []
    if action_id is not None:
        sql += " AND id = ?"
        args.append(int(action_id))
    rows = conn.execute(sql + " ORDER BY shipped_at, id", args)
    return [{"id": int(r[0]), "title": r[1], "status": r[2], "shipped_at": r[3]} for r in rows]


def action_exists(conn: sqlite3.Connection, action_id: int) -> dict[str, Any] | None:
    row = conn.execute("SELECT id, title, status, shipped_at FROM actions WHERE id = ?", (int(action_id),)).fetchone()
    return None if row is None else {"id": int(row[0]), "title": row[1], "status": row[2], "shipped_at": row[3]}


def action_theme_ids(conn: sqlite3.Connection, action_id: int) -> list[int]:
    """The action's themes, resolved to their survivors (actions follow merged themes)."""
    survivors = tq.resolve_survivors(conn)
    rows = conn.execute("SELECT theme_id FROM action_themes WHERE action_id = ?", (int(action_id),))
    return sorted({tq.survivor_of(survivors, int(r[0])) for r in rows})


# -- alerts (migration 011) --------------------------------------------------------------------


def record_alert(conn: sqlite3.Connection, alert: dict[str, Any], channels: dict[str, bool], at: str) -> bool:
    """Insert an alert unless its key is known; True when new. ``channels``: email/webhook wanted."""
    cur = conn.execute(
        """INSERT OR IGNORE INTO alerts (key, kind, theme_id, day, summary, detail, created_at,
                                         email_status, webhook_status)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            alert["key"],
            alert["kind"],
            alert.get("theme_id"),
            alert.get("day"),
            alert["text"],
            json.dumps(alert, default=str),
            at,
            "pending" if channels.get("email") else "none",
            "pending" if channels.get("webhook") else "none",
        ),
    )
    return cur.rowcount > 0


def pending_alerts(conn: sqlite3.Connection, channel: str, at: str) -> list[dict[str, Any]]:
    col = _channel(channel)
    sql = (
        f"SELECT id, key, summary, detail, {col}_attempts FROM alerts WHERE {col}_status IN ('pending', 'retry') "
        f"AND ({col}_next_at IS NULL OR {col}_next_at <= ?) ORDER BY id"
    )
    return [
        {"id": int(r[0]), "key": r[1], "summary": r[2], "detail": json.loads(r[3]), "attempts": int(r[4])}
        for r in conn.execute(sql, (at,))
    ]


def mark_alerts(
    conn: sqlite3.Connection,
    channel: str,
    ids: list[int],
    status: str,
    at: str,
    *,
    error: str | None = None,
    next_at: str | None = None,
    attempt: bool = False,
) -> None:
    """Set the channel's status of these alerts (``attempt``: count one more try)."""
    if not ids:
        return
    col = _channel(channel)
    marks = ",".join("?" * len(ids))
    conn.execute(
        f"UPDATE alerts SET {col}_status = ?, {col}_error = ?, {col}_next_at = ?, "
        f"{col}_sent_at = CASE WHEN ? IN ('sent', 'sending') THEN ? ELSE {col}_sent_at END, "
        f"{col}_attempts = {col}_attempts + ? WHERE id IN ({marks})",
        [status, error, next_at, status, at, 1 if attempt else 0, *ids],
    )


def interrupted(conn: sqlite3.Connection) -> list[int]:
    """Alerts whose email was in 'sending' when a run stopped: outcome unknown, never resent."""
    ids = [int(r[0]) for r in conn.execute("SELECT id FROM alerts WHERE email_status = 'sending'")]
    if ids:
        conn.execute(f"UPDATE alerts SET email_status = 'unconfirmed' WHERE id IN ({','.join('?' * len(ids))})", ids)
    return ids


def alert_counts(conn: sqlite3.Connection) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {"email": {}, "webhook": {}}
    for channel in out:
        col = _channel(channel)
        for status, n in conn.execute(f"SELECT {col}_status, count(*) FROM alerts GROUP BY 1"):
            out[channel][str(status)] = int(n)
    return out


def _channel(channel: str) -> str:
    if channel not in ("email", "webhook"):
        raise ValueError(f"unknown alert channel {channel!r}")
    return channel
