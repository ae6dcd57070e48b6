"""Placement: which theme each unit (item or sentence) goes to, as a pure function of its vector and text.

Every placement of the themes stage (a fit placing every item and sentence, ``assign`` placing new
ones, ``assign_text``) is :func:`place_rows` over an :class:`Index` of centroids: the best centroid
once the texts that name a theme's anchor word count (:func:`~feedback_engine.themes.anchors.anchored_scores`),
then the seeds, which also match the texts naming their distinctive words
(:func:`~feedback_engine.themes.seeds.seed_scores`). Each row is placed on its own, so the rows can
be placed in chunks anywhere: a :class:`Placer` decides where.

- :class:`LocalPlacer` (the default): this process, in chunks of :data:`CHUNK_ROWS` rows;
- :class:`~feedback_engine.themes.ray_placement.RayPlacer`: the same chunks on a Ray actor pool
  (``analyze --backend ray``).

Both cut the rows at the same boundaries, so they compute the very same matrix products and give
identical results (a BLAS kernel may round the last bit differently for a 4,096-row block than
for a 200,000-row one; the chunk is the unit that keeps local and distributed runs equal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from feedback_engine.themes.anchors import anchored_scores
from feedback_engine.themes.seeds import seed_scores

__all__ = ["CHUNK_ROWS", "Index", "LocalPlacer", "Placed", "Placer", "chunk_bounds", "concat_placed", "place_rows"]

#: Rows per chunk: 4,096 x 384 float32 is 6 MB of vectors, a 4,096 x 60 score matrix stays in cache.
CHUNK_ROWS = 4096

#: ``(theme, sim, source, lifted)``: theme id (0 = none), score, ``"seed"`` or ``"assigned"``, and
#: whether an anchor word lifted the pick.
Placed = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@dataclass
class Index:
    """Centroids to assign against: active and merged themes (resolved) and seed queries."""

    key: tuple[int, int]
    target_ids: np.ndarray
    centroids: np.ndarray
    seed_ids: np.ndarray
    seed_vectors: np.ndarray
    seed_terms: list[set[str]] = field(default_factory=list)  # distinctive stems of each seed's name
    anchor_terms: list[set[str]] = field(default_factory=list)  # anchor stems of each centroid's theme


def place_rows(index: Index, E: np.ndarray, texts: Sequence[str] | None, seed_threshold: float) -> Placed:
    """Theme, score, source and anchor lift of each row of ``E`` (texts ``texts``) against ``index``;
    a seed wins where its score reaches ``seed_threshold``."""
    n = len(E)
    theme = np.zeros(n, dtype=np.int64)
    sim = np.zeros(n, dtype=np.float32)
    source = np.full(n, "assigned", dtype=object)
    lifted = np.zeros(n, dtype=bool)
    if n and len(index.target_ids):
        best, sim, lifted = anchored_scores(
            np.asarray(E, dtype=np.float32) @ index.centroids.T, texts, index.anchor_terms
        )
        theme = index.target_ids[best]
    if n and len(index.seed_ids):
        best, s = seed_scores(texts, E, index.seed_vectors, index.seed_terms)
        hit = s >= seed_threshold
        theme = np.where(hit, index.seed_ids[best], theme)
        sim = np.where(hit, s, sim)
        source[hit] = "seed"
        lifted &= ~hit
    return theme, sim, source, lifted


@runtime_checkable
class Placer(Protocol):
    """Runs :func:`place_rows` over all rows of ``E``, wherever it likes; the result is in row order."""

    def place(self, index: Index, E: np.ndarray, texts: Sequence[str] | None, seed_threshold: float) -> Placed: ...


def chunk_bounds(n: int, chunk_rows: int) -> list[tuple[int, int]]:
    """``[start, end)`` of each chunk of ``chunk_rows`` rows covering ``n`` rows (none for 0 rows)."""
    size = max(1, int(chunk_rows))
    return [(start, min(n, start + size)) for start in range(0, n, size)]


def concat_placed(parts: Sequence[Placed]) -> Placed:
    """The chunks' results joined in order, as one result."""
    theme, sim, source, lifted = (np.concatenate([p[k] for p in parts]) for k in range(4))
    return theme, sim, source, lifted


class LocalPlacer:
    """:func:`place_rows` in this process, chunk by chunk (``chunk_rows``; default :data:`CHUNK_ROWS`)."""

    name = "local"

    def __init__(self, chunk_rows: int | None = None) -> None:
        self.chunk_rows = chunk_rows

    def place(self, index: Index, E: np.ndarray, texts: Sequence[str] | None, seed_threshold: float) -> Placed:
        bounds = chunk_bounds(len(E), self.chunk_rows or CHUNK_ROWS)
        if len(bounds) <= 1:
            return place_rows(index, E, texts, seed_threshold)
        return concat_placed(
            [place_rows(index, E[a:b], None if texts is None else texts[a:b], seed_threshold) for a, b in bounds]
        )
