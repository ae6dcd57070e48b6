"""Engine methods of the ingest stage (mixed into :class:`feedback_engine.Engine`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feedback_engine.store import Store


class IngestAPI:
    store: Store
