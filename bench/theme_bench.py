"""Theme speed: a refit on 10,000 analysed items, and assigning one new text (embedding included).

    python bench/theme_bench.py [--n 10000] [--calls 300]

Embeddings of the generated items are computed once and cached (bench/theme_data.py); the timed
refit starts from the stored embeddings, exactly what ``analyze --refit`` does (load, cluster,
reduce outliers, c-TF-IDF, match ids, write themes and item + sentence assignments). Target: refit
under 30 s, ``assign_text`` p95 under 5 ms on the 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from theme_data import load

from feedback_engine.themes.stage import ThemeStage

PROBES = [
    "I was charged twice this month",
    "The app crashes when I open settings",
    "My package never arrived",
    "Support was really helpful today",
    "Too expensive for what it does",
    "Please add dark mode",
    "Can't log in after the password reset",
    "Pages take forever to load",
    "The zipper broke after a week",
    "The new layout is confusing",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    from feedback_engine.nlp.embed import MiniLMEmbedder

    embedder = MiniLMEmbedder()
    items, item_vecs, sentence_vecs = load(args.n, embedder=embedder)
    from theme_data import build_store

    with tempfile.TemporaryDirectory() as tmp:
        store, _ = build_store(Path(tmp) / "bench.db", items, item_vecs, sentence_vecs)
        stage = ThemeStage(embedder=embedder)
        fit = stage.update(store)
        started = time.perf_counter()
        refit = stage.update(store, refit=True)
        refit_s = time.perf_counter() - started
        for text in PROBES:  # warm up
            stage.assign_text(text, store)
        times = []
        for i in range(args.calls):
            text = f"{PROBES[i % len(PROBES)]} {'again' if i % 3 == 0 else ''}".strip()
            t0 = time.perf_counter()
            stage.assign_text(text, store)
            times.append((time.perf_counter() - t0) * 1000)
        store.close()
    ms = np.array(times)
    report = {
        "items": args.n,
        "fit_seconds": fit["elapsed_s"],
        "refit_seconds": round(refit_s, 2),
        "refit": {k: refit[k] for k in ("themes", "coverage", "items_assigned", "sentences_assigned", "outliers")},
        "refit_continued_ids": len(refit["continued"]),
        "refit_new_ids": len(refit["new"]),
        "assign_text_ms": {
            "p50": round(float(np.percentile(ms, 50)), 2),
            "p95": round(float(np.percentile(ms, 95)), 2),
            "max": round(float(ms.max()), 2),
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
