"""analyze on Ray (``feedback_engine.nlp.ray_backend``) against a local Ray started by this module.

Real models, real SQLite files, a real Ray (``num_cpus=2``): the rows written are identical to the
local path's on the shipped fixtures; a worker killed mid-batch is retried and nothing is written
twice; a driver killed mid-run resumes from the store; without the extra the CLI says what to install.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from nlp_helpers import insert_feedback

from feedback_engine.cli import main
from feedback_engine.contracts import AnalysisBackend
from feedback_engine.engine import Engine
from feedback_engine.nlp.pipeline import Analyzer, BatchComputer, Computed
from feedback_engine.store import Store

ray = pytest.importorskip("ray")

from feedback_engine.nlp.ray_backend import RAY_INSTALL, RayBackend  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_FILES = ("reviews/generic_reviews.csv", "social/twitter_mentions.jsonl", "surveys/plain_id_text.csv")
PIECES = [
    "I was charged twice this month.",
    "Support never replied to my ticket, which is awful.",
    "The new dashboard is clean and easy to use.",
    "The app crashes when I upload a photo.",
]


@pytest.fixture(scope="module")
def ray_cluster() -> Any:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def computer(spacy_nlp, embedder, sentiment_model) -> BatchComputer:
    return BatchComputer(sentiment_model=sentiment_model, embedder=embedder, nlp=spacy_nlp, batch_size=16)


def _ingest_fixtures(path: Path, fixtures: Path) -> Store:
    with Engine(path) as engine:
        for name in FIXTURE_FILES:
            engine.ingest.files(str(fixtures / name))
    return Store(path)


def _written(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every analysis, sentence and clause row, without the time of writing."""
    cols = [r[1] for r in store.conn.execute("PRAGMA table_info(analysis)") if r[1] != "analyzed_at"]
    return {
        "analysis": store.conn.execute(f"SELECT {', '.join(cols)} FROM analysis ORDER BY feedback_id").fetchall(),
        "sentences": store.conn.execute("SELECT * FROM sentences ORDER BY feedback_id, idx").fetchall(),
        "clauses": store.conn.execute("SELECT * FROM clauses ORDER BY feedback_id, sentence_idx, idx").fetchall(),
    }


class CountingAnalyzer(Analyzer):
    """An Analyzer that records every item id it writes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.written: list[int] = []

    def write(self, batch: Computed) -> None:
        self.written.extend(it.feedback_id for it in batch.items)
        super().write(batch)


class KillOnce:
    """Kills its own worker process (SIGKILL) while computing the batch holding ``victim``, the first time."""

    def __init__(self, inner: BatchComputer, victim: int, marker: str) -> None:
        self.inner = inner
        self.victim = victim
        self.marker = marker
        self.model_version = inner.model_version

    def __call__(self, rows: Any) -> Computed:
        if any(int(r[0]) == self.victim for r in rows) and not os.path.exists(self.marker):
            with open(self.marker, "w", encoding="utf-8") as fh:
                fh.write(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return self.inner(rows)


def test_an_unreachable_address_is_one_line_before_any_model_loads(db_path) -> None:
    # first in the file: the module's Ray is not started yet (a connected driver would not dial the address)
    assert not ray.is_initialized()
    with Store(db_path) as store:
        insert_feedback(store, ["The refund took three weeks."])
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for address, message in (
        (
            f"ray://127.0.0.1:{port}",
            f"Error: Cannot reach the Ray cluster at ray://127.0.0.1:{port} (Connection refused).",
        ),
        ("head-without-port", "Error: --address 'head-without-port' is not auto, ray://HOST:PORT or HOST:PORT."),
    ):
        result = CliRunner().invoke(main, ["--db", str(db_path), "analyze", "--backend", "ray", "--address", address])
        assert result.exit_code == 2, result.output
        assert result.output.startswith(message) and len(result.output.strip().splitlines()) == 1
    assert not ray.is_initialized()


def test_same_rows_as_the_local_path_on_the_fixtures(tmp_path, fixtures_dir, ray_cluster, computer) -> None:
    local = _ingest_fixtures(tmp_path / "local.db", fixtures_dir)
    on_ray = _ingest_fixtures(tmp_path / "ray.db", fixtures_dir)
    n = local.scalar("SELECT count(*) FROM feedback")
    assert n == on_ray.scalar("SELECT count(*) FROM feedback") > 100
    counts_local = Analyzer(local, backend=_local(computer), batch_size=32).run()
    backend = RayBackend(computer, workers=2, window=3)  # two windows: the order holds across them
    assert isinstance(backend, AnalysisBackend)
    counts_ray = Analyzer(on_ray, backend=backend, batch_size=32).run()
    assert backend.datasets == -(-counts_ray.batches // 3) == 2
    assert (
        (counts_ray.analysed, counts_ray.batches) == (counts_local.analysed, counts_local.batches) == (n, -(-n // 32))
    )
    assert counts_ray.other_language == counts_local.other_language > 0
    a, b = _written(local), _written(on_ray)
    assert len(a["sentences"]) > n and len(a["clauses"]) > 0
    for table in a:
        assert b[table] == a[table], table
    local.close()
    on_ray.close()


def _local(computer: BatchComputer) -> Any:
    from feedback_engine.nlp.pipeline import LocalBackend

    return LocalBackend(computer)


def test_a_worker_killed_mid_batch_is_retried_and_nothing_is_written_twice(
    tmp_path, ray_cluster, computer, monkeypatch
) -> None:
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    store = Store(tmp_path / "kill.db")
    ids = insert_feedback(store, [f"{PIECES[i % 4]} {PIECES[(i + 1) % 4]} #{i}" for i in range(24)])
    marker = tmp_path / "killed.pid"
    backend = RayBackend(KillOnce(computer, victim=ids[9], marker=str(marker)), workers=1, retries=2)
    analyzer = CountingAnalyzer(store, backend=backend, batch_size=4)
    counts = analyzer.run()
    assert marker.exists() and int(marker.read_text()) != os.getpid()  # a worker died, in its batch
    assert sorted(analyzer.written) == ids  # every item written exactly once
    assert counts.analysed == 24 and analyzer.pending() == 0
    assert store.scalar("SELECT count(DISTINCT feedback_id) FROM sentences") == 24
    store.close()


class KillAlways(KillOnce):
    """Kills its worker every time it meets ``victim``: a batch that no retry gets through."""

    def __call__(self, rows: Any) -> Computed:
        if any(int(r[0]) == self.victim for r in rows):
            os.kill(os.getpid(), signal.SIGKILL)
        return self.inner(rows)


class OnesEmbedder:
    """Loads nothing: every text gets the same unit vector (this test is about failures, not vectors)."""

    def encode(self, texts: Any) -> np.ndarray:
        return np.full((len(texts), 4), 0.5, dtype=np.float32)


def test_a_batch_that_kills_every_retry_ends_the_run_with_one_error(tmp_path, ray_cluster) -> None:
    import spacy

    from feedback_engine.errors import AnalysisError
    from feedback_engine.nlp.sentiment import VaderSentiment

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    store = Store(tmp_path / "poison.db")
    ids = insert_feedback(store, [f"Order {i} arrived late. Support was kind." for i in range(12)])
    light = BatchComputer(sentiment_model=VaderSentiment(), embedder=OnesEmbedder(), nlp=spacy.blank("en"))
    backend = RayBackend(KillAlways(light, victim=ids[6], marker=""), workers=1, retries=1)
    with pytest.raises(AnalysisError, match=r"^Ray stopped the run after \d committed batches \(\w+Error: ") as err:
        Analyzer(store, backend=backend, batch_size=3).run()
    assert "rerun `feedback-engine analyze` to continue" in str(err.value)
    done = store.scalar("SELECT count(*) FROM analysis")
    assert done in (3, 6) and store.scalar("SELECT max(feedback_id) FROM analysis") < ids[6]  # whole batches before it
    store.close()


DRIVER = textwrap.dedent(
    """
    import sys
    from feedback_engine.engine import Engine

    with Engine(sys.argv[1]) as engine:
        engine.analysis.run(backend="ray", address=sys.argv[2], workers=2, batch_size=8, themes=False)
    """
)


def test_a_driver_killed_mid_run_resumes_from_the_store(tmp_path, ray_cluster, computer) -> None:
    db = tmp_path / "driver.db"
    store = Store(db)
    n = 160
    insert_feedback(store, [f"{PIECES[i % 4]} {PIECES[(i * 3) % 4]} #{i}" for i in range(n)])
    script = tmp_path / "driver.py"
    script.write_text(DRIVER, encoding="utf-8")
    env = {**os.environ, "FEEDBACK_ENGINE_TORCH_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(db), ray_cluster], env=env, cwd=ROOT, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not store.scalar("SELECT count(*) FROM analysis"):
            if proc.poll() is not None:
                pytest.fail(f"driver exited early with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    first = store.scalar("SELECT count(*) FROM analysis")
    assert 0 < first < n and first % 8 == 0  # whole batches only
    orphans = "SELECT count(*) FROM sentences s LEFT JOIN analysis a USING (feedback_id) WHERE a.feedback_id IS NULL"
    assert store.scalar(orphans) == 0
    # the resume is the store's (pending = never analysed or edited since): the local path picks up where Ray stopped
    analyzer = CountingAnalyzer(store, backend=_local(computer), batch_size=8)
    counts = analyzer.run()
    assert counts.analysed == n - first and len(set(analyzer.written)) == len(analyzer.written)
    assert store.scalar("SELECT count(DISTINCT feedback_id) FROM analysis") == n
    assert store.scalar("SELECT count(DISTINCT feedback_id) FROM sentences") == n
    store.close()


def test_without_the_extra_the_cli_names_the_install_line(db_path, monkeypatch) -> None:
    with Store(db_path) as store:
        insert_feedback(store, ["The refund took three weeks."])
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError, as without the extra
    result = CliRunner().invoke(main, ["--db", str(db_path), "analyze", "--backend", "ray", "--workers", "2"])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"Error: --backend ray needs Ray, which is not installed (ray). Make sure to run: {RAY_INSTALL}"
    ]
    with Store(db_path) as store:
        assert store.scalar("SELECT count(*) FROM analysis") == 0
    usage = CliRunner().invoke(main, ["--db", str(db_path), "analyze", "--address", "auto"])
    assert usage.exit_code == 2 and "--address needs --backend ray" in usage.output


def test_help_names_the_backend_options() -> None:
    result = CliRunner().invoke(main, ["analyze", "--help"])
    assert result.exit_code == 0
    for option in ("--backend [local|ray]", "--address", "--workers"):
        assert option in result.output
    assert "feedback_engine[ray]" in result.output


# -- theme placement on Ray (feedback_engine.themes.ray_placement) ------------------------------------------
SMALL_CHUNK = 32  # rows per placement chunk here: the fixtures' ~300 units (items and sentences) make ~10 chunks


def _assignments(path: Path) -> list[tuple[Any, ...]]:
    """Every theme assignment and outlier, without the time of writing (probabilities to 6 digits)."""
    with Store(path) as store:
        rows = store.conn.execute(
            "SELECT feedback_id, sentence_idx, theme_id, source, round(probability, 6) FROM theme_assignments "
            "ORDER BY feedback_id, sentence_idx, theme_id"
        ).fetchall()
        outliers = store.conn.execute("SELECT feedback_id FROM theme_outliers ORDER BY feedback_id").fetchall()
    return [*rows, *[("outlier", *r) for r in outliers]]


def _models(spacy_nlp: Any, embedder: Any, sentiment_model: Any) -> dict[str, Any]:
    return {"sentiment_model": sentiment_model, "embedder": embedder, "spacy_nlp": spacy_nlp}


@pytest.fixture(scope="module")
def analysed(tmp_path_factory, spacy_nlp, embedder, sentiment_model) -> dict[str, Path]:
    """The fixtures analysed once (no themes yet), and a copy whose themes were fitted on the local path."""
    import shutil

    from feedback_engine.themes import placement

    folder = tmp_path_factory.mktemp("placement")
    bare = folder / "analysed.db"
    _ingest_fixtures(bare, ROOT / "fixtures").close()
    with Engine(bare, **_models(spacy_nlp, embedder, sentiment_model)) as engine:
        engine.analysis.run(batch_size=32, themes=False)
    local = folder / "local.db"
    shutil.copy(bare, local)
    with pytest.MonkeyPatch.context() as mp, Engine(local, **_models(spacy_nlp, embedder, sentiment_model)) as engine:
        mp.setattr(placement, "CHUNK_ROWS", SMALL_CHUNK)
        assert engine.analysis.run().themes["mode"] == "fit"
    return {"bare": bare, "local": local}


def _index_and_units(path: Path) -> tuple[Any, Any]:
    from feedback_engine.themes import persist
    from feedback_engine.themes.stage import ThemeStage

    store = Store(path)
    index = ThemeStage().index(store)
    units = persist.concat(persist.load_items(store), persist.load_sentences(store))
    store.close()
    return index, units


def test_ray_placement_equals_local_placement_on_a_fitted_index(analysed, ray_cluster) -> None:
    from feedback_engine.themes.placement import LocalPlacer, Placer
    from feedback_engine.themes.ray_placement import RayPlacer

    index, units = _index_and_units(analysed["local"])
    assert len(index.target_ids) > 5 and any(index.anchor_terms) and len(units) > 4 * SMALL_CHUNK
    local = LocalPlacer(SMALL_CHUNK).place(index, units.embeddings, units.texts, 0.4)
    placer = RayPlacer(workers=2, chunk_rows=SMALL_CHUNK, min_rows=0)
    assert isinstance(placer, Placer)
    on_ray = placer.place(index, units.embeddings, units.texts, 0.4)
    assert (placer.datasets, placer.chunks) == (1, -(-len(units) // SMALL_CHUNK))
    assert np.array_equal(on_ray[0], local[0]) and list(on_ray[2]) == list(local[2])
    assert np.array_equal(on_ray[3], local[3]) and local[3].any()
    np.testing.assert_allclose(on_ray[1], local[1], rtol=0, atol=1e-6)
    refs = placer._refs
    few = placer.place(index, units.embeddings[:10], units.texts[:10], 0.4)  # the same index: not put again
    assert placer._refs is refs and placer.datasets == 2 and np.array_equal(few[0], local[0][:10])
    # the default threshold keeps the fixtures' few hundred rows in the driver, with the same result
    default = RayPlacer(workers=2, chunk_rows=SMALL_CHUNK)
    assert np.array_equal(default.place(index, units.embeddings, units.texts, 0.4)[0], local[0])
    assert default.datasets == 0
    placer.close()
    assert ray.is_initialized()  # the module's Ray: joined, not stopped


def test_analyze_on_ray_places_themes_on_ray_with_the_local_rows(
    tmp_path, analysed, ray_cluster, spacy_nlp, embedder, sentiment_model, monkeypatch
) -> None:
    import shutil

    from feedback_engine.themes import placement, ray_placement
    from feedback_engine.themes.ray_placement import RayPlacer

    monkeypatch.setattr(placement, "CHUNK_ROWS", SMALL_CHUNK)
    monkeypatch.setattr(ray_placement, "MIN_ROWS", 0)
    used: list[RayPlacer] = []
    place = RayPlacer.place

    def recording(self: RayPlacer, *args: Any) -> Any:
        used.append(self)
        return place(self, *args)

    monkeypatch.setattr(RayPlacer, "place", recording)
    path = tmp_path / "ray.db"
    shutil.copy(analysed["bare"], path)
    with Engine(path, **_models(spacy_nlp, embedder, sentiment_model)) as engine:
        report = engine.analysis.run(backend="ray", workers=2)  # nothing left to analyse: the themes' fit
    assert report.analysed == 0 and report.themes["mode"] == "fit"
    placers = set(used)
    assert len(placers) == 1 and next(iter(placers)).workers == 2
    assert next(iter(placers)).datasets >= 3  # the fit's items, its multi-sentence items, and the sentences
    expected = _assignments(analysed["local"])
    assert len(expected) > 150 and _assignments(path) == expected
    assert ray.is_initialized()  # analyze joined the module's Ray and left it running
    # analyze --refit on Ray: the refit's placement runs there too, with the local refit's rows
    local = tmp_path / "local.db"
    shutil.copy(analysed["local"], local)
    with Engine(local, **_models(spacy_nlp, embedder, sentiment_model)) as engine:
        assert engine.analysis.run(refit=True).themes["mode"] == "refit"
    with Engine(path, **_models(spacy_nlp, embedder, sentiment_model)) as engine:
        assert engine.analysis.run(backend="ray", workers=2, refit=True).themes["mode"] == "refit"
    assert len(set(used)) == 2 and used[-1].datasets >= 3
    assert _assignments(path) == _assignments(local)


class KillOnPlace:
    """Places like place_rows, but kills its worker (SIGKILL) on the chunk holding ``victim``: once, or
    every time (``always``)."""

    def __init__(self, victim: str, marker: str, always: bool = False) -> None:
        self.victim, self.marker, self.always = victim, marker, always

    def __call__(self, index: Any, E: Any, texts: Any, seed_threshold: float) -> Any:
        from feedback_engine.themes.placement import place_rows

        if self.victim in texts and (self.always or not os.path.exists(self.marker)):
            with open(self.marker, "w", encoding="utf-8") as fh:
                fh.write(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return place_rows(index, E, texts, seed_threshold)


def test_a_worker_killed_mid_chunk_is_retried_and_the_placement_is_identical(tmp_path, analysed, ray_cluster) -> None:
    from feedback_engine.errors import AnalysisError
    from feedback_engine.themes.placement import LocalPlacer
    from feedback_engine.themes.ray_placement import RayPlacer

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    index, units = _index_and_units(analysed["local"])
    E, texts = units.embeddings[: 3 * SMALL_CHUNK], units.texts[: 3 * SMALL_CHUNK]
    marker = tmp_path / "killed.pid"
    victim = texts[SMALL_CHUNK + 5]  # in the second chunk
    placer = RayPlacer(workers=1, retries=2, chunk_rows=SMALL_CHUNK, min_rows=0, place=KillOnPlace(victim, str(marker)))
    theme, sim, source, lifted = placer.place(index, E, texts, 0.4)
    assert marker.exists() and int(marker.read_text()) != os.getpid()  # a worker died, in that chunk
    local = LocalPlacer(SMALL_CHUNK).place(index, E, texts, 0.4)
    assert placer.chunks == 3 and len(theme) == len(E)
    assert np.array_equal(theme, local[0]) and list(source) == list(local[2]) and np.array_equal(lifted, local[3])
    np.testing.assert_allclose(sim, local[1], rtol=0, atol=1e-6)
    poison = RayPlacer(workers=1, retries=1, min_rows=0, place=KillOnPlace(victim, str(marker), always=True))
    with pytest.raises(
        AnalysisError, match=r"^Ray stopped placing themes \(\w+Error: .*Rerun `feedback-engine analyze"
    ):
        poison.place(index, E, texts, 0.4)
