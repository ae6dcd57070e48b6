"""Theme statistics for triage: volume, sentiment, scores, trend and channels.

Membership (merge chains included) and every figure are defined once, in
:mod:`feedback_engine.themes.queries`: volume = distinct member items; a member's sentiment
is that of its sentences in the theme when it has any, else the item's own. ``actions list``
and the recipients of an action read the same definition.

Trend: ``now`` defaults to the newest ``feedback.created_at`` in the store (so figures on a fixed
data set do not drift with the clock); pass ``now`` for another reference. ``change_7d`` compares
(now-7d, now] with (now-14d, now-7d]; ``change_30d`` likewise with 30 days. ``pct`` is ``None``
when the earlier window is empty.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from feedback_engine.themes import persist as ts
from feedback_engine.themes import queries as tq
from feedback_engine.themes.aggregate import theme_table
from feedback_engine.themes.queries import Member, parse_time, sentiment_by_channel

if TYPE_CHECKING:
    from feedback_engine.store import Store

__all__ = ["Member", "parse_time", "summarize", "sentiment_by_channel", "reference_time", "trend_text"]
__all__ += ["list_themes", "show_theme"]


def summarize(members: list[Member], now: datetime | None) -> dict[str, Any]:
    """Stats of one theme's members (see :func:`theme_queries.figures`)."""
    return tq.figures(members, now)


def reference_time(store: Store, now: str | datetime | None = None) -> datetime | None:
    """``now`` if given, else the newest ``feedback.created_at``."""
    if now is not None:
        return parse_time(now)
    return parse_time(store.scalar("SELECT max(created_at) FROM feedback"))


def trend_text(change: dict[str, Any] | None) -> str:
    """``"+25% 7d"`` style summary for tables."""
    if not change:
        return ""
    if change["pct"] is None:
        return f"new ({change['current']}) 7d" if change["current"] else "-"
    return f"{change['pct'] * 100:+.0f}% 7d"


def list_themes(store: Store, now: str | datetime | None = None) -> list[dict[str, Any]]:
    """Active themes with their stats, largest first (aggregated in SQLite: :mod:`.aggregate`)."""
    ts.require_analysis(store)
    ref = reference_time(store, now)
    table = theme_table(store.conn, ref)
    out = []
    for row in ts.theme_rows(store, ("active",)):
        stats = table.get(row["id"]) or tq.figures([], ref)
        out.append(
            {
                "id": row["id"],
                "label": row["label"],
                "origin": row["origin"],
                "pinned": bool(row["label_pinned"]),
                **stats,
                "trend": trend_text(stats.get("change_7d")),
            }
        )
    out.sort(key=lambda r: (-r["volume"], r["id"]))
    return out


def show_theme(store: Store, theme_id: int, now: str | datetime | None = None) -> dict[str, Any]:
    """One theme (merged ids resolve to their survivor): terms, quotes, stats, sentiment by channel."""
    ts.require_analysis(store)
    row = ts.get_theme(store, theme_id)
    survivors = tq.resolve_survivors(store.conn)
    survivor = tq.survivor_of(survivors, row["id"])
    if survivor != row["id"]:
        row = ts.get_theme(store, survivor)
    members = list(tq.theme_members(store.conn, [survivor], survivors)[survivor].values())
    quote_ids = json.loads(row["quotes"] or "[]")
    quotes = []
    for fid in quote_ids:
        hit = store.query(
            "SELECT f.id, f.channel, f.created_at, a.redacted_text, a.sentiment FROM feedback f "
            "JOIN analysis a ON a.feedback_id = f.id WHERE f.id = ?",
            (fid,),
        )
        if hit:
            quotes.append({"feedback_id": fid, **{k: v for k, v in hit[0].items() if k != "id"}})
    merged_from = [r["id"] for r in store.query("SELECT id FROM themes WHERE merged_into = ?", (row["id"],))]
    return {
        "id": row["id"],
        "requested_id": int(theme_id),
        "label": row["label"],
        "description": row["description"],
        "origin": row["origin"],
        "status": row["status"],
        "pinned": bool(row["label_pinned"]),
        "merged_from": merged_from,
        "terms": [{"term": t, "weight": round(float(w), 4)} for t, w in json.loads(row["terms"] or "[]")],
        "quotes": quotes,
        "stats": tq.figures(members, reference_time(store, now)),
        "sentiment_by_channel": sentiment_by_channel(members),
    }
