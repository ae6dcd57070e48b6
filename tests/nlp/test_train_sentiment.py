"""The training command on a tiny labelled folder: both stages really run on the real MiniLM.

Seconds on the CPU (one epoch, 32 tokens, a few dozen rows). What is checked is the plumbing a
user relies on: the files written, the split kept out of training, the stage-2 mix, ``--init-from``
continuing from stage 1 and refusing a model that held out another split.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from feedback_engine.errors import ConfigError
from feedback_engine.nlp.sentiment import TransformerSentiment
from feedback_engine.nlp.sentiment.data import crowdflower_splits, data_digest, read_crowdflower
from feedback_engine.nlp.sentiment.model import model_input
from feedback_engine.nlp.sentiment.train import (
    TrainConfig,
    adaptation_table,
    check_same_split,
    load_splits,
    train,
)

POSITIVE = ["Great service, thank you", "I love this app", "Fast delivery and friendly staff", "Works perfectly"]
NEGATIVE = ["Terrible support, never again", "The app crashes all the time", "I want a refund now", "Awful quality"]
NEUTRAL = ["I ordered on Monday", "The parcel came in a box", "I use it on my phone", "It has a settings page"]


def _write_folder(folder: Path) -> Path:
    folder.mkdir()
    rows = []
    for i in range(6):
        for label, texts in (("positive", POSITIVE), ("negative", NEGATIVE), ("neutral", NEUTRAL)):
            rows += [{"text": f"{t} ({label} {i}.{j})", "label": label} for j, t in enumerate(texts)]
    pd.DataFrame(rows).to_csv(folder / "general.csv", index=False)
    patients = [{"text": f"Patient {r['text']}", "label": r["label"]} for r in rows[::3]]
    pd.DataFrame(patients).to_csv(folder / "patients.tsv", sep="\t", index=False)
    return folder


SMALL = {
    "max_length": 32,
    "adapt_max_length": 32,
    "eval_max_length": 32,
    "batch_size": 16,
    "adapt_corpora": ("patients",),
    "adapt_replay": 10,
    "slice_per_corpus": 20,
}


def test_adaptation_table_mixes_every_adapt_row_with_a_replay_sample(tmp_path: Path) -> None:
    config = TrainConfig(**SMALL)
    train_frames, _ = load_splits(_write_folder(tmp_path / "data"), config)
    table = adaptation_table(train_frames, config)
    counts = table["corpus"].value_counts().to_dict()
    assert len(train_frames["patients"]) > 10
    assert counts == {"patients": len(train_frames["patients"]), "general": 10}
    assert table["weight"].mean() == pytest.approx(1.0)
    assert adaptation_table(train_frames, TrainConfig(**{**SMALL, "adapt_epochs": 0})) is None
    assert adaptation_table(train_frames, TrainConfig(**{**SMALL, "adapt_corpora": ("elsewhere",)})) is None


def test_two_stages_then_init_from_then_a_foreign_split_is_refused(tmp_path: Path) -> None:
    data = _write_folder(tmp_path / "data")
    stage1 = tmp_path / "stage1"
    metrics = train(data, stage1, epochs=1, progress=False, **{**SMALL, "adapt_epochs": 0})
    assert metrics["training"]["adapt_epoch_losses"] == []
    for name in ("config.json", "model.safetensors", "calibration.json", "metrics.json", "tokenizer.json"):
        assert (stage1 / name).is_file(), name
    assert set(metrics["validation"]["ours_fp32"]) == {"general", "patients", "mean"}

    both = tmp_path / "both"
    metrics2 = train(data, both, epochs=1, progress=False, init_from=stage1, **{**SMALL, "adapt_epochs": 1})
    assert metrics2["training"]["epoch_losses"] == []  # stage 1 skipped
    assert len(metrics2["training"]["adapt_epoch_losses"]) == 1
    assert metrics2["training"]["init_from"] == str(stage1)
    assert metrics2["data_digest"] == metrics["data_digest"]
    results = TransformerSentiment(both).predict(["I love this app", "I ordered on Monday"])
    assert all(r.label in ("negative", "neutral", "positive") for r in results)
    written = json.loads((both / "metrics.json").read_text(encoding="utf-8"))
    assert written["config"]["adapt_corpora"] == ["patients"]

    with pytest.raises(ConfigError, match="another held-out split"):
        train(data, tmp_path / "x", epochs=1, progress=False, init_from=stage1, seed=99, **SMALL)
    with pytest.raises(ConfigError, match="--init-from"):
        train(data, tmp_path / "y", epochs=1, progress=False, init_from=tmp_path / "data", **SMALL)


# --------------------------------------------------------------------------------------------
# The CrowdFlower tweets: reading, confidence, the split, and continuing a model trained before them
# --------------------------------------------------------------------------------------------

TWEETS = [
    ("negative", 0.95, "@united lost my bag again http://t.co/abc123"),
    ("negative", 0.40, "@JetBlue delayed 3 hours, no word from anyone"),
    ("positive", 1.00, "@SouthwestAir thank you for the upgrade_ôÖ\x89_ôÖ_ amazing crew"),
    ("neutral", None, "@AmericanAir what is the baggage allowance to Lima?"),
    ("positive", 0.80, "Coachella line-up is out and it looks amazing #coachella"),
    ("negative", 0.55, "I would never trust a self-driving car Õ¢_ÎÐ with my kids"),
    ("neutral", 0.90, "Watching the game tonight at Joe's"),
]


def _write_tweets(folder: Path, copies: int = 8) -> None:
    rows = [
        {"sentiment": label, "confidence": conf, "text": f"{text} ({i})"}
        for i in range(copies)
        for label, conf, text in TWEETS
    ]
    pd.DataFrame(rows).to_csv(folder / "crowdflower_tweets.csv.xz", index=False)


def test_tweets_are_read_in_two_corpora_without_mojibake_and_noisy_rows_are_not_trained_on(tmp_path: Path) -> None:
    data = _write_folder(tmp_path / "data")
    _write_tweets(data)
    df = read_crowdflower(data / "crowdflower_tweets.csv.xz")
    assert len(df) == len(TWEETS) * 8
    assert set(df.loc[df["text"].str.contains("@united"), "group"]) == {"brand"}
    assert set(df.loc[df["text"].str.contains("Coachella"), "group"]) == {"general"}
    upgrade = df.loc[df["text"].str.contains("upgrade"), "text"].iloc[0]
    assert upgrade.startswith("@SouthwestAir thank you for the upgrade amazing crew")
    assert "Õ" not in " ".join(df["text"]) and "_ô" not in " ".join(df["text"])
    assert df.loc[df["text"].str.contains("baggage"), "confidence"].eq(1.0).all()  # empty counts as sure
    assert len(read_crowdflower(data / "crowdflower_tweets.csv.xz", min_confidence=0.6)) == 5 * 8

    config = TrainConfig(**SMALL)
    train_frames, val_frames = load_splits(data, config)
    assert {"tweets_brand", "tweets_general", "general", "patients"} == set(train_frames)
    raw_train, raw_val = crowdflower_splits(data, seed=config.seed)  # before the confidence filter
    for name in ("tweets_brand", "tweets_general"):
        assert (train_frames[name]["confidence"] >= config.min_confidence).all()
        assert (raw_train[name]["confidence"] < config.min_confidence).any()
        assert val_frames[name]["text"].tolist() == raw_val[name]["text"].tolist()  # held-out rows: all kept
        assert not set(val_frames[name]["text"]) & set(train_frames[name]["text"])
    without, _ = load_splits(data, TrainConfig(**SMALL, exclude_corpora=("tweets_brand", "tweets_general")))
    assert set(without) == {"general", "patients"}


def test_stage2_rows_can_be_capped_per_corpus(tmp_path: Path) -> None:
    data = _write_folder(tmp_path / "data")
    _write_tweets(data)
    config = TrainConfig(**{**SMALL, "adapt_rows": {"tweets_brand": 5, "general": 3}})
    train_frames, _ = load_splits(data, config)
    counts = adaptation_table(train_frames, config)["corpus"].value_counts().to_dict()
    assert counts == {"patients": len(train_frames["patients"]), "general": 3, "tweets_brand": 5, "tweets_general": 10}


def test_a_model_trained_before_the_tweets_may_be_continued_on_them(tmp_path: Path) -> None:
    data = _write_folder(tmp_path / "data")
    config = TrainConfig(**SMALL)
    _, val_before = load_splits(data, config)
    model = tmp_path / "model"
    model.mkdir()
    sizes = {name: {"val": len(df)} for name, df in val_before.items()}
    payload = {"data_digest": {"val": data_digest(val_before)}, "split_sizes": sizes}
    (model / "metrics.json").write_text(json.dumps(payload), encoding="utf-8")
    _write_tweets(data)
    _, val_after = load_splits(data, config)
    assert data_digest(val_after) != data_digest(val_before)
    check_same_split(model, val_after)  # the corpora it held out are held out identically: accepted
    _, other_seed = load_splits(data, TrainConfig(**{**SMALL, "seed": 99}))
    with pytest.raises(ConfigError, match="another held-out split"):
        check_same_split(model, other_seed)
    with pytest.raises(ConfigError, match="another held-out split"):  # a corpus it held out is missing here
        check_same_split(model, {k: v for k, v in val_after.items() if k != "patients"})


def test_the_encoder_reads_one_placeholder_per_handle_and_link() -> None:
    assert model_input("@united lost my bag http://t.co/x1 😡") == "@user lost my bag http angry"
    assert model_input("[HANDLE] see [URL] or www.example.com/a") == "@user see http or http"
    assert model_input("write to anna@example.com") == "write to anna@example.com"
