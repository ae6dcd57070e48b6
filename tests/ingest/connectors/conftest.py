"""Fixtures of the connector tests: a loopback API server, an Engine whose pulls retry fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedback_engine import Engine
from feedback_engine.ingest.connectors.http import HttpClient
from feedback_engine.ingest.connectors.service import SourceService
from tests.ingest.connectors.server import ApiServer


class Sleeps(list):
    """Records each wait instead of sleeping (the waits asked for are what the tests check)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def api():
    server = ApiServer()
    yield server
    server.close()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def env() -> dict[str, str]:
    return {}


@pytest.fixture
def engine(tmp_path: Path, sleeps: Sleeps, env: dict[str, str]):
    with Engine(tmp_path / "feedback.db") as e:
        e.sources = SourceService(
            e.store,
            http=lambda: HttpClient(timeout=0.5, retries=3, backoff=0.01, max_wait=0.05, sleep=sleeps),
            env=env,
        )
        yield e
