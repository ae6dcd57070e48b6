"""Do two theme refits on the same data in another order give the same partition?

    python bench/theme_stability.py [--n 10000] [--seed 11]

Clusters the stored embeddings of ``n`` generated items twice with the default ThemeStage model
(BERTopic: Ward clustering on the stored vectors -> c-TF-IDF), once in id order and once shuffled,
and prints the adjusted Rand index between the two partitions (sklearn), the coverage (share of
items in a real theme) of each, and the ARI of each against the generator's true themes.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from sklearn.metrics import adjusted_rand_score
from theme_data import load

from feedback_engine.themes.stage import ThemeStage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11, help="data generation seed")
    parser.add_argument("--shuffle-seed", type=int, default=1)
    args = parser.parse_args()
    items, item_vecs, _ = load(args.n, args.seed)
    docs = [it.text for it in items]
    truth = [it.theme for it in items]
    stage = ThemeStage()
    started = time.perf_counter()
    first = stage.discover(docs, item_vecs).labels
    t1 = time.perf_counter() - started
    order = np.random.default_rng(args.shuffle_seed).permutation(len(docs))
    started = time.perf_counter()
    shuffled = stage.discover([docs[i] for i in order], item_vecs[order]).labels
    t2 = time.perf_counter() - started
    second = np.empty_like(shuffled)
    second[order] = shuffled
    report = {
        "items": len(docs),
        "ari_between_shuffled_refits": round(adjusted_rand_score(first, second), 4),
        "coverage": [round(float(np.mean(first >= 0)), 4), round(float(np.mean(second >= 0)), 4)],
        "themes": [int(first.max() + 1), int(second.max() + 1)],
        "ari_vs_true_themes": [
            round(adjusted_rand_score(truth, first), 4),
            round(adjusted_rand_score(truth, second), 4),
        ],
        "cluster_seconds": [round(t1, 2), round(t2, 2)],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
