"""The sentiment labels, one result type, and how a foreign model's labels map onto ours.

Every sentiment model returns :class:`SentimentResult` (``label`` in :data:`LABELS`, ``score`` =
P(positive) - P(negative) in [-1, 1], ``probs``); :func:`label_matrix` maps a Hugging Face model's
``id2label`` (``LABEL_0..2``, ``1 star..5 stars``, names containing neg/neu/pos) onto them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from feedback_engine.errors import ModelError

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
MODEL_ENV_VAR = "FEEDBACK_ENGINE_SENTIMENT_MODEL"  # a model folder or Hugging Face id instead of the shipped one


@dataclass(frozen=True)
class SentimentResult:
    """One text's sentiment: ``label``, ``score`` = P(positive) - P(negative), calibrated ``probs``."""

    label: str
    score: float
    probs: dict[str, float] = field(default_factory=dict)


def result_from_probs(probs: Sequence[float]) -> SentimentResult:
    """Build a result from three probabilities in :data:`LABELS` order."""
    total = float(sum(probs)) or 1.0
    p = [float(x) / total for x in probs]
    best = max(range(3), key=lambda i: p[i])
    score = min(1.0, max(-1.0, p[2] - p[0]))
    return SentimentResult(label=LABELS[best], score=score, probs=dict(zip(LABELS, p, strict=True)))


# --------------------------------------------------------------------------------------------
# Token-level helpers, shared with the training command so that both see the same inputs.
# --------------------------------------------------------------------------------------------


_STAR = re.compile(r"^\s*([1-5])\s*stars?\s*$")


def _label_column(name: str, index: int, n_labels: int) -> int | None:
    """Which of our labels (0 neg, 1 neu, 2 pos) a model's label feeds; ``None`` if unknown."""
    low = name.strip().lower()
    generic = re.fullmatch(r"label[_ ]?(\d+)", low)
    if generic:
        index = int(generic.group(1))
        if n_labels == 2:
            return 0 if index == 0 else 2
        if n_labels == 3:
            return index
        return None
    star = _STAR.match(low)
    if star:
        stars = int(star.group(1))
        return 0 if stars <= 2 else (1 if stars == 3 else 2)
    for prefix, column in (("neg", 0), ("neu", 1), ("pos", 2)):
        if low.startswith(prefix):
            return column
    return None


def label_matrix(id2label: dict[int, str]) -> list[int]:
    """For each model output index, the column of :data:`LABELS` its probability adds to."""
    n = len(id2label)
    columns = [_label_column(str(id2label[i]), i, n) for i in range(n)]
    if any(c is None for c in columns):
        names = ", ".join(str(id2label[i]) for i in range(n))
        raise ModelError(
            f"Cannot map the model's labels ({names}) to negative/neutral/positive. "
            f"Make sure to use a sentiment model whose labels name negative/neutral/positive, "
            f"LABEL_0..LABEL_2 or 1..5 stars, or unset {MODEL_ENV_VAR}."
        )
    return [int(c) for c in columns]  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Model loading
# --------------------------------------------------------------------------------------------
