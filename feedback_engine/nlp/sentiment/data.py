"""The training corpora of the sentiment model: readers, the training configuration, seeded splits.

Held-out texts never occur (after normalising) in any training split; :func:`data_digest` names
the split so that a later run can refuse to compare against a different one.
"""

from __future__ import annotations

import csv
import hashlib
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from feedback_engine.errors import ConfigError, IngestError
from feedback_engine.nlp.sentiment.labels import LABELS
from feedback_engine.nlp.sentiment.model import (
    clean_text,
)

LABEL_IDS = {name: i for i, name in enumerate(LABELS)}
KNOWN_FILES = {
    "imdb": "imdb_50k.csv.xz",
    "rotten_tomatoes": "rotten_tomatoes_full.csv.bz2",
    "movie_snippets": "movie_snippets_rated.tsv",
    "nyt_editorials": "nyt_editorial_snippets_rated.tsv",
    "drug_reviews": "drug_reviews_train.tsv",
    "crowdflower": "crowdflower_tweets.csv.xz",  # two corpora: tweets_brand, tweets_general
}
TWEET_CORPORA = ("tweets_brand", "tweets_general")
METRICS_FILE = "metrics.json"


@dataclass(frozen=True)
class TrainConfig:
    """Every setting that changes the data split or the model (all are written to metrics.json)."""

    seed: int = 13
    epochs: int = 2
    learning_rate: float = 8e-5
    batch_size: int = 32
    max_length: int = 128
    warmup_fraction: float = 0.06
    weight_decay: float = 0.01
    neutral_band: float = 0.5
    imdb_reviews: int = 2_500
    val_fraction: float = 0.2
    val_fractions: dict[str, float] = field(default_factory=lambda: {"imdb": 0.15, "drug_reviews": 0.4})
    corpus_weights: dict[str, float] = field(default_factory=lambda: {"drug_reviews": 3.0})
    class_weight_power: float = 0.5
    freeze_embeddings: bool = True
    slice_per_corpus: int = 300
    # Stage 2, domain adaptation: a few more epochs on the adapt corpora (few rows, the domain
    # farthest from the rest) mixed with a replay sample of every other corpus so nothing is forgotten.
    adapt_corpora: tuple[str, ...] = ("drug_reviews",)
    adapt_epochs: int = 4
    adapt_learning_rate: float = 5e-5
    adapt_replay: int = 300
    adapt_rows: dict[str, int] = field(default_factory=dict)  # per corpus, instead of all / adapt_replay
    adapt_max_length: int = 256  # patient reviews run long: a median of 121 tokens
    eval_max_length: int = 256  # = TransformerSentiment's default at inference
    # CrowdFlower tweets: training rows whose rater agreement is below this are dropped (held-out
    # rows are all kept); corpora named here are not read at all (how a model trained before the
    # tweets existed names its split).
    min_confidence: float = 0.6
    exclude_corpora: tuple[str, ...] = ()

    def split_settings(self) -> dict[str, Any]:
        """The settings that define the held-out split (what :func:`evaluate` needs)."""
        return {
            "seed": self.seed,
            "neutral_band": self.neutral_band,
            "imdb_reviews": self.imdb_reviews,
            "val_fraction": self.val_fraction,
            "val_fractions": dict(self.val_fractions),
            "exclude_corpora": list(self.exclude_corpora),
        }


# --------------------------------------------------------------------------------------------
# Reading the corpora
# --------------------------------------------------------------------------------------------


def text_key(text: str) -> str:
    """Normalised text used to find the same sentence in two corpora (leakage check)."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def stable_hash(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def rating_label(rating: float, band: float) -> int:
    """Mean human rating (-4..+4) to a class: neutral within ``[-band, band]``."""
    if rating > band:
        return LABEL_IDS["positive"]
    if rating < -band:
        return LABEL_IDS["negative"]
    return LABEL_IDS["neutral"]


def _frame(
    texts: Sequence[str],
    labels: Sequence[int],
    groups: Sequence[str] | None = None,
    extra: dict[str, Sequence[Any]] | None = None,
) -> pd.DataFrame:
    df = pd.DataFrame({"text": [clean_text(t) for t in texts], "label": np.asarray(labels, dtype=np.int64)})
    df["group"] = list(groups) if groups is not None else ""
    for column, values in (extra or {}).items():
        df[column] = list(values)
    df = df[df["text"].str.len() > 0]
    return df[~df["text"].map(text_key).duplicated()].reset_index(drop=True)


def _read(path: Path, reader: Callable[[Path], pd.DataFrame]) -> pd.DataFrame:
    try:
        return reader(path)
    except (OSError, ValueError, pd.errors.ParserError, EOFError) as exc:
        raise IngestError(f"Cannot read {path}: {exc}. Make sure the file is intact.", source=str(path)) from exc


def read_rated(path: Path, band: float) -> pd.DataFrame:
    """Hutto & Gilbert rated snippets (``id``, ``sentiment``, ``text``)."""
    df = _read(path, lambda p: pd.read_csv(p, sep="\t", quoting=csv.QUOTE_NONE))
    df = df.dropna(subset=["text", "sentiment"])
    return _frame(df["text"].astype(str).tolist(), [rating_label(float(r), band) for r in df["sentiment"]])


def read_drug_reviews(path: Path) -> pd.DataFrame:
    """UCI drug reviews, already reduced to positive / neutral / negative; HTML entities unescaped."""
    df = _read(path, lambda p: pd.read_csv(p, sep="\t"))
    df = df.dropna(subset=["review", "rating"])
    texts = [html.unescape(str(t)).strip().strip('"').strip() for t in df["review"]]
    return _frame(texts, [LABEL_IDS[str(r).strip().lower()] for r in df["rating"]])


def read_rotten_tomatoes(path: Path, exclude: set[str]) -> pd.DataFrame:
    """Fresh / rotten snippets and neutral plot summaries; snippets already in ``exclude`` are left out."""
    df = _read(path, lambda p: pd.read_csv(p))
    df = df.dropna(subset=["text", "category"])
    mapping = {"fresh": "positive", "rotten": "negative", "plot": "neutral"}
    df = df[df["category"].isin(mapping)]
    df = df[~df["text"].astype(str).map(lambda t: text_key(clean_text(t))).isin(exclude)]
    labels = [LABEL_IDS[mapping[c]] for c in df["category"]]
    return _frame(df["text"].astype(str).tolist(), labels, groups=df["movie_name"].astype(str).tolist())


def read_imdb(path: Path, n_reviews: int) -> pd.DataFrame:
    """IMDB reviews, ``<br />`` stripped; the ``n_reviews`` with the smallest text hash (order-free choice)."""
    df = _read(path, lambda p: pd.read_csv(p))
    df = df.dropna(subset=["review", "sentiment"])
    df = df.assign(h=df["review"].astype(str).map(stable_hash)).sort_values("h", kind="stable").head(n_reviews)
    labels = [LABEL_IDS[str(s).strip().lower()] for s in df["sentiment"]]
    return _frame(df["review"].astype(str).tolist(), labels)


CROWDFLOWER_FILE = KNOWN_FILES["crowdflower"]
#: Customer-service handles of the airline tweets: a tweet naming one is "about a brand".
BRAND_HANDLES = ("@united", "@usairways", "@americanair", "@southwestair", "@jetblue", "@virginamerica")
# Emoji and curly quotes of the tweets were read as Latin-1 once and stored so ("_ôÖ\x89_ôÖ_",
# "Õ¢_ÎÐ"): runs of such characters (with the underscores between them) carry nothing readable.
_ODD = "\\x80-\\xff\\u0152\\u0153\\u0160\\u0161\\u0178\\u017d\\u017e\\u0192\\u02c6\\u02dc\\u2013-\\u203a\\u20ac\\u2122"
_MOJIBAKE = re.compile(f"_?(?:[{_ODD}]{{2,}}|_[{_ODD}]|[{_ODD}]_)(?:[{_ODD}_]*)")


def unmangle_tweet(text: str) -> str:
    """Drop the Latin-1 mojibake of the CrowdFlower tweets (a corpus artefact, not done at inference)."""
    if text.isascii():
        return text
    return re.sub(r"\s{2,}", " ", _MOJIBAKE.sub(" ", text)).strip()


def read_crowdflower(path: Path, min_confidence: float = 0.0) -> pd.DataFrame:
    """CrowdFlower tweets (``sentiment``, ``confidence``, ``text``); ``group`` is ``brand`` for
    tweets to an airline's customer service and ``general`` for the rest (festival, cars, sports).
    Rows below ``min_confidence`` rater agreement are left out (an empty confidence is kept); the
    frame keeps a ``confidence`` column (1.0 where empty)."""
    df = _read(path, lambda p: pd.read_csv(p))
    df = df.dropna(subset=["text", "sentiment"])
    df = df[df["sentiment"].astype(str).str.strip().str.lower().isin(LABEL_IDS)]
    conf = pd.to_numeric(df["confidence"], errors="coerce")
    if min_confidence > 0:
        df, conf = df[conf.isna() | (conf >= min_confidence)], conf[conf.isna() | (conf >= min_confidence)]
    texts = [unmangle_tweet(t) for t in df["text"].astype(str)]
    groups = ["brand" if any(h in t.lower() for h in BRAND_HANDLES) else "general" for t in texts]
    labels = [LABEL_IDS[str(v).strip().lower()] for v in df["sentiment"]]
    return _frame(texts, labels, groups=groups, extra={"confidence": conf.fillna(1.0).tolist()})


def tweet_corpora(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The two tweet corpora (``tweets_brand``, ``tweets_general``), ungrouped so that each is split
    stratified by label (a group is one tweet)."""
    return {
        f"tweets_{group}": df[df["group"] == group].assign(group="").reset_index(drop=True)
        for group in ("brand", "general")
    }


def crowdflower_splits(
    data_dir: str | Path, seed: int = 13, val_fraction: float = 0.2
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """The CrowdFlower tweets as ``(train, val)`` frames per corpus (``tweets_brand``,
    ``tweets_general``): the very split :func:`load_splits` makes (stratified by label, fixed seed),
    before its leakage check and confidence filter of the training side."""
    train: dict[str, pd.DataFrame] = {}
    val: dict[str, pd.DataFrame] = {}
    for name, part in tweet_corpora(read_crowdflower(Path(data_dir) / CROWDFLOWER_FILE)).items():
        train[name], val[name] = split_corpus(part, val_fraction, seed)
    return train, val


def read_generic(path: Path) -> pd.DataFrame:
    """A user's own labelled file: columns ``text`` and ``label`` (negative / neutral / positive)."""
    sep = "\t" if path.suffix == ".tsv" else ","
    df = _read(path, lambda p: pd.read_csv(p, sep=sep))
    if not {"text", "label"} <= set(df.columns):
        raise IngestError(f"{path} has no 'text' and 'label' columns. Make sure to name them so.", source=str(path))
    df = df.dropna(subset=["text", "label"])
    labels = df["label"].astype(str).str.strip().str.lower()
    unknown = sorted(set(labels) - set(LABEL_IDS))
    if unknown:
        raise IngestError(f"{path} has labels {unknown[:5]}; use negative / neutral / positive.", source=str(path))
    return _frame(df["text"].astype(str).tolist(), [LABEL_IDS[v] for v in labels])


def read_corpora(data_dir: Path, config: TrainConfig) -> dict[str, pd.DataFrame]:
    """Every corpus found in ``data_dir``, as frames with ``text``, ``label``, ``group``."""
    if not data_dir.is_dir():
        raise ConfigError(f"Data folder {data_dir} does not exist. Make sure to pass the folder of labelled data.")
    corpora: dict[str, pd.DataFrame] = {}
    for name, reader in (
        ("movie_snippets", lambda p: read_rated(p, config.neutral_band)),
        ("nyt_editorials", lambda p: read_rated(p, config.neutral_band)),
        ("drug_reviews", read_drug_reviews),
        ("imdb", lambda p: read_imdb(p, config.imdb_reviews)),
    ):
        path = data_dir / KNOWN_FILES[name]
        if path.is_file():
            corpora[name] = reader(path)
    cf_path = data_dir / KNOWN_FILES["crowdflower"]
    if cf_path.is_file() and not set(TWEET_CORPORA) <= set(config.exclude_corpora):
        corpora.update(tweet_corpora(read_crowdflower(cf_path)))
    rt_path = data_dir / KNOWN_FILES["rotten_tomatoes"]
    if rt_path.is_file():
        seen = {text_key(t) for df in corpora.values() for t in df["text"]}
        corpora["rotten_tomatoes"] = read_rotten_tomatoes(rt_path, seen)
    known = set(KNOWN_FILES.values())
    for path in sorted([*data_dir.glob("*.csv"), *data_dir.glob("*.tsv")]):
        if path.name not in known:
            corpora[path.stem] = read_generic(path)
    corpora = {k: v for k, v in corpora.items() if len(v) > 0 and k not in config.exclude_corpora}
    if not corpora:
        raise ConfigError(
            f"No labelled data found in {data_dir}. Make sure it holds the files of shared/data/sentiment "
            f"or CSV/TSV files with columns 'text' and 'label'."
        )
    return corpora


# --------------------------------------------------------------------------------------------
# Splitting (stratified, seeded, grouped where a corpus has groups) and leakage removal
# --------------------------------------------------------------------------------------------


def split_corpus(df: pd.DataFrame, val_fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified split keeping each group (e.g. one movie) on one side."""
    from sklearn.model_selection import StratifiedGroupKFold, train_test_split

    counts = df["label"].value_counts()
    if len(df) < 10 or counts.min() < 2:
        train, val = train_test_split(df, test_size=val_fraction, random_state=seed)
        return train.reset_index(drop=True), val.reset_index(drop=True)
    n_splits = max(2, round(1 / val_fraction))
    if (df["group"] != "").any():
        folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        train_idx, val_idx = next(folds.split(df, df["label"], df["group"]))
        return df.iloc[train_idx].reset_index(drop=True), df.iloc[val_idx].reset_index(drop=True)
    train, val = train_test_split(df, test_size=val_fraction, random_state=seed, stratify=df["label"])
    return train.reset_index(drop=True), val.reset_index(drop=True)


def make_splits(
    corpora: dict[str, pd.DataFrame], config: TrainConfig
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Per corpus ``(train, val)``; no training text equals (after normalising) any held-out text."""
    train: dict[str, pd.DataFrame] = {}
    val: dict[str, pd.DataFrame] = {}
    for name in sorted(corpora):
        fraction = config.val_fractions.get(name, config.val_fraction)
        train[name], val[name] = split_corpus(corpora[name], fraction, config.seed)
    held_out = {text_key(t) for df in val.values() for t in df["text"]}
    seen: set[str] = set()
    for name in sorted(train):
        keys = train[name]["text"].map(text_key)
        keep = ~keys.isin(held_out) & ~keys.duplicated() & ~keys.isin(seen)
        if "confidence" in train[name]:  # noisy crowd labels: only confident rows are learnt from
            keep &= train[name]["confidence"] >= config.min_confidence
        seen |= set(keys[keep])
        train[name] = train[name][keep.to_numpy()].reset_index(drop=True)
    return train, val


def load_splits(
    data_dir: str | Path, config: TrainConfig | None = None
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Read ``data_dir`` and return the per-corpus ``(train, val)`` frames for ``config``."""
    config = config or TrainConfig()
    return make_splits(read_corpora(Path(data_dir), config), config)


def data_digest(frames: dict[str, pd.DataFrame], names: Sequence[str] | None = None) -> str:
    """A short hash of texts and labels, to check that two machines saw the same split (``names``:
    only those corpora)."""
    h = hashlib.sha256()
    for name in sorted(frames if names is None else names):
        for text, label in zip(frames[name]["text"], frames[name]["label"], strict=True):
            h.update(f"{name}\t{label}\t{text}\n".encode())
    return h.hexdigest()[:16]


def fixed_slice(val: dict[str, pd.DataFrame], per_corpus: int, seed: int) -> dict[str, pd.DataFrame]:
    """A seeded sample of at most ``per_corpus`` held-out rows per corpus (used by the tests)."""
    return {
        name: df.sample(n=min(per_corpus, len(df)), random_state=seed).reset_index(drop=True)
        for name, df in val.items()
    }
