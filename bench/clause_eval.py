"""Mixed sentences: what scoring a sentence by its clauses would do to item labels on held-out rows.

    python bench/clause_eval.py                    # every held-out corpus, up to 1500 rows each
    python bench/clause_eval.py --per-corpus 300

For each held-out row that spaCy reads as one sentence, the item's label is the sentence's; the rule
tried (:func:`combine`) would replace it by the mean of its clauses' probabilities when clauses set
side by side disagree. Prints, per corpus, how many rows were split into clauses, how many changed
label, and macro-F1 of the whole-text reading against the rule. (It lost 0.004-0.009 on the movie
corpora, so the analyze stage keeps the whole reading and stores the clauses beside it.)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from feedback_engine.nlp.clauses import CONTRAST  # noqa: E402
from feedback_engine.nlp.sentiment import DEFAULT_MODEL_DIR, SentimentResult, TransformerSentiment  # noqa: E402
from feedback_engine.nlp.sentiment.data import LABEL_IDS, TrainConfig, crowdflower_splits, load_splits  # noqa: E402
from feedback_engine.nlp.sentiment.evaluate import classification_metrics  # noqa: E402
from feedback_engine.nlp.sentiment.labels import LABELS, result_from_probs  # noqa: E402
from feedback_engine.nlp.text import TextPreparer, load_spacy  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "sentiment"


def is_mixed(results: list[SentimentResult], threshold: float = 0.1) -> bool:
    """One clause labelled positive and another negative, each at least ``threshold`` from zero."""
    return any(r.label == "positive" and r.score >= threshold for r in results) and any(
        r.label == "negative" and r.score <= -threshold for r in results
    )


def combine(whole: SentimentResult, clauses: list[SentimentResult], joins: list[str | None]) -> SentimentResult:
    """The rule tried: clauses set side by side (no connective) that disagree give the sentence the
    mean of their probabilities; otherwise the model's reading of the whole sentence."""
    if len(clauses) < 2 or CONTRAST in joins or not is_mixed(clauses):
        return whole
    return result_from_probs([sum(float(r.probs[label]) for r in clauses) / len(clauses) for label in LABELS])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--per-corpus", type=int, default=1500, help="held-out rows per corpus (seeded sample)")
    args = parser.parse_args(argv)
    metrics = json.loads((DEFAULT_MODEL_DIR / "metrics.json").read_text(encoding="utf-8"))
    config = TrainConfig(**metrics["config"])
    _, val = load_splits(args.data, config)
    val.update(crowdflower_splits(args.data, seed=config.seed)[1])
    model = TransformerSentiment()
    preparer = TextPreparer(load_spacy(), names=False)
    print(f"{'corpus':<16} {'n':>5} {'split':>6} {'changed':>8}  {'whole F1':>8} {'clauses F1':>10}")
    for name in sorted(val):
        df = val[name]
        df = df.sample(n=min(args.per_corpus, len(df)), random_state=config.seed).reset_index(drop=True)
        texts = df["text"].tolist()
        whole = model.predict(texts)
        prepared = preparer.prepare(texts)
        combined = list(whole)
        split = 0
        clause_texts = [
            [c.text for c in p.sentences[0].clauses] if len(p.sentences) == 1 and p.sentences[0].clauses else []
            for p in prepared
        ]
        flat = [t for group in clause_texts for t in group]
        results = iter(model.predict(flat)) if flat else iter(())
        for i, group in enumerate(clause_texts):
            if not group:
                continue
            split += 1
            clauses = [next(results) for _ in group]
            combined[i] = combine(whole[i], clauses, [c.joined_by for c in prepared[i].sentences[0].clauses])
        gold = df["label"].tolist()
        before = classification_metrics(gold, [LABEL_IDS[r.label] for r in whole])
        after = classification_metrics(gold, [LABEL_IDS[r.label] for r in combined])
        changed = sum(a.label != b.label for a, b in zip(whole, combined, strict=True))
        print(f"{name:<16} {len(df):>5} {split:>6} {changed:>8}  {before['macro_f1']:>8.3f} {after['macro_f1']:>10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
