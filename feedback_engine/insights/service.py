"""The insights service the Engine exposes as ``engine.insights``: one method per analysis."""

from __future__ import annotations

from feedback_engine.store import Store


class InsightsService:
    """Analyses over the store; each method takes filters (date range, channel, segment)."""

    def __init__(self, store: Store) -> None:
        self._store = store
