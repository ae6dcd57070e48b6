"""Sentiment: our fine-tuned MiniLM classifier, the VADER baseline, and how the model is trained.

- :mod:`.labels`: the three labels, :class:`SentimentResult`, mapping a foreign model's labels;
- :mod:`.model`: :class:`TransformerSentiment` (the default, shipped in ``nlp/models/``) and
  :class:`VaderSentiment`, both :class:`feedback_engine.contracts.SentimentModel`;
- :mod:`.data`, :mod:`.evaluate`, :mod:`.train`: corpora and splits, metrics and calibration, the
  fine-tuning run behind ``feedback-engine train-sentiment``.

Importing this package loads no torch; the model does when it is built.
"""

from feedback_engine.nlp.sentiment.labels import LABELS, SentimentResult, label_matrix, result_from_probs
from feedback_engine.nlp.sentiment.model import (
    CALIBRATION_FILE,
    DEFAULT_MODEL_DIR,
    MODEL_ENV_VAR,
    TransformerSentiment,
    VaderSentiment,
    clean_text,
    emoji_to_words,
    head_tail,
)

__all__ = [
    "CALIBRATION_FILE",
    "DEFAULT_MODEL_DIR",
    "LABELS",
    "MODEL_ENV_VAR",
    "SentimentResult",
    "TransformerSentiment",
    "VaderSentiment",
    "clean_text",
    "emoji_to_words",
    "head_tail",
    "label_matrix",
    "result_from_probs",
]
