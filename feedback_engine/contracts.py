"""The small contracts between stages, in one place (typing.Protocol).

Each appears in the signatures that take the part (the Engine, the services, the stages), and
``tests/test_contracts.py`` checks every shipped part against its Protocol with ``isinstance``:

- :class:`Source`: an opened export (a file reader; later an API connector) yielding
  ``FeedbackRecord`` / ``Quarantined`` / ``Skipped`` records;
- :class:`SentimentModel`: texts -> labelled, calibrated scores (``TransformerSentiment``, ``VaderSentiment``);
- :class:`Embedder`: texts -> unit vectors (``MiniLMEmbedder``);
- :class:`TopicModel`: a configured BERTopic (``themes.discovery.default_topic_model``);
- :class:`AnalysisBackend`: runs analyze's pure per-batch computation (``nlp.pipeline.LocalBackend``);
- :class:`ThemeUpdater`: what analyze calls at its end (``themes.service.ThemeService``);
- :class:`MailTransport`: sends one message to an envelope given by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from email.message import EmailMessage
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Source(Protocol):
    """An opened export: ``platform``, ``options`` (recorded with the run) and its lazy ``records()``."""

    platform: str

    @property
    def options(self) -> dict[str, Any]: ...

    def records(self) -> Iterable[Any]: ...


@runtime_checkable
class SentimentModel(Protocol):
    """Maps texts to results with ``label`` (negative|neutral|positive), ``score`` in [-1, 1], ``probs``."""

    def predict(self, texts: Sequence[str]) -> list[Any]: ...


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to an (n, dim) float32 array of L2-normalised vectors."""

    def encode(self, texts: Sequence[str]) -> Any: ...


@runtime_checkable
class TopicModel(Protocol):
    """A configured, unfitted BERTopic-like model: clusters documents given their embeddings."""

    def fit_transform(self, documents: list[str], embeddings: Any = None) -> tuple[Any, Any]: ...

    def reduce_outliers(self, documents: list[str], topics: list[int], **kwargs: Any) -> list[int]: ...

    def update_topics(self, docs: list[str], topics: Any = None, **kwargs: Any) -> None: ...

    def get_topic(self, topic: int) -> Any: ...


@runtime_checkable
class AnalysisBackend(Protocol):
    """Computes analyze's batches (pure: rows in, results out); the caller is the one writer.

    ``run`` yields one ``nlp.pipeline.Computed`` per batch of ``(id, text, language,
    content_hash, title)`` rows, in order; ``model_version`` names the models it runs.
    """

    name: str
    model_version: str

    def run(self, batches: Iterable[Sequence[tuple[Any, ...]]]) -> Iterator[Any]: ...


@runtime_checkable
class ThemeUpdater(Protocol):
    """Fits or assigns themes over the analysed items; returns a JSON-able report. ``ray_workers``:
    place them on the running Ray session with that many actors (``analyze --backend ray``)."""

    def update(
        self, refit: bool = False, progress: Any = None, *, ray_workers: int | None = None
    ) -> dict[str, Any]: ...


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
