"""Sentiment model benchmark: quality per corpus (ours fp32 / int8 vs VADER) and CPU throughput.

    python bench/sentiment_eval.py                       # full held-out split, 5 timing runs
    python bench/sentiment_eval.py --per-corpus 300      # the fixed slice the tests use
    python bench/sentiment_eval.py --skip-quality --runs 7

Quality is measured on the held-out split that ``feedback_engine.nlp.sentiment.train`` built for the
model (settings read from the model's ``metrics.json``). Throughput is texts per second for
``predict`` on held-out sentences (movie and editorial snippets, about 25 tokens, like survey
answers) and on review documents (IMDB and patient reviews, cut to 128 tokens; a quarter as many), the median of
``--runs`` timed runs after one warm-up, on this machine's CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from feedback_engine.nlp.sentiment import (  # noqa: E402
    DEFAULT_MODEL_DIR,
    TransformerSentiment,
    VaderSentiment,
    cpu_has_native_bf16,
)
from feedback_engine.nlp.sentiment.train import TrainConfig, evaluate_frames, fixed_slice, load_splits  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "sentiment"


def quality_table(models: dict[str, Any], frames: dict[str, Any]) -> str:
    scores = {name: evaluate_frames(m, frames) for name, m in models.items()}
    names = list(models)
    header = f"{'corpus':<16} {'n':>5}  " + "  ".join(f"{n + ' F1/acc':<18}" for n in names)
    lines = [header, "-" * len(header)]
    for corpus in [*sorted(frames), "mean"]:
        cells = "  ".join(
            f"{scores[n][corpus]['macro_f1']:.3f}/{scores[n][corpus]['accuracy']:.3f}      " for n in names
        )
        lines.append(f"{corpus:<16} {scores[names[0]][corpus]['n']:>5}  {cells}")
    return "\n".join(lines)


def throughput(model: Any, texts: list[str], runs: int) -> float:
    model.predict(texts[:64])
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        model.predict(texts)
        times.append(time.perf_counter() - start)
    return len(texts) / statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="labelled data folder")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR, help="model folder")
    parser.add_argument("--per-corpus", type=int, default=0, help="evaluate a fixed slice of N per corpus (0: all)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per throughput figure (median)")
    parser.add_argument("--n-texts", type=int, default=1024, help="texts per throughput run")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--bf16", action="store_true", help="also time bf16 (default: only on CPUs with native bf16)")
    args = parser.parse_args(argv)

    metrics = json.loads((args.model / "metrics.json").read_text(encoding="utf-8"))
    config = TrainConfig(**metrics["config"])
    _, val = load_splits(args.data, config)
    models: dict[str, Any] = {
        f"ours-{p}": TransformerSentiment(args.model, precision=p, batch_size=args.batch_size)
        for p in ("fp32", "int8", *(("bf16",) if args.bf16 or cpu_has_native_bf16() else ()))
    }
    models["VADER"] = VaderSentiment()
    import torch

    print(
        f"model {args.model}  T={models['ours-int8'].temperature}  torch threads {torch.get_num_threads()}  "
        f"cpus {os.cpu_count()}  {platform.processor() or platform.machine()}"
    )
    if not args.skip_quality:
        frames = fixed_slice(val, args.per_corpus, config.seed) if args.per_corpus else val
        print(f"\nHeld-out macro-F1 / accuracy (neutral band |rating| <= {config.neutral_band:.2f})")
        print(quality_table(models, frames))

    sentences = [t for name in ("movie_snippets", "nyt_editorials") if name in val for t in val[name]["text"]]
    documents = [t for name in ("imdb", "drug_reviews") if name in val for t in val[name]["text"]]
    print(f"\nThroughput, texts/s (median of {args.runs} runs, batch {args.batch_size})")
    for label, pool in (("sentences", sentences), ("documents", documents)):
        if not pool:
            continue
        n = args.n_texts if label == "sentences" else max(64, args.n_texts // 4)
        texts = (pool * (n // len(pool) + 1))[:n]
        rates = {name: throughput(m, texts, args.runs) for name, m in models.items()}
        print(f"{label:<10} " + "  ".join(f"{n}: {r:8.1f}" for n, r in rates.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
