"""Build theme test data through the Store: feedback + analysis + sentences rows with real embeddings.

The analyze pipeline was written concurrently, so these helpers write the rows it writes
(migration 002's contract) directly, with real embeddings of the texts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from themes_corpus import Item

from feedback_engine.store import Store, utcnow

SCORE = {"negative": -0.8, "neutral": 0.0, "positive": 0.8}


def _sentiment(label: str, language: str) -> tuple[str | None, float | None]:
    return (label, SCORE[label]) if language == "en" else (None, None)


def embed_corpus(embedder: Any, items: Sequence[Item]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Item embeddings and, per item, the embeddings of its sentences (one encode call)."""
    texts = [it.text for it in items]
    sentence_texts = [s[0] for it in items for s in it.sentences]
    vectors = np.asarray(embedder.encode(texts + sentence_texts), dtype=np.float32)
    item_vecs = vectors[: len(texts)]
    rest = vectors[len(texts) :]
    per_item, pos = [], 0
    for it in items:
        per_item.append(rest[pos : pos + len(it.sentences)])
        pos += len(it.sentences)
    return item_vecs, per_item


def insert_items(
    store: Store,
    items: Sequence[Item],
    item_vecs: np.ndarray,
    sentence_vecs: Sequence[np.ndarray],
    *,
    start: int = 0,
    language: str = "en",
    analyzed_at: str | None = None,
) -> list[int]:
    """Insert items as analysed feedback; returns their feedback ids."""
    now = analyzed_at or utcnow()
    ids = []
    with store.transaction():
        for n, (it, vec, svecs) in enumerate(zip(items, item_vecs, sentence_vecs, strict=True)):
            key = f"{it.platform}:test-{start + n}"
            digest = hashlib.sha256(it.text.encode()).hexdigest()
            cur = store.execute(
                "INSERT INTO feedback (natural_key, channel, platform, text, nps, created_at, ingested_at, raw, "
                "content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    it.channel,
                    it.platform,
                    it.text,
                    it.nps,
                    it.created_at,
                    now,
                    json.dumps({"text": it.text}),
                    digest,
                ),
            )
            fid = int(cur.lastrowid)
            ids.append(fid)
            store.execute(
                "INSERT INTO analysis (feedback_id, content_hash, language, is_english, redacted_text, sentiment, "
                "sentiment_score, aspects, embedding, model_version, analyzed_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'test', ?)",
                (
                    fid,
                    digest,
                    language,
                    int(language == "en"),
                    it.text,
                    it.sentiment,
                    SCORE[it.sentiment],
                    json.dumps(sorted({t for _, t, _ in it.sentences})),  # every snippet names its subject
                    np.asarray(vec, dtype="<f4").tobytes(),
                    now,
                ),
            )
            offset = 0
            for idx, ((text, _theme, sentiment), svec) in enumerate(zip(it.sentences, svecs, strict=True)):
                begin = it.text.index(text, offset) if text in it.text[offset:] else offset
                store.execute(
                    "INSERT INTO sentences (feedback_id, idx, start_char, end_char, text, redacted_text, sentiment, "
                    "sentiment_score, aspects, embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        fid,
                        idx,
                        begin,
                        begin + len(text),
                        text,
                        text,
                        sentiment,
                        SCORE[sentiment],
                        json.dumps([_theme]),
                        np.asarray(svec, dtype="<f4").tobytes(),
                    ),
                )
                offset = begin + len(text)
    return ids
