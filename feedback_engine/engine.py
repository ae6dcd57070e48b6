"""The Python API: :class:`Engine`, one object per database.

``Engine("feedback.db").ingest_surveys("responses.csv")`` -- each stage contributes its methods
through a small mixin that lives in the stage's own package (``ingest.api``, ``nlp.api``,
``loop.api``); the CLI calls exactly these methods. Models are passed in as objects; a default
is built (lazily, offline) only when an argument is ``None``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from feedback_engine.ingest.api import IngestAPI
from feedback_engine.loop.api import LoopAPI
from feedback_engine.nlp.api import AnalysisAPI
from feedback_engine.nlp.themes_api import ThemesAPI
from feedback_engine.store import Store


class Engine(IngestAPI, AnalysisAPI, ThemesAPI, LoopAPI):
    """Everything feedback_engine does, on one database.

    Parameters are the swappable parts: ``sentiment_model`` (``predict(texts)``), ``embedder``
    (``encode(texts)``), ``spacy_nlp`` (a spaCy ``Language``), ``topic_model`` (a configured
    ``BERTopic``), ``mail_transport`` (``send(message)``) and ``settings`` (loop settings).
    """

    def __init__(
        self,
        db: str | Path | Store = "feedback.db",
        *,
        memory: bool = False,
        sentiment_model: Any = None,
        embedder: Any = None,
        spacy_nlp: Any = None,
        topic_model: Any = None,
        mail_transport: Any = None,
        settings: Any = None,
    ) -> None:
        if isinstance(db, Store):
            self.store = db
        elif memory:
            self.store = Store(memory=True)
        else:
            self.store = Store(db)
        self.sentiment_model = sentiment_model
        self.embedder = embedder
        self.spacy_nlp = spacy_nlp
        self.topic_model = topic_model
        self.mail_transport = mail_transport
        self.settings = settings

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
