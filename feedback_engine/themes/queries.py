"""Theme membership and figures: the one definition that ``themes list/show``, ``actions
list/show`` and the recipients of an action all read.

Survivors: a theme merged into another (``themes.merged_into``, through chains of any length,
cycle-safe) counts for the theme at the end of its chain, its survivor.

Membership: an item is a member of a theme when any of its ``theme_assignments`` rows -- the
item as a whole (``sentence_idx = -1``) or one of its sentences -- points at the theme or at a
theme merged into it. A theme's **volume** is the number of distinct member items; an item
counts for every theme it touches, so volumes add up to more than the item count.

Sentiment of a member: what the item says *about that theme*. When sentences of the item are
assigned to the theme (or to themes merged into it), the member's score is the mean of those
sentences' scores and its label their majority label (ties go to the strongest sentence);
otherwise (the item is in the theme as a whole only) the item's own sentiment. The **mean
sentiment** of a theme is the mean of its members' scores; ``share_negative`` / ``share_positive``
are shares of its members' labels. For a set of themes (an action on several themes) a member's
sentences are those in any of the themes, so an item is counted once; an item linked to an
action by hand but in none of its themes counts with its own sentiment.

Why sentences: a mixed review ("Support was great. Price is too high.") is neutral as a whole,
but what it says about pricing is negative; averaging the item-level score would pull every
theme of a mixed item towards neutral. (Until this module, ``actions list`` averaged the
item-level score over the same items while ``themes list`` used the sentences, so one theme had
two mean sentiments.)

Figures also give NPS (mean and score), CSAT, rating, top channels and, given ``now``, the
change over 7 and 30 days by ``feedback.created_at``: (now-7d, now] against (now-14d, now-7d];
``pct`` is ``None`` when the earlier window is empty.
"""

from __future__ import annotations

import gc
import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property, wraps
from typing import Any, ParamSpec, TypeVar

import numpy as np

from feedback_engine.themes.words import stem

__all__ = [
    "Member",
    "resolve_survivors",
    "survivor_of",
    "member_themes",
    "theme_members",
    "theme_items",
    "member_pairs",
    "item_members",
    "union_members",
    "figures",
    "theme_figures",
    "sentiment_by_channel",
    "json_list",
    "parse_time",
    "similar_themes",
]

MEMBER_SQL = """
SELECT t.feedback_id, t.sentence_idx, t.theme_id, f.channel, f.created_at, f.nps, f.csat, f.rating,
       a.sentiment, a.sentiment_score, s.sentiment, s.sentiment_score, a.aspect_sentiment, s.aspect_sentiment
FROM theme_assignments t
JOIN feedback f ON f.id = t.feedback_id
LEFT JOIN analysis a ON a.feedback_id = t.feedback_id
LEFT JOIN sentences s ON s.feedback_id = t.feedback_id AND s.idx = t.sentence_idx
"""

ITEM_SQL = """
SELECT f.id, f.channel, f.created_at, f.nps, f.csat, f.rating, a.sentiment, a.sentiment_score
FROM feedback f LEFT JOIN analysis a ON a.feedback_id = f.id
WHERE f.id IN ({marks})
"""

CHUNK = 500


def parse_time(value: str | datetime | None) -> datetime | None:
    """ISO 8601 text (``Z`` or offset, or a bare date) or a datetime, as an aware datetime."""
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


P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Member:
    """One member item of a theme (or of a set of themes) and what it says about it."""

    feedback_id: int
    channel: str
    created_at: str | datetime | None  # as stored; parsed on first use (:attr:`created`)
    nps: int | None
    csat: int | None
    rating: int | None
    item_label: str | None = None
    item_score: float | None = None
    sentences: dict[int, tuple[str, float]] = field(default_factory=dict)  # idx -> (label, score), in the theme

    @cached_property
    def created(self) -> datetime | None:
        """``created_at`` as an aware datetime: parsed when asked, since reading a million members
        for an analysis that never looks at dates spent 2 of its 5 seconds parsing them."""
        return parse_time(self.created_at)

    def sentiment(self) -> tuple[str | None, float | None]:
        """(label, score) of what the item says about the theme: its sentences there, else itself."""
        if self.sentences:
            found = [self.sentences[i] for i in sorted(self.sentences)]
            counts = Counter(label for label, _ in found if label)
            top = max(counts.values()) if counts else 0
            tied = {label for label, c in counts.items() if c == top}
            strongest = max((s for s in found if s[0] in tied), key=lambda s: abs(s[1] or 0.0), default=None)
            scores = [s for _, s in found if s is not None]
            return (strongest[0] if strongest else None), (sum(scores) / len(scores) if scores else None)
        return self.item_label, self.item_score


# -- membership ------------------------------------------------------------------------------


def resolve_survivors(conn: sqlite3.Connection) -> dict[int, int]:
    """Every theme id mapped to the theme that survives it (itself unless merged); cycle-safe."""
    parent: dict[int, int | None] = {
        int(tid): (int(into) if into is not None else None)
        for tid, into in conn.execute("SELECT id, merged_into FROM themes")
    }
    survivors: dict[int, int] = {}
    for tid in parent:
        seen = {tid}
        current = tid
        nxt = parent[current]
        while nxt is not None and nxt in parent and nxt not in seen:
            current = nxt
            seen.add(current)
            nxt = parent[current]
        survivors[tid] = current
    return survivors


def survivor_of(survivors: dict[int, int], theme_id: int) -> int:
    return survivors.get(int(theme_id), int(theme_id))


def member_themes(survivors: dict[int, int], theme_ids: Iterable[int]) -> set[int]:
    """All theme ids whose assignments count for the (resolved) themes given."""
    targets = {survivor_of(survivors, t) for t in theme_ids}
    return {tid for tid, surv in survivors.items() if surv in targets} | targets


def _add_row(
    out: dict[int, dict[int, Member]], theme: int, row: tuple[Any, ...], subjects: dict[int, frozenset[str]]
) -> None:
    fid, sidx, tid, channel, created, nps, csat, rating, a_lab, a_score, s_lab, s_score, a_asp, s_asp = row
    words = subjects.get(int(tid), frozenset())
    member = out[theme].get(fid)
    if member is None:
        if sidx < 0 and (own := stance(a_asp, words)) is not None:
            a_lab, a_score = own
        member = out[theme][fid] = Member(int(fid), channel, created, nps, csat, rating, a_lab, a_score)
    if sidx >= 0 and s_lab is not None:
        if (own := stance(s_asp, words)) is not None:
            s_lab, s_score = own
        member.sentences[int(sidx)] = (s_lab, s_score if s_score is not None else 0.0)


def subject_stems(conn: sqlite3.Connection) -> dict[int, frozenset[str]]:
    """Theme id -> the stems that say what it is about: its anchor words (those of its anchor
    phrases too) and the words of its top three terms. What :func:`stance` matches aspect terms on."""
    out: dict[int, frozenset[str]] = {}
    for tid, anchors, terms in conn.execute("SELECT id, anchors, terms FROM themes"):
        named = [str(a) for a in json_list(anchors)] + [
            str(t[0]) for t in json_list(terms)[:3] if isinstance(t, list) and t
        ]
        out[int(tid)] = frozenset(stem(w) for phrase in named for w in phrase.lower().split() if len(w) >= 3)
    return out


def json_list(raw: Any) -> list[Any]:
    """A stored JSON list (``themes.anchors``, ``themes.terms``), or ``[]`` for NULL, bad JSON or another type."""
    try:
        value = json.loads(raw) if raw else []
    except (TypeError, ValueError):
        return []
    return value if isinstance(value, list) else []


def stance(aspect_sentiment: str | None, words: frozenset[str]) -> tuple[str, float] | None:
    """What a unit with opposite opinions says about one theme: the sentiment of its aspect terms
    that name the theme's ``words`` ("Support was lovely but the price went up 40%" is negative for
    the price theme, positive for support), or None when the unit is not mixed or no term (or no
    single polarity) tells. ``aspect_sentiment``: the stored JSON of :mod:`feedback_engine.nlp.clauses`."""
    if (
        not words
        or not aspect_sentiment
        or '"negative"' not in aspect_sentiment
        or '"positive"' not in aspect_sentiment
    ):
        return None
    try:
        terms = json.loads(aspect_sentiment)
    except (TypeError, ValueError):
        return None
    if not isinstance(terms, dict):
        return None
    hits = [
        v
        for term, v in terms.items()
        if isinstance(v, dict) and v.get("label") in _LABELS and any(stem(w) in words for w in str(term).split())
    ]
    if not hits or len({v["label"] for v in hits}) != 1:
        return None
    scores = [float(v.get("score") or 0.0) for v in hits]
    return str(hits[0]["label"]), sum(scores) / len(scores)


_LABELS = frozenset({"negative", "neutral", "positive"})


def _collector_paused(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` with the cyclic garbage collector paused: members hold no cycles, and with a large
    heap its passes over a million new objects took a quarter of :func:`theme_members`' time."""

    @wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return run


@_collector_paused
def theme_members(
    conn: sqlite3.Connection,
    theme_ids: Iterable[int] | None = None,
    survivors: dict[int, int] | None = None,
    *,
    created_since: str | None = None,
    created_before: str | None = None,
) -> dict[int, dict[int, Member]]:
    """Surviving theme id -> feedback id -> :class:`Member`: for the survivors of ``theme_ids``
    (every theme when None). A requested theme without members maps to ``{}``.
    ``created_since`` / ``created_before`` (ISO text, compared with ``feedback.created_at``) keep
    only the members written in that span (the same membership, read for a time window only)."""
    survivors = resolve_survivors(conn) if survivors is None else survivors
    subjects = subject_stems(conn)
    out: dict[int, dict[int, Member]] = defaultdict(dict)
    span, span_args = [], []
    if created_since is not None:
        span.append("f.created_at >= ?")
        span_args.append(created_since)
    if created_before is not None:
        span.append("f.created_at < ?")
        span_args.append(created_before)
    if theme_ids is None:
        sql = MEMBER_SQL + (f"WHERE {' AND '.join(span)}" if span else "")
        for row in conn.execute(sql, span_args):
            _add_row(out, survivor_of(survivors, row[2]), row, subjects)
        return dict(out)
    targets = {survivor_of(survivors, t) for t in theme_ids}
    members = sorted(member_themes(survivors, targets))
    for start in range(0, len(members), CHUNK):
        chunk = members[start : start + CHUNK]
        sql = MEMBER_SQL + f"WHERE t.theme_id IN ({','.join('?' * len(chunk))})" + "".join(f" AND {c}" for c in span)
        for row in conn.execute(sql, [*chunk, *span_args]):
            _add_row(out, survivor_of(survivors, row[2]), row, subjects)
    return {t: out.get(t, {}) for t in sorted(targets)}


PAIR_SQL = """
SELECT DISTINCT t.feedback_id, t.theme_id FROM theme_assignments t JOIN feedback f ON f.id = t.feedback_id
"""
SCORED = frozenset({"nps", "csat", "rating"})


def member_pairs(
    conn: sqlite3.Connection,
    survivors: dict[int, int] | None = None,
    *,
    scored: str | None = None,
    channel: str | None = None,
    created_since: str | None = None,
    created_before: str | None = None,
) -> list[tuple[int, int]]:
    """Distinct (feedback id, surviving theme id) pairs: the membership of :func:`theme_members`
    (an item is a member of the survivor of every theme one of its assignments points at) without
    what the members say, for analyses that only need who is in a theme. ``scored`` keeps items
    with that score (nps, csat, rating); ``channel`` and the ``created_*`` bounds as in theme_members."""
    survivors = resolve_survivors(conn) if survivors is None else survivors
    where, args = [], []
    if scored is not None:
        if scored not in SCORED:
            raise ValueError(f"scored must be one of {sorted(SCORED)}")
        where.append(f"f.{scored} IS NOT NULL")
    if channel is not None:
        where.append("f.channel = ?")
        args.append(channel)
    if created_since is not None:
        where.append("f.created_at >= ?")
        args.append(created_since)
    if created_before is not None:
        where.append("f.created_at < ?")
        args.append(created_before)
    sql = PAIR_SQL + (f"WHERE {' AND '.join(where)}" if where else "")
    merged = {t for t, s in survivors.items() if s != t}
    rows = conn.execute(sql, args).fetchall()
    if not merged:
        return rows
    return sorted({(fid, survivors.get(tid, tid)) for fid, tid in rows})


def theme_items(
    conn: sqlite3.Connection, theme_ids: Iterable[int], survivors: dict[int, int] | None = None
) -> set[int]:
    """The member items of the themes given (and of the themes merged into them)."""
    return {fid for group in theme_members(conn, theme_ids, survivors).values() for fid in group}


def item_members(conn: sqlite3.Connection, feedback_ids: Iterable[int]) -> dict[int, Member]:
    """Items as members in their own right (their item-level sentiment), e.g. items linked to an action."""
    ids = sorted({int(f) for f in feedback_ids})
    out: dict[int, Member] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for fid, channel, created, nps, csat, rating, lab, score in conn.execute(
            ITEM_SQL.format(marks=",".join("?" * len(chunk))), chunk
        ):
            out[int(fid)] = Member(int(fid), channel, created, nps, csat, rating, lab, score)
    return out


def union_members(groups: Iterable[dict[int, Member]]) -> dict[int, Member]:
    """Members of several themes, each item once, with its sentences in any of them."""
    out: dict[int, Member] = {}
    for group in groups:
        for fid, member in group.items():
            seen = out.get(fid)
            if seen is None:
                out[fid] = replace(member, sentences=dict(member.sentences))
            else:
                seen.sentences.update(member.sentences)
    return out


# -- figures ---------------------------------------------------------------------------------


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def micro(score: float) -> int:
    """A score in millionths, rounded half away from zero as SQLite's ``round`` does: sums of these
    are exact, so the mean sentiment is the same whatever order the scores are added in (the SQL
    theme table of :mod:`.aggregate` adds them in another order than a Python loop)."""
    scaled = score * 1_000_000
    return int(scaled + 0.5) if scaled >= 0 else -int(-scaled + 0.5)


def mean_score(scores: list[float]) -> float | None:
    """The mean of sentiment scores to 3 decimals, through exact sums of :func:`micro`."""
    return round(sum(micro(s) for s in scores) / len(scores) / 1_000_000, 3) if scores else None


def _change(members: list[Member], now: datetime, days: int) -> dict[str, Any]:
    cur_start, prev_start = now - timedelta(days=days), now - timedelta(days=2 * days)
    current = sum(1 for m in members if m.created and cur_start < m.created <= now)
    previous = sum(1 for m in members if m.created and prev_start < m.created <= cur_start)
    pct = round((current - previous) / previous, 3) if previous else None
    return {"current": current, "previous": previous, "change": current - previous, "pct": pct}


def figures(members: Iterable[Member], now: datetime | None = None) -> dict[str, Any]:
    """Volume, sentiment, scores, channels (and, given ``now``, the 7- and 30-day change) of members."""
    group = list(members)
    sentiments = [m.sentiment() for m in group]
    labelled = [lab for lab, _ in sentiments if lab]
    nps = [m.nps for m in group if m.nps is not None]
    stats: dict[str, Any] = {
        "volume": len(group),
        "share_negative": round(labelled.count("negative") / len(labelled), 3) if labelled else None,
        "share_positive": round(labelled.count("positive") / len(labelled), 3) if labelled else None,
        "mean_sentiment": mean_score([s for _, s in sentiments if s is not None]),
        "mean_nps": _mean([float(v) for v in nps]),
        "nps": round(100 * (sum(v >= 9 for v in nps) - sum(v <= 6 for v in nps)) / len(nps), 1) if nps else None,
        "nps_responses": len(nps),
        "mean_csat": _mean([float(m.csat) for m in group if m.csat is not None]),
        "mean_rating": _mean([float(m.rating) for m in group if m.rating is not None]),
        "top_channels": [
            {"channel": c, "items": n}
            for c, n in sorted(Counter(m.channel for m in group).items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        ],
    }
    if now is not None:
        stats["change_7d"] = _change(group, now, 7)
        stats["change_30d"] = _change(group, now, 30)
    return stats


def theme_figures(
    conn: sqlite3.Connection,
    theme_ids: Iterable[int] | None = None,
    now: datetime | None = None,
    survivors: dict[int, int] | None = None,
) -> dict[int, dict[str, Any]]:
    """Surviving theme id -> :func:`figures` of its members, for the survivors of ``theme_ids``
    (every theme with members when None)."""
    groups = theme_members(conn, theme_ids, survivors)
    return {tid: figures(group.values(), now) for tid, group in groups.items()}


def sentiment_by_channel(members: Iterable[Member]) -> list[dict[str, Any]]:
    groups: dict[str, list[Member]] = defaultdict(list)
    for m in members:
        groups[m.channel].append(m)
    rows = []
    for channel, group in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        sentiments = [m.sentiment() for m in group]
        labels = Counter(lab for lab, _ in sentiments)
        rows.append(
            {
                "channel": channel,
                "items": len(group),
                "negative": labels.get("negative", 0),
                "neutral": labels.get("neutral", 0),
                "positive": labels.get("positive", 0),
                "mean_sentiment": _mean([s for _, s in sentiments if s is not None]),
            }
        )
    return rows


#: Themes whose centroids are this close to one of an action's themes may be the same subject in
#: other words: periods, bleeding and cramps are three themes of 600 patient reviews, 0.77-0.80 apart;
#: on short tweets unrelated themes come as close, so this only prompts a person, never adds anyone.
RELATED_COS = 0.75


def similar_themes(
    conn: sqlite3.Connection, theme_ids: Iterable[int], *, limit: int = 3, floor: float = RELATED_COS
) -> list[dict[str, Any]]:
    """Active themes, other than the (surviving) ``theme_ids``, whose centroid is within ``floor``
    cosine of one of theirs, closest first: ``{"theme_id", "label", "similarity"}``."""
    survivors = resolve_survivors(conn)
    targets = {survivor_of(survivors, t) for t in theme_ids}
    rows = conn.execute("SELECT id, label, centroid FROM themes WHERE status = 'active' AND centroid IS NOT NULL")
    mine: list[tuple[int, str, np.ndarray]] = []
    others: list[tuple[int, str, np.ndarray]] = []
    for tid, label, blob in rows.fetchall():
        vector = np.frombuffer(blob, dtype="<f4").astype(np.float32)
        norm = float(np.linalg.norm(vector))
        if norm == 0:
            continue
        (mine if int(tid) in targets else others).append((int(tid), str(label or ""), vector / norm))
    if not mine or not others:
        return []
    sims = np.stack([v for _, _, v in others]) @ np.stack([v for _, _, v in mine]).T
    best = sims.max(axis=1)
    found = [(float(s), tid, label) for (tid, label, _), s in zip(others, best, strict=True) if s >= floor]
    found.sort(key=lambda x: (-x[0], x[1]))
    return [{"theme_id": tid, "label": label, "similarity": round(s, 3)} for s, tid, label in found[:limit]]
