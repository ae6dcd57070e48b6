"""Benchmark of analyze on Ray against the local path, in one run on the same generated items.

    .venv/bin/python bench/ray_bench.py                      # 2,000 items; overhead at 50/200/1000 items
    .venv/bin/python bench/ray_bench.py --items 500 --sizes 50,200 --json
    .venv/bin/python bench/ray_bench.py --placement          # theme placement: 200,000 rows, 50 themes

Measured (items/s of the analyze loop: read, compute, write; themes are not part of it):

1. the local path (``LocalBackend``, torch on every core), Ray with 1 worker and Ray with 2 workers
   (one CPU and one torch thread per actor; a local Ray with ``num_cpus=2``), each on a fresh copy
   of the same items; peak memory: the driver's peak RSS and the peak of the summed RSS of the Ray
   processes (actors ``ray::...``, raylet, GCS), sampled every 0.2 s from ``/proc`` (a sum of RSS
   counts pages shared between processes more than once: an upper bound);
2. Ray's overhead at small sizes: ``ray.init`` once, then per run the time to the first batch
   (the actor pool starts and every actor deserialises the models) and the whole run, for local and
   Ray 2 workers at each of ``--sizes``: below the size where Ray's time drops under the local
   path's, Ray only costs;
3. the single SQLite writer alone: ``Analyzer.write`` on batches computed beforehand, into a fresh
   database (items/s and rows/s: analysis + sentences + clauses rows), best of 3.

With ``--placement`` it measures theme placement instead (``feedback_engine.themes.ray_placement``):
``--rows`` random unit vectors (default 200,000, 384 dimensions, each near one of ``--themes``
centroids so the cosines are those of real feedback, 0.2-0.7) with texts of 6-20 words that name a
theme's anchor word in about a third of the rows, against an Index of ``--themes`` centroids with
anchors and 2 seeds: ``LocalPlacer`` (the driver) against ``RayPlacer`` with 1 and 2 workers (rows/s
of the whole call, the actor pool's start included; the results are checked equal), and the fixed
cost of one Ray call on a single chunk.

The items come from ``bench/feedback_corpus.py`` (seeded). Its texts repeat sentences more than real
feedback does, and a batch computes each distinct text once, so absolute rates are optimistic; the
ratios between the paths are what this measures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from analyze_bench import insert, load_models  # noqa: E402
from feedback_corpus import Item, generate  # noqa: E402

from feedback_engine.nlp.pipeline import Analyzer, BatchComputer, Computed, LocalBackend  # noqa: E402
from feedback_engine.store import Store  # noqa: E402


def ray_rss_mb() -> float:
    """Summed RSS (MB) of this machine's Ray processes: actors and idle workers (``ray::``), raylet, GCS."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
            if not (cmd.startswith(b"ray::") or cmd.endswith((b"/raylet", b"/gcs_server"))):
                continue
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


class PeakSampler:
    """Samples :func:`ray_rss_mb` in a thread; ``peak`` after ``stop``."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, ray_rss_mb())
            self._stop.wait(0.2)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, ray_rss_mb())


class Timed:
    """Wraps a backend: records when the first batch arrives and keeps the batches (for the writer bench)."""

    def __init__(self, backend: Any, keep: bool = False) -> None:
        self.backend = backend
        self.name = backend.name
        self.model_version = backend.model_version
        self.first_s: float | None = None
        self.kept: list[Computed] = []
        self.first_items: list[Any] = []
        self.keep = keep

    def run(self, batches: Any) -> Any:
        started = time.perf_counter()
        for batch in self.backend.run(batches):
            if self.first_s is None:
                self.first_s = time.perf_counter() - started
                self.first_items = batch.items
            if self.keep:
                self.kept.append(batch)
            yield batch


def one_run(items: list[Item], backend: Any, batch_size: int, keep: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        insert(store, items, "bench")
        timed = Timed(backend, keep=keep)
        counts = Analyzer(store, backend=timed, batch_size=batch_size).run()
        first_n = len(timed.first_items)
        store.close()
    out = {
        "items": counts.analysed,
        "batches": counts.batches,
        "elapsed_s": round(counts.elapsed_s, 2),
        "items_per_s": round(counts.analysed / counts.elapsed_s, 1),
        "first_batch_s": round(timed.first_s or 0.0, 2),
    }
    # local path only: the rate after the first batch (on Ray the workers have computed further
    # batches before the first comes back, so the same formula overstates it; see per_worker_items_per_s)
    after = counts.elapsed_s - (timed.first_s or 0.0)
    if isinstance(backend, LocalBackend):
        out["steady_items_per_s"] = (
            round((counts.analysed - first_n) / after, 1) if counts.batches > 1 and after > 0 else None
        )
    if keep:
        out["_kept"] = timed.kept
    return out


def writer_run(items: list[Item], computed: list[Computed], model_version: str, repeat: int = 3) -> dict[str, Any]:
    best = None
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(Path(tmp) / "writer.db")
            insert(store, items, "bench")
            writer = Analyzer(store, backend=_NoCompute(model_version))
            started = time.perf_counter()
            for batch in computed:
                writer.write(batch)
            elapsed = time.perf_counter() - started
            rows = sum(store.scalar(f"SELECT count(*) FROM {t}") for t in ("analysis", "sentences", "clauses"))
            store.close()
        best = elapsed if best is None else min(best, elapsed)
    n = sum(len(b.items) for b in computed)
    assert best is not None
    return {
        "items": n,
        "rows": rows,
        "batches": len(computed),
        "elapsed_s": round(best, 3),
        "items_per_s": round(n / best),
        "rows_per_s": round(rows / best),
    }


class _NoCompute:
    name = "none"

    def __init__(self, model_version: str) -> None:
        self.model_version = model_version

    def run(self, batches: Any) -> Any:
        raise AssertionError("the writer bench computes nothing")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2000, help="items of the throughput runs")
    parser.add_argument("--sizes", default="50,200,1000", help="item counts of the overhead runs (comma-separated)")
    parser.add_argument("--batch-size", type=int, default=256, help="items per batch (analyze's default)")
    parser.add_argument("--seed", type=int, default=7, help="corpus seed")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--placement", action="store_true", help="measure theme placement instead of analyze")
    parser.add_argument("--rows", type=int, default=200_000, help="rows placed with --placement")
    parser.add_argument("--themes", type=int, default=50, help="centroids of the --placement index")
    args = parser.parse_args()
    if args.placement:
        placement_bench(args)
        return

    import ray
    import torch

    from feedback_engine.nlp.ray_backend import RayBackend, start_ray

    items = generate(args.items, seed=args.seed)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    models = load_models()
    computer = BatchComputer(
        sentiment_model=models["sentiment_model"],
        embedder=models["embedder"],
        nlp=models["spacy_nlp"],
        batch_size=args.batch_size,
    )
    one_run(generate(64, seed=args.seed + 1), LocalBackend(computer), args.batch_size)  # warm up the local path
    results: dict[str, Any] = {
        "items": args.items,
        "batch_size": args.batch_size,
        "cpus": os.cpu_count(),
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
    }

    threads = torch.get_num_threads()
    local = one_run(items, LocalBackend(computer), args.batch_size, keep=True)
    computed = local.pop("_kept")
    local["driver_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    local["torch_threads"] = threads
    results["local"] = local
    torch.set_num_threads(1)  # the local path on one core: what one Ray actor gets
    results["local_1_thread"] = one_run(items, LocalBackend(computer), args.batch_size)
    results["local_1_thread"]["torch_threads"] = 1
    torch.set_num_threads(threads)

    started = time.perf_counter()
    start_ray(None, workers=2)
    results["ray_init_s"] = round(time.perf_counter() - started, 2)
    try:
        for workers in (1, 2):
            with RayBackend(computer, workers=workers) as backend, PeakSampler() as sampler:
                run = one_run(items, backend, args.batch_size)
            run["ray_peak_rss_mb"] = round(sampler.peak)
            run["per_worker_items_per_s"] = round(run["items"] / backend.compute_s, 1)  # inside the actors
            run["driver_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
            results[f"ray_{workers}"] = run
        overhead = []
        for n in sizes:
            few = generate(n, seed=args.seed + n)
            with RayBackend(computer, workers=2) as backend:
                on_ray = one_run(few, backend, args.batch_size)
            overhead.append(
                {"items": n, "local": one_run(few, LocalBackend(computer), args.batch_size), "ray_2": on_ray}
            )
        results["overhead"] = overhead
    finally:
        ray.shutdown()
    results["writer"] = writer_run(items, computed, computer.model_version)
    results["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_tables(results)


def print_tables(r: dict[str, Any]) -> None:
    print(f"{r['items']} items, batch size {r['batch_size']}, {r['cpus']} CPUs; ray.init {r['ray_init_s']} s")
    print(
        f"{'path':<20}{'items/s':>10}{'steady/s*':>10}{'elapsed s':>11}{'1st batch s':>13}{'driver MB':>11}"
        f"{'ray MB':>9}"
    )
    rows = (
        ("local", f"local, {r['local']['torch_threads']} threads"),
        ("local_1_thread", "local, 1 thread"),
        ("ray_1", "Ray, 1 worker"),
        ("ray_2", "Ray, 2 workers"),
    )
    for key, name in rows:
        run = r[key]
        steady = run.get("steady_items_per_s") or run.get("per_worker_items_per_s") or "-"
        print(
            f"{name:<20}{run['items_per_s']:>10}{steady:>10}{run['elapsed_s']:>11}{run['first_batch_s']:>13}"
            f"{run.get('driver_peak_rss_mb', '-'):>11}{run.get('ray_peak_rss_mb', '-'):>9}"
        )
    print("* local: after the first batch; Ray: one worker's rate inside its actor (items / compute seconds)")
    print("\noverhead at small sizes (s, whole analyze loop)")
    print(f"{'items':>7}{'local s':>10}{'Ray 2 s':>10}{'Ray 1st batch s':>17}")
    for row in r["overhead"]:
        local, ray2 = row["local"], row["ray_2"]
        print(f"{row['items']:>7}{local['elapsed_s']:>10}{ray2['elapsed_s']:>10}{ray2['first_batch_s']:>17}")
    w = r["writer"]
    print(
        f"\nSQLite writer alone: {w['items']} items, {w['rows']} rows in {w['batches']} transactions: "
        f"{w['items_per_s']} items/s, {w['rows_per_s']} rows/s"
    )
    print(
        f"load average (1 min): {r['load_average_1m_at_start']} at the start, {r['load_average_1m_at_end']} at the end,"
        f" on {r['cpus']} CPUs"
    )


# -- theme placement ---------------------------------------------------------------------------------------
def placement_data(rows: int, themes: int, seed: int) -> tuple[Any, Any, list[str]]:
    """An Index of ``themes`` centroids (anchors, 2 seeds) and ``rows`` unit vectors near them, with texts."""
    import numpy as np

    from feedback_engine.themes.placement import Index
    from feedback_engine.themes.seeds import stem

    rng = np.random.default_rng(seed)
    dim = 384

    def unit(x: Any) -> Any:
        return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)

    centroids = unit(rng.normal(size=(themes, dim)))
    vocabulary = [f"w{i}x" for i in range(3000)]
    anchors = [[f"anchor{t}k{j}" for j in range(1 + t % 3)] for t in range(themes)]
    index = Index(
        key=(0, 0),
        target_ids=np.arange(1, themes + 1, dtype=np.int64),
        centroids=centroids,
        seed_ids=np.array([themes + 1, themes + 2], dtype=np.int64),
        seed_vectors=unit(rng.normal(size=(2, dim))),
        seed_terms=[{stem("refund")}, {stem("invoice")}],
        anchor_terms=[{stem(w) for w in words} for words in anchors],
    )
    near = rng.integers(0, themes, size=rows)
    E = unit(centroids[near] * rng.uniform(0.3, 1.2, size=(rows, 1)) + rng.normal(size=(rows, dim)) / np.sqrt(dim))
    texts = []
    for i in range(rows):
        words = list(rng.choice(vocabulary, size=int(rng.integers(6, 21))))
        if i % 3 == 0:  # names an anchor word, of its own theme or (1 in 4) of another
            other = near[i] if i % 4 else rng.integers(0, themes)
            words.append(anchors[int(other)][0])
        if i % 50 == 0:
            words.append("refunds")
        texts.append(" ".join(words))
    return index, E, texts


def placement_bench(args: argparse.Namespace) -> None:
    import numpy as np
    import ray

    from feedback_engine.nlp.ray_backend import start_ray
    from feedback_engine.themes.placement import CHUNK_ROWS, LocalPlacer
    from feedback_engine.themes.ray_placement import RayPlacer

    index, E, texts = placement_data(args.rows, args.themes, args.seed)
    results: dict[str, Any] = {
        "rows": args.rows,
        "themes": args.themes,
        "chunk_rows": CHUNK_ROWS,
        "cpus": os.cpu_count(),
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
    }
    started = time.perf_counter()
    expected = LocalPlacer().place(index, E, texts, 0.4)
    elapsed = time.perf_counter() - started
    results["local"] = {"elapsed_s": round(elapsed, 2), "rows_per_s": round(args.rows / elapsed)}
    results["lifted_share"] = round(float(expected[3].mean()), 3)
    results["seed_share"] = round(float((expected[2] == "seed").mean()), 4)
    started = time.perf_counter()
    start_ray(None, workers=2)
    results["ray_init_s"] = round(time.perf_counter() - started, 2)
    try:
        for workers in (1, 2):
            placer = RayPlacer(workers=workers, min_rows=0)
            started = time.perf_counter()
            got = placer.place(index, E, texts, 0.4)
            elapsed = time.perf_counter() - started
            assert np.array_equal(got[0], expected[0]) and list(got[2]) == list(expected[2])
            assert np.allclose(got[1], expected[1], rtol=0, atol=1e-6)
            results[f"ray_{workers}"] = {
                "elapsed_s": round(elapsed, 2),
                "rows_per_s": round(args.rows / elapsed),
                "chunks": placer.chunks,
            }
        one = RayPlacer(workers=2, min_rows=0)
        started = time.perf_counter()
        one.place(index, E[:CHUNK_ROWS], texts[:CHUNK_ROWS], 0.4)
        results["ray_one_chunk_s"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        LocalPlacer().place(index, E[:CHUNK_ROWS], texts[:CHUNK_ROWS], 0.4)
        results["local_one_chunk_s"] = round(time.perf_counter() - started, 3)
    finally:
        ray.shutdown()
    results["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    r = results
    print(
        f"theme placement: {r['rows']} rows x {r['themes']} themes (anchors, 2 seeds), chunks of {r['chunk_rows']} "
        f"rows, {r['cpus']} CPUs; ray.init {r['ray_init_s']} s; {r['lifted_share']:.1%} of rows lifted by an anchor"
    )
    print(f"{'path':<22}{'rows/s':>10}{'elapsed s':>11}")
    for key, name in (("local", "local (driver)"), ("ray_1", "Ray, 1 worker"), ("ray_2", "Ray, 2 workers")):
        print(f"{name:<22}{r[key]['rows_per_s']:>10}{r[key]['elapsed_s']:>11}")
    print(f"one chunk: local {r['local_one_chunk_s']} s, Ray 2 workers {r['ray_one_chunk_s']} s (the fixed cost)")
    print(
        f"load average (1 min): {r['load_average_1m_at_start']} at the start, {r['load_average_1m_at_end']} at the end,"
        f" on {r['cpus']} CPUs"
    )


if __name__ == "__main__":
    main()
