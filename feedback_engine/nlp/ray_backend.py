"""Analyze on Ray: the same batches computed by a pool of Ray actors, written by the one writer here.

::

    from feedback_engine.nlp.ray_backend import RayBackend
    backend = RayBackend(computer, workers=4, address="auto")   # computer: a BatchComputer
    Engine("feedback.db", backend=backend).analysis.run()

How it runs (``feedback-engine analyze --backend ray``):

- The :class:`~feedback_engine.nlp.pipeline.Analyzer` reads pending items in id order, one id
  range of ``batch_size`` items per batch, exactly as the local path does: same batches, same
  models, so the rows written are identical (``tests/nlp/test_ray_backend.py`` checks it).
- :meth:`RayBackend.run` takes the batches in windows of ``window`` batches, makes one Ray Data
  dataset per window (one row per batch) and runs ``map_batches`` over an actor pool of
  ``workers`` actors (``concurrency=workers``). Each actor receives the driver's models once
  (one ``ray.put`` per run, deserialised once per actor) and builds its ``BatchComputer`` from
  them: the models are the driver's objects, so a model swapped into the ``Engine`` runs on
  Ray too. A window is the unit of the actor pool: each window starts its actors anew (a few
  seconds), so windows are large (``64 * workers`` batches by default).
- Results come back to the driver in batch order (numbered; a reorder buffer makes the order
  independent of Ray's) and the Analyzer commits them one batch per transaction.

Faults: an actor killed mid-batch is restarted (``max_restarts``) and its batch retried
(``max_task_retries``), ``retries`` times each. The driver yields each batch number once only,
and the writer replaces an item's rows (upsert of ``analysis``, delete + insert of its sentences
and clauses), so no item is written twice. A driver killed mid-run takes its actors with it (they
belong to its job); a rerun resumes after the last committed batch, as the local path does.

GPU: with ``gpus_per_worker > 0`` (``None``: 1 when the cluster has GPUs, else 0), each actor
reloads the sentiment model and the embedder from the same folders in fp32 on CUDA, casts them to
fp16 and asks Ray for that share of a GPU; spaCy stays on the CPU. fp16 scores differ from the CPU
ones in the last digits, so GPU runs are not bit-identical to CPU runs (the CPU is the default and
the tested path). ``ray`` is imported only when a backend is built: without the extra,
:func:`import_ray` raises :class:`~feedback_engine.errors.ConfigError` naming the install line.
"""

from __future__ import annotations

import logging
import os
import pickle
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any

import numpy as np

from feedback_engine.errors import ConfigError
from feedback_engine.nlp.pipeline import BatchComputer, Computed

__all__ = [
    "RAY_INSTALL",
    "RayBackend",
    "import_ray",
    "in_order",
    "map_on_actor_pool",
    "ordered_data_context",
    "ray_error_line",
    "start_ray",
    "stop_ray",
]

RAY_INSTALL = 'pip install "feedback_engine[ray]"'


def import_ray() -> Any:
    """``ray`` with Ray Data, or :class:`ConfigError` naming the extra to install."""
    try:
        import ray
        import ray.data  # noqa: F401 - the part we use; the bare ray wheel lacks its dependencies
    except ImportError as exc:
        raise ConfigError(
            f"--backend ray needs Ray, which is not installed ({exc.name or exc}). Make sure to run: {RAY_INSTALL}"
        ) from exc
    # Ray Data's console handler prints INFO lines ("Dataset ... execution finished") among our output;
    # warnings still show, and the full log stays in Ray's session folder
    for handler in logging.getLogger("ray.data").handlers:
        if type(handler).__name__ == "PlainRayHandler" and handler.level < logging.WARNING:
            handler.setLevel(logging.WARNING)
            handler.addFilter(_not_progress_bar_note)
    return ray


def _not_progress_bar_note(record: logging.LogRecord) -> bool:
    """Drops Ray Data's warning that progress bars are off (we turn them off: our own bar shows)."""
    return not record.getMessage().startswith("Progress bars disabled")


def start_ray(address: str | None = None, workers: int = 2) -> bool:
    """Connect to ``address`` (``auto``, ``ray://HOST:PORT``, a GCS address) or start a local Ray with
    ``num_cpus=workers``. Returns whether this call started it (then the caller shuts it down)."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {
        "include_dashboard": False,
        "logging_level": logging.WARNING,
        "log_to_driver": False,
        "configure_logging": True,
    }
    if address and address != "auto":
        _check_reachable(address)
    try:
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(num_cpus=workers, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise ConfigError(
            f"Cannot start or reach {where}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}. "
            "Make sure `ray start --head` runs there, or leave out --address to start a local Ray."
        ) from exc
    return True


def stop_ray() -> None:
    """Disconnect from Ray (and stop the local Ray that :func:`start_ray` started)."""
    ray = import_ray()
    if ray.is_initialized():
        ray.shutdown()


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """A TCP connection to ``address`` (``ray://HOST:PORT`` or ``HOST:PORT``), or :class:`ConfigError`:
    ``ray.init`` keeps retrying an unreachable cluster for minutes."""
    import socket

    hostport = address.split("://", 1)[-1].rstrip("/")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(f"--address {address!r} is not auto, ray://HOST:PORT or HOST:PORT. Make sure to pass one.")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ConfigError(
            f"Cannot reach the Ray cluster at {address} ({exc.strerror or type(exc).__name__}). "
            "Make sure `ray start --head` runs there, or leave out --address to start a local Ray."
        ) from exc


class _ComputeActor:
    """One Ray Data actor: builds its computer once, then computes one analyze batch per row."""

    def __init__(self, computer_ref: list[Any], gpu: bool) -> None:
        import ray

        # pickled bytes, not the object: Ray hands numpy buffers out read-only, and spaCy writes to its own
        computer = pickle.loads(ray.get(computer_ref[0]))
        self.computer = _to_cuda_fp16(computer) if gpu else computer

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from feedback_engine.nlp.pipeline import release_heap

        results, seconds = [], []
        for payload in batch["rows"]:
            started = time.perf_counter()
            results.append(pickle.dumps(self.computer(pickle.loads(payload))))
            seconds.append(time.perf_counter() - started)
        release_heap()
        return {
            "seq": np.asarray(batch["seq"]),
            "result": np.array(results, dtype=object),
            "compute_s": np.asarray(seconds, dtype=np.float64),
        }


class RayBackend:
    """An :class:`~feedback_engine.contracts.AnalysisBackend` over a Ray actor pool (module docstring).

    ``computer``: the per-batch computation (a :class:`BatchComputer`, or any picklable callable
    with a ``model_version``); ``workers``: actors in the pool (each one CPU, ``cpus_per_worker``);
    ``address``: the cluster to join (``None``: a local Ray with ``num_cpus=workers``, started on
    the first run and stopped by :meth:`close`); ``window``: batches per dataset (default
    ``64 * workers``); ``retries``: actor restarts and task retries after a worker dies;
    ``gpus_per_worker``: see the module docstring.
    """

    name = "ray"

    def __init__(
        self,
        computer: Callable[[Sequence[tuple[Any, ...]]], Computed],
        *,
        workers: int = 2,
        address: str | None = None,
        window: int | None = None,
        retries: int = 3,
        cpus_per_worker: float = 1.0,
        gpus_per_worker: float | None = 0.0,
    ) -> None:
        if workers < 1:
            raise ConfigError(f"--workers must be at least 1 (got {workers}).")
        import_ray()  # fail now, with the install line, not in the middle of a run
        self.computer = computer
        self.workers = workers
        self.address = address
        self.window = window or 64 * workers
        self.retries = retries
        self.cpus_per_worker = cpus_per_worker
        self.gpus_per_worker = gpus_per_worker
        base = str(getattr(computer, "model_version", type(computer).__name__))
        self.model_version = base
        self._started = False
        self._computer_ref: Any = None
        self.datasets = 0  # windows run (datasets built), for the bench and the tests
        self.compute_s = 0.0  # seconds the actors spent computing batches (items / compute_s: one worker's rate)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Join or start Ray and put the computer in the object store (once)."""
        ray = import_ray()
        if not ray.is_initialized():
            self._started = start_ray(self.address, self.workers)
        if self._computer_ref is None:
            self._computer_ref = ray.put(ray.cloudpickle.dumps(self.computer))  # by value where registered
        gpus = float(ray.cluster_resources().get("GPU", 0))
        if self.gpus_per_worker is None:
            self.gpus_per_worker = 1.0 if gpus > 0 else 0.0
        if self.gpus_per_worker and self.workers * self.gpus_per_worker > gpus:
            raise ConfigError(
                f"--workers {self.workers} needs {self.workers * self.gpus_per_worker:g} GPUs on Ray, and the cluster "
                f"has {gpus:g}. Make sure to pass --workers {max(1, int(gpus // self.gpus_per_worker))}."
            )
        if self.gpus_per_worker:
            self.model_version = _gpu_version(self.model_version)

    def close(self) -> None:
        """Drop the models from the object store; stop Ray if :meth:`start` started it."""
        ray = import_ray()
        self._computer_ref = None
        if self._started and ray.is_initialized():
            ray.shutdown()
        self._started = False

    def __enter__(self) -> RayBackend:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the contract -------------------------------------------------------------------------
    def run(self, batches: Iterable[Sequence[tuple[Any, ...]]]) -> Iterator[Computed]:
        """One :class:`Computed` per batch, in the order of ``batches``, computed on the pool."""
        self.start()
        it = iter(batches)
        seq = 0
        while True:
            window = list(islice(it, self.window))
            if not window:
                return
            yield from self._run_window(window, seq)
            seq += len(window)

    def _run_window(self, window: list[Sequence[tuple[Any, ...]]], first: int) -> Iterator[Computed]:
        ray = import_ray()
        from feedback_engine.errors import AnalysisError

        with ordered_data_context():
            items = [{"seq": first + i, "rows": pickle.dumps(list(rows))} for i, rows in enumerate(window)]
            ds = map_on_actor_pool(
                ray.data.from_items(items, override_num_blocks=len(items)),
                _ComputeActor,
                ([self._computer_ref], bool(self.gpus_per_worker)),
                workers=min(self.workers, len(items)),
                retries=self.retries,
                num_cpus=self.cpus_per_worker,
                num_gpus=self.gpus_per_worker or None,
            )
            self.datasets += 1
            delivered = 0
            try:
                for row in in_order(ds.iter_rows(), first, first + len(window)):
                    self.compute_s += float(row["compute_s"])
                    yield pickle.loads(row["result"])
                    delivered += 1
            except ray.exceptions.RayError as exc:  # retries spent, or the computation itself raised
                raise AnalysisError(
                    f"Ray stopped the run after {first + delivered} committed batches ({ray_error_line(exc)}). "
                    "They are kept: rerun `feedback-engine analyze` to continue."
                ) from exc
        if delivered != len(window):
            raise AnalysisError(
                f"Ray returned {delivered} of {len(window)} batches; rerun `feedback-engine analyze` to continue."
            )


# -- shared by the Ray paths (analyze batches here, theme placement in themes/ray_placement.py) -----------
@contextmanager
def ordered_data_context() -> Iterator[None]:
    """Ray Data keeps the order of the input and prints no progress (our own bar shows) inside; restored after."""
    from ray.data import DataContext

    ctx = DataContext.get_current()
    saved = (ctx.execution_options.preserve_order, ctx.enable_progress_bars, ctx.print_on_execution_start)
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    try:
        yield
    finally:
        ctx.execution_options.preserve_order, ctx.enable_progress_bars, ctx.print_on_execution_start = saved


def map_on_actor_pool(
    ds: Any,
    actor: type,
    constructor_args: tuple[Any, ...],
    *,
    workers: int,
    retries: int,
    num_cpus: float = 1.0,
    num_gpus: float | None = None,
) -> Any:
    """``ds.map_batches`` of one row at a time over a pool of ``workers`` ``actor`` instances, each built
    once with ``constructor_args``; a killed actor is restarted and its task retried ``retries`` times."""
    from ray.data import ActorPoolStrategy

    with warnings.catch_warnings():
        # Ray 2.60 deprecates passing actor options this way (no named parameter exists yet);
        # Ray Data's own default is unbounded (-1): a batch that kills its worker every time
        # would then be retried forever
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
        return ds.map_batches(
            actor,
            batch_size=1,
            compute=ActorPoolStrategy(size=workers),
            fn_constructor_args=constructor_args,
            num_cpus=num_cpus,
            num_gpus=num_gpus,
            max_restarts=retries,
            max_task_retries=retries,
        )


def in_order(rows: Iterable[dict[str, Any]], first: int, end: int) -> Iterator[dict[str, Any]]:
    """The rows numbered ``seq`` in ``[first, end)``, in that order and each once: a reorder buffer makes
    the order independent of Ray's, and a retried task's second answer is dropped."""
    pending: dict[int, dict[str, Any]] = {}
    expected = first
    for row in rows:
        seq = int(row["seq"])
        if seq < expected or seq in pending or seq >= end:
            continue
        pending[seq] = row
        while expected in pending:
            yield pending.pop(expected)
            expected += 1


def ray_error_line(exc: BaseException) -> str:
    """``TypeName: first line`` of a Ray error, for a one-line message."""
    return f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [type(exc).__name__])[0]}"


# -- GPU -------------------------------------------------------------------------------------------
def _gpu_version(version: str) -> str:
    parts = version.split("; ")
    out = []
    for part in parts:
        if part.startswith(("TransformerSentiment:", "MiniLMEmbedder:")):
            part = part.rsplit(":", 1)[0] + ":fp16-cuda"
        out.append(part)
    return "; ".join(out)


class _OnDevice:
    """Wraps a CUDA encoder for code that builds CPU tensors: inputs go to CUDA, outputs come back."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.config = model.config

    def __call__(self, **inputs: Any) -> Any:
        from types import SimpleNamespace

        out = self.model(**{k: v.to("cuda") for k, v in inputs.items()})
        return SimpleNamespace(last_hidden_state=out.last_hidden_state.float().cpu())


def _to_cuda_fp16(computer: Any) -> Any:
    """The computer with its sentiment model and embedder reloaded on CUDA in fp16 (CPU: unchanged)."""
    import torch

    if not torch.cuda.is_available() or not isinstance(computer, BatchComputer):
        return computer
    from feedback_engine.nlp.embed import MiniLMEmbedder
    from feedback_engine.nlp.sentiment import TransformerSentiment

    sentiment = computer.sentiment_model
    if isinstance(sentiment, TransformerSentiment):
        gpu = TransformerSentiment(sentiment.location, device="cuda", precision="fp32", batch_size=256)
        gpu.model = gpu.model.half()
        gpu.precision = "fp16"
        computer.sentiment_model = gpu
    embedder = computer.embedder
    if isinstance(embedder, MiniLMEmbedder):
        gpu_e = MiniLMEmbedder(embedder.model_path, quantize=False, batch_size=256, max_length=embedder.max_length)
        gpu_e.model = _OnDevice(gpu_e.model.half().to("cuda"))
        computer.embedder = gpu_e
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return computer
