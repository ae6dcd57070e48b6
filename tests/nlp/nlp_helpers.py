"""Helpers of the NLP tests (imported as ``from nlp_helpers import ...``, like themes_helpers)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from feedback_engine.nlp.sentiment import DEFAULT_MODEL_DIR
from feedback_engine.store import Store, utcnow

HAVE_SENTIMENT_MODEL = (DEFAULT_MODEL_DIR / "config.json").is_file()


def insert_feedback(store: Store, texts: Sequence[str], language: str | None = None, prefix: str = "t") -> list[int]:
    """Insert feedback rows (content_hash as ingest computes it: over the text); returns their ids."""
    now = utcnow()
    ids = []
    with store.transaction() as conn:
        for i, text in enumerate(texts):
            cur = conn.execute(
                "INSERT INTO feedback (natural_key, channel, platform, text, language, created_at, ingested_at, raw,"
                " content_hash) VALUES (?, 'review', 'generic', ?, ?, ?, ?, ?, ?)",
                (
                    f"{prefix}:{i}",
                    text,
                    language,
                    now,
                    now,
                    json.dumps({"text": text}),
                    hashlib.sha256(text.encode("utf-8")).hexdigest(),
                ),
            )
            ids.append(int(cur.lastrowid))
    return ids
