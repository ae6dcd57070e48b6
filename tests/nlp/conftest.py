"""Fixtures of the NLP tests (the model fixtures live in tests/conftest.py, shared with tests/themes/).

- ``add_feedback(store, texts, language=None)``: inserts feedback rows the way ingest stores them.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from nlp_helpers import insert_feedback


@pytest.fixture
def add_feedback() -> Callable[..., list[int]]:
    return insert_feedback
