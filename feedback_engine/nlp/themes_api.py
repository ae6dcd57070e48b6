"""Engine methods for themes (mixed into :class:`feedback_engine.Engine`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feedback_engine.store import Store


class ThemesAPI:
    store: Store
