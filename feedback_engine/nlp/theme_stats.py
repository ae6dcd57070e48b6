"""Theme statistics for triage: volume, sentiment, scores, trend and channels.

Counting unit: an (item, theme) pair. An item counts for every theme it touches -- its own
item-level theme and the themes of its sentences -- so volumes add up to more than the item count.
The sentiment of a pair is that of the item's sentences in the theme (majority label, ties to the
strongest sentence; mean score) when it has any, else the item's own sentiment.

Trend: ``now`` defaults to the newest ``feedback.created_at`` in the store (so figures on a fixed
data set do not drift with the clock); pass ``now`` for another reference. ``change_7d`` compares
(now-7d, now] with (now-14d, now-7d]; ``change_30d`` likewise with 30 days. ``pct`` is ``None``
when the earlier window is empty.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from feedback_engine.nlp import theme_store as ts

if TYPE_CHECKING:
    from feedback_engine.store import Store

PAIR_SQL = """
SELECT t.feedback_id, t.sentence_idx, t.theme_id, f.channel, f.platform, f.created_at, f.nps, f.csat, f.rating,
       a.sentiment, a.sentiment_score, s.sentiment, s.sentiment_score
FROM theme_assignments t
JOIN feedback f ON f.id = t.feedback_id
LEFT JOIN analysis a ON a.feedback_id = t.feedback_id
LEFT JOIN sentences s ON s.feedback_id = t.feedback_id AND s.idx = t.sentence_idx
"""


def parse_time(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        try:
            dt = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


@dataclass
class Pair:
    """One (item, theme) pair and what is known about it."""

    channel: str
    created: datetime | None
    nps: int | None
    csat: int | None
    rating: int | None
    item_label: str | None = None
    item_score: float | None = None
    sentences: list[tuple[str, float]] = field(default_factory=list)

    def sentiment(self) -> tuple[str | None, float | None]:
        if self.sentences:
            counts = Counter(label for label, _ in self.sentences if label)
            top = max(counts.values()) if counts else 0
            tied = {label for label, c in counts.items() if c == top}
            strongest = max((s for s in self.sentences if s[0] in tied), key=lambda s: abs(s[1] or 0.0), default=None)
            scores = [s for _, s in self.sentences if s is not None]
            return (strongest[0] if strongest else None), (sum(scores) / len(scores) if scores else None)
        return self.item_label, self.item_score


def _pairs(store: Store) -> dict[int, dict[int, Pair]]:
    resolved = ts.resolve_map(store)
    out: dict[int, dict[int, Pair]] = defaultdict(dict)
    for (
        fid,
        sidx,
        tid,
        channel,
        _platform,
        created,
        nps,
        csat,
        rating,
        a_lab,
        a_score,
        s_lab,
        s_score,
    ) in store.conn.execute(PAIR_SQL):
        theme = resolved.get(tid, tid)
        pair = out[theme].get(fid)
        if pair is None:
            pair = out[theme][fid] = Pair(channel, parse_time(created), nps, csat, rating, a_lab, a_score)
        if sidx >= 0 and s_lab is not None:
            pair.sentences.append((s_lab, s_score if s_score is not None else 0.0))
    return out


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def _change(pairs: list[Pair], now: datetime, days: int) -> dict[str, Any]:
    cur_start, prev_start = now - timedelta(days=days), now - timedelta(days=2 * days)
    current = sum(1 for p in pairs if p.created and cur_start < p.created <= now)
    previous = sum(1 for p in pairs if p.created and prev_start < p.created <= cur_start)
    pct = round((current - previous) / previous, 3) if previous else None
    return {"current": current, "previous": previous, "change": current - previous, "pct": pct}


def summarize(pairs: list[Pair], now: datetime | None) -> dict[str, Any]:
    """Stats of one theme's pairs."""
    sentiments = [p.sentiment() for p in pairs]
    labelled = [lab for lab, _ in sentiments if lab]
    nps = [p.nps for p in pairs if p.nps is not None]
    stats: dict[str, Any] = {
        "volume": len(pairs),
        "share_negative": round(labelled.count("negative") / len(labelled), 3) if labelled else None,
        "share_positive": round(labelled.count("positive") / len(labelled), 3) if labelled else None,
        "mean_sentiment": _mean([s for _, s in sentiments if s is not None]),
        "mean_nps": _mean([float(v) for v in nps]),
        "nps": round(100 * (sum(v >= 9 for v in nps) - sum(v <= 6 for v in nps)) / len(nps), 1) if nps else None,
        "nps_responses": len(nps),
        "mean_csat": _mean([float(p.csat) for p in pairs if p.csat is not None]),
        "mean_rating": _mean([float(p.rating) for p in pairs if p.rating is not None]),
        "top_channels": [{"channel": c, "items": n} for c, n in Counter(p.channel for p in pairs).most_common(3)],
    }
    if now is not None:
        stats["change_7d"] = _change(pairs, now, 7)
        stats["change_30d"] = _change(pairs, now, 30)
    return stats


def sentiment_by_channel(pairs: list[Pair]) -> list[dict[str, Any]]:
    groups: dict[str, list[Pair]] = defaultdict(list)
    for p in pairs:
        groups[p.channel].append(p)
    rows = []
    for channel, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        labels = Counter(p.sentiment()[0] for p in members)
        scores = [s for _, s in (p.sentiment() for p in members) if s is not None]
        rows.append(
            {
                "channel": channel,
                "items": len(members),
                "negative": labels.get("negative", 0),
                "neutral": labels.get("neutral", 0),
                "positive": labels.get("positive", 0),
                "mean_sentiment": _mean(scores),
            }
        )
    return rows


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
    """Active themes with their stats, largest first."""
    ts.require_analysis(store)
    ref = reference_time(store, now)
    pairs = _pairs(store)
    out = []
    for row in ts.theme_rows(store, ("active",)):
        stats = summarize(list(pairs.get(row["id"], {}).values()), ref)
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
    survivor = ts.resolve_map(store).get(row["id"], row["id"])
    if survivor != row["id"]:
        row = ts.get_theme(store, survivor)
    pairs = list(_pairs(store).get(row["id"], {}).values())
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
        "stats": summarize(pairs, reference_time(store, now)),
        "sentiment_by_channel": sentiment_by_channel(pairs),
    }
