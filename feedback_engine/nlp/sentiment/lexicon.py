"""The lexicon as a feature: a small calibrated head over the model's probabilities and VADER's scores.

On social posts the VADER lexicon beats our model (it knows "hate", "ugh", "smh", "luv"; our model
was trained on movies, editorials and patient reviews), while on reviews the model wins. A
multinomial logistic regression over both, 7 features::

    log P(negative), log P(neutral), log P(positive)        (the model, temperature-calibrated)
    VADER neg, neu, pos, compound

fitted on training rows only (``bench/lexicon_head.py --write``; the tweets the shipped model never
saw and a replay of every other corpus, each corpus weighted equally, classes balanced) gives
calibrated probabilities that take the best of both. The fitted head is ``lexicon_head.json`` in
the model folder (a 3 x 7 matrix, a few hundred bytes); :class:`~.model.TransformerSentiment`
applies it when the file is there (``lexicon=False`` to switch it off).

**Not shipped**: measured on the held-out rows (model card, "Lexicon as a feature"), the head moved
the held-out tweets by -0.003..+0.004 macro-F1 and cost Rotten Tomatoes 0.010-0.011, because on
the CrowdFlower tweets VADER (0.45 / 0.39) is itself well below the model (0.64 / 0.48). The
code stays so that a user with their own labelled social posts can fit and ship a head.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from feedback_engine.errors import ModelError

__all__ = ["FEATURES", "HEAD_FILE", "LexiconHead", "features", "vader_scores"]

HEAD_FILE = "lexicon_head.json"
FEATURES = (
    "log_p_negative",
    "log_p_neutral",
    "log_p_positive",
    "vader_neg",
    "vader_neu",
    "vader_pos",
    "vader_compound",
)

_ANALYZER: Any = None


def _vader() -> Any:
    global _ANALYZER
    if _ANALYZER is None:
        try:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise ModelError("vaderSentiment is not installed. Make sure to run: pip install vaderSentiment") from exc
        _ANALYZER = SentimentIntensityAnalyzer()
    return _ANALYZER


def vader_scores(texts: Sequence[str]) -> np.ndarray:
    """VADER's ``neg, neu, pos, compound`` per text, shape ``(n, 4)``."""
    analyzer = _vader()
    out = np.zeros((len(texts), 4), dtype=np.float64)
    for i, text in enumerate(texts):
        s = analyzer.polarity_scores(text or "")
        out[i] = (s["neg"], s["neu"], s["pos"], s["compound"])
    return out


def features(probs: np.ndarray, vader: np.ndarray) -> np.ndarray:
    """The head's input: log model probabilities (clipped) beside VADER's four scores."""
    return np.hstack([np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-6, 1.0)), vader])


class LexiconHead:
    """``probs = softmax(x @ coef.T + intercept)`` over :data:`FEATURES`; see the module docstring."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, meta: dict[str, Any] | None = None) -> None:
        coef = np.asarray(coef, dtype=np.float64)
        intercept = np.asarray(intercept, dtype=np.float64)
        if coef.shape != (3, len(FEATURES)) or intercept.shape != (3,) or not np.isfinite(coef).all():
            raise ModelError(f"A lexicon head needs a finite 3 x {len(FEATURES)} matrix and 3 intercepts.")
        self.coef = coef
        self.intercept = intercept
        self.meta = dict(meta or {})

    @classmethod
    def fit(
        cls, x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None, c: float = 1.0, meta: dict | None = None
    ) -> LexiconHead:
        """Fit on feature rows ``x`` (from :func:`features`) and labels ``y`` (0 neg, 1 neu, 2 pos)."""
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=c, max_iter=2000)
        model.fit(x, y, sample_weight=weights)
        if list(model.classes_) != [0, 1, 2]:
            raise ModelError("The lexicon head needs training rows of all three labels.")
        return cls(model.coef_, model.intercept_, meta)

    def predict_proba(self, probs: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """Head probabilities over negative / neutral / positive for model ``probs`` of ``texts``."""
        z = features(probs, vader_scores(texts)) @ self.coef.T + self.intercept
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    # -- the file --------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / HEAD_FILE
        payload = {
            "features": list(FEATURES),
            "labels": ["negative", "neutral", "positive"],
            "coef": [[round(float(v), 6) for v in row] for row in self.coef],
            "intercept": [round(float(v), 6) for v in self.intercept],
            **self.meta,
        }
        path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: str | Path) -> LexiconHead | None:
        """The head stored in ``folder``, or ``None`` when there is none."""
        path = Path(folder) / HEAD_FILE
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if list(data["features"]) != list(FEATURES):
                raise ValueError(f"features {data['features']} are not {list(FEATURES)}")
            head = cls(np.array(data["coef"]), np.array(data["intercept"]), {})
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelError(
                f"{path} is not a valid lexicon head ({exc}). Make sure to refit it with "
                f"`python bench/lexicon_head.py --write` or delete the file.",
                path=str(path),
            ) from exc
        if not all(math.isfinite(v) for v in head.intercept):
            raise ModelError(f"{path} holds non-finite intercepts.", path=str(path))
        return head
