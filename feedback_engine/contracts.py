"""The small contracts between stages, in one place (typing.Protocol).

- an ingestor turns a file into :class:`~feedback_engine.ingest.records.FeedbackRecord` items
  or quarantined records;
- a sentiment model maps texts to labelled, calibrated scores;
- an embedder maps texts to unit vectors;
- a mail transport sends one message.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class SentimentModel(Protocol):
    """Maps texts to results with ``label`` (negative|neutral|positive), ``score`` in [-1, 1], ``probs``."""

    def predict(self, texts: Sequence[str]) -> list[Any]: ...


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to an (n, dim) float32 array of L2-normalised vectors."""

    def encode(self, texts: Sequence[str]) -> Any: ...


@runtime_checkable
class MailTransport(Protocol):
    """Sends one message; raises ``loop.delivery.TransientError`` / ``PermanentError`` on failure."""

    def send(self, message: EmailMessage) -> None: ...
