"""Read queries for the web pages: a theme's items (paged), full-text search, one item.

Everything shown is the redacted text (``analysis.redacted_text``, ``sentences.redacted_text``);
an item not analysed yet shows no text. Search runs on the FTS5 index ``feedback_fts``; the
user's words are quoted one by one (each a prefix), so FTS5 syntax in a query is plain text.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from feedback_engine.errors import ConfigError, NotFoundError
from feedback_engine.store import Store
from feedback_engine.themes import edits, metrics
from feedback_engine.themes import persist as ts
from feedback_engine.themes import queries as tq
from feedback_engine.themes.aggregate import Filters, day_bounds, theme_table

__all__ = ["BrowseService", "fts_query", "highlight"]

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 8


def fts_query(text: str) -> str | None:
    """``refund "late`` -> ``"refund"* "late"*``: every word a quoted prefix, at most 8; None if no word."""
    words = _WORD.findall(text or "")[:MAX_TERMS]
    return " ".join(f'"{w}"*' for w in words) or None


def highlight(text: str | None, query: str) -> list[tuple[str, bool]]:
    """``text`` cut into (segment, is_hit) pieces where a word starts with one of the query's words.

    The template escapes each piece, so the marks never mix with the text's own markup."""
    if not text:
        return []
    words = [w.casefold() for w in _WORD.findall(query or "")[:MAX_TERMS]]
    if not words:
        return [(text, False)]
    out: list[tuple[str, bool]] = []
    last = 0
    for match in _WORD.finditer(text):
        if any(match.group().casefold().startswith(w) for w in words):
            if match.start() > last:
                out.append((text[last : match.start()], False))
            out.append((match.group(), True))
            last = match.end()
    if last < len(text):
        out.append((text[last:], False))
    return out


def snippet(segments: list[tuple[str, bool]], width: int = 160) -> str:
    """One line from shortly before the first hit, hits in [brackets] (for terminals; no markup)."""
    if not segments:
        return "(not analysed yet: `feedback-engine analyze` shows its redacted text)"
    first = next((i for i, (_, hit) in enumerate(segments) if hit), len(segments))
    before = " ".join("".join(seg for seg, _ in segments[:first]).split())
    lead = width // 3
    if len(before) > lead:
        cut = before.find(" ", len(before) - lead)
        before = "…" + before[cut if cut != -1 else len(before) - lead :]
    rest = "".join(f"[{seg}]" if hit else seg for seg, hit in segments[first:])
    line = " ".join(f"{before} {rest}".split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _search_filters(
    match: str, channel: str | None, since: str | None, until: str | None
) -> tuple[str, tuple[Any, ...]]:
    where = ["feedback_fts MATCH ?"]
    params: list[Any] = [match]
    if channel:
        where.append("f.channel = ?")
        params.append(channel)
    for name, value, op in (("since", since, ">="), ("until", until, "<=")):
        if value:
            day = _iso_day(name, value)
            where.append(f"substr(f.created_at, 1, 10) {op} ?")
            params.append(day)
    return " AND ".join(where), tuple(params)


def _iso_day(name: str, value: str) -> str:
    """``2026-11-03`` (or the date part of an ISO time); :class:`ConfigError` for anything else."""
    text = value.strip()
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise ConfigError(f"--{name} {value!r} is not a date; pass YYYY-MM-DD.") from None


WEEKS = 12


def _weekly(created: list[Any], ref: Any, weeks: int = WEEKS) -> list[int]:
    """Items per 7-day window, oldest first, for the ``weeks`` windows ending at ``ref``."""
    counts = [0] * weeks
    if ref is None:
        return counts
    for moment in created:
        if moment is None or moment > ref:
            continue
        back = int((ref - moment).total_seconds() // (7 * 86400))
        if back < weeks:
            counts[weeks - 1 - back] += 1
    return counts


class BrowseService:
    """``engine.browse``: what the web pages read beyond the stage services."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def theme_items(self, theme_id: int, *, offset: int = 0, limit: int = 25) -> dict[str, Any]:
        """The items of a theme (and of those merged into it), newest first, with their sentences;
        ``matched`` holds the indexes of the sentences assigned to the theme. ``weekly`` and
        ``weekly_negative`` count all and negative members per 7-day window (oldest first), each
        window ending on the date in ``weeks`` (the last one at the newest item)."""
        survivors = tq.resolve_survivors(self.store.conn)
        survivor = tq.survivor_of(survivors, theme_id)
        members = tq.theme_members(self.store.conn, [survivor], survivors).get(survivor, {})
        ordered = sorted(
            members.values(), key=lambda m: (m.created is not None, m.created, m.feedback_id), reverse=True
        )
        page = ordered[offset : offset + limit]
        ref = metrics.reference_time(self.store)
        weekly = _weekly([m.created for m in ordered], ref)
        negative = _weekly([m.created for m in ordered if m.sentiment()[0] == "negative"], ref)
        weeks = (
            []
            if ref is None
            else [(ref - timedelta(days=7 * (WEEKS - 1 - i))).date().isoformat() for i in range(WEEKS)]
        )
        items = []
        for member in page:
            item = self._summary(member.feedback_id)
            label, score = member.sentiment()
            item.update(theme_sentiment=label, theme_score=score, matched=sorted(member.sentences))
            items.append(item)
        return {
            "theme_id": survivor,
            "total": len(ordered),
            "offset": offset,
            "limit": limit,
            "items": items,
            "weekly": weekly,
            "weekly_negative": negative,
            "weeks": weeks,
        }

    def _summary(self, feedback_id: int) -> dict[str, Any]:
        rows = self.store.query(
            "SELECT f.id, f.channel, f.platform, f.title, f.created_at, f.rating, f.nps, f.csat, f.customer_id, "
            "a.redacted_text, a.sentiment, a.sentiment_score FROM feedback f "
            "LEFT JOIN analysis a ON a.feedback_id = f.id WHERE f.id = ?",
            (feedback_id,),
        )
        if not rows:
            raise NotFoundError(f"No feedback item {feedback_id}.")
        item = rows[0]
        item["sentences"] = self.store.query(
            "SELECT idx, redacted_text, sentiment, sentiment_score FROM sentences WHERE feedback_id = ? ORDER BY idx",
            (feedback_id,),
        )
        return item

    def item(self, feedback_id: int) -> dict[str, Any]:
        """One item: redacted text, title, channel, scores, customer, sentences with their themes, edits
        at the source (``history``) and in the themes (``theme_edits``: moves and splits; ``pinned``
        when it was placed by hand)."""
        item = self._summary(int(feedback_id))
        item["themes"] = self.store.query(
            "SELECT DISTINCT t.id, t.label, ta.sentence_idx FROM theme_assignments ta JOIN themes t ON t.id = ta.theme_id "
            "WHERE ta.feedback_id = ? ORDER BY ta.sentence_idx, t.id",
            (item["id"],),
        )
        item["customer"] = None
        if item["customer_id"] is not None:
            found = self.store.query(
                "SELECT id, email, platform, handle, display_name FROM customers WHERE id = ?", (item["customer_id"],)
            )
            item["customer"] = found[0] if found else None
        item["history"] = self.store.query(
            "SELECT replaced_at, rating, nps, csat FROM feedback_history WHERE feedback_id = ? ORDER BY id",
            (item["id"],),
        )
        item["pinned"] = (
            self.store.scalar("SELECT 1 FROM theme_item_pins WHERE feedback_id = ?", (item["id"],)) is not None
        )
        item["theme_edits"] = edits.item_history(self.store, item["id"])
        return item

    def search(
        self,
        text: str,
        *,
        limit: int = 50,
        channel: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> dict[str, Any]:
        """Items whose text or title match every word of ``text`` (prefixes), best match first;
        optionally of one ``channel`` and written in ``since`` .. ``until`` (ISO dates, inclusive).
        Each item has ``segments`` (hits marked) and a one-line ``snippet`` with hits in [brackets],
        both of the redacted text."""
        match = fts_query(text)
        if match is None:
            return {"query": text, "total": 0, "items": []}
        where, params = _search_filters(match, channel, since, until)
        total = int(
            self.store.scalar(
                f"SELECT count(*) FROM feedback_fts JOIN feedback f ON f.id = feedback_fts.rowid WHERE {where}", params
            )
            or 0
        )
        rows = self.store.query(
            "SELECT f.id, f.channel, f.platform, f.created_at, a.redacted_text, a.sentiment FROM feedback_fts "
            "JOIN feedback f ON f.id = feedback_fts.rowid LEFT JOIN analysis a ON a.feedback_id = f.id "
            f"WHERE {where} ORDER BY rank LIMIT ?",
            (*params, int(limit)),
        )
        for row in rows:
            row["segments"] = highlight(row["redacted_text"], text)
            row["snippet"] = snippet(row["segments"])
        return {"query": text, "total": total, "items": rows}

    def fingerprint(self) -> tuple[Any, ...]:
        """Changes when rows are added to or replaced in what the themes table shows (items,
        analysis, sentences, assignments), and on every theme edit; cheap (indexes and rowids only).
        An in-place UPDATE of a row is not seen: a cache keyed on it must also expire with time."""
        row = self.store.conn.execute(
            "SELECT (SELECT count(*) || ':' || ifnull(max(rowid), 0) FROM feedback), "
            "(SELECT count(*) || ':' || ifnull(max(rowid), 0) FROM analysis), "
            "(SELECT count(*) || ':' || ifnull(max(rowid), 0) FROM sentences), "
            "(SELECT count(*) || ':' || ifnull(max(rowid), 0) FROM theme_assignments), "
            "(SELECT count(*) || ':' || ifnull(max(updated_at), '') || ':' || total(ifnull(merged_into, 0)) "
            "|| ':' || total(id * (status = 'active')) FROM themes), "
            "(SELECT ifnull(max(id), 0) FROM theme_edits)"
        ).fetchone()
        return tuple(row)

    def outbox(self) -> dict[int, dict[str, int]]:
        """Per action: its notifications by state. ``waiting``: not in an email yet (the next notify
        run, or held by the frequency cap); then the email's state (queued, sending, sent,
        unconfirmed, retry, bounced, cancelled); ``cancelled``: taken out before an email."""
        out: dict[int, dict[str, int]] = {}
        for action_id, state, n in self.store.conn.execute(
            "SELECT n.action_id, CASE WHEN n.status = 'pending' THEN 'waiting' WHEN n.status = 'cancelled' "
            "THEN 'cancelled' ELSE ifnull(e.status, 'queued') END AS state, count(*) FROM notifications n "
            "LEFT JOIN emails e ON e.id = n.email_id GROUP BY 1, 2 ORDER BY 1, 2"
        ):
            out.setdefault(int(action_id), {})[str(state)] = int(n)
        return out

    def channels(self) -> list[str]:
        return [str(r[0]) for r in self.store.conn.execute("SELECT DISTINCT channel FROM feedback ORDER BY 1")]

    def facets(self) -> dict[str, list[str]]:
        """What the triage filters offer: the channels, platforms, languages (of analysed items) and
        customer segments present in the database."""
        conn = self.store.conn
        return {
            "channel": self.channels(),
            "platform": [str(r[0]) for r in conn.execute("SELECT DISTINCT platform FROM feedback ORDER BY 1")],
            "language": [
                str(r[0])
                for r in conn.execute("SELECT DISTINCT language FROM analysis WHERE language IS NOT NULL ORDER BY 1")
            ],
            "segment": [
                str(r[0])
                for r in conn.execute("SELECT DISTINCT segment FROM customers WHERE segment IS NOT NULL ORDER BY 1")
            ],
        }

    def themes(
        self,
        *,
        channel: str | None = None,
        since: str | None = None,
        until: str | None = None,
        platform: str | None = None,
        language: str | None = None,
        segment: str | None = None,
    ) -> list[dict[str, Any]]:
        """``themes.list`` over the items of one channel, platform, language and customer segment
        and/or a date range (ISO dates, ``until`` inclusive); the change figures are counted up to
        ``until`` (default: the newest item). Aggregated in SQLite (:mod:`.aggregate`)."""
        ts.require_analysis(self.store)
        start, end = day_bounds(since, until)
        ref = end or metrics.reference_time(self.store)
        keep = Filters(channel=channel, platform=platform, language=language, segment=segment, since=start, until=end)
        table = theme_table(self.store.conn, ref, keep)
        out = []
        for row in ts.theme_rows(self.store, ("active",)):
            stats = table.get(row["id"]) or tq.figures([], ref)
            out.append(
                {
                    "id": row["id"],
                    "label": row["label"],
                    "origin": row["origin"],
                    "pinned": bool(row["label_pinned"]),
                    **stats,
                    "trend": metrics.trend_text(stats.get("change_7d")),
                }
            )
        out.sort(key=lambda r: (-r["volume"], r["id"]))
        return out

    def theme_options(self) -> list[dict[str, Any]]:
        """Active themes by label (id, label only): the choices of a merge form, cheap at any size."""
        return self.store.query(
            "SELECT id, label FROM themes WHERE status = 'active' ORDER BY label COLLATE NOCASE, id"
        )

    def customer(self, customer_id: int) -> dict[str, Any]:
        """A customer's contact state by id (no emails or events: see ``engine.customers.show``)."""
        rows = self.store.query(
            "SELECT id, email, display_name, platform, handle, consent, unsubscribed_at, suppressed_at, "
            "suppressed_reason FROM customers WHERE id = ?",
            (int(customer_id),),
        )
        if not rows:
            raise NotFoundError(f"No customer {customer_id}.")
        return {**rows[0], "events": [], "emails": []}

    def customer_email(self, customer_id: int) -> str | None:
        email = self.store.scalar("SELECT email FROM customers WHERE id = ?", (int(customer_id),))
        return None if email is None else str(email)

    def customer_items(self, customer_id: int, limit: int = 200) -> list[dict[str, Any]]:
        """A customer's feedback across channels, newest first (redacted text only)."""
        return self.store.query(
            "SELECT f.id, f.channel, f.platform, f.created_at, a.redacted_text, a.sentiment FROM feedback f "
            "LEFT JOIN analysis a ON a.feedback_id = f.id WHERE f.customer_id = ? ORDER BY f.created_at DESC LIMIT ?",
            (int(customer_id), int(limit)),
        )
