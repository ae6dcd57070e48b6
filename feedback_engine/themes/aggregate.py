"""The figures of every theme at once, aggregated in SQLite: what triage shows.

:func:`feedback_engine.themes.queries.figures` defines each figure over :class:`~.queries.Member`
objects; building 100,000 of them (and a ``Counter`` per member for its sentiment) took 2.0 s of
``themes list`` at 100,000 items. :func:`theme_table` computes the same figures with the same
rules in one SQL statement per table (members, then top channels), so no per-item Python runs:

- membership: an item counts for the survivor of every theme one of its assignments points at;
- a member's sentiment: its labelled sentences in the theme -- their majority label, a tie going
  to the strongest sentence of the tied labels (the lowest index among equals), and their mean
  score -- else the item's own label and score;
- volume, shares of negative/positive among labelled members, mean sentiment, NPS (mean, score,
  responses), CSAT, rating, top three channels (ties by channel name, as ``figures`` orders them),
  and the 7- and 30-day change counted on ``feedback.created_at`` up to ``now``.

Times are integer milliseconds since the epoch (``julianday`` of the ISO text, which reads ``Z``
and offsets as ``parse_time`` does); a member counts in the windows by its whole days before ``now``. Filters narrow the members to items of one
channel, platform, language or customer segment, and to a date range. ``tests/themes/
test_aggregate.py`` checks every figure against ``figures`` on varied data.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from feedback_engine.themes.queries import parse_time, resolve_survivors

__all__ = ["Filters", "day_bounds", "theme_table"]

_MS = "CAST(round((julianday({col}) - 2440587.5) * 86400000) AS INTEGER)"

# An item with several assignment rows in one theme (a review: the item and its sentences) is
# grouped per (theme, item); one with a single row (most items) needs no grouping, which is what
# makes the table fast: only the few items of several rows go through a sort.
_SHARED = """
EXISTS (SELECT 1 FROM theme_assignments u WHERE u.feedback_id = t.feedback_id
        AND u.sentence_idx != t.sentence_idx AND {theme_u} = {theme})
"""

SINGLES = """
WITH m AS (
    SELECT {theme} AS theme, f.channel, f.nps, f.csat, f.rating, {bucket} AS bucket,
           CASE WHEN s.sentiment IS NOT NULL THEN s.sentiment ELSE a.sentiment END AS lab,
           CASE WHEN s.sentiment IS NOT NULL THEN coalesce(s.sentiment_score, 0.0) ELSE a.sentiment_score END
               AS score
    FROM theme_assignments t NOT INDEXED
    JOIN feedback f ON f.id = t.feedback_id
    {joins}
    LEFT JOIN analysis a ON a.feedback_id = t.feedback_id
    LEFT JOIN sentences s ON t.sentence_idx >= 0 AND s.feedback_id = t.feedback_id AND s.idx = t.sentence_idx
    WHERE NOT {shared} {where}
)
"""

MEMBERS = """
WITH rows AS (
    SELECT {theme} AS theme, t.feedback_id AS fid, t.sentence_idx AS idx, s.sentiment AS lab,
           coalesce(s.sentiment_score, 0.0) AS sc
    FROM theme_assignments t NOT INDEXED
    JOIN feedback f ON f.id = t.feedback_id
    {joins}
    LEFT JOIN sentences s ON t.sentence_idx >= 0 AND s.feedback_id = t.feedback_id AND s.idx = t.sentence_idx
    WHERE {shared} {where}
),
members AS (
    SELECT theme, fid, count(lab) AS n_lab, avg(CASE WHEN lab IS NOT NULL THEN sc END) AS s_mean,
           min(lab) AS lo, max(lab) AS hi
    FROM rows GROUP BY theme, fid
),
mixed AS (SELECT theme, fid FROM members WHERE lo != hi),
labs AS (
    SELECT r.theme, r.fid, r.lab, count(*) AS c FROM rows r JOIN mixed USING (theme, fid)
    WHERE r.lab IS NOT NULL GROUP BY r.theme, r.fid, r.lab
),
best AS (SELECT theme, fid, max(c) AS mc FROM labs GROUP BY theme, fid),
pick AS (
    SELECT r.theme, r.fid, r.lab,
           row_number() OVER (PARTITION BY r.theme, r.fid ORDER BY abs(r.sc) DESC, r.idx) AS rn
    FROM rows r JOIN labs l ON l.theme = r.theme AND l.fid = r.fid AND l.lab = r.lab
    JOIN best b ON b.theme = r.theme AND b.fid = r.fid AND b.mc = l.c
),
m AS (
    SELECT mb.theme, f.channel, f.nps, f.csat, f.rating, {bucket} AS bucket,
           CASE WHEN mb.n_lab = 0 THEN a.sentiment WHEN mb.lo = mb.hi THEN mb.lo ELSE p.lab END AS lab,
           CASE WHEN mb.n_lab = 0 THEN a.sentiment_score ELSE mb.s_mean END AS score
    FROM members mb
    JOIN feedback f ON f.id = mb.fid
    LEFT JOIN analysis a ON a.feedback_id = mb.fid
    LEFT JOIN pick p ON p.theme = mb.theme AND p.fid = mb.fid AND p.rn = 1
)
"""

# one row per (theme, channel, day of age): the sums add up per theme, the counts give the top
# channels and the 7- and 30-day windows. The day index is computed once per member: comparing the
# time with four bounds per row cost more than the rest of the query.
FIGURES = """
SELECT theme, channel, bucket, count(*), sum(lab IS NOT NULL AND lab != ''), sum(lab = 'negative'),
       sum(lab = 'positive'), sum(CAST(round(score * 1000000) AS INTEGER)), count(score), sum(nps), count(nps), sum(nps >= 9), sum(nps <= 6),
       sum(csat), count(csat), sum(rating), count(rating)
FROM m GROUP BY theme, channel, bucket
"""
_SUMS = 14  # the columns after (theme, channel, bucket)
_DAY = 86_400_000
# whole days from the member's time back from ``now`` (floor; -1: after now; 60: 60 days or more)
_BUCKET = f"min(max(CAST((:now - {{ms}} + 1000 * {_DAY}) / {_DAY} AS INTEGER) - 1000, -1), 60)"


@dataclass(frozen=True)
class Filters:
    """Which items count: one channel, platform, language (``analysis.language``), customer
    segment, and ``created_at`` in [since, until] (aware datetimes); None: any."""

    channel: str | None = None
    platform: str | None = None
    language: str | None = None
    segment: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def sql(self) -> tuple[str, str, dict[str, Any]]:
        """(joins, ``AND ...`` conditions, parameters) over ``feedback f`` for :data:`SINGLES` and :data:`MEMBERS`."""
        joins: list[str] = []
        where: list[str] = []
        params: dict[str, Any] = {}
        if self.channel is not None:
            where.append("f.channel = :channel")
            params["channel"] = self.channel
        if self.platform is not None:
            where.append("f.platform = :platform")
            params["platform"] = self.platform
        if self.language is not None:
            joins.append("LEFT JOIN analysis fa ON fa.feedback_id = f.id")
            where.append("fa.language = :language")
            params["language"] = self.language
        if self.segment is not None:
            joins.append("LEFT JOIN customers fc ON fc.id = f.customer_id")
            where.append("fc.segment = :segment")
            params["segment"] = self.segment
        ms = _MS.format(col="f.created_at")
        if self.since is not None:
            where.append(f"{ms} >= :since")
            params["since"] = _ms(self.since)
        if self.until is not None:
            where.append(f"{ms} <= :until")
            params["until"] = _ms(self.until)
        return " ".join(joins), "".join(f" AND {w}" for w in where), params


def _ms(moment: datetime) -> int:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return round(aware.timestamp() * 1000)


def _mean(total: float | None, n: int) -> float | None:
    return round(total / n, 3) if n and total is not None else None


def _change(current: int, previous: int) -> dict[str, Any]:
    pct = round((current - previous) / previous, 3) if previous else None
    return {"current": current, "previous": previous, "change": current - previous, "pct": pct}


def theme_table(
    conn: sqlite3.Connection,
    now: datetime | None = None,
    filters: Filters | None = None,
    survivors: dict[int, int] | None = None,
) -> dict[int, dict[str, Any]]:
    """Surviving theme id -> the figures of ``queries.figures`` over its members (those the
    ``filters`` keep), for every theme with at least one; ``change_7d``/``change_30d`` given ``now``."""
    survivors = resolve_survivors(conn) if survivors is None else survivors
    if not survivors:
        return {}
    joins, where, params = (filters or Filters()).sql()
    moved = {int(t): int(s) for t, s in survivors.items() if int(t) != int(s)}  # merged themes: integers only

    def theme(alias: str) -> str:
        cases = " ".join(f"WHEN {t} THEN {s}" for t, s in sorted(moved.items()))
        # unary + keeps the planner off the theme_id index in the EXISTS (the key index finds an item's rows)
        return f"CASE +{alias}.theme_id {cases} ELSE {alias}.theme_id END" if moved else f"+{alias}.theme_id"

    shared = _SHARED.format(theme=theme("t"), theme_u=theme("u"))
    bucket = _BUCKET.format(ms=_MS.format(col="f.created_at")) if now is not None else "NULL"
    parts = {"theme": theme("t"), "joins": joins, "where": where, "bucket": bucket, "shared": shared}
    if now is not None:
        params["now"] = _ms(now)
    sums: dict[int, list[float]] = {}
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    windows: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # current, previous: 7 days, 30 days
    for sql in (SINGLES.format(**parts) + FIGURES, MEMBERS.format(**parts) + FIGURES):
        for row in conn.execute(sql, params):
            theme_id, channel, day, values = int(row[0]), str(row[1]), row[2], row[3:]
            total = sums.setdefault(theme_id, [0] * _SUMS)
            for i, value in enumerate(values):
                if value is not None:
                    total[i] += value
            n = int(values[0])
            counts[theme_id][channel] += n
            if day is not None and day >= 0:
                w = windows[theme_id]
                w[0] += n if day < 7 else 0
                w[1] += n if 7 <= day < 14 else 0
                w[2] += n if day < 30 else 0
                w[3] += n if 30 <= day < 60 else 0
    out: dict[int, dict[str, Any]] = {}
    for theme_id, total in sums.items():
        volume, labelled, neg, pos, s_sum, s_n, nps_sum, nps_n, prom, detr = total[:10]
        csat_sum, csat_n, rating_sum, rating_n = total[10:]
        top = sorted(counts[theme_id].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        stats: dict[str, Any] = {
            "volume": int(volume),
            "share_negative": round(neg / labelled, 3) if labelled else None,
            "share_positive": round(pos / labelled, 3) if labelled else None,
            "mean_sentiment": round(s_sum / s_n / 1_000_000, 3) if s_n else None,  # exact sums: see queries.micro
            "mean_nps": _mean(nps_sum, int(nps_n)),
            "nps": round(100 * (prom - detr) / nps_n, 1) if nps_n else None,
            "nps_responses": int(nps_n),
            "mean_csat": _mean(csat_sum, int(csat_n)),
            "mean_rating": _mean(rating_sum, int(rating_n)),
            "top_channels": [{"channel": c, "items": n} for c, n in top],
        }
        if now is not None:
            c7, p7, c30, p30 = windows[theme_id]
            stats["change_7d"] = _change(c7, p7)
            stats["change_30d"] = _change(c30, p30)
        out[theme_id] = stats
    return out


def day_bounds(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """ISO dates as the start of ``since`` and the last second of ``until`` (UTC)."""
    start, end = parse_time(since), parse_time(until)
    if end is not None and until is not None and len(until) <= 10:
        end = end + timedelta(hours=23, minutes=59, seconds=59)
    return start, end
