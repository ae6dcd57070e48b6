"""Where analyze spends its time: the per-stage split of the batch computation, before and after.

    python bench/analyze_stages.py                  # 512 items (bench/feedback_corpus.py), batches of 256
    python bench/analyze_stages.py --items 2000

Times each step of :class:`feedback_engine.nlp.pipeline.BatchComputer` separately (language,
spaCy with clauses, PII, then the two transformers), after one warm-up batch, and counts the texts
each model reads. Two set-ups run batch by batch in turn on the same items, so that a shared
machine's load falls on both alike:

- ``before``: the sentiment model in per-token int8, one model call at a time on all torch
  threads (``FEEDBACK_ENGINE_MODEL_WORKERS=1``), sentiment then embeddings;
- ``after``: the defaults (bf16 where the CPU has it fast, model chunks side by side on one torch
  thread each: :func:`feedback_engine.nlp.torch_utils.model_workers`).

No database, no themes: the end-to-end figure against the naive baseline is ``bench/analyze_bench.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from feedback_corpus import generate  # noqa: E402

from feedback_engine.nlp.models import Models  # noqa: E402
from feedback_engine.nlp.pipeline import BatchComputer  # noqa: E402
from feedback_engine.nlp.redact import apply_spans, find_pii  # noqa: E402

STAGES = ("language", "spacy+clauses", "pii", "sentiment", "embeddings", "sentiment+embeddings")


def computers(models: Models, batch_size: int) -> dict[str, BatchComputer]:
    from feedback_engine.nlp.sentiment import TransformerSentiment
    from feedback_engine.nlp.torch_utils import cpu_count, cpu_int8_is_fast

    before_sentiment: Any = models.sentiment
    if isinstance(before_sentiment, TransformerSentiment) and cpu_int8_is_fast():
        before_sentiment = TransformerSentiment(before_sentiment.location, precision="int8")
    out = {
        "before": BatchComputer(
            sentiment_model=before_sentiment, embedder=models.embedder, nlp=models.spacy, batch_size=batch_size
        ),
        "after": BatchComputer(
            sentiment_model=models.sentiment, embedder=models.embedder, nlp=models.spacy, batch_size=batch_size
        ),
    }
    out["before"].workers = (1, cpu_count())
    return out


def timed_batch(computer: BatchComputer, batch: list[tuple[Any, ...]], times: dict[str, float], texts: dict[str, int]):
    t = time.perf_counter()
    its = computer._detect(batch)
    times["language"] += time.perf_counter() - t
    english = [it for it in its if it.is_english]
    t = time.perf_counter()
    prepared = computer.preparer.prepare([it.text for it in english])
    times["spacy+clauses"] += time.perf_counter() - t
    t = time.perf_counter()
    for it, prep in zip(english, prepared, strict=True):
        it.prepared = prep
        spans = find_pii(it.text, prep.names)
        it.redacted = apply_spans(it.text, spans)
        it.sentence_redacted = [apply_spans(it.text, spans, s.start_char, s.end_char) for s in prep.sentences]
        it.clause_redacted = [
            [apply_spans(it.text, spans, c.start_char, c.end_char) for c in s.clauses] for s in prep.sentences
        ]
    for it in its:
        if not it.is_english:
            it.redacted = apply_spans(it.text, find_pii(it.text))
    times["pii"] += time.perf_counter() - t
    sentiment_texts, embed_texts = computer._sentiment_texts(english), computer._embedding_texts(its)
    texts["sentiment"] += len(sentiment_texts)
    texts["of which clauses"] += len({c for it in english for cs in it.clause_redacted for c in cs})
    texts["embeddings"] += len(embed_texts)
    if computer.workers is not None and computer.workers[0] == 1:  # one model after the other: time each
        t = time.perf_counter()
        computer._infer(sentiment_texts, [])
        times["sentiment"] += time.perf_counter() - t
        t = time.perf_counter()
        computer._infer([], embed_texts)
        times["embeddings"] += time.perf_counter() - t
    else:
        t = time.perf_counter()
        computer._infer(sentiment_texts, embed_texts)
        times["sentiment+embeddings"] += time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args(argv)
    models = Models()
    setups = computers(models, args.batch_size)
    items = generate(args.items + args.batch_size, seed=11)
    rows = [(i, it.text, it.language, str(i), it.title) for i, it in enumerate(items)]
    for computer in setups.values():
        computer(rows[: args.batch_size])  # warm-up
    rows = rows[args.batch_size :]
    times = {name: dict.fromkeys(STAGES, 0.0) for name in setups}
    texts = {name: {"sentiment": 0, "of which clauses": 0, "embeddings": 0} for name in setups}
    for start in range(0, len(rows), args.batch_size):
        batch = rows[start : start + args.batch_size]
        for name, computer in setups.items():
            timed_batch(computer, batch, times[name], texts[name])
    load = os.getloadavg()
    print(
        f"{len(rows)} items, batches of {args.batch_size}; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    )
    for name, computer in setups.items():
        total = sum(times[name].values())
        workers, threads = computer.workers or (1, 0)
        print(
            f"{name}: {total:.1f} s = {len(rows) / total:.1f} items/s (compute only; {computer.model_version};"
            f" {workers} model worker(s) x {threads} torch thread(s))"
        )
        for stage, seconds in times[name].items():
            if seconds:
                print(f"  {stage:<21} {seconds:7.2f} s  {100 * seconds / total:5.1f}%")
        print("  texts read: " + ", ".join(f"{k} {v}" for k, v in texts[name].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
