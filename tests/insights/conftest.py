"""Planted-effect data for the insights tests, through the real ingest path.

Items are written as survey CSV / generic review CSV files and imported with
``engine.ingest.surveys`` / ``engine.ingest.reviews`` (the real readers, loader and store). The NLP
stage is not run (no models in this tier): each item's sentiment is written as its ``analysis``
row, and its theme as a ``manual`` assignment -- what a person's explicit move writes, which the
themes stage's one membership definition reads like any other assignment.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from feedback_engine.engine import Engine

T0 = "2025-01-01T00:00:00Z"


@dataclass
class Item:
    day: date
    theme: str | None
    sentiment: str = "neutral"
    nps: int | None = None
    channel: str = "survey"
    text: str = ""
    email: str | None = None
    hour: int = 12


@dataclass
class Planted:
    engine: Engine
    theme_ids: dict[str, int] = field(default_factory=dict)
    ids_of: dict[str, list[int]] = field(default_factory=dict)


def _write_survey(path: Path, items: list[tuple[str, Item]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["response_id", "email", "submitted_at", "nps", "comment"])
        for key, it in items:
            stamp = (
                datetime(it.day.year, it.day.month, it.day.day, it.hour, tzinfo=UTC).isoformat().replace("+00:00", "Z")
            )
            w.writerow([key, it.email or "", stamp, "" if it.nps is None else it.nps, it.text or f"comment {key}"])


def _write_reviews(path: Path, items: list[tuple[str, Item]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "rating", "title", "text", "author", "date"])
        for key, it in items:
            stamp = (
                datetime(it.day.year, it.day.month, it.day.day, it.hour, tzinfo=UTC).isoformat().replace("+00:00", "Z")
            )
            w.writerow([key, 3, "", it.text or f"review {key}", f"user{key}", stamp])


def build(tmp_path: Path, items: list[Item], themes: list[str]) -> Planted:
    """Import ``items`` through the ingest readers, then write their sentiment and theme."""
    engine = Engine(tmp_path / "planted.db")
    keyed = [(f"r{i}", it) for i, it in enumerate(items)]
    surveys = [(k, it) for k, it in keyed if it.channel == "survey"]
    reviews = [(k, it) for k, it in keyed if it.channel == "review"]
    if surveys:
        _write_survey(tmp_path / "survey.csv", surveys)
        report = engine.ingest.surveys(tmp_path / "survey.csv")
        assert report.added == len(surveys), report
    if reviews:
        _write_reviews(tmp_path / "reviews.csv", reviews)
        report = engine.ingest.reviews(tmp_path / "reviews.csv", "generic")
        assert report.added == len(reviews), report
    store = engine.store
    planted = Planted(engine)
    with store.transaction() as conn:
        for label in themes:
            cur = conn.execute(
                "INSERT INTO themes (label, origin, status, created_at, updated_at) VALUES (?, 'discovered', 'active', ?, ?)",
                (label, T0, T0),
            )
            planted.theme_ids[label] = int(cur.lastrowid)
    texts = {it.text or f"comment {k}" for k, it in keyed}
    rows = store.query("SELECT id, text, channel, external_id, response_id FROM feedback")
    by_key = {}
    for r in rows:
        key = r["response_id"] or r["external_id"]
        by_key[str(key)] = int(r["id"])
    assert len(by_key) == len(items), (len(by_key), len(items), len(texts))
    score = {"negative": -0.8, "neutral": 0.0, "positive": 0.8}
    with store.transaction() as conn:
        for key, it in keyed:
            fid = by_key[key]
            conn.execute(
                "INSERT INTO analysis (feedback_id, content_hash, is_english, redacted_text, sentiment, "
                "sentiment_score, analyzed_at) SELECT id, content_hash, 1, text, ?, ?, ? FROM feedback WHERE id = ?",
                (it.sentiment, score[it.sentiment], T0, fid),
            )
            if it.theme is not None:
                conn.execute(
                    "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, source, assigned_at) "
                    "VALUES (?, -1, ?, 1.0, 'manual', ?)",
                    (fid, planted.theme_ids[it.theme], T0),
                )
                planted.ids_of.setdefault(it.theme, []).append(fid)
    return planted


def background(
    rng: np.random.Generator,
    start: date,
    days: int,
    themes: dict[str, float],
    *,
    daily: Callable[[date], float] = lambda d: 60.0,
    negative: float = 0.3,
    nps: bool = False,
) -> list[Item]:
    """Items with no planted effect: Poisson daily volume, themes drawn by fixed shares (the rest in no theme)."""
    names = list(themes) + [None]
    probs = np.array([*themes.values(), max(0.0, 1 - sum(themes.values()))])
    out = []
    for i in range(days):
        d = start + timedelta(days=i)
        for _ in range(int(rng.poisson(daily(d)))):
            theme = names[int(rng.choice(len(names), p=probs))]
            sentiment = "negative" if rng.random() < negative else str(rng.choice(["neutral", "positive"]))
            out.append(
                Item(d, theme, sentiment, int(rng.integers(0, 11)) if nps else None, hour=int(rng.integers(0, 24)))
            )
    return out


@pytest.fixture
def make_planted(tmp_path: Path) -> Callable[..., Planted]:
    made: list[Planted] = []
    counter = iter(range(1000))

    def make(items: list[Item], themes: list[str]) -> Planted:
        folder = tmp_path / f"db{next(counter)}"
        folder.mkdir()
        p = build(folder, items, themes)
        made.append(p)
        return p

    yield make
    for p in made:
        p.engine.close()


def kinds(result: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(f["kind"], f["label"], f["day"]) for f in result["flags"]]
