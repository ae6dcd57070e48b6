"""Theme speed: a refit on 10,000 analysed items, and assigning one new text (embedding included).

    python bench/theme_bench.py [--n 10000] [--calls 300] [--eager]

Embeddings of the generated items are computed once and cached (bench/theme_data.py); the timed
refit starts from the stored embeddings, exactly what ``analyze --refit`` does (load, cluster,
reduce outliers, c-TF-IDF, match ids, write themes and item + sentence assignments). Target: refit
under 30 s, ``assign_text`` p95 under 5 ms on the 2-core CPU. ``--eager`` also times ``assign_text``
with the encoder run eagerly (no TorchScript trace: ``MiniLMEmbedder.encode`` of one text), the two
alternating call by call, so that the trace's gain is measured side by side.
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


class _Eager:
    """A second embedder of the same precision with tracing off and no ``encode_one``: what
    ``assign_text`` ran before the trace (``MiniLMEmbedder.encode`` of one text, eager)."""

    def __init__(self, embedder: object) -> None:
        from feedback_engine.nlp.embed import MiniLMEmbedder

        self.embedder = MiniLMEmbedder(quantize=embedder.quantized)  # type: ignore[attr-defined]
        self.embedder._traces.enabled = False

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.embedder.encode(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--eager", action="store_true", help="also time assign_text with the eager encoder")
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
        stages = {"traced": stage}
        if args.eager:
            stages["eager"] = ThemeStage(embedder=_Eager(embedder))
        for text in PROBES:  # warm up
            for st in stages.values():
                st.assign_text(text, store)
        times: dict[str, list[float]] = {name: [] for name in stages}
        for i in range(args.calls):
            text = f"{PROBES[i % len(PROBES)]} {'again' if i % 3 == 0 else ''}".strip()
            for name in sorted(stages, reverse=i % 2 == 1):
                t0 = time.perf_counter()
                stages[name].assign_text(text, store)
                times[name].append((time.perf_counter() - t0) * 1000)
        store.close()
    ms = np.array(times["traced"])
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
    if args.eager:
        eager = np.array(times["eager"])
        report["assign_text_eager_ms"] = {
            "p50": round(float(np.percentile(eager, 50)), 2),
            "p95": round(float(np.percentile(eager, 95)), 2),
            "max": round(float(eager.max()), 2),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
