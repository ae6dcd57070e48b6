"""Benchmark of ``analyze`` end to end against a naive baseline, on the same generated items.

    .venv/bin/python bench/analyze_bench.py                 # 2,000 items, 3 repeats of the fast path
    .venv/bin/python bench/analyze_bench.py --items 100000 --memory   # peak RSS of a 100k-item analyze

Fast path: ``Engine.analyze()`` (language -> spaCy -> redaction -> sentiment per sentence and
item -> embeddings of items and sentences -> theme assignment -> one transaction per batch) on a
database whose themes were fitted on a separate warm-up set, so themes are *assigned*, as in daily
use. Baseline: per item one ``nlp(text)`` call (full spaCy pipeline) and one transformers
``pipeline("text-classification")`` call at batch size 1 in fp32, and a commit per row. The
baseline does less work than the fast path (no sentence-level sentiment, no embeddings, no
themes), so the ratio understates the gain.

Also: embedding throughput (sentences/s) of the default precision (bf16 on CPUs with native
bfloat16, else int8), per-token int8 and fp32 as one ``encode`` call each, and of the default as
analyze runs it (one-batch chunks side by side on one torch thread each), measured interleaved in one
run, with quality against
fp32 (mean/min cosine, nearest-neighbour and theme agreement), and peak RSS. The items come from ``bench/feedback_corpus.py`` (seeded, no shared data).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from feedback_corpus import Item, generate  # noqa: E402

from feedback_engine.engine import Engine  # noqa: E402
from feedback_engine.store import Store, utcnow  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def insert(store: Store, items: list[Item], prefix: str) -> None:
    now = utcnow()
    rows = [
        (
            f"{prefix}:{i}",
            it.channel,
            it.platform,
            it.text,
            it.title,
            it.rating,
            it.nps,
            it.language,
            now,
            now,
            "{}",
            hashlib.sha256(f"{prefix}:{i}:{it.text}".encode()).hexdigest(),
        )
        for i, it in enumerate(items)
    ]
    sql = (
        "INSERT INTO feedback (natural_key, channel, platform, text, title, rating, nps, language, created_at,"
        " ingested_at, raw, content_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
    )
    with store.transaction() as conn:
        for start in range(0, len(rows), 10_000):
            conn.executemany(sql, rows[start : start + 10_000])


def load_models() -> dict[str, Any]:
    from feedback_engine.nlp.embed import MiniLMEmbedder
    from feedback_engine.nlp.sentiment import DEFAULT_MODEL_DIR, TransformerSentiment, VaderSentiment
    from feedback_engine.nlp.text import load_spacy

    have = (DEFAULT_MODEL_DIR / "config.json").is_file()
    return {
        "spacy_nlp": load_spacy(),
        "embedder": MiniLMEmbedder(),
        "sentiment_model": TransformerSentiment() if have else VaderSentiment(),
    }


def fast_run(items: list[Item], warmup: list[Item], models: dict[str, Any], batch_size: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Path(tmp) / "bench.db", **models)
        insert(engine.store, warmup, "warmup")
        engine.analysis.run(batch_size=batch_size)  # fits themes on the warm-up set (not timed)
        insert(engine.store, items, "bench")
        started = time.perf_counter()
        report = engine.analysis.run(batch_size=batch_size)
        elapsed = time.perf_counter() - started
        engine.close()
    themes = report.themes or {}
    return {
        "items": report.analysed,
        "elapsed_s": round(elapsed, 2),
        "items_per_s": round(report.analysed / elapsed, 1),
        "items_stage_s": report.elapsed_s,
        "themes_s": themes.get("elapsed_s"),
        "sentences": report.sentences,
        "other_language": report.other_language,
    }


def baseline_run(items: list[Item], models: dict[str, Any]) -> dict[str, Any]:
    """Per item: nlp(text) (packaged pipeline), pipeline(text) at batch size 1 in fp32, one commit per row."""
    from transformers import pipeline
    from transformers.utils import logging as hf_logging

    from feedback_engine.nlp.sentiment import DEFAULT_MODEL_DIR
    from feedback_engine.nlp.text import load_spacy

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if (DEFAULT_MODEL_DIR / "config.json").is_file():
        classifier = pipeline("text-classification", model=str(DEFAULT_MODEL_DIR), device="cpu", dtype="float32")
        model_name = "nlp/models/sentiment-minilm (fp32)"
    else:  # same architecture and size: the base MiniLM with an untrained 3-class head
        from feedback_engine.nlp.embed import default_model_path

        classifier = pipeline("text-classification", model=str(default_model_path()), device="cpu")
        model_name = "all-MiniLM-L6-v2 + untrained head (fp32; sentiment model not trained yet)"
    nlp = load_spacy(fast=False)  # the pipeline as packaged, parser included
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "baseline.db")
        insert(store, items, "base")
        rows = store.query("SELECT id, text, content_hash FROM feedback ORDER BY id")
        started = time.perf_counter()
        for row in rows:
            doc = nlp(row["text"])
            [result] = classifier(row["text"][:2000], truncation=True)
            sentences = [s.text for s in doc.sents]
            aspects = [c.lemma_ for c in doc.noun_chunks]
            names = [e.text for e in doc.ents if e.label_ == "PERSON"]
            store.conn.execute(
                "INSERT INTO analysis (feedback_id, content_hash, sentiment, sentiment_score, aspects, redacted_text,"
                " analyzed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    row["id"],
                    row["content_hash"],
                    _label(result["label"]),
                    float(result["score"]),
                    json.dumps(aspects),
                    json.dumps([sentences, names]),
                    utcnow(),
                ),
            )
            store.conn.commit()
        elapsed = time.perf_counter() - started
        store.close()
    return {
        "items": len(items),
        "elapsed_s": round(elapsed, 2),
        "items_per_s": round(len(items) / elapsed, 1),
        "model": model_name,
    }


def _label(raw: str) -> str:
    low = raw.lower()
    for name in ("negative", "neutral", "positive"):
        if low.startswith(name[:3]):
            return name
    return {"label_0": "negative", "label_1": "neutral", "label_2": "positive"}.get(low, "neutral")


def embedding_run(items: list[Item], models: dict[str, Any], repeats: int) -> dict[str, Any]:
    """Sentences/s of the default embedder, per-token int8 and fp32 (interleaved, median) and quality.

    Quality against fp32 on the unique sentences and items: mean and minimum cosine, nearest-neighbour
    agreement, and theme agreement: the share of texts whose nearest of 20 k-means centroids
    (fitted on the fp32 vectors, seed 0) is the same with the reduced-precision vectors.
    """
    import numpy as np
    from sklearn.cluster import KMeans

    from feedback_engine.nlp.embed import MiniLMEmbedder
    from feedback_engine.nlp.pipeline import BatchComputer
    from feedback_engine.nlp.text import TextPreparer

    prepared = TextPreparer(models["spacy_nlp"]).prepare([it.text for it in items])
    sentences = [s.text for p in prepared for s in p.sentences]
    default = models["embedder"]
    variants = {default.precision: default, "fp32": MiniLMEmbedder(quantize=False)}
    if default.precision != "int8":
        variants["int8"] = MiniLMEmbedder(quantize="per-token")
    out: dict[str, Any] = {"sentences": len(sentences), "default": default.precision}
    side = BatchComputer(sentiment_model=models["sentiment_model"], embedder=default, nlp=models["spacy_nlp"])
    runs: dict[str, Any] = {name: model.encode for name, model in variants.items()}
    # what analyze does: one-batch chunks side by side on one torch thread each (BatchComputer._infer)
    runs[f"{default.precision}-side-by-side"] = lambda texts: side._infer([], texts)
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            started = time.perf_counter()
            run(sentences)
            rates[name].append(len(sentences) / (time.perf_counter() - started))
    for name in runs:
        out[f"{name}_sentences_per_s"] = round(statistics.median(rates[name]), 1)
    out["workers"] = list(side.workers or ())
    texts = sorted(set(sentences) | {it.text for it in items})
    vectors = {name: model.encode(texts) for name, model in variants.items()}
    f = vectors["fp32"]
    sf = f @ f.T
    np.fill_diagonal(sf, -1)
    centroids = KMeans(n_clusters=20, n_init=4, random_state=0).fit(f).cluster_centers_
    out["quality_texts"] = len(texts)
    for name, q in vectors.items():
        if name == "fp32":
            continue
        cosines = (q * f).sum(axis=1)
        sq = q @ q.T
        np.fill_diagonal(sq, -1)
        out[f"{name}_vs_fp32"] = {
            "mean_cosine": round(float(cosines.mean()), 5),
            "min_cosine": round(float(cosines.min()), 4),
            "nn_agreement": round(float((sq.argmax(1) == sf.argmax(1)).mean()), 4),
            "theme_agreement": round(float(((q @ centroids.T).argmax(1) == (f @ centroids.T).argmax(1)).mean()), 4),
        }
    return out


def memory_run(n: int, models: dict[str, Any], batch_size: int) -> dict[str, Any]:
    items = generate(n, seed=11)
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Path(tmp) / "memory.db", **models)
        insert(engine.store, items, "mem")
        del items
        started = time.perf_counter()
        report = engine.analysis.run(batch_size=batch_size)
        elapsed = time.perf_counter() - started
        engine.close()
    return {
        "items": report.analysed,
        "elapsed_s": round(elapsed, 1),
        "items_per_s": round(report.analysed / elapsed, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2000, help="benchmark items (default: %(default)s)")
    parser.add_argument("--baseline-items", type=int, default=400, help="items for the slow baseline")
    parser.add_argument("--warmup-items", type=int, default=1000, help="items the themes are fitted on first")
    parser.add_argument("--repeat", type=int, default=3, help="repeats of the fast path (median reported)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--memory", action="store_true", help="only analyse --items items and report peak RSS")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)

    import torch

    models = load_models()
    results: dict[str, Any] = {
        "sentiment_model": repr(models["sentiment_model"]),
        "embedder": repr(models["embedder"]),
        "torch_threads": torch.get_num_threads(),
        "load_average_before": [round(x, 1) for x in os.getloadavg()],
    }
    if args.memory:
        results["memory"] = memory_run(args.items, models, args.batch_size)
    else:
        items = generate(args.items, seed=7)
        warmup = generate(args.warmup_items, seed=3)
        runs = [fast_run(items, warmup, models, args.batch_size) for _ in range(args.repeat)]
        fast = dict(runs[len(runs) // 2])
        fast["items_per_s"] = statistics.median(r["items_per_s"] for r in runs)
        fast["all_items_per_s"] = [r["items_per_s"] for r in runs]
        results["analyze"] = fast
        results["baseline"] = baseline_run(items[: args.baseline_items], models)
        results["speedup"] = round(fast["items_per_s"] / results["baseline"]["items_per_s"], 2)
        results["embeddings"] = embedding_run(items, models, repeats=max(1, min(args.repeat, 3)))
    results["peak_rss_mb"] = round(peak_rss_mb(), 1)
    results["load_average_after"] = [round(x, 1) for x in os.getloadavg()]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        _print(results)
    return 0


def _print(results: dict[str, Any]) -> None:
    print(f"sentiment model: {results['sentiment_model']}; embedder {results['embedder']}")
    print(
        f"torch threads {results['torch_threads']}; load average before {results['load_average_before']},"
        f" after {results.get('load_average_after')}"
    )
    if "analyze" in results:
        a, b = results["analyze"], results["baseline"]
        print(
            f"analyze end to end : {a['items_per_s']:>8.1f} items/s  (median of {a['all_items_per_s']}, {a['items']} items)"
        )
        print(f"naive baseline     : {b['items_per_s']:>8.1f} items/s  ({b['items']} items, {b['model']})")
        print(f"speed-up           : {results['speedup']:>8.2f} x")
        e = results["embeddings"]
        speeds = ", ".join(f"{k[: -len('_sentences_per_s')]} {v:.0f}" for k, v in e.items() if k.endswith("_per_s"))
        print(
            f"embeddings         : sentences/s {speeds} ({e['sentences']} sentences; default {e['default']};"
            f" side by side: {e['workers'][0]} workers x {e['workers'][1]} torch threads)"
        )
        for key, q in e.items():
            if key.endswith("_vs_fp32"):
                print(
                    f"  {key:<17}: mean cosine {q['mean_cosine']}, min {q['min_cosine']}, nearest-neighbour"
                    f" agreement {q['nn_agreement']}, theme agreement {q['theme_agreement']} ({e['quality_texts']} texts)"
                )
    if "memory" in results:
        m = results["memory"]
        print(
            f"memory mode        : {m['items']} items at {m['items_per_s']} items/s, peak RSS {m['peak_rss_mb']:.0f} MB"
        )
    print(f"peak RSS           : {results['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
