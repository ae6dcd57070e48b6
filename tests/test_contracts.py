"""Every shipped part satisfies the Protocol the Engine and the stages take it as (contracts.py)."""

from __future__ import annotations

import inspect
import typing
from pathlib import Path

import pytest

from feedback_engine import contracts
from feedback_engine.contracts import (
    AnalysisBackend,
    Embedder,
    MailTransport,
    SentimentModel,
    Source,
    ThemeUpdater,
    TopicModel,
)
from feedback_engine.engine import Engine
from feedback_engine.ingest.reviews import open_reviews
from feedback_engine.ingest.social import open_social
from feedback_engine.ingest.surveys import SurveyOptions, open_survey
from feedback_engine.loop.transport import RecordingTransport, SMTPTransport
from feedback_engine.nlp.pipeline import BatchComputer, LocalBackend
from feedback_engine.nlp.sentiment import VaderSentiment

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_every_file_reader_is_a_source() -> None:
    sources = [open_survey(p, SurveyOptions()) for p in sorted((FIXTURES / "surveys").iterdir())]
    sources += [open_reviews(p) for p in sorted((FIXTURES / "reviews").iterdir())]
    sources += [open_social(p) for p in sorted((FIXTURES / "social").iterdir())]
    assert len(sources) >= 10
    for source in sources:
        assert isinstance(source, Source), type(source)
        assert isinstance(source.options, dict)


def test_the_baseline_sentiment_model_and_the_local_backend() -> None:
    import spacy

    vader = VaderSentiment()
    assert isinstance(vader, SentimentModel)

    class Vectors:  # any object with encode() is an embedder; this one is the smallest
        def encode(self, texts):
            import numpy as np

            return np.ones((len(texts), 4), dtype=np.float32) / 2

    assert isinstance(Vectors(), Embedder)
    backend = LocalBackend(BatchComputer(sentiment_model=vader, embedder=Vectors(), nlp=spacy.blank("en")))
    assert isinstance(backend, AnalysisBackend)
    (batch,) = backend.run([[(1, "The refund took three weeks.", "en", "h1", None)]])
    assert [it.feedback_id for it in batch.items] == [1]


def test_the_transports_and_the_themes_service(tmp_path: Path) -> None:
    assert isinstance(SMTPTransport("127.0.0.1", 25), MailTransport)
    assert isinstance(RecordingTransport(), MailTransport)
    with Engine(tmp_path / "f.db") as engine:
        assert isinstance(engine.themes, ThemeUpdater)
        assert engine.models.loaded() == {"sentiment": False, "embedder": False, "spacy": False}


def test_the_default_topic_model_is_a_topic_model() -> None:
    from feedback_engine.themes.discovery import default_topic_model

    assert isinstance(default_topic_model(100), TopicModel)


def test_a_part_without_the_method_is_refused() -> None:
    class NotAModel:
        def score(self, texts):
            return []

    assert not isinstance(NotAModel(), SentimentModel)
    assert not isinstance(NotAModel(), Embedder)
    assert not isinstance(NotAModel(), MailTransport)


@pytest.mark.models
def test_the_shipped_models(sentiment_model, embedder) -> None:
    assert isinstance(sentiment_model, SentimentModel)
    assert isinstance(embedder, Embedder)


def test_the_engine_takes_its_parts_as_the_protocols() -> None:
    """The Protocols are in the signatures, not only in this file."""
    hints = typing.get_type_hints(
        Engine.__init__, vars(contracts) | {"Settings": object, "Store": object, "Path": Path}
    )
    expected = {
        "sentiment_model": SentimentModel,
        "embedder": Embedder,
        "topic_model": TopicModel,
        "backend": AnalysisBackend,
        "mail_transport": MailTransport,
    }
    for name, protocol in expected.items():
        assert protocol in typing.get_args(hints[name]), name
    protocols = {
        name
        for name, obj in vars(contracts).items()
        if inspect.isclass(obj) and getattr(obj, "_is_protocol", False) and obj.__module__ == contracts.__name__
    }
    assert protocols == {
        "Source",
        "SentimentModel",
        "Embedder",
        "TopicModel",
        "AnalysisBackend",
        "ThemeUpdater",
        "MailTransport",
    }
