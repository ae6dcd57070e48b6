"""The small contracts between stages, in one place (typing.Protocol).

- an ingestor turns a file into :class:`~feedback_engine.ingest.records.FeedbackRecord` items
  or quarantined records;
- a sentiment model maps texts to labelled, calibrated scores;
- an embedder maps texts to unit vectors;
- a mail transport sends one message to an envelope given by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    """Sends one message to an explicit envelope (``loop.transport.SMTPTransport``, ``RecordingTransport``).

    ``sender`` and ``recipients`` are the SMTP envelope (``MAIL FROM`` / ``RCPT TO``); the
    transport never reads them from the message's headers. ``message`` is the stored rendering
    (bytes, sent as is) or an ``EmailMessage``. Failures raise ``loop.delivery.TransientError``
    (retry later; its subclass ``MessageRejected`` for a 5xx to MAIL FROM, DATA or the body) or
    ``PermanentError`` (5xx to RCPT TO). When ``supports_before_commit`` is True, ``send`` calls
    ``before_commit`` once the server has accepted the envelope and is ready for the body, before
    the body is written; when False the caller records "sending" itself and passes None.
    ``close()`` ends any open connection (the transport reconnects on the next ``send``).
    """

    supports_before_commit: bool

    def send(
        self,
        message: EmailMessage | bytes,
        *,
        sender: str,
        recipients: Sequence[str],
        before_commit: Callable[[], None] | None = None,
    ) -> None: ...

    def close(self) -> None: ...
