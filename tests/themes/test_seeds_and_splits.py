"""Seeds that find the customers who name them, and catch-all clusters that split (no models)."""

from __future__ import annotations

import numpy as np

from feedback_engine.store import Store
from feedback_engine.themes.clustering import WardClustering, split_catch_alls
from feedback_engine.themes.seeds import TERM_SCORE, distinctive_terms, name_stems, seed_scores, stem


def test_stems_join_the_forms_customers_use():
    assert {stem(w) for w in ("refund", "refunds", "refunded", "refunding")} == {"refund"}
    assert {stem(w) for w in ("cancelled", "canceled", "cancellation", "cancel")} == {"cancel"}
    assert stem("bags") == stem("bag") and stem("delayed") == stem("delays")
    assert name_stems("The Refunds") == ["refund"]


def test_a_text_naming_the_seed_word_matches_even_when_far_in_meaning():
    Q = np.array([[1.0, 0.0]], dtype=np.float32)
    E = np.array([[0.3, 0.95], [0.3, 0.95], [0.1, 0.99], [0.9, 0.43]], dtype=np.float32)
    texts = ["still no refund for my ticket", "the crew was lovely", "refund refund refund", "money back please"]
    _, score = seed_scores(texts, E, Q, [{"refund"}])
    assert score[0] == TERM_SCORE  # names it, loosely related (cosine 0.3 >= the floor)
    assert np.isclose(score[1], 0.3)  # same vector, does not name it
    assert np.isclose(score[2], 0.1)  # names it but unrelated in meaning (below the floor): no
    assert np.isclose(score[3], 0.9)  # close in meaning: the cosine wins
    _, without_texts = seed_scores(None, E, Q, [{"refund"}])
    assert np.isclose(without_texts[0], 0.3)


def test_only_rare_name_words_are_distinctive(tmp_path):
    with Store(tmp_path / "f.db") as store, store.transaction() as conn:
        for i in range(20):
            text = "my flight was late" if i < 16 else "my flight got a refund"
            conn.execute(
                "INSERT INTO feedback (natural_key, channel, platform, text, created_at, ingested_at, raw, content_hash)"
                " VALUES (?, 'survey', 'generic', ?, '2025-01-01', '2025-01-01', '{}', ?)",
                (f"k{i}", text, f"h{i}"),
            )
    with Store(tmp_path / "f.db") as store:
        assert distinctive_terms(store, "Flight refunds") == {"refund"}  # "flight" is in every item
        assert distinctive_terms(store, "Flight") == set()


def _blobs(rng: np.random.RandomState, centre: np.ndarray, n: int, spread: float) -> np.ndarray:
    X = centre + spread * rng.randn(n, len(centre))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_a_catch_all_cluster_is_split_into_its_children():
    rng = np.random.RandomState(0)
    dim = 16
    centres = np.eye(dim)
    # four clear groups of 60, and one broad region made of three tight sub-groups of 80 each
    parts = [_blobs(rng, centres[i], 60, 0.05) for i in range(4)]
    broad = centres[4] + centres[5]
    parts += [_blobs(rng, broad + 0.35 * centres[6 + j], 80, 0.03) for j in range(3)]
    X = np.vstack(parts)
    truth = np.repeat(np.arange(7), [60] * 4 + [80] * 3)
    whole = WardClustering(n_clusters=None, max_share=1.0, min_clusters=2, max_clusters=5).fit(X).labels_
    split = WardClustering(n_clusters=None, min_clusters=2, max_clusters=5).fit(X).labels_
    assert np.bincount(whole).max() >= 160  # without splitting, the broad region is one catch-all
    assert np.bincount(split).max() == 80 and len(np.unique(split)) == 7
    # every true group lies in one cluster after the split
    for g in range(7):
        assert len(np.unique(split[truth == g])) == 1, g
    again = WardClustering(n_clusters=None, min_clusters=2, max_clusters=5).fit(X[::-1]).labels_[::-1]
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(split, again) == 1.0  # deterministic whatever the order


def test_a_big_but_tight_theme_stays_whole():
    rng = np.random.RandomState(1)
    centres = np.eye(8)
    X = np.vstack([_blobs(rng, centres[0], 300, 0.02)] + [_blobs(rng, centres[i], 60, 0.08) for i in (1, 2, 3)])
    labels = WardClustering(n_clusters=None, min_clusters=2, max_clusters=5).fit(X).labels_
    assert len(np.unique(labels[:300])) == 1 and np.bincount(labels).max() == 300


def test_what_is_left_once_aspects_split_off_is_split_again_and_outliers_stay():
    """The labels as the aspect split leaves them: tight aspect themes, one loose remainder (three
    sub-groups of a broad region) and a few outliers; numbers and outliers survive the split."""
    rng = np.random.RandomState(2)
    centres = np.eye(16)
    broad = centres[4] + centres[5]
    rest = [_blobs(rng, broad + 0.35 * centres[6 + j], 60, 0.03) for j in range(3)]
    aspects = [_blobs(rng, centres[i], 60, 0.02) for i in (0, 1, 2, 3, 10, 11)]  # 60 rows: 11% of 545
    outliers = _blobs(rng, centres[12], 5, 0.5)
    X = np.vstack([*rest, *aspects, outliers])
    labels = np.concatenate([np.full(180, 3), np.repeat([0, 1, 2, 4, 5, 7], 60), np.full(5, -1)])
    out = split_catch_alls(X, labels)
    assert (out[-5:] == -1).all()  # outliers are not a cluster to split
    assert (out[180:540] == labels[180:540]).all()  # tight themes keep their numbers and members
    groups = [np.unique(out[60 * j : 60 * (j + 1)]) for j in range(3)]
    assert all(len(g) == 1 for g in groups)  # each sub-group in one child
    children = sorted(int(g[0]) for g in groups)
    assert children[0] == 3 and all(c > 7 for c in children[1:])  # child 0 keeps the number
    tight = np.concatenate([np.full(180, 3), np.repeat([0, 1, 2, 4, 5, 7], 60), np.full(5, -1)])
    X_tight = np.vstack([_blobs(rng, broad, 180, 0.01), *aspects, outliers])
    assert (split_catch_alls(X_tight, tight) == tight).all()  # big but tight: one subject, stays
    assert (split_catch_alls(X, labels, max_share=1.0) == labels).all()  # the split switched off
    assert (split_catch_alls(X, labels, max_share=0.5) == labels).all()  # 180 of 545 is not over half


def test_the_second_split_uses_the_settings_of_the_clustering_that_found_the_themes():
    """A topic model built with its own catch-all settings splits with them the second time too."""
    from feedback_engine.themes.discovery import default_topic_model
    from feedback_engine.themes.stage import ThemeStage

    model = default_topic_model(500, None, 42)
    model.hdbscan_model = WardClustering(max_share=0.4, split_rounds=1)
    stage = ThemeStage(topic_model=model)
    assert stage._split_settings() == WardClustering(random_state=stage.random_state).split_settings()  # defaults
    stage._fitted_model = stage.topic_model
    settings = stage._split_settings()
    assert settings["max_share"] == 0.4 and settings["rounds"] == 1
