"""``engine.analysis``: the analyze stage as a service of the :class:`~feedback_engine.Engine`.

::

    engine = Engine("feedback.db")                  # models load lazily, offline, on first use
    report = engine.analysis.run()                  # pending items, then themes (engine.themes)
    df = engine.analysis.items_frame()              # one row per item with sentiment, theme, language

Models are swappable objects: ``Engine(sentiment_model=VaderSentiment(), embedder=..., spacy_nlp=...)``;
the parts left ``None`` are built on first use (:class:`~feedback_engine.nlp.models.Models`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from feedback_engine.contracts import AnalysisBackend, ThemeUpdater
from feedback_engine.nlp import queries
from feedback_engine.nlp.models import Models
from feedback_engine.progress import Progress

if TYPE_CHECKING:
    import pandas as pd

    from feedback_engine.store import Store

__all__ = ["AnalysisService", "AnalyzeReport"]


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


class AnalysisService:
    """``engine.analysis``: analyse pending items, then hand over to the themes stage.

    ``store``: the engine's :class:`Store`; ``models``: the shared lazy :class:`Models`; ``themes``:
    a :class:`~feedback_engine.contracts.ThemeUpdater` (the engine's ``engine.themes``), called at
    the end of every run unless ``themes=False``; ``backend``: an
    :class:`~feedback_engine.contracts.AnalysisBackend` (default: this process, over ``models``).
    """

    def __init__(
        self,
        store: Store,
        models: Models,
        themes: ThemeUpdater | None = None,
        backend: AnalysisBackend | None = None,
    ) -> None:
        self.store = store
        self.models = models
        self.themes = themes
        self.backend = backend

    # -- analyze -----------------------------------------------------------------------------
    def run(
        self,
        *,
        refit: bool = False,
        batch_size: int = 256,
        limit: int | None = None,
        progress: Progress | None = None,
        themes: bool = True,
        backend: str | None = None,
        workers: int = 2,
        address: str | None = None,
    ) -> AnalyzeReport:
        """Analyse every pending item (batches committed one by one), then update themes.

        ``refit`` rediscovers themes (ids kept by the themes stage); ``limit`` caps the items of
        this run; ``themes=False`` skips the themes stage. ``backend="ray"`` computes the batches
        on a Ray actor pool of ``workers`` actors (``address``: the cluster to join; default a
        local Ray with ``num_cpus=workers``; :mod:`feedback_engine.nlp.ray_backend`), over the
        same models; ``"local"`` or ``None``: the engine's backend (default: this process).
        """
        from feedback_engine.nlp.pipeline import Analyzer

        if backend not in (None, "local", "ray"):
            from feedback_engine.errors import ConfigError

            raise ConfigError(f"Unknown backend {backend!r}. Make sure to use local or ray.")
        if backend == "ray":
            return self._run_on_ray(
                batch_size, limit, progress, refit=refit, themes=themes, workers=workers, address=address
            )
        if self.backend is not None:
            analyzer = Analyzer(self.store, backend=self.backend, batch_size=batch_size)
            # an engine built with a RayBackend places themes on its Ray too
            on_ray = getattr(self.backend, "workers", None) if getattr(self.backend, "name", "") == "ray" else None
            return self._finish(analyzer, analyzer.run(limit=limit, progress=progress), refit, progress, themes, on_ray)
        models = self.models
        analyzer = Analyzer(
            self.store,
            sentiment_model=models.sentiment,
            embedder=models.embedder,
            nlp=models.spacy,
            batch_size=batch_size,
        )
        return self._finish(analyzer, analyzer.run(limit=limit, progress=progress), refit, progress, themes)

    def _run_on_ray(
        self,
        batch_size: int,
        limit: int | None,
        progress: Progress | None,
        *,
        refit: bool,
        themes: bool,
        workers: int,
        address: str | None,
    ) -> AnalyzeReport:
        """The analyze loop with a :class:`~feedback_engine.nlp.ray_backend.RayBackend` over this engine's models,
        then the themes placed on the same Ray session and worker count; Ray stops after both."""
        from feedback_engine.nlp.pipeline import Analyzer, BatchComputer
        from feedback_engine.nlp.ray_backend import RayBackend, start_ray, stop_ray

        started = start_ray(address, workers)  # the install line or an unreachable cluster before any model loads
        try:
            models = self.models
            computer = BatchComputer(
                sentiment_model=models.sentiment, embedder=models.embedder, nlp=models.spacy, batch_size=batch_size
            )
            with RayBackend(computer, workers=workers, address=address, gpus_per_worker=None) as backend:
                analyzer = Analyzer(self.store, backend=backend, batch_size=batch_size)
                counts = analyzer.run(limit=limit, progress=progress)
            return self._finish(analyzer, counts, refit, progress, themes, workers)
        finally:
            if started:
                stop_ray()

    def _finish(
        self,
        analyzer: Any,
        counts: Any,
        refit: bool,
        progress: Progress | None,
        themes: bool,
        ray_workers: int | None = None,
    ) -> AnalyzeReport:
        theme_report = self._update_themes(refit=refit, progress=progress, ray_workers=ray_workers) if themes else None
        totals = queries.analysed_totals(self.store)
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
            total_analysed=totals["analysed"],
            total_other_language=totals["other_language"],
        )

    def _update_themes(self, *, refit: bool, progress: Progress | None, ray_workers: int | None) -> dict[str, Any]:
        if self.themes is None:
            return {"skipped": "no themes stage"}
        if not queries.english_with_vectors(self.store):
            return {"skipped": "no analysed English items yet"}
        if ray_workers:
            return dict(self.themes.update(refit=refit, progress=progress, ray_workers=ray_workers))
        return dict(self.themes.update(refit=refit, progress=progress))

    def backlog(self) -> int:
        """Items waiting for ``analyze`` (never analysed, or edited since); loads no model."""
        return queries.backlog(self.store)

    # -- pandas ------------------------------------------------------------------------------
    def items_frame(self) -> pd.DataFrame:
        """One row per feedback item: the export columns (sentiment, theme, language, redacted text...)
        plus the analysis fields ``is_english``, ``sentiment_probs`` and ``aspects`` (parsed JSON).
        Types for analysts (:func:`~feedback_engine.ingest.export.typed_frame`): ids and scores are
        nullable ``Int64``, the sentiment score ``Float64``, times UTC ``datetime64``."""
        import json

        import pandas as pd

        from feedback_engine.ingest.export import feedback_rows, typed_frame

        frame = typed_frame(feedback_rows(self.store))
        extras = pd.DataFrame(queries.analysis_extras(self.store), columns=list(queries.EXTRA_COLUMNS))
        extras["id"] = extras["id"].astype("Int64")
        extras["analyzed_at"] = pd.to_datetime(extras["analyzed_at"], utc=True, format="ISO8601")
        for col in ("sentiment_probs", "aspects"):
            extras[col] = extras[col].map(lambda v: json.loads(v) if isinstance(v, str) else None)
        extras["is_english"] = extras["is_english"].map(lambda v: None if v is None else bool(v)).astype("object")
        return frame.merge(extras, on="id", how="left")
