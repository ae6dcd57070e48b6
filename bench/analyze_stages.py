"""Where analyze spends its time: the per-stage split of one batch computation, on generated items.

    python bench/analyze_stages.py                  # 512 items (bench/feedback_corpus.py), batches of 256
    python bench/analyze_stages.py --items 2000

Times each step of :class:`feedback_engine.nlp.pipeline.BatchComputer` separately (language,
spaCy with clauses, PII, sentiment over sentences + clauses + multi-sentence items, embeddings),
after one warm-up batch, and counts the texts each model reads. No database, no themes: the
end-to-end figure against the naive baseline is ``bench/analyze_bench.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from feedback_corpus import generate  # noqa: E402

from feedback_engine.nlp.models import Models  # noqa: E402
from feedback_engine.nlp.pipeline import BatchComputer  # noqa: E402
from feedback_engine.nlp.redact import apply_spans, find_pii  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args(argv)
    models = Models()
    computer = BatchComputer(
        sentiment_model=models.sentiment, embedder=models.embedder, nlp=models.spacy, batch_size=args.batch_size
    )
    items = generate(args.items + args.batch_size, seed=11)
    rows = [(i, it.text, it.language, str(i), it.title) for i, it in enumerate(items)]
    computer(rows[: args.batch_size])  # warm-up
    rows = rows[args.batch_size :]
    times = dict.fromkeys(("language", "spacy+clauses", "pii", "sentiment", "embeddings"), 0.0)
    texts = {"sentiment": 0, "of which clauses": 0, "embeddings": 0}
    for start in range(0, len(rows), args.batch_size):
        batch = rows[start : start + args.batch_size]
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
        t = time.perf_counter()
        sentiments = computer._sentiments(english)
        times["sentiment"] += time.perf_counter() - t
        texts["sentiment"] += len(sentiments)
        texts["of which clauses"] += len({c for it in english for cs in it.clause_redacted for c in cs})
        t = time.perf_counter()
        vectors = computer._embeddings(its)
        times["embeddings"] += time.perf_counter() - t
        texts["embeddings"] += len(vectors)
    total = sum(times.values())
    print(
        f"{len(rows)} items in {total:.1f} s = {len(rows) / total:.1f} items/s (compute only; {computer.model_version})"
    )
    for stage, seconds in times.items():
        print(f"  {stage:<14} {seconds:7.2f} s  {100 * seconds / total:5.1f}%")
    print("  texts read: " + ", ".join(f"{k} {v}" for k, v in texts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
