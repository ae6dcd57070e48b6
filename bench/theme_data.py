"""Shared by the theme benchmarks: 10,000 generated feedback items, embedded once and cached.

The texts come from ``tests/themes/themes_corpus.py`` (10 themes, slot fillers, mixed items); the
embeddings (items and sentences, int8 MiniLM) are cached in ``/tmp`` so that only the theme work
is timed. ``build_store`` writes them as analysed feedback into a fresh SQLite file.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "themes"))

from themes_corpus import Item, generate  # noqa: E402
from themes_helpers import embed_corpus, insert_items  # noqa: E402

from feedback_engine.store import Store  # noqa: E402

CACHE = Path("/tmp/feedback_engine_theme_bench")


def load(n: int = 10_000, seed: int = 11, embedder=None) -> tuple[list[Item], np.ndarray, list[np.ndarray]]:
    """``n`` items with item and sentence embeddings (computed on first use, then read from the cache)."""
    items = generate(n, seed=seed)
    path = CACHE / f"emb_{n}_{seed}.npz"
    if path.exists():
        data = np.load(path)
        flat, counts = data["sentences"], data["counts"]
        splits = np.cumsum(counts)[:-1]
        return items, data["items"], list(np.split(flat, splits))
    if embedder is None:
        from feedback_engine.nlp.embed import MiniLMEmbedder

        embedder = MiniLMEmbedder()
    started = time.perf_counter()
    item_vecs, sentence_vecs = embed_corpus(embedder, items)
    print(f"embedded {n} items + sentences in {time.perf_counter() - started:.1f}s (cached in {path})", file=sys.stderr)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        items=item_vecs,
        sentences=np.concatenate(sentence_vecs),
        counts=np.array([len(s) for s in sentence_vecs]),
    )
    return items, item_vecs, sentence_vecs


def build_store(path: Path, items, item_vecs, sentence_vecs) -> tuple[Store, list[int]]:
    if path.exists():
        path.unlink()
    store = Store(path)
    ids = insert_items(store, items, item_vecs, sentence_vecs)
    return store, ids
