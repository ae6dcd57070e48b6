"""Offline language detection that does not call short English feedback foreign.

``py3langid`` (a pure-Python/numpy port of langid.py, model shipped in the wheel) is accurate on
sentences but guesses wildly on two-word texts: "ok" comes back as Serbian, "bad support" as
Swedish. Feedback is full of such texts, and a wrong "other language" silently drops an item from
every sentiment figure. So the decision is layered::

    1. the language the source gave (survey locale, store review language) wins, unless the text is
       long and langid is nearly certain of another language;
    2. texts whose words are mostly common English words (stop words plus a feedback vocabulary)
       are English without asking langid;
    3. langid decides when it is confident (a stricter bar for short texts);
    4. otherwise the text is assumed to be in ``default`` (English).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from feedback_engine.errors import ModelError

__all__ = ["LanguageDetector", "LanguageResult", "normalise_code"]

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)

# Words of customer feedback that are English but absent from spaCy's stop-word list.
_FEEDBACK_WORDS = frozenset(
    [
        "ok",
        "okay",
        "love",
        "loved",
        "like",
        "liked",
        "great",
        "good",
        "bad",
        "fine",
        "works",
        "work",
        "working",
        "worked",
        "app",
        "apps",
        "support",
        "price",
        "prices",
        "expensive",
        "cheap",
        "meh",
        "lol",
        "thanks",
        "thank",
        "awesome",
        "terrible",
        "horrible",
        "nice",
        "cool",
        "excellent",
        "perfect",
        "amazing",
        "worst",
        "best",
        "poor",
        "slow",
        "fast",
        "easy",
        "hard",
        "broken",
        "bug",
        "bugs",
        "crash",
        "crashes",
        "crashing",
        "update",
        "updated",
        "service",
        "customer",
        "delivery",
        "refund",
        "refunds",
        "order",
        "ordered",
        "stars",
        "star",
        "account",
        "login",
        "log",
        "password",
        "useless",
        "helpful",
        "quick",
        "quality",
        "value",
        "money",
        "waste",
        "time",
        "please",
        "fix",
        "fixed",
        "issue",
        "issues",
        "problem",
        "problems",
        "happy",
        "unhappy",
        "disappointed",
        "recommend",
        "recommended",
        "product",
        "team",
        "staff",
        "experience",
        "price",
    ]
)


def normalise_code(code: str | None) -> str | None:
    """``"en-US"``, ``"EN_gb"``, ``" English "`` -> ``"en"``; unknown or empty -> ``None``."""
    if code is None:
        return None
    low = str(code).strip().lower()
    if not low:
        return None
    names = {"english": "en", "french": "fr", "german": "de", "spanish": "es", "italian": "it", "dutch": "nl"}
    if low in names:
        return names[low]
    base = re.split(r"[-_]", low, maxsplit=1)[0]
    return base if re.fullmatch(r"[a-z]{2,3}", base) else None


@lru_cache(maxsize=1)
def _english_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | _FEEDBACK_WORDS


@dataclass(frozen=True)
class LanguageResult:
    """``language`` (ISO 639-1), whether it is English, the confidence and which rule decided."""

    language: str
    is_english: bool
    confidence: float
    method: str  # source | english-words | langid | default


class LanguageDetector:
    """``detect(text, source_language=None) -> LanguageResult``; deterministic, ~50 us per text.

    ``threshold``: langid probability needed for texts of at least ``short_words`` words;
    ``short_threshold`` for shorter ones. ``default`` is the language assumed when nothing is sure.
    """

    def __init__(
        self,
        *,
        default: str = "en",
        threshold: float = 0.8,
        short_threshold: float = 0.95,
        short_words: int = 4,
        english_share: float = 0.5,
        override_words: int = 8,
    ) -> None:
        self.default = default
        self.threshold = threshold
        self.short_threshold = short_threshold
        self.short_words = short_words
        self.english_share = english_share
        self.override_words = override_words
        self._identifier: Any = None

    @property
    def identifier(self) -> Any:
        if self._identifier is None:
            try:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier
            except ImportError as exc:
                raise ModelError("py3langid is not installed. Make sure to run: pip install py3langid") from exc
            self._identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return self._identifier

    def english_word_share(self, words: list[str]) -> float:
        if not words:
            return 0.0
        vocab = _english_words()
        return sum(1 for w in words if w.lower() in vocab) / len(words)

    def detect(self, text: str | None, source_language: str | None = None) -> LanguageResult:
        words = _WORD.findall(text or "")
        given = normalise_code(source_language)
        if given is not None:
            if len(words) >= self.override_words:
                lang, prob = self.identifier.classify(text)
                if lang != given and prob >= 0.99 and self.english_word_share(words) < self.english_share:
                    return self._result(lang, prob, "langid")
            return self._result(given, 1.0, "source")
        if not words:
            return self._result(self.default, 0.0, "default")
        share = self.english_word_share(words)
        if share >= self.english_share:
            return self._result("en", share, "english-words")
        lang, prob = self.identifier.classify(text)
        bar = self.threshold if len(words) >= self.short_words else self.short_threshold
        if prob >= bar:
            return self._result(lang, prob, "langid")
        return self._result(self.default, prob, "default")

    @staticmethod
    def _result(language: str, confidence: float, method: str) -> LanguageResult:
        return LanguageResult(language, language == "en", round(float(confidence), 4), method)
