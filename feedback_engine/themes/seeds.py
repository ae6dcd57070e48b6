"""How a seeded theme finds its members: by meaning, or by naming the seed's own distinctive word.

A seed is a name and a description ("Refunds: I want my money back"). Embedding similarity alone
misses many customers who raised it: on real airline tweets a seed at cosine >= 0.4 to its
description found 10-50% of the customers who named the aspect (``bench/recipient_bench.py``),
because a short complaint ("still no refund for AA1234 @united") is far from any description.
So a text also matches a seed when it **names a distinctive word of the seed's name** (same stem:
"refunds" ~ "refund", "refunded"), or a word of its description that means what the name says
(:func:`description_terms`: "bag" in "Lost luggage: my bag was lost"), and is at least loosely
about it (cosine >= :data:`TERM_FLOOR`).
Distinctive means rare in this database: a name word found in more than :data:`MAX_SHARE` of all
feedback ("flight" in "Flight delays" on airline tweets) says nothing about the seed and is ignored.

The score of a seed match is the cosine to the seed, or :data:`TERM_SCORE` when the text names the
seed's word (whichever is higher); it is stored as the assignment's ``probability``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from feedback_engine.errors import ActionError
from feedback_engine.store import Store, utcnow
from feedback_engine.themes import persist as ts
from feedback_engine.themes.labels import STOP_WORDS
from feedback_engine.themes.words import stem

__all__ = [
    "MAX_SHARE",
    "TERM_FLOOR",
    "TERM_SCORE",
    "WORD_COS",
    "description_terms",
    "distinctive_terms",
    "synonym_terms",
    "name_stems",
    "named_terms",
    "seed_scores",
    "stem_sequence",
    "stems",
]

TERM_FLOOR = 0.2
WORD_COS = 0.45
TERM_SCORE = 0.6
MAX_SHARE = 0.2
_WORD = re.compile(r"[a-z][a-z0-9'-]+")


def stems(text: str) -> set[str]:
    return {stem(w) for w in _WORD.findall((text or "").lower()) if w not in STOP_WORDS}


def stem_sequence(text: str) -> list[str]:
    """The stems of ``text`` in order, stop words left out ("the dark mode" -> dark, mode)."""
    return [stem(w) for w in _WORD.findall((text or "").lower()) if w not in STOP_WORDS]


def named_terms(text: str) -> set[str]:
    """What a text names: its stems and its adjacent stem pairs ("dark mode"), as anchors are
    written (:mod:`feedback_engine.themes.anchors`: a word of a theme's subject that it uses only in
    a phrase is anchored by the phrase, so "dark pattern" does not name the dark-mode theme)."""
    seq = stem_sequence(text)
    return set(seq) | {f"{a} {b}" for a, b in zip(seq, seq[1:], strict=False)}


#: Name words that say a seed is about something, not what: "Sleep problems" is about sleep, and
#: matching "problem" put every review with a problem in it (seeded precision 0.69).
GENERIC_NAME_WORDS = frozenset(
    {"problem", "problems", "issue", "issues", "trouble", "troubles", "complaint", "complaints", "time",
     "times", "question", "questions", "feedback", "bug", "bugs", "thing", "things", "stuff"}
)  # fmt: skip
#: A word of the feedback whose embedding is this close to a word of the seed's name means the
#: same ("insomnia" for "Sleep problems", "pimples" for "Acne"); "delayed" and "cancelled" (0.49),
#: "headache" and "pain" (0.59) stay apart.
SYNONYM_COS = 0.65
#: A synonym's texts may be this much further from the seed (mean cosine) than the name's texts.
CONTEXT_MARGIN = 0.05
#: At most this many of the most common words of the feedback are compared with the name.
MAX_VOCABULARY = 5000


def name_stems(name: str) -> list[str]:
    """Stems of the content words of a seed's name, in order."""
    out: list[str] = []
    for w in _WORD.findall((name or "").lower()):
        s = stem(w)
        if w not in STOP_WORDS and w not in GENERIC_NAME_WORDS and len(s) >= 3 and s not in out:
            out.append(s)
    return out


def synonym_terms(
    name: str, units: ts.Units, seed: np.ndarray, embedder: Any, exclude: Sequence[str] = ()
) -> list[str]:
    """Stems of words that customers use for what a word of the seed's name means: "insomnia" and
    "sleepless" for "Sleep problems", "pimples" for "Acne", "reimburse" for "Refunds".

    A word of ``units`` (named by at least 3 of them, in at most :data:`MAX_SHARE`) qualifies when
    its embedding is within :data:`SYNONYM_COS` of a distinctive word of the name (one in at most
    :data:`MAX_SHARE` of the units: "flight" in "Flight delays" on airline tweets is not, so
    "plane" is never a synonym) **and** the texts that name it are about as close to the seed
    (``seed``, unit vector) as the texts naming the name's words (:data:`CONTEXT_MARGIN`): "heavy"
    is near "weight" as a word, but customers wrote it about bleeding."""
    texts = units.texts
    words_of = [set(_WORD.findall((t or "").lower())) for t in texts]
    df: dict[str, int] = {}
    for found in words_of:
        for w in found:
            df[w] = df.get(w, 0) + 1
    limit = MAX_SHARE * len(texts)
    stems_df: dict[str, int] = {}
    for w, k in df.items():
        stems_df[stem(w)] = stems_df.get(stem(w), 0) + k
    own = [s for s in name_stems(name) if 0 < stems_df.get(s, 0) <= limit]
    names = [w for w in dict.fromkeys(_WORD.findall((name or "").lower())) if stem(w) in own]
    if not names:
        return []
    known = set(name_stems(name)) | set(exclude)
    words = [
        w
        for w, k in df.items()
        if 3 <= k <= limit
        and len(w) >= 4
        and w.isalpha()
        and w not in STOP_WORDS
        and w not in GENERIC_NAME_WORDS
        and len(stem(w)) >= 4
        and stem(w) not in known
    ]
    words = sorted(words, key=lambda w: (-df[w], w))[:MAX_VOCABULARY]
    if not words:
        return []
    vectors = np.asarray(embedder.encode([*names, *words]), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    close = (vectors[len(names) :] @ vectors[: len(names)].T).max(axis=1)
    near = [w for w, c in zip(words, close, strict=True) if c >= SYNONYM_COS]
    if not near:
        return []
    E = np.asarray(units.embeddings, dtype=np.float32)
    cos = (E @ seed) / np.maximum(np.linalg.norm(E, axis=1), 1e-12)
    stems_of = [{stem(w) for w in found} for found in words_of]
    base = np.array([bool(st & set(own)) for st in stems_of])
    floor = float(cos[base].mean()) - CONTEXT_MARGIN
    out: list[str] = []
    for w in near:
        hit = np.array([w in found for found in words_of])
        if hit.any() and float(cos[hit].mean()) >= floor and stem(w) not in out:
            out.append(stem(w))
    return out


def description_terms(name: str, description: str, embedder: Any) -> list[str]:
    """Stems of the description's words that mean what the name says: a word whose embedding is
    within :data:`WORD_COS` of the name's ("bag" for "Lost luggage", not "damaged" or "delayed")."""
    words = [w for w in dict.fromkeys(_WORD.findall((description or "").lower())) if w not in STOP_WORDS]
    words = [w for w in words if len(stem(w)) >= 3 and stem(w) not in name_stems(name)]
    if not words or not name.strip():
        return []
    vectors = np.asarray(embedder.encode([name, *words]), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    close = vectors[1:] @ vectors[0]
    return list(dict.fromkeys(stem(w) for w, c in zip(words, close, strict=True) if c >= WORD_COS))


def distinctive_terms(store: Store, name: str, max_share: float = MAX_SHARE, extra: Sequence[str] = ()) -> set[str]:
    """The stems of ``name`` (and the ``extra`` stems) found in at most ``max_share`` of the stored
    feedback (full-text index)."""
    total = int(store.scalar("SELECT count(*) FROM feedback") or 0)
    if not total:
        return set()
    out = set()
    for s in dict.fromkeys([*name_stems(name), *extra]):
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


def seed_terms(store: Store, row: dict[str, Any]) -> set[str]:
    """The distinctive stems of a seeded theme's name and of its description's words (``anchors``)."""
    return distinctive_terms(store, row["label"], extra=json.loads(row.get("anchors") or "[]"))


def create_seed(store: Store, embedder: Any, name: str, description: str, threshold: float) -> dict[str, Any]:
    """Create a seeded theme from a name and description; stored items and sentences that match it
    (score >= ``threshold``, :func:`seed_scores`) move to it now, except a person's moves."""
    name = " ".join((name or "").split())
    description = " ".join((description or "").split())
    if not name:
        raise ActionError('A seeded theme needs a name, e.g. `themes seed Billing --description "refunds"`.')
    if len(name) > 120:
        raise ActionError("A theme name can have at most 120 characters. Pass a shorter name.")
    if store.scalar("SELECT 1 FROM themes WHERE origin = 'seeded' AND status = 'active' AND label = ?", (name,)):
        raise ActionError(f"A seeded theme named {name!r} already exists. Pick another name or rename it.")
    query = f"{name}: {description}" if description else name
    vec = ts.unit(np.asarray(embedder.encode([query]), dtype=np.float32)[0])
    words = description_terms(name, description, embedder)
    analysed = ts.has_analysis(store)
    items = ts.load_items(store) if analysed else None
    if items is not None:
        words += synonym_terms(name, items, vec, embedder, exclude=words)
    now = utcnow()
    with store.transaction():
        cur = store.execute(
            "INSERT INTO themes (label, description, origin, label_pinned, status, terms, quotes, centroid, "
            "seed_embedding, anchors, size, created_at, updated_at) VALUES (?, ?, 'seeded', 1, 'active', '[]', "
            "'[]', ?, ?, ?, 0, ?, ?)",
            (name, description or None, ts.to_blob(vec), ts.to_blob(vec), json.dumps(words), now, now),
        )
        theme_id = int(cast(int, cur.lastrowid))
        moved = 0
        if items is not None:
            terms = [distinctive_terms(store, name, extra=words)]
            for units in (items, ts.load_sentences(store)):
                if not len(units):
                    continue
                _, sims = seed_scores(units.texts, units.embeddings, vec[None, :], terms)
                hit = sims >= threshold
                rows = [
                    (int(f), int(i), theme_id, float(min(1.0, s)), now)
                    for f, i, s, h in zip(units.feedback_ids, units.sentence_idx, sims, hit, strict=True)
                    if h
                ]
                store.conn.executemany(
                    "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, source, "
                    "assigned_at) VALUES (?, ?, ?, ?, 'seed', ?) ON CONFLICT (feedback_id, sentence_idx) DO UPDATE "
                    "SET theme_id = excluded.theme_id, probability = excluded.probability, source = 'seed', "
                    "assigned_at = excluded.assigned_at WHERE theme_assignments.source != 'manual'",
                    rows,
                )
                moved += sum(1 for r in rows if r[1] == -1)
            store.conn.executemany(
                "DELETE FROM theme_outliers WHERE feedback_id IN "
                "(SELECT feedback_id FROM theme_assignments WHERE sentence_idx = -1 AND theme_id = ?)",
                [(theme_id,)],
            )
        ts.refresh_sizes(store)
    out = ts.get_theme(store, theme_id)
    out["items_moved"] = moved
    return out
