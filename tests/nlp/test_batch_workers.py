"""BatchComputer runs model chunks on several threads: same results as one call at a time, run to run.

Real models (the shipped sentiment model, MiniLM, the small spaCy pipeline) on a batch large enough
to make several chunks per model.
"""

from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest

from feedback_engine.nlp import torch_utils
from feedback_engine.nlp.pipeline import BatchComputer

PIECES = [
    "I was charged twice this month.",
    "The refund took three weeks and nobody answered my emails.",
    "Support never replied to my ticket.",
    "The new dashboard is clean and easy to use.",
    "Love the design, hate the battery drain.",
    "The app crashes when I upload a photo, every single time, on two different phones.",
    "Way too expensive for what it offers.",
    "Login codes never arrive.",
]


def rows(n: int) -> list[tuple[object, ...]]:
    out = []
    for i in range(n):
        text = " ".join(PIECES[(i * k) % len(PIECES)] for k in range(1, 2 + i % 4)) + f" Order {i}."
        out.append((i + 1, text, "en", f"h{i}", "Great app" if i % 7 == 0 else None))
    return out


@pytest.fixture(scope="module")
def batch() -> list[tuple[object, ...]]:
    return rows(150)


def computer(spacy_nlp, embedder, sentiment_model, workers: tuple[int, int]) -> BatchComputer:
    c = BatchComputer(sentiment_model=sentiment_model, embedder=embedder, nlp=spacy_nlp, batch_size=256)
    c.workers = workers
    return c


def test_side_by_side_equals_one_at_a_time_and_repeats(spacy_nlp, embedder, sentiment_model, batch) -> None:
    serial = computer(spacy_nlp, embedder, sentiment_model, (1, torch_utils.cpu_count()))(batch)
    side = computer(spacy_nlp, embedder, sentiment_model, (3, 1))
    seen: set[str] = set()
    original = side._run_job

    def spy(job):  # the chunks really run on the pool's threads
        seen.add(threading.current_thread().name)
        return original(job)

    side._run_job = spy  # type: ignore[method-assign]
    first, second = side(batch), side(batch)
    assert any(name.startswith("analyze-model") for name in seen)
    assert side._pool is not None
    assert len(first.sentiments) > 2 * 64 and len(first.vectors) > 128  # several chunks per model
    assert list(first.sentiments) == list(serial.sentiments)
    assert list(first.vectors) == list(serial.vectors)
    for text, result in first.sentiments.items():
        assert second.sentiments[text] == result  # run to run: identical
        assert result.label == serial.sentiments[text].label
        assert abs(result.score - serial.sentiments[text].score) < 0.02  # threads change float sums only
    for text, vector in first.vectors.items():
        assert np.array_equal(second.vectors[text], vector)
        assert float(vector @ serial.vectors[text]) > 0.999


def test_torch_threads_are_restored_and_the_computer_pickles(spacy_nlp, embedder, sentiment_model, batch) -> None:
    import torch

    before = torch.get_num_threads()
    side = computer(spacy_nlp, embedder, sentiment_model, (2, 1))
    side(batch[:40])
    assert torch.get_num_threads() == before
    clone = pickle.loads(pickle.dumps(side))  # a backend may ship it to a worker process
    assert clone._pool is None and clone.workers == (2, 1)


def test_model_workers_follow_the_cpus_and_the_environment(monkeypatch) -> None:
    monkeypatch.delenv(torch_utils.WORKERS_ENV_VAR, raising=False)
    monkeypatch.delenv("FEEDBACK_ENGINE_TORCH_THREADS", raising=False)
    cpus = torch_utils.cpu_count()
    workers, each = torch_utils.model_workers()
    assert workers == min(cpus, 4) and each == max(1, cpus // workers)
    monkeypatch.setenv(torch_utils.WORKERS_ENV_VAR, "1")
    assert torch_utils.model_workers() == (1, cpus)
    monkeypatch.setenv("FEEDBACK_ENGINE_TORCH_THREADS", "3")
    assert torch_utils.model_workers() == (1, 3)
    monkeypatch.setenv(torch_utils.WORKERS_ENV_VAR, "junk")
    assert torch_utils.model_workers()[0] == min(cpus, 4)
