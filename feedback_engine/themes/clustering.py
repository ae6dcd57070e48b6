"""Theme discovery clustering: Ward agglomerative clustering with the number of themes chosen
by silhouette, a drop-in ``hdbscan_model`` for BERTopic (``fit(X)`` -> ``labels_``).

Why not BERTopic's default UMAP -> HDBSCAN here: on real customer feedback (short, diffuse
texts) HDBSCAN's excess-of-mass selection returned two giant clusters for ~900 fixture items, or
left half of the items as outliers; UMAP is also not order-invariant. Ward linkage on the
L2-normalised MiniLM vectors is deterministic whatever the order of the rows (adjusted Rand
index 1.0 between shuffled refits), puts every item in a theme, and takes well under a second
for a thousand items. The number of themes is the one with the best silhouette (cosine, on a
seeded sample) among candidates around sqrt(n / 8) (the fewest themes whose silhouette is within
``tolerance`` of the best).

Catch-alls are split (a two-level hierarchy): the silhouette favours few, broad themes, and on
real tweets one theme held a quarter of all items while small aspects (wifi, refunds) had none of
their own. A cluster with more than ``max_share`` of the items is clustered again on its own
(Ward, 2..6 children by silhouette) and replaced by its children when it is looser than the
median theme (mean cosine to its centroid) and the children separate (silhouette >=
``min_split_silhouette``); a big but tight theme is one subject and stays whole; at most ``split_rounds`` rounds, so the result stays
deterministic and bounded. ``bench/recipient_bench.py`` shows the effect on recipients.

The same split (:func:`split_catch_alls`) runs again once the aspects are split off
(:mod:`feedback_engine.themes.aspects`): on 1,500 airline tweets one cluster of 614 sentences was
tight only because it held cancellations and delays; once they were themes of their own, the
315 left were everything else about flying, labelled "Wifi: tarmac, flying" (recipient precision
for wifi 0.18). Split again and read for aspects once more, they became "Wifi: inflight" (27 items,
precision 0.96), "Flying: plane, fly", "Tarmac: sitting", "Gate" and others.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# the catch-all split's defaults, shared by WardClustering and split_catch_alls
MAX_SHARE = 0.15
TOLERANCE = 0.005
MIN_SPLIT_SILHOUETTE = 0.02
SPLIT_ROUNDS = 3
SAMPLE_SIZE = 3000


class WardClustering:
    """Agglomerative (Ward) clustering; ``n_clusters=None`` picks it by silhouette."""

    def __init__(
        self,
        n_clusters: int | None = None,
        *,
        min_clusters: int = 4,
        max_clusters: int = 40,
        tolerance: float = TOLERANCE,
        sample_size: int = SAMPLE_SIZE,
        random_state: int = 42,
        max_share: float = MAX_SHARE,
        min_split_silhouette: float = MIN_SPLIT_SILHOUETTE,
        split_rounds: int = SPLIT_ROUNDS,
    ) -> None:
        self.n_clusters = n_clusters
        self.min_clusters = min_clusters
        self.max_clusters = max_clusters
        self.tolerance = tolerance
        self.sample_size = sample_size
        self.random_state = random_state
        self.max_share = max_share
        self.min_split_silhouette = min_split_silhouette
        self.split_rounds = split_rounds
        self.labels_: np.ndarray = np.zeros(0, dtype=np.int64)
        self.chosen_k_: int | None = None

    def candidates(self, n: int) -> list[int]:
        """Numbers of themes to try for ``n`` items (around sqrt(n / 6), within the bounds)."""
        upper = max(2, min(self.max_clusters, n // 5))
        lower = max(2, min(self.min_clusters, upper))
        centre = max(lower, min(upper, round(math.sqrt(n / 8))))
        ks = {k for k in range(round(centre * 0.6), round(centre * 1.6) + 1)}
        return sorted(k for k in ks if lower <= k <= upper) or [lower]

    def fit(self, X: np.ndarray, y: object = None) -> WardClustering:
        from scipy.cluster.hierarchy import fcluster, linkage
        from sklearn.metrics import silhouette_score
        from sklearn.metrics.pairwise import cosine_distances

        X = np.asarray(X, dtype=np.float64)
        n = len(X)
        if n < 3:
            self.labels_ = np.zeros(n, dtype=np.int64)
            self.chosen_k_ = 1 if n else 0
            return self
        tree = linkage(X, method="ward")
        if self.n_clusters is not None:
            k = max(1, min(self.n_clusters, n))
            self.labels_ = fcluster(tree, k, criterion="maxclust").astype(np.int64) - 1
            self.chosen_k_ = k
            return self
        scored: list[tuple[int, float, np.ndarray]] = []
        # the same seeded sample as silhouette_score(sample_size=...) draws; its cosine distances once,
        # not once per candidate
        idx = np.random.RandomState(self.random_state).permutation(n)[: min(self.sample_size, n)]
        distances = cosine_distances(X[idx])
        np.fill_diagonal(distances, 0.0)
        for k in self.candidates(n):
            labels = fcluster(tree, k, criterion="maxclust").astype(np.int64) - 1
            if len(np.unique(labels[idx])) < 2:
                continue
            score = float(silhouette_score(distances, labels[idx], metric="precomputed"))
            scored.append((k, score, labels))
        if not scored:
            self.labels_ = np.zeros(n, dtype=np.int64)
            self.chosen_k_ = 1
            return self
        # silhouette keeps creeping up as themes split; take the fewest themes within tolerance of the best
        best = max(score for _, score, _ in scored)
        self.chosen_k_, _, labels = next(item for item in scored if item[1] >= best - self.tolerance)
        self.labels_ = self._split_catch_alls(X, labels) if self.max_share < 1 else labels
        return self

    def split_settings(self) -> dict[str, Any]:
        """This model's catch-all split as :func:`split_catch_alls` keyword arguments."""
        return {
            "max_share": self.max_share,
            "tolerance": self.tolerance,
            "min_split_silhouette": self.min_split_silhouette,
            "rounds": self.split_rounds,
            "sample_size": self.sample_size,
            "random_state": self.random_state,
        }

    def _split_catch_alls(self, X: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Replace every cluster over ``max_share`` of the rows by its children when they separate."""
        split = split_catch_alls(X, labels, **self.split_settings())
        _, dense = np.unique(split, return_inverse=True)
        return dense.astype(np.int64)

    def fit_predict(self, X: np.ndarray, y: object = None) -> np.ndarray:
        return self.fit(X).labels_


def _cohesion(rows: np.ndarray) -> float:
    """Mean cosine of the rows to their centroid: how tight a cluster is (1.0 = one point)."""
    centre = rows.mean(axis=0)
    norm = float(np.linalg.norm(centre))
    if not len(rows) or norm == 0:
        return 1.0
    unit = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    return float(np.mean(unit @ (centre / norm)))


def split_catch_alls(
    X: np.ndarray,
    labels: np.ndarray,
    *,
    max_share: float = MAX_SHARE,
    tolerance: float = TOLERANCE,
    min_split_silhouette: float = MIN_SPLIT_SILHOUETTE,
    rounds: int = SPLIT_ROUNDS,
    sample_size: int = SAMPLE_SIZE,
    random_state: int = 42,
) -> np.ndarray:
    """``labels`` with every cluster over ``max_share`` of the rows that is looser than the median
    cluster replaced by its Ward children (2..6 by silhouette) when they separate
    (silhouette >= ``min_split_silhouette``). Child 0 keeps the cluster's number, the others get new
    numbers above the largest; outliers (-1) are left alone; at most ``rounds`` rounds.

    Run on the clusters as Ward found them and again once their aspects are split off
    (:func:`~feedback_engine.themes.aspects.split_by_aspects`): a big cluster can be tight only
    because it holds a tight aspect (cancelled flights), and what is left once that aspect is its
    own theme is a catch-all of everything else (315 airline tweets about flying in general,
    labelled by the wifi tweets among them).
    """
    from scipy.cluster.hierarchy import fcluster, linkage
    from sklearn.metrics import silhouette_score

    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64).copy()
    n = len(labels)
    if max_share >= 1:
        return labels  # the split is off
    for _ in range(rounds):
        changed = False
        clusters = sorted(int(v) for v in np.unique(labels) if v >= 0)
        if len(clusters) < 2:
            break
        cohesion = {c: _cohesion(X[labels == c]) for c in clusters}
        typical = float(np.median(list(cohesion.values())))
        for c in clusters:
            rows = np.flatnonzero(labels == c)
            if len(rows) <= max_share * n or len(rows) < 20 or cohesion[c] >= typical:
                continue  # small, or as tight as a typical theme: one subject, however big
            sub = X[rows]
            tree = linkage(sub, method="ward")
            sample = np.arange(len(rows))
            if len(rows) > sample_size:
                sample = np.random.RandomState(random_state).permutation(len(rows))[:sample_size]
            best: tuple[float, np.ndarray] | None = None
            for k in range(2, 7):
                child = fcluster(tree, k, criterion="maxclust").astype(np.int64) - 1
                if len(np.unique(child[sample])) < 2 or np.bincount(child).min() < 5:
                    continue
                score = float(silhouette_score(sub[sample], child[sample], metric="cosine"))
                if best is None or score > best[0] + tolerance:
                    best = (score, child)
            if best is None or best[0] < min_split_silhouette:
                continue
            top = int(labels.max())
            child = best[1]
            labels[rows] = np.where(child == 0, c, top + child)  # child 0 keeps the number, others are new
            changed = True
        if not changed:
            break
    return labels
