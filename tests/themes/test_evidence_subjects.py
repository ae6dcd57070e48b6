"""Evidence for a discovered theme names its subject, and a sentence about two subjects counts for both;
the opt-in split of a cluster by its aspect words."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from feedback_engine.store import Store, utcnow
from feedback_engine.themes import evidence as ev
from feedback_engine.themes.aspects import MIN_SPLIT, split_by_aspects

DIM = 384


def _vec(*weights: float) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[: len(weights)] = weights
    return v / np.linalg.norm(v)


def _theme(store: Store, label: str, terms: list, anchors: list, centroid: np.ndarray) -> int:
    now = utcnow()
    cur = store.execute(
        "INSERT INTO themes (label, origin, status, terms, quotes, centroid, anchors, size, created_at, updated_at) "
        "VALUES (?, 'discovered', 'active', ?, '[]', ?, ?, 0, ?, ?)",
        (label, json.dumps(terms), centroid.astype("<f4").tobytes(), json.dumps(anchors), now, now),
    )
    return int(cur.lastrowid)


def _item(store: Store, n: int, text: str, aspects: list[str], vec: np.ndarray, theme: int | None, p: float) -> int:
    now = utcnow()
    cur = store.execute(
        "INSERT INTO feedback (natural_key, channel, platform, text, created_at, ingested_at, raw, content_hash) "
        "VALUES (?, 'survey', 'generic', ?, ?, ?, '{}', ?)",
        (f"t:{n}", text, now, now, f"h{n}"),
    )
    fid = int(cur.lastrowid)
    blob = vec.astype("<f4").tobytes()
    store.execute(
        "INSERT INTO analysis (feedback_id, content_hash, language, is_english, redacted_text, sentiment, "
        "sentiment_score, aspects, embedding, model_version, analyzed_at) "
        "VALUES (?, ?, 'en', 1, ?, 'negative', -0.5, ?, ?, 'test', ?)",
        (fid, f"h{n}", text, json.dumps(aspects), blob, now),
    )
    store.execute(
        "INSERT INTO sentences (feedback_id, idx, text, redacted_text, aspects, embedding) VALUES (?, 0, ?, ?, ?, ?)",
        (fid, text, text, json.dumps(aspects), blob),
    )
    if theme is not None:
        store.execute(
            "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, source, assigned_at) "
            "VALUES (?, -1, ?, ?, 'fit', ?)",
            (fid, theme, p, now),
        )
    return fid


def test_a_discovered_theme_needs_its_subject_named_and_a_two_subject_sentence_counts_for_both(tmp_path: Path):
    store = Store(tmp_path / "e.db")
    delays = _theme(store, "Flight delayed: delay", [["flight delayed", 1.0]], ["delay"], _vec(1, 0, 0))
    bags = _theme(store, "Bag: luggage", [["bag", 1.0]], ["bag"], _vec(0, 1, 0))
    with store.transaction():
        named = _item(store, 1, "my flight was delayed five hours", ["flight"], _vec(1, 0.2, 0), delays, 0.6)
        vague = _item(store, 2, "the crew was rude to everyone", ["crew"], _vec(1, 0, 1.5), delays, 0.6)
        close = _item(store, 3, "the crew was rude and slow", ["crew"], _vec(1, 0, 0.8), delays, 0.75)
        both = _item(store, 4, "bag lost and the flight delayed again", ["bag", "flight"], _vec(0.7, 1, 0), bags, 0.7)
        far = _item(store, 5, "delayed gratification is my motto", ["gratification"], _vec(0.1, 0, 1), bags, 0.6)
        for n in range(6, 26):  # the rest of the corpus, so "delay" is a distinctive word
            _item(store, n, f"thanks for the snacks number {n}", ["snack"], _vec(0, 0, 0, 1), None, 0.0)
    assert ev.subject_words(store.conn, [delays, bags]) == {delays: {"delay", "flight"}, bags: {"bag"}}
    found = ev.theme_evidence(store.conn, [delays])
    assert found[named].source == "fit"
    assert vague not in found  # near the centroid but names no word of the theme's subject
    assert close in found  # as close as STRONG_SCORE: counts without the word
    assert found[both].source == "named" and found[both].score >= ev.NAMED_FLOOR  # placed in bags, names delays
    assert far not in found  # names the word, but means something else (cosine < NAMED_FLOOR)
    assert set(ev.theme_evidence(store.conn, [bags])) == {both}  # "delayed gratification" names no bag
    assert set(ev.theme_evidence(store.conn, [delays], feedback_ids=[both])) == {both}
    store.close()


class _WordEmbedder:
    """Word vectors by hand: synonyms share a direction."""

    AXES = {"cancelled": 0, "canceled": 0, "delayed": 1, "late": 1, "bag": 2, "luggage": 2, "baggage": 2}

    def encode(self, words):
        out = np.zeros((len(words), 8), dtype=np.float32)
        for i, w in enumerate(words):
            out[i, self.AXES.get(w, 3 + len(w) % 5)] = 1.0
        return out


def test_a_cluster_of_two_aspects_splits_and_a_cluster_of_synonyms_stays_whole():
    n = MIN_SPLIT // 2 + 5
    texts = (
        [f"cancelled again {i}" for i in range(n)]
        + [f"delayed again {i}" for i in range(n)]
        + [f"my bag {i} is gone" for i in range(n)]
        + [f"my luggage {i} never came" for i in range(n)]
        + [f"hello there number {i}" for i in range(6 * n)]
    )
    labels = np.array([0] * (2 * n) + [1] * (2 * n) + [2] * (6 * n))
    E = np.eye(len(texts), 8, dtype=np.float32)
    out = split_by_aspects(texts, labels, E, _WordEmbedder())
    cancelled, delayed = set(out[:n]), set(out[n : 2 * n])
    assert len(cancelled) == 1 and len(delayed) == 1 and cancelled != delayed  # two aspects, two themes
    assert set(out[2 * n : 4 * n]) == {1}  # bag and luggage mean the same: one theme, its number kept
    assert set(out[4 * n :]) == {2}  # no word it owns
    assert (split_by_aspects(texts, labels, E, _WordEmbedder()) == out).all()  # deterministic


def test_children_of_one_aspect_in_two_clusters_are_one_theme_and_doing_words_are_no_aspect():
    n = MIN_SPLIT // 2 + 5
    texts = (
        [f"cancelled again {i}" for i in range(n)]
        + [f"delayed again {i}" for i in range(n)]
        + [f"canceled today {i}" for i in range(n)]  # the same aspect, clustered elsewhere
        + [f"baggage lost {i}" for i in range(n)]
        + [f"taking it {i}" for i in range(n)]  # words of doing and feeling
        + [f"i'm so {i}" for i in range(n)]
        + [f"hello there number {i}" for i in range(6 * n)]
    )
    labels = np.array([0] * (2 * n) + [1] * (2 * n) + [2] * (2 * n) + [3] * (6 * n))
    E = np.eye(len(texts), 8, dtype=np.float32)
    out = split_by_aspects(texts, labels, E, _WordEmbedder())
    cancelled = set(out[:n]) | set(out[2 * n : 3 * n])
    assert len(cancelled) == 1  # one theme for cancellations, from both clusters
    delayed, baggage = set(out[n : 2 * n]), set(out[3 * n : 4 * n])
    assert len(delayed) == len(baggage) == 1 and len(cancelled | delayed | baggage) == 3
    assert set(out[4 * n : 6 * n]) == {2}  # "taking" and "i'm" split nothing


def test_a_small_cluster_is_already_specific_and_stays_whole():
    n = MIN_SPLIT // 2 - 5
    texts = [f"cancelled again {i}" for i in range(n)] + [f"delayed again {i}" for i in range(n)]
    texts += [f"hello there number {i}" for i in range(10 * n)]
    labels = np.array([0] * (2 * n) + [1] * (10 * n))
    out = split_by_aspects(texts, labels, np.eye(len(texts), 8, dtype=np.float32), _WordEmbedder())
    assert (out == labels).all()
