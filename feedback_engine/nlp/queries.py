"""What the analyze stage reads back from its own tables (``analysis``, ``sentences``)."""

from __future__ import annotations

from typing import Any

from feedback_engine.store import Store

EXTRA_COLUMNS = ("id", "is_english", "sentiment_probs", "aspects", "analyzed_at")


def analysed_totals(store: Store) -> dict[str, int]:
    """Items analysed so far, and how many of them are in another language."""
    row = store.conn.execute("SELECT count(*), coalesce(sum(is_english = 0), 0) FROM analysis").fetchone()
    return {"analysed": int(row[0] or 0), "other_language": int(row[1] or 0)}


def english_with_vectors(store: Store) -> int:
    """Analysed English items that carry an embedding (what the themes stage clusters)."""
    return int(store.scalar("SELECT count(*) FROM analysis WHERE is_english = 1 AND embedding IS NOT NULL") or 0)


def analysis_extras(store: Store) -> list[dict[str, Any]]:
    """Per analysed item the fields ``items_frame`` adds to the export columns."""
    return store.query("SELECT feedback_id AS id, is_english, sentiment_probs, aspects, analyzed_at FROM analysis")


def backlog(store: Store) -> int:
    """Items that ``analyze`` would analyse now (never analysed, or edited since)."""
    from feedback_engine.nlp.pipeline import COUNT_PENDING_SQL

    return int(store.scalar(COUNT_PENDING_SQL) or 0)
