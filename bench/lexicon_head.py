"""Fit and measure the lexicon head (model probabilities + VADER) on held-out rows, per corpus.

    python bench/lexicon_head.py                   # fit on training rows, print before / after / VADER
    python bench/lexicon_head.py --write           # also write lexicon_head.json into the model folder

Training rows only: the CrowdFlower tweets' train side (the shipped model never saw any tweet),
``--replay`` seeded rows of every other corpus's training split; each corpus weighs the same in
the fit, classes balanced within it. Held out: every corpus's held-out split (the one the model
was validated on, read from its ``metrics.json``) and the tweets' held-out side, split into tweets
to an airline's customer service (``tweets_brand``) and the rest (``tweets_general``). The model's
probabilities are computed once per row (fp32, the reference precision) and cached in ``--cache``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from feedback_engine.nlp.sentiment import DEFAULT_MODEL_DIR, TransformerSentiment, VaderSentiment  # noqa: E402
from feedback_engine.nlp.sentiment.data import (  # noqa: E402
    LABEL_IDS,
    TrainConfig,
    crowdflower_splits,
    load_splits,
)
from feedback_engine.nlp.sentiment.evaluate import classification_metrics  # noqa: E402
from feedback_engine.nlp.sentiment.lexicon import LexiconHead, features, vader_scores  # noqa: E402
from feedback_engine.nlp.sentiment.model import clean_text  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "sentiment"
SLICE = 300


def model_probs(model: TransformerSentiment, texts: list[str], cache: Path) -> np.ndarray:
    """Calibrated probabilities of ``texts`` (cached by the texts' hash and the model's temperature)."""
    key = hashlib.sha256(("\n".join(texts) + f"|{model.temperature}|{model.precision}").encode()).hexdigest()[:16]
    path = cache / f"probs-{key}.npy"
    if path.is_file():
        return np.load(path)
    probs = model.probabilities(model.logits(texts)).numpy().astype(np.float64)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, probs)
    return probs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/feedback_engine_lexicon_cache"))
    parser.add_argument("--tweets", type=int, default=8000, help="training tweets (seeded sample of the train side)")
    parser.add_argument("--replay", type=int, default=1000, help="training rows of every other corpus")
    parser.add_argument("--c", type=float, default=1.0, help="inverse regularisation of the logistic head")
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--write", action="store_true", help="write lexicon_head.json into --model")
    args = parser.parse_args(argv)

    metrics = json.loads((args.model / "metrics.json").read_text(encoding="utf-8"))
    config = TrainConfig(**metrics["config"])
    train, val = load_splits(args.data, config)
    tw_train, tw_val = crowdflower_splits(args.data, seed=config.seed)
    val.update(tw_val)
    fit_frames = {name: df.sample(n=min(args.replay, len(df)), random_state=config.seed) for name, df in train.items()}
    for name, df in tw_train.items():
        fit_frames[name] = df.sample(n=min(args.tweets // 2, len(df)), random_state=config.seed)
    model = TransformerSentiment(args.model, precision=args.precision, lexicon=False)

    xs, ys, ws = [], [], []
    for name in sorted(fit_frames):
        df = fit_frames[name]
        texts = [clean_text(t) for t in df["text"]]
        x = features(model_probs(model, texts, args.cache), vader_scores(texts))
        y = df["label"].to_numpy()
        present = np.unique(y)
        per_class = {c: 1.0 / (len(present) * (y == c).sum()) for c in present}
        xs.append(x)
        ys.append(y)
        ws.append(np.array([per_class[c] for c in y]))  # each corpus sums to 1, classes balanced within it
    head = LexiconHead.fit(
        np.vstack(xs),
        np.concatenate(ys),
        np.concatenate(ws) * len(xs),
        c=args.c,
        meta={
            "fitted_on": {name: len(df) for name, df in sorted(fit_frames.items())},
            "c": args.c,
            "precision": args.precision,
            "command": "python bench/lexicon_head.py --write",
        },
    )

    vader = VaderSentiment()
    print(f"{'corpus':<16} {'n':>5}  {'model F1/acc':<13} {'+lexicon F1/acc':<16} {'VADER F1/acc':<13}")
    table: dict[str, dict] = {}
    slice_table: dict[str, dict] = {}
    for name in sorted(val):
        df = val[name]
        texts = [clean_text(t) for t in df["text"]]
        probs = model_probs(model, texts, args.cache)
        gold = df["label"].tolist()
        before = classification_metrics(gold, probs.argmax(axis=1).tolist())
        after = classification_metrics(gold, head.predict_proba(probs, texts).argmax(axis=1).tolist())
        lex = classification_metrics(gold, [LABEL_IDS[r.label] for r in vader.predict(texts)])
        table[name] = {"model": before, "lexicon_head": after, "vader": lex}
        # the fixed slice tests/nlp/test_lexicon_head.py checks (rows as data.fixed_slice picks them)
        rows = df.sample(n=min(SLICE, len(df)), random_state=config.seed).index.to_numpy()
        head_probs = head.predict_proba(probs[rows], [texts[i] for i in rows])
        slice_table[name] = classification_metrics([gold[i] for i in rows], head_probs.argmax(axis=1).tolist())
        print(
            f"{name:<16} {len(df):>5}  {before['macro_f1']:.3f}/{before['accuracy']:.3f}   "
            f"{after['macro_f1']:.3f}/{after['accuracy']:.3f}      {lex['macro_f1']:.3f}/{lex['accuracy']:.3f}"
        )
    if args.write:
        head.meta["held_out"] = table
        head.meta["slice"] = {"per_corpus": SLICE, "seed": config.seed, "lexicon_head": slice_table}
        print(f"wrote {head.save(args.model)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
