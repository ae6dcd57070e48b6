"""How a seeded theme finds its members: by meaning, or by naming the seed's own distinctive word.

A seed is a name and a description ("Refunds: I want my money back"). Embedding similarity alone
misses many customers who raised it: on real airline tweets a seed at cosine >= 0.4 to its
description found 10-50% of the customers who named the aspect (``bench/recipient_bench.py``),
because a short complaint ("still no refund for AA1234 @united") is far from any description.
So a text also matches a seed when it **names a distinctive word of the seed's name** (same stem:
"refunds" ~ "refund", "refunded") and is at least loosely about it (cosine >= :data:`TERM_FLOOR`).
Distinctive means rare in this database: a name word found in more than :data:`MAX_SHARE` of all
feedback ("flight" in "Flight delays" on airline tweets) says nothing about the seed and is ignored.

The score of a seed match is the cosine to the seed, or :data:`TERM_SCORE` when the text names the
seed's word (whichever is higher); it is stored as the assignment's ``probability``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from feedback_engine.store import Store
from feedback_engine.themes.labels import STOP_WORDS

__all__ = ["MAX_SHARE", "TERM_FLOOR", "TERM_SCORE", "distinctive_terms", "name_stems", "seed_scores", "stems"]

TERM_FLOOR = 0.2
TERM_SCORE = 0.6
MAX_SHARE = 0.2
_WORD = re.compile(r"[a-z][a-z0-9'-]+")


def stem(word: str) -> str:
    """A crude English stem, enough to join "refunds", "refunded", "refunding" and "refund"."""
    w = word.lower().strip("'-")
    for suffix in ("ations", "ation", "ments", "ment", "ings", "ing", "edly", "ed", "ies", "es", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    return w[:-1] if len(w) > 4 and w[-1] == w[-2] else w


def stems(text: str) -> set[str]:
    return {stem(w) for w in _WORD.findall((text or "").lower()) if w not in STOP_WORDS}


def name_stems(name: str) -> list[str]:
    """Stems of the content words of a seed's name, in order."""
    out: list[str] = []
    for w in _WORD.findall((name or "").lower()):
        s = stem(w)
        if w not in STOP_WORDS and len(s) >= 3 and s not in out:
            out.append(s)
    return out


def distinctive_terms(store: Store, name: str, max_share: float = MAX_SHARE) -> set[str]:
    """The stems of ``name`` found in at most ``max_share`` of the stored feedback (full-text index)."""
    total = int(store.scalar("SELECT count(*) FROM feedback") or 0)
    if not total:
        return set()
    out = set()
    for s in name_stems(name):
        if not re.fullmatch(r"[a-z0-9]+", s):
            continue
        found = int(store.scalar("SELECT count(*) FROM feedback_fts WHERE feedback_fts MATCH ?", (f"{s}*",)) or 0)
        if found <= max_share * total:
            out.add(s)
    return out


def seed_scores(
    texts: Sequence[str] | None, E: np.ndarray, Q: np.ndarray, terms: Sequence[set[str]]
) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``E`` (texts ``texts``): the best seed (index into ``Q``) and its match score."""
    sims = E @ Q.T
    if texts is not None and any(terms):
        for i, text in enumerate(texts):
            words = stems(text)
            for j, wanted in enumerate(terms):
                if wanted and words & wanted and sims[i, j] >= TERM_FLOOR:
                    sims[i, j] = max(sims[i, j], TERM_SCORE)
    best = np.argmax(sims, axis=1)
    return best, sims[np.arange(len(E)), best]
