"""Metrics and calibration of a sentiment model: macro-F1 per corpus, ECE, a fitted temperature."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from feedback_engine.nlp.sentiment.data import LABEL_IDS, TrainConfig, fixed_slice, load_splits

# --------------------------------------------------------------------------------------------
# Metrics and calibration
# --------------------------------------------------------------------------------------------


def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int]) -> dict[str, float]:
    """Macro-F1 over the classes present in ``y_true`` (a neutral guess on a 2-class corpus is an error)."""
    from sklearn.metrics import accuracy_score, f1_score

    present = sorted(set(int(y) for y in y_true))
    return {
        "macro_f1": round(float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "n": len(y_true),
    }


def evaluate_frames(model: Any, frames: dict[str, pd.DataFrame]) -> dict[str, dict[str, float]]:
    """Per-corpus metrics of any object with ``predict(texts) -> [result with .label]``."""
    out: dict[str, dict[str, float]] = {}
    for name in sorted(frames):
        df = frames[name]
        predicted = [LABEL_IDS[r.label] for r in model.predict(df["text"].tolist())]
        out[name] = classification_metrics(df["label"].tolist(), predicted)
    out["mean"] = {
        "macro_f1": round(float(np.mean([m["macro_f1"] for m in out.values()])), 4),
        "accuracy": round(float(np.mean([m["accuracy"] for m in out.values()])), 4),
        "n": int(sum(m["n"] for m in out.values())),
    }
    return out


def evaluate(
    model: Any,
    data_dir: str | Path,
    seed: int = 13,
    config: TrainConfig | None = None,
    per_corpus: int | None = None,
) -> dict[str, dict[str, float]]:
    """Macro-F1 / accuracy per corpus on the held-out split of ``data_dir`` (optionally a fixed slice)."""
    base = config or TrainConfig()
    config = TrainConfig(**{**asdict(base), "seed": seed})
    _, val = load_splits(data_dir, config)
    if per_corpus:
        val = fixed_slice(val, per_corpus, seed)
    return evaluate_frames(model, val)


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """Top-label ECE with equal-width confidence bins."""
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (confidence > lo) & (confidence <= hi)
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def _softmax(logits: np.ndarray, temperature: float) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood (searched on log T in [-3, 3])."""
    from scipy.optimize import minimize_scalar

    def nll(log_t: float) -> float:
        p = _softmax(logits, math.exp(log_t))
        return float(-np.log(np.clip(p[np.arange(len(labels)), labels], 1e-12, None)).mean())

    result = minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded")
    return float(math.exp(result.x))


def calibrate(logits: np.ndarray, labels: np.ndarray, seed: int) -> dict[str, float]:
    """Temperature on all held-out rows; ECE before, and after by 2-fold cross-fitting (honest)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    halves = (order[: len(order) // 2], order[len(order) // 2 :])
    cross = np.zeros_like(logits)
    for fit_idx, apply_idx in (halves, halves[::-1]):
        cross[apply_idx] = _softmax(logits[apply_idx], fit_temperature(logits[fit_idx], labels[fit_idx]))
    temperature = fit_temperature(logits, labels)
    return {
        "temperature": round(temperature, 4),
        "ece_before": round(expected_calibration_error(_softmax(logits, 1.0), labels), 4),
        "ece_after": round(expected_calibration_error(cross, labels), 4),
        "ece_after_in_sample": round(expected_calibration_error(_softmax(logits, temperature), labels), 4),
        "n": len(labels),
        "bins": 15,
    }
