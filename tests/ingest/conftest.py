"""Fixtures of the ingest tests: an Engine on a real SQLite file, paths of the committed exports."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedback_engine import Engine

FIX = Path(__file__).resolve().parents[2] / "fixtures"
SURVEYS = FIX / "surveys"
REVIEWS = FIX / "reviews"
SOCIAL = FIX / "social"
BAD = FIX / "bad"


@pytest.fixture
def engine(tmp_path: Path):
    with Engine(tmp_path / "feedback.db") as e:
        yield e


def counts(report) -> tuple[int, int, int, int, int]:
    """(added, updated, unchanged, quarantined, skipped)."""
    return report.added, report.updated, report.unchanged, report.quarantined, report.skipped
