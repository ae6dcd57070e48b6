"""Themes that may be the same subject in other words, offered to the person shipping an action."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from feedback_engine.store import Store, utcnow
from feedback_engine.themes.queries import RELATED_COS, similar_themes


def _theme(store: Store, label: str, centroid: list[float], status: str = "active", into: int | None = None) -> int:
    now = utcnow()
    v = np.zeros(384, dtype="<f4")
    v[: len(centroid)] = centroid
    cur = store.execute(
        "INSERT INTO themes (label, origin, status, merged_into, terms, quotes, centroid, size, created_at, "
        "updated_at) VALUES (?, 'discovered', ?, ?, ?, '[]', ?, 0, ?, ?)",
        (label, status, into, json.dumps([[label.lower(), 1.0]]), v.tobytes(), now, now),
    )
    return int(cur.lastrowid)


def test_close_centroids_are_offered_closest_first_and_the_themes_themselves_never(tmp_path: Path):
    with Store(tmp_path / "f.db") as store:
        period = _theme(store, "Period: heavy", [1.0, 0.0, 0.0])
        bleeding = _theme(store, "Bleeding: spotting", [0.9, 0.35, 0.0])  # cosine 0.93
        cramps = _theme(store, "Cramps: pain", [0.8, 0.0, 0.6])  # 0.80
        _theme(store, "Price: cost", [0.0, 1.0, 0.0])  # 0.0
        _theme(store, "Old", [0.95, 0.3, 0.0], status="retired")  # not active: never offered
        merged = _theme(store, "Periods", [1.0, 0.05, 0.0], status="merged", into=period)
        found = similar_themes(store.conn, [period])
        assert [t["theme_id"] for t in found] == [bleeding, cramps]
        assert found[0]["similarity"] > found[1]["similarity"] >= RELATED_COS
        assert found[0]["label"] == "Bleeding: spotting"
        # asked by a merged theme's id, the survivor's own family is left out the same way
        assert [t["theme_id"] for t in similar_themes(store.conn, [merged])] == [bleeding, cramps]
        assert similar_themes(store.conn, [period], limit=1)[0]["theme_id"] == bleeding
        assert similar_themes(store.conn, [period], floor=0.95) == []
        assert similar_themes(store.conn, []) == []
