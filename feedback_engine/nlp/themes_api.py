"""Engine methods for themes (mixed into :class:`feedback_engine.Engine`).

``engine.themes_list()``, ``theme_show(id)``, ``theme_rename(id, name)``, ``theme_merge(ids,
into=None)``, ``theme_seed(name, description)``, ``theme_assign_text(text)`` and
``themes_update(refit=False)`` (what ``analyze`` calls at its end, through :meth:`theme_stage`).
The embedder is the engine's ``self.embedder`` (the nlp stage's lazy default, shared with the
analyze pipeline), built only when a command needs to embed text (seed, assign_text).
``self.topic_model`` is passed to :class:`ThemeStage`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from feedback_engine.nlp import theme_stats
from feedback_engine.nlp.themes import ThemeStage

if TYPE_CHECKING:
    from feedback_engine.progress import Progress
    from feedback_engine.store import Store


class ThemesAPI:
    store: Store
    topic_model: Any
    embedder: Any  # the nlp stage's lazy default (NLPAPI.embedder)

    def theme_stage(self) -> ThemeStage:
        """The engine's :class:`ThemeStage` (one per engine, so its centroid cache is reused).

        The stage gets the engine's embedder only when it needs one (seed, assign_text), through
        ``self.embedder`` (the nlp stage's lazy default), so list/show/rename/merge load no model.
        """
        stage = getattr(self, "_theme_stage", None)
        if stage is None:
            stage = ThemeStage(
                topic_model=self.topic_model,
                embedder=getattr(self, "_embedder", None),
                embedder_factory=lambda: self.embedder,
            )
            self._theme_stage = stage
        return stage

    def themes_update(self, refit: bool = False, progress: Progress | None = None) -> dict[str, Any]:
        """Fit, refit or assign themes on the analysed items; returns the report."""
        return self.theme_stage().update(self.store, refit=refit, progress=progress)

    def themes_list(self, now: str | datetime | None = None) -> list[dict[str, Any]]:
        """Active themes with volume, share negative, mean sentiment, scores, trend and channels."""
        return theme_stats.list_themes(self.store, now=now)

    def theme_show(self, theme_id: int, now: str | datetime | None = None) -> dict[str, Any]:
        """One theme: terms, redacted quotes, stats and sentiment by channel."""
        return theme_stats.show_theme(self.store, theme_id, now=now)

    def theme_rename(self, theme_id: int, name: str) -> dict[str, Any]:
        """Rename a theme; the label is pinned so refits keep it."""
        return _public(self.theme_stage().rename(self.store, theme_id, name))

    def theme_merge(self, theme_ids: list[int], into: int | None = None) -> dict[str, Any]:
        """Merge themes into ``into`` (default: the largest); their items move to the survivor."""
        return _public(self.theme_stage().merge(self.store, list(theme_ids), into))

    def theme_seed(self, name: str, description: str = "") -> dict[str, Any]:
        """Create a guided theme from a name and description; matching items go there."""
        return _public(self.theme_stage().seed(self.store, name, description))

    def theme_assign_text(self, text: str) -> tuple[int | None, float]:
        """The theme one new text belongs to: ``(theme_id, probability)``."""
        return self.theme_stage().assign_text(text, self.store)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """A theme row without binary columns, for JSON output."""
    out = {k: v for k, v in row.items() if not isinstance(v, bytes | bytearray)}
    out["label_pinned"] = bool(out.get("label_pinned"))
    for key in ("terms", "quotes"):
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key])
    return out
