"""``engine.themes``: the themes stage as a service of the :class:`~feedback_engine.Engine`.

``engine.themes.list()``, ``show(id)``, ``rename(id, name)``, ``merge(ids, into=None)``,
``move(item, to)`` (``to=None``: out of all themes),
``seed(name, description)``, ``assign_text(text)`` and ``update(refit=False)`` (what
``engine.analysis.run()`` calls at its end). One :class:`ThemeStage` per engine, so its centroid
cache is reused. The embedder is the engine's shared lazy one (:class:`~feedback_engine.nlp.models.Models`),
built only when a command must embed new text (seed, assign_text): list, show, rename and merge
load no model.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from feedback_engine.contracts import TopicModel
from feedback_engine.nlp.models import Models
from feedback_engine.themes import edits, metrics, persist
from feedback_engine.themes.evidence import min_score
from feedback_engine.themes.stage import ThemeStage

if TYPE_CHECKING:
    from feedback_engine.progress import Progress
    from feedback_engine.store import Store

__all__ = ["ThemeService"]


class ThemeService:
    """Discover, assign, read and edit themes (see the module docstring)."""

    def __init__(self, store: Store, models: Models, topic_model: TopicModel | None = None) -> None:
        self.store = store
        self.models = models
        self.topic_model = topic_model
        self._stage: ThemeStage | None = None

    @property
    def stage(self) -> ThemeStage:
        """The engine's :class:`ThemeStage`, built on first use."""
        if self._stage is None:
            self._stage = ThemeStage(topic_model=self.topic_model, embedder_factory=lambda: self.models.embedder)
        return self._stage

    def update(
        self, refit: bool = False, progress: Progress | None = None, *, ray_workers: int | None = None
    ) -> dict[str, Any]:
        """Fit, refit or assign themes on the analysed items; returns the report. ``ray_workers``: place
        the items and sentences on Ray with this many actors (the running session, else a local Ray;
        :mod:`feedback_engine.themes.ray_placement`), as ``analyze --backend ray`` does."""
        if not ray_workers:
            return self.stage.update(self.store, refit=refit, progress=progress)
        from feedback_engine.themes.ray_placement import RayPlacer

        stage, local = self.stage, self.stage.placer
        with RayPlacer(workers=ray_workers) as placer:
            stage.placer = placer
            try:
                return stage.update(self.store, refit=refit, progress=progress)
            finally:
                stage.placer = local

    def list(self, now: str | datetime | None = None) -> builtins.list[dict[str, Any]]:
        """Active themes with volume, share negative, mean sentiment, scores, trend and channels."""
        return metrics.list_themes(self.store, now=now)

    def show(self, theme_id: int, now: str | datetime | None = None) -> dict[str, Any]:
        """One theme: terms, redacted quotes, stats and sentiment by channel."""
        return metrics.show_theme(self.store, theme_id, now=now)

    def label(self, theme_id: int) -> str:
        """The theme's current label (NotFoundError when there is no such theme)."""
        return str(persist.get_theme(self.store, theme_id)["label"])

    def rename(self, theme_id: int, name: str, *, by: str | None = None) -> dict[str, Any]:
        """Rename a theme (a merged one: its survivor; ``renamed`` says which); refits keep the name."""
        return _public(edits.rename(self.store, theme_id, name, by=by))

    def merge(self, theme_ids: Sequence[int], into: int | None = None, *, by: str | None = None) -> dict[str, Any]:
        """Merge themes into ``into`` (one of them; default: the largest); their items move to it."""
        self.stage._index = None
        return _public(edits.merge(self.store, list(theme_ids), into, by=by))

    def unmerge(self, theme_id: int, *, by: str | None = None) -> dict[str, Any]:
        """Undo the merge of ``theme_id``: it is active again with the assignments the merge moved."""
        self.stage._index = None
        return _public(edits.unmerge(self.store, theme_id, by=by))

    def split(self, theme_id: int, feedback_ids: Sequence[int], name: str, *, by: str | None = None) -> dict[str, Any]:
        """Move the picked items of a theme into a new theme ``name`` (manual: refits keep it)."""
        self.stage._index = None
        return _public(edits.split(self.store, theme_id, list(feedback_ids), name, by=by))

    def move(self, feedback_id: int, to: int | None, *, by: str | None = None) -> dict[str, Any]:
        """Put one item in theme ``to`` only, or (``to=None``) in no theme; refits keep it there."""
        return edits.move(self.store, feedback_id, to, by=by)

    def move_items(
        self, feedback_ids: Sequence[int], to: int | None, *, by: str | None = None
    ) -> builtins.list[dict[str, Any]]:
        """:meth:`move` for several items; those already there are left alone (``changed`` false)."""
        return [edits.move(self.store, f, to, by=by, strict=False) for f in dict.fromkeys(feedback_ids)]

    def history(self, theme_id: int) -> builtins.list[dict[str, Any]]:
        """Every rename, merge, unmerge, split and item move of the theme: who, when, what."""
        return edits.history(self.store, theme_id)

    def item_history(self, feedback_id: int) -> builtins.list[dict[str, Any]]:
        """Every move or split that placed this item by hand: who, when, from where to where."""
        return edits.item_history(self.store, feedback_id)

    def survivor(self, theme_id: int) -> int:
        """The theme ``theme_id`` counts for now (itself unless merged, through chains of merges)."""
        return persist.survivor_id(self.store, theme_id)

    def seed(self, name: str, description: str = "") -> dict[str, Any]:
        """Create a guided theme from a name and description; matching items go there."""
        return _public(self.stage.seed(self.store, name, description))

    def assign_text(self, text: str) -> tuple[int | None, float]:
        """The theme one new text belongs to: ``(theme_id, probability)``."""
        return self.stage.assign_text(text, self.store)

    def status(self) -> dict[str, Any]:
        """Active themes, honest coverage, and the items since the last fit that fit no theme well."""
        drift = persist.drift(self.store, min_score())
        return {
            "active_themes": persist.active_count(self.store),
            **ThemeStage.coverage(self.store),
            **drift,
        }

    def coverage(self) -> dict[str, Any]:
        """Share of analysed English items with a theme (see :meth:`ThemeStage.coverage`)."""
        return ThemeStage.coverage(self.store)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """A theme row without binary columns, for JSON output."""
    out = {k: v for k, v in row.items() if not isinstance(v, bytes | bytearray)}
    out["label_pinned"] = bool(out.get("label_pinned"))
    for key in ("terms", "quotes"):
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key])
    return out
