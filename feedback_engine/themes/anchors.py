"""Anchor terms: the words that name a theme's subject, found in the data when themes are fitted.

A centroid is an average, and a short complaint that names the subject in few words ("still no
bag @united") can be nearer the centroid of another theme ("delays") than of its own. Customers
name aspects with a handful of words, so each discovered theme keeps the word stems that say what
it is about: a stem from the theme's top c-TF-IDF terms is an **anchor** when

- at least :data:`MIN_ITEMS` of the theme's items (and :data:`MIN_COVERAGE` of them) name it,
- at least :data:`CONCENTRATION` of all the items that name it are in this theme (the theme owns
  the word: "bag" is in the luggage theme, "flight" is everywhere),
- it is not in more than :data:`~feedback_engine.themes.seeds.MAX_SHARE` of all items, and it is
  not a word for the product as a whole (:data:`~feedback_engine.themes.evidence.GENERIC_ASPECTS`).

A unit (item or sentence) that names an anchor of a theme, and is at least loosely like it (cosine
>= :data:`~feedback_engine.themes.seeds.TERM_FLOOR`), scores at least
:data:`~feedback_engine.themes.seeds.TERM_SCORE` for that theme: the same rule a seeded theme
applies to the distinctive words of its name (:mod:`feedback_engine.themes.seeds`). The unit goes
to the theme with the best score, so a close semantic match still wins over a named word.
``bench/recipient_bench.py`` measures what it does to recipients.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from feedback_engine.themes.evidence import GENERIC_ASPECTS
from feedback_engine.themes.seeds import MAX_SHARE, TERM_FLOOR, TERM_SCORE, stem, stems

__all__ = ["CONCENTRATION", "MAX_ANCHORS", "MIN_COVERAGE", "MIN_ITEMS", "anchored_scores", "discover_anchors"]

MIN_ITEMS = 5
MIN_COVERAGE = 0.05
CONCENTRATION = 0.5
MAX_ANCHORS = 5
_GENERIC_STEMS = frozenset(stem(w) for w in GENERIC_ASPECTS)


def discover_anchors(
    texts: Sequence[str], groups: np.ndarray, terms: dict[int, list[tuple[str, float]]]
) -> dict[int, list[str]]:
    """Group -> its anchor stems (best c-TF-IDF term first), for the items ``texts`` in ``groups``."""
    per_item = [stems(t) for t in texts]
    n = len(per_item)
    df: Counter[str] = Counter()
    for words in per_item:
        df.update(words)
    out: dict[int, list[str]] = {}
    for g, g_terms in terms.items():
        members = np.flatnonzero(groups == g)
        if not len(members):
            continue
        inside: Counter[str] = Counter()
        for i in members:
            inside.update(per_item[i])
        found: list[str] = []
        for term, _score in g_terms[:10]:
            for word in term.split():
                s = stem(word)
                if s in found or s in _GENERIC_STEMS or len(s) < 3 or df[s] == 0:
                    continue
                k = inside[s]
                if (
                    k >= MIN_ITEMS
                    and k >= MIN_COVERAGE * len(members)
                    and df[s] <= MAX_SHARE * n
                    and k / df[s] >= CONCENTRATION
                ):
                    found.append(s)
        if found:
            out[int(g)] = found[:MAX_ANCHORS]
    return out


def anchored_scores(
    S: np.ndarray, texts: Sequence[str] | None, anchors: Sequence[set[str]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best column of ``S`` (units x themes cosine) per row once anchors count, its score, and
    whether the pick was lifted by an anchor (the unit names a word of that theme)."""
    n = len(S)
    B = S.copy()
    lifted = np.zeros_like(S, dtype=bool)
    if texts is not None and any(anchors):
        owners: dict[str, list[int]] = {}
        for j, words in enumerate(anchors):
            for w in words:
                owners.setdefault(w, []).append(j)
        for i, text in enumerate(texts):
            for w in stems(text):
                for j in owners.get(w, ()):
                    if S[i, j] >= TERM_FLOOR and S[i, j] < TERM_SCORE:
                        B[i, j] = TERM_SCORE
                        lifted[i, j] = True
    # ties (two named themes) go to the closer one
    best = np.argmax(B + 1e-3 * S, axis=1) if S.shape[1] else np.zeros(n, dtype=np.int64)
    rows = np.arange(n)
    if not S.shape[1]:
        return best, np.zeros(n, dtype=np.float32), np.zeros(n, dtype=bool)
    return best, B[rows, best].astype(np.float32), lifted[rows, best]
