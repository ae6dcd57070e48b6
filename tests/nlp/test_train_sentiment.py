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
from feedback_engine.nlp.sentiment.train import TrainConfig, adaptation_table, load_splits, train

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
