"""The Python API: :class:`Engine`, one object per database, composed of one service per stage.

::

    with Engine("feedback.db") as engine:
        engine.ingest.files("fixtures/")            # IngestService
        engine.analysis.run()                       # AnalysisService: sentiment, PII, embeddings, then themes
        engine.themes.list()                        # ThemeService: volume, sentiment, trend per theme
        engine.actions.add(themes=[3], title="Fix refunds", description="...")
        engine.outbox.notify(send=True)             # OutboxService: "you said, we did"
        engine.customers.unsubscribe("ann@example.com")

The engine builds one shared set of parts (the :class:`Store`, the lazily built models, the loop
settings and mail transport) and hands each service only the parts it needs; the CLI and the web
app call these services and never open SQL themselves. Every part is swappable (BERTopic style):
a part passed in is used as is, a part left ``None`` gets the offline default on first use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from feedback_engine.accounts.service import AccountService
from feedback_engine.contracts import AnalysisBackend, Embedder, MailTransport, SentimentModel, TopicModel
from feedback_engine.ingest.connectors.service import SourceService
from feedback_engine.ingest.service import IngestService
from feedback_engine.insights.service import InsightsService
from feedback_engine.loop.service import ActionService, CustomerService, OutboxService
from feedback_engine.loop.settings import Settings
from feedback_engine.nlp.models import Models
from feedback_engine.nlp.service import AnalysisService
from feedback_engine.store import Store
from feedback_engine.themes.browse import BrowseService
from feedback_engine.themes.service import ThemeService

__all__ = ["Engine"]


class Engine:
    """Everything feedback_engine does, on one database (see the module docstring).

    Parameters are the swappable parts: ``sentiment_model`` (:class:`~feedback_engine.contracts.SentimentModel`),
    ``embedder`` (:class:`~feedback_engine.contracts.Embedder`), ``spacy_nlp`` (a spaCy ``Language``),
    ``topic_model`` (:class:`~feedback_engine.contracts.TopicModel`, a configured BERTopic),
    ``backend`` (:class:`~feedback_engine.contracts.AnalysisBackend`; default: this process),
    ``mail_transport`` (:class:`~feedback_engine.contracts.MailTransport`) and ``settings`` (loop
    :class:`~feedback_engine.loop.settings.Settings`; default: read from the environment).
    """

    def __init__(
        self,
        db: str | Path | Store = "feedback.db",
        *,
        memory: bool = False,
        migrate: bool = True,
        sentiment_model: SentimentModel | None = None,
        embedder: Embedder | None = None,
        spacy_nlp: Any = None,
        topic_model: TopicModel | None = None,
        backend: AnalysisBackend | None = None,
        mail_transport: MailTransport | None = None,
        settings: Settings | None = None,
    ) -> None:
        if isinstance(db, Store):
            self.store = db
        elif memory:
            self.store = Store(memory=True)
        else:
            self.store = Store(db, migrate=migrate)
        self.models = Models(sentiment=sentiment_model, embedder=embedder, spacy=spacy_nlp)
        self.ingest = IngestService(self.store)
        self.sources = SourceService(self.store)
        self.themes = ThemeService(self.store, self.models, topic_model=topic_model)
        self.analysis = AnalysisService(self.store, self.models, themes=self.themes, backend=backend)
        self.actions = ActionService(self.store)
        self.outbox = OutboxService(self.store, settings, mail_transport)
        self.customers = CustomerService(self.store, settings)
        self.accounts = AccountService(self.store)
        self.browse = BrowseService(self.store)
        self.insights = InsightsService(self.store, settings, mail_transport)

    def status(self) -> dict[str, Any]:
        """What the database holds: items per channel, customers, quarantine, runs, the last import,
        and the themes (active, honest coverage, new items since the last fit that fit no theme)."""
        out = self.ingest.status()
        out["sources"] = self.sources.last_pulls()
        out["analysis_backlog"] = self.analysis.backlog()
        out["outbox"] = self.outbox.queue()
        out["themes"] = self.themes.status()
        return out

    def ping(self) -> None:
        """Raise :class:`~feedback_engine.errors.StoreError` unless the database answers a query."""
        self.store.ping()

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
