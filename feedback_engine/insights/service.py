"""The insights service the Engine exposes as ``engine.insights``: one method per analysis."""

from __future__ import annotations

from datetime import date
from typing import Any

from feedback_engine.insights import emerging as emerging_mod
from feedback_engine.insights.queries import Filters
from feedback_engine.store import Store


class InsightsService:
    """Analyses over the store; each method takes filters (date range, channel, segment)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def emerging(
        self,
        *,
        since: date | None = None,
        until: date | None = None,
        channel: str | None = None,
        segment: str | None = None,
        fdr: float = emerging_mod.FDR,
    ) -> dict[str, Any]:
        """Rising volume or share negative per theme and day, channel crossings, new themes
        (:mod:`feedback_engine.insights.emerging`)."""
        filters = Filters(since=since, until=until, channel=channel, segment=segment)
        return emerging_mod.emerging(self._store, filters, fdr=fdr)
