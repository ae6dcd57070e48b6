"""Theme placement on Ray: the chunks of :class:`~feedback_engine.themes.placement.LocalPlacer`, placed by an actor pool.

::

    from feedback_engine.themes.ray_placement import RayPlacer
    with RayPlacer(workers=4) as placer:                 # joins the running Ray, or starts a local one
        ThemeStage(placer=placer).update(store, refit=True)

``analyze --backend ray`` (and ``--refit``) places themes this way on the session and worker count
of its analysis: discovery clusters a sample in the driver (``max_fit_items``), and the placement of
every item and sentence of the fit, and of new items on ``assign``, runs here.

How it runs: the rows are cut into the chunks of :data:`~feedback_engine.themes.placement.CHUNK_ROWS`
rows that the local path uses (so the results are identical: same chunks, same products, same
:func:`~feedback_engine.themes.placement.place_rows`), one Ray Data row per chunk (its vectors and
texts, pickled), and ``map_batches`` runs them on an actor pool of ``workers`` actors
(``concurrency=workers``, one CPU each) through the helpers of :mod:`feedback_engine.nlp.ray_backend`.
The :class:`~feedback_engine.themes.placement.Index` goes to the object store once per index (one
``ray.put``; a fit places four sets of rows against the same index) and each actor reads it once.
Results come back numbered and are reassembled in row order.

Faults: an actor killed mid-chunk is restarted and its chunk retried (``retries`` times each, as in
:class:`~feedback_engine.nlp.ray_backend.RayBackend`); a chunk answered twice counts once. When the
retries are spent the update stops with one :class:`~feedback_engine.errors.AnalysisError`: the fit
writes in one transaction, so nothing of it is kept, and a rerun places the themes again.

Fixed cost: each call builds a dataset and starts its actors (3.2 s for one chunk on a local Ray
here, where the driver places that chunk in 0.37 s), so fewer rows than ``min_rows`` (default
:data:`MIN_ROWS`) are placed in the driver, chunk by chunk as on Ray: same result, no Ray at all.
``bench/ray_bench.py --placement`` measures both: 200,000 rows x 50 themes took 22.9 s in the
driver, 24.0 s on 1 worker and 14.3 s on 2 (13,945 rows/s), so 2 workers break even near 50,000
rows, and more workers sooner.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from feedback_engine.errors import AnalysisError, ConfigError
from feedback_engine.nlp.ray_backend import (
    import_ray,
    in_order,
    map_on_actor_pool,
    ordered_data_context,
    ray_error_line,
    start_ray,
)
from feedback_engine.themes import placement
from feedback_engine.themes.placement import (
    Index,
    LocalPlacer,
    Placed,
    chunk_bounds,
    concat_placed,
    place_rows,
)

__all__ = ["MIN_ROWS", "RayPlacer"]

#: Below this many rows (12 chunks) the driver places them itself: the actor pool's start (~3 s) costs more
#: than 2 workers save (measured break-even ~50,000 rows, module docstring).
MIN_ROWS = 49_152


class _PlaceActor:
    """One Ray Data actor: reads the index and the placement function once, then places one chunk per row."""

    def __init__(self, refs: list[Any], seed_threshold: float) -> None:
        import ray

        index_ref, place_ref = refs
        self.index: Index = ray.get(index_ref)
        self.place: Callable[..., Placed] = pickle.loads(ray.get(place_ref))
        self.seed_threshold = seed_threshold

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = []
        for payload in batch["chunk"]:
            E, texts = pickle.loads(payload)
            out.append(pickle.dumps(self.place(self.index, E, texts, self.seed_threshold)))
        return {"seq": np.asarray(batch["seq"]), "result": np.array(out, dtype=object)}


class RayPlacer:
    """A :class:`~feedback_engine.themes.placement.Placer` over a Ray actor pool (module docstring).

    ``workers``: actors in the pool; ``address``: the cluster to join when Ray is not running yet
    (``None``: a local Ray with ``num_cpus=workers``, started on first need and stopped by
    :meth:`close`); ``chunk_rows``: rows per chunk (default :data:`~feedback_engine.themes.placement.CHUNK_ROWS`,
    the local path's); ``min_rows``: fewer rows are placed in the driver (default :data:`MIN_ROWS`;
    0 sends every non-empty call to Ray); ``retries``: actor restarts and task retries after a
    worker dies; ``place``: the per-chunk function (default :func:`~feedback_engine.themes.placement.place_rows`),
    shipped to the actors by value where registered with cloudpickle.
    """

    name = "ray"

    def __init__(
        self,
        workers: int = 2,
        *,
        address: str | None = None,
        chunk_rows: int | None = None,
        min_rows: int | None = None,
        retries: int = 3,
        cpus_per_worker: float = 1.0,
        place: Callable[[Index, np.ndarray, Sequence[str] | None, float], Placed] = place_rows,
    ) -> None:
        if workers < 1:
            raise ConfigError(f"--workers must be at least 1 (got {workers}).")
        import_ray()  # fail now, with the install line
        self.workers = workers
        self.address = address
        self.chunk_rows = chunk_rows
        self.min_rows = min_rows
        self.retries = retries
        self.cpus_per_worker = cpus_per_worker
        self.place_fn = place
        self._started = False
        self._index: Index | None = None  # the index whose copy is in the object store
        self._refs: list[Any] | None = None
        self.datasets = 0  # calls placed on Ray (datasets built), for the bench and the tests
        self.chunks = 0  # chunks placed on Ray

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Join or start Ray (once)."""
        ray = import_ray()
        if not ray.is_initialized():
            self._started = start_ray(self.address, self.workers)

    def close(self) -> None:
        """Drop the index from the object store; stop Ray if :meth:`start` started it."""
        ray = import_ray()
        self._index, self._refs = None, None
        if self._started and ray.is_initialized():
            ray.shutdown()
        self._started = False

    def __enter__(self) -> RayPlacer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the contract -------------------------------------------------------------------------
    def place(self, index: Index, E: np.ndarray, texts: Sequence[str] | None, seed_threshold: float) -> Placed:
        """:func:`~feedback_engine.themes.placement.place_rows` of every row of ``E``, chunk by chunk on the pool."""
        chunk_rows = self.chunk_rows or placement.CHUNK_ROWS  # read now: the local path's, even if changed
        min_rows = MIN_ROWS if self.min_rows is None else self.min_rows
        bounds = chunk_bounds(len(E), chunk_rows)
        if not bounds or len(E) < min_rows:
            return LocalPlacer(chunk_rows).place(index, E, texts, seed_threshold)
        self.start()
        ray = import_ray()
        refs = self._index_refs(ray, index)
        with ordered_data_context():
            rows = [
                {"seq": i, "chunk": pickle.dumps((E[a:b], None if texts is None else list(texts[a:b])))}
                for i, (a, b) in enumerate(bounds)
            ]
            ds = map_on_actor_pool(
                ray.data.from_items(rows, override_num_blocks=len(rows)),
                _PlaceActor,
                (refs, seed_threshold),
                workers=min(self.workers, len(rows)),
                retries=self.retries,
                num_cpus=self.cpus_per_worker,
            )
            self.datasets += 1
            try:
                parts = [pickle.loads(row["result"]) for row in in_order(ds.iter_rows(), 0, len(rows))]
            except ray.exceptions.RayError as exc:
                raise AnalysisError(
                    f"Ray stopped placing themes ({ray_error_line(exc)}); the placement was not written. "
                    "Rerun `feedback-engine analyze` (with --refit if it was a refit) to place them again."
                ) from exc
        if len(parts) != len(rows):
            raise AnalysisError(
                f"Ray returned {len(parts)} of {len(rows)} chunks of theme placement; the placement was not "
                "written. Rerun `feedback-engine analyze` to place them again."
            )
        self.chunks += len(parts)
        return concat_placed(parts)

    def _index_refs(self, ray: Any, index: Index) -> list[Any]:
        """The index and the placement function in the object store: put once per index."""
        if self._refs is None or self._index is not index:
            self._refs = [ray.put(index), ray.put(ray.cloudpickle.dumps(self.place_fn))]
            self._index = index  # held, so that identity means the same index
        return self._refs
