"""Placement as a pure function (``feedback_engine.themes.placement``): chunked equals whole, the stage's hook.

Random data, no model: vectors in 16 dimensions (cosines spread over [-1, 1], so anchor lifts and
seed matches both happen) and texts drawn from words that include the anchors and seed terms.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from feedback_engine.themes.placement import (
    CHUNK_ROWS,
    Index,
    LocalPlacer,
    Placer,
    chunk_bounds,
    concat_placed,
    place_rows,
)
from feedback_engine.themes.seeds import stem
from feedback_engine.themes.stage import ThemeStage

WORDS = ["refund", "battery", "screen", "delay", "support", "price", "login", "crash", "the", "is", "slow", "great"]


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def random_index(rng: np.random.Generator, n_themes: int = 9, n_seeds: int = 2, dim: int = 16) -> Index:
    """An index of ``n_themes`` centroids (two themes share an id, as a merged theme does) with anchors, and seeds."""
    targets = np.arange(1, n_themes + 1, dtype=np.int64)
    targets[-1] = targets[0]  # a merged theme resolves to its survivor
    return Index(
        key=(0, 0),
        target_ids=targets,
        centroids=_unit(rng.normal(size=(n_themes, dim))),
        seed_ids=np.arange(100, 100 + n_seeds, dtype=np.int64),
        seed_vectors=_unit(rng.normal(size=(n_seeds, dim))),
        seed_terms=[{stem(WORDS[j])} for j in range(n_seeds)],
        anchor_terms=[{stem(WORDS[2 + j % 6])} if j % 3 else set() for j in range(n_themes)],
    )


def random_rows(rng: np.random.Generator, n: int, dim: int = 16) -> tuple[np.ndarray, list[str]]:
    E = _unit(rng.normal(size=(n, dim)))
    texts = [" ".join(rng.choice(WORDS, size=int(rng.integers(1, 6)))) for _ in range(n)]
    return E, texts


@pytest.mark.parametrize("chunk_rows", [1, 7, 64, 1000])
def test_chunked_placement_equals_placing_all_rows_at_once(chunk_rows: int) -> None:
    rng = np.random.default_rng(chunk_rows)
    index = random_index(rng)
    E, texts = random_rows(rng, 600)
    whole = place_rows(index, E, texts, 0.4)
    theme, sim, source, lifted = LocalPlacer(chunk_rows).place(index, E, texts, 0.4)
    assert theme.dtype == whole[0].dtype and sim.dtype == whole[1].dtype and len(theme) == 600
    assert np.array_equal(theme, whole[0])
    np.testing.assert_allclose(sim, whole[1], rtol=0, atol=1e-6)
    assert list(source) == list(whole[2])
    assert np.array_equal(lifted, whole[3])
    # the data exercises every rule: anchor lifts, seed hits (by cosine or by a named term), the merged id
    assert lifted.any() and (source == "seed").sum() > 10 and (source == "assigned").sum() > 10
    assert not (lifted & (source == "seed")).any()
    assert set(theme[source == "assigned"]) <= set(index.target_ids) and 9 not in set(theme)


def test_without_texts_and_without_rows() -> None:
    rng = np.random.default_rng(3)
    index = random_index(rng)
    E, _ = random_rows(rng, 50)
    no_texts = LocalPlacer(8).place(index, E, None, 0.4)
    assert np.array_equal(no_texts[0], place_rows(index, E, None, 0.4)[0]) and not no_texts[3].any()
    theme, sim, source, lifted = LocalPlacer(8).place(index, E[:0], [], 0.4)
    assert [len(a) for a in (theme, sim, source, lifted)] == [0, 0, 0, 0]
    empty = Index(
        (0, 0), np.zeros(0, np.int64), np.zeros((0, 16), np.float32), np.zeros(0, np.int64), np.zeros((0, 16))
    )
    theme, sim, source, _ = LocalPlacer(8).place(empty, E, None, 0.4)
    assert not theme.any() and not sim.any() and set(source) == {"assigned"}


def test_chunk_bounds_cover_every_row_once() -> None:
    assert chunk_bounds(0, 4) == []
    assert chunk_bounds(8, 4) == [(0, 4), (4, 8)]
    assert chunk_bounds(9, 4) == [(0, 4), (4, 8), (8, 9)]
    assert chunk_bounds(3, CHUNK_ROWS) == [(0, 3)]
    rng = np.random.default_rng(5)
    index = random_index(rng)
    E, texts = random_rows(rng, 30)
    parts = [place_rows(index, E[a:b], texts[a:b], 0.4) for a, b in chunk_bounds(30, 4)]
    assert np.array_equal(concat_placed(parts)[0], place_rows(index, E, texts, 0.4)[0])


class RecordingPlacer:
    """A placer that records what the stage asks of it, and places locally."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, float]] = []

    def place(self, index: Index, E: np.ndarray, texts: Any, seed_threshold: float) -> Any:
        self.calls.append((len(E), seed_threshold))
        return place_rows(index, E, texts, seed_threshold)


def test_the_stage_places_through_its_placer() -> None:
    default = ThemeStage()
    assert isinstance(default.placer, LocalPlacer) and isinstance(default.placer, Placer)
    rng = np.random.default_rng(7)
    index = random_index(rng)
    E, texts = random_rows(rng, 40)
    recorder = RecordingPlacer()
    assert isinstance(recorder, Placer)
    stage = ThemeStage(placer=recorder, seed_threshold=0.55)
    theme, sim, source = stage.place(index, E, texts)
    assert recorder.calls == [(40, 0.55)]
    expected = place_rows(index, E, texts, 0.55)
    assert np.array_equal(theme, expected[0]) and list(source) == list(expected[2])
    assert np.array_equal(default.place(index, E, texts)[0], place_rows(index, E, texts, 0.4)[0])
