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

A word the theme uses only in a few fixed phrases that are among its top terms ("dark mode",
"dark theme"), and that items elsewhere use otherwise ("dark pattern", "lite mode"), is anchored by
those phrases instead (:data:`PHRASE_COVER`): a phrase anchor is named by a unit that has its two
stems next to each other, stop words aside (:func:`~feedback_engine.themes.seeds.named_terms`).

A unit (item or sentence) that names an anchor of a theme, and is at least loosely like it (cosine
>= :data:`~feedback_engine.themes.seeds.TERM_FLOOR`), scores at least
:data:`~feedback_engine.themes.seeds.TERM_SCORE` for that theme: the same rule a seeded theme
applies to the distinctive words of its name (:mod:`feedback_engine.themes.seeds`). The unit goes
to the theme with the best score, so a close semantic match still wins over a named word.
``bench/recipient_bench.py`` measures what it does to recipients.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from feedback_engine.store import Store
from feedback_engine.themes import persist as ts
from feedback_engine.themes.evidence import GENERIC_ASPECTS, is_topical
from feedback_engine.themes.seeds import MAX_SHARE, TERM_FLOOR, TERM_SCORE, named_terms, stem

__all__ = [
    "CONCENTRATION",
    "MAX_ANCHORS",
    "MIN_COVERAGE",
    "MIN_ITEMS",
    "anchored_scores",
    "discover_anchors",
    "learn_product_words",
    "subject_sentences",
]

MIN_ITEMS = 5
MIN_COVERAGE = 0.05
CONCENTRATION = 0.5
MAX_ANCHORS = 5
#: A word a theme uses in a few fixed phrases ("dark mode", "dark theme": this share of its items
#: that name the word, or more) and that other items use otherwise ("dark pattern", "lite mode") is
#: anchored by those phrases, not by the word: the demo's dark-mode fix emailed "Felt like a dark
#: pattern" and "please bring back compact mode" through the words "dark" and "mode".
PHRASE_COVER = 0.8
#: A phrase joins a word's anchor phrases from this share of the theme's items naming the word.
PHRASE_MIN = 0.1
MAX_PHRASES = 3
_GENERIC_STEMS = frozenset(stem(w) for w in GENERIC_ASPECTS)


def discover_anchors(
    texts: Sequence[str], groups: np.ndarray, terms: dict[int, list[tuple[str, float]]]
) -> dict[int, list[str]]:
    """Group -> its anchor stems (best c-TF-IDF term first), for the items ``texts`` in ``groups``."""
    per_item = [named_terms(t) for t in texts]
    n = len(per_item)
    df: Counter[str] = Counter()
    postings: dict[str, list[int]] = {}
    for i, words in enumerate(per_item):
        df.update(words)
        for w in words:
            if " " not in w:
                postings.setdefault(w, []).append(i)
    out: dict[int, list[str]] = {}
    for g, g_terms in terms.items():
        members = np.flatnonzero(groups == g)
        if not len(members):
            continue
        member_set = {int(i) for i in members}
        inside: Counter[str] = Counter()
        for m in member_set:
            inside.update(per_item[m])
        found: list[str] = []
        phrases = {" ".join(stem(w) for w in t.split()) for t, _ in g_terms[:20] if len(t.split()) == 2}
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
                    found.extend(p for p in _phrases(s, member_set, per_item, postings, phrases) if p not in found)
        if found:
            out[int(g)] = found[:MAX_ANCHORS]
    return out


def _phrases(
    word: str, members: set[int], per_item: Sequence[set[str]], postings: dict[str, list[int]], top: set[str]
) -> list[str]:
    """``[word]``, or the phrases the theme (``members``) names it in when they are among its
    ``top`` terms (c-TF-IDF bigrams, stemmed: "dark mode", not "bag arrived"), cover
    :data:`PHRASE_COVER` of its items naming it, and items elsewhere name the word otherwise."""
    if not any(word in p.split() for p in top):
        return [word]  # no top phrase holds it: nothing to count
    naming = postings.get(word, [])
    inside = [per_item[i] for i in naming if i in members]
    pairs: Counter[str] = Counter()
    for terms in inside:
        pairs.update(t for t in terms if " " in t and word in t.split())
    floor = max(2, PHRASE_MIN * len(inside))
    kept = [p for p, k in pairs.most_common() if k >= floor and p in top][:MAX_PHRASES]
    if not kept or sum(1 for terms in inside if terms.intersection(kept)) < PHRASE_COVER * len(inside):
        return [word]
    otherwise = sum(1 for i in naming if i not in members and not per_item[i].intersection(kept))
    return kept if otherwise else [word]


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
            for w in named_terms(text).intersection(owners):
                for j in owners[w]:
                    if S[i, j] >= TERM_FLOOR and S[i, j] < TERM_SCORE:
                        B[i, j] = TERM_SCORE
                        lifted[i, j] = True
    if not S.shape[1]:
        return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.float32), np.zeros(n, dtype=bool)
    best = np.argmax(B + 1e-3 * S, axis=1)  # ties (two named themes) go to the closer one
    rows = np.arange(n)
    return best, B[rows, best].astype(np.float32), lifted[rows, best]


#: An aspect word named in more than this share of the reviews is the product itself ("medicine",
#: "medication" in patient reviews), not a subject a theme could be about.
GENERIC_SHARE = 0.3
#: When fewer sentences than this share would be left, only the fixed generic words are left out.
MIN_KEPT = 0.5


#: Words named in at least this share of the items are read for synonyms of the product's own
#: words (:func:`learn_product_words` with an embedder).
FAMILY_MIN_SHARE = 0.05


def subject_sentences(
    feedback_ids: np.ndarray, aspects: Sequence[str | None], embedder: Any = None, product: frozenset[str] | None = None
) -> np.ndarray:
    """Which sentences name a subject worth a theme: an aspect word that is neither a word for the
    product as a whole (:data:`~feedback_engine.themes.evidence.GENERIC_ASPECTS`) nor one of the
    product's own words learned from the data (``product``, or :func:`learn_product_words` of these
    sentences). Discovery leaves the others out: "I have been taking this medicine for a month"
    and "Love it!" made a catch-all theme that touched 67% of 600 patient reviews."""
    words = [_aspect_stems(raw) for raw in aspects]
    if product is None:
        product = learn_product_words(feedback_ids, aspects, embedder)
    common = set(product) | _GENERIC_STEMS
    return np.array([bool(w - common) for w in words], dtype=bool)


def learn_product_words(
    feedback_ids: np.ndarray, aspects: Sequence[str | None], embedder: Any = None
) -> frozenset[str]:
    """The stems customers use for the product as a whole: aspect words named in more than
    :data:`GENERIC_SHARE` of the items ("medicine", "medication" in patient reviews); none when
    leaving them out would leave fewer than :data:`MIN_KEPT` of the sentences (a corpus about one
    subject: "battery" in most reviews of a power bank keeps its sentences).

    Customers name the product in several words, none of them in 30% of the items on its own
    ("drug" 9%, "medicine" 14%, "medication" 13%, "pill" 18% of 600 patient reviews, and a theme
    "Drug: medicine, taking" then touched 60% of them). With an ``embedder``, a word is also the
    product's when the items naming it or a word that means the same (word embeddings within
    :data:`~feedback_engine.themes.aspects.SYNONYM_COS`, the aspect split's synonym rule) are more
    than :data:`GENERIC_SHARE`; only words in :data:`FAMILY_MIN_SHARE` of the items are read."""
    words: list[set[str]] = []
    surface: dict[str, Counter[str]] = {}
    for raw in aspects:
        unit = _aspect_stems(raw)
        for word in _aspect_words(raw):
            surface.setdefault(stem(word), Counter())[word] += 1
        words.append(unit)
    per_item: dict[int, set[str]] = {}
    for f, w in zip(feedback_ids, words, strict=True):
        per_item.setdefault(int(f), set()).update(w)
    df: Counter[str] = Counter()
    for w in per_item.values():
        df.update(w)
    common = {w for w, k in df.items() if k > GENERIC_SHARE * len(per_item)} | _GENERIC_STEMS
    if embedder is not None:
        common |= _product_families(per_item, df, surface, common, embedder)
    if not words or np.mean([bool(w - common) for w in words]) < MIN_KEPT:
        return frozenset()
    return frozenset(common - _GENERIC_STEMS)


def _aspect_words(raw: str | None) -> list[str]:
    """The words (3 letters or more) of a sentence's stored aspects (JSON list of phrases)."""
    try:
        found = json.loads(raw) if raw else []
    except (TypeError, ValueError):
        found = []
    return [
        x
        for a in (found if isinstance(found, list) else [])
        if isinstance(a, str)
        for x in a.lower().split()
        if len(x) >= 3
    ]


def _aspect_stems(raw: str | None) -> set[str]:
    return {stem(w) for w in _aspect_words(raw)}


def _product_families(
    per_item: dict[int, set[str]],
    df: Counter[str],
    surface: dict[str, Counter[str]],
    common: set[str],
    embedder: Any,
) -> set[str]:
    """The frequent stems whose synonym family (see :func:`learn_product_words`) is named in more than
    :data:`GENERIC_SHARE` of the items."""
    from feedback_engine.themes.aspects import SYNONYM_COS

    n = len(per_item)
    frequent = sorted(w for w, k in df.items() if k >= FAMILY_MIN_SHARE * n and w not in common and w.isalpha())
    if len(frequent) < 2:
        return set()
    vectors = np.asarray(embedder.encode([surface[w].most_common(1)[0][0] for w in frequent]), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    close = vectors @ vectors.T >= SYNONYM_COS
    out: set[str] = set()
    for i, w in enumerate(frequent):
        family = {frequent[j] for j in np.flatnonzero(close[i])}
        if len(family) > 1 and sum(1 for ws in per_item.values() if ws & family) > GENERIC_SHARE * n:
            out.add(w)
    return out


def topical_sentences(store: Store, feedback_ids: np.ndarray | None = None, min_sentences: int = 2) -> ts.Units:
    """The sentences of items of at least ``min_sentences`` sentences (all, or of ``feedback_ids``)
    that name a subject (:func:`~feedback_engine.themes.evidence.is_topical`): only they are placed
    in themes. "Love it!" or "Thanks again." in a review is no member of any topical theme."""
    sents = ts.load_sentences(store, feedback_ids)
    if not len(sents):
        return sents
    ids, counts = np.unique(sents.feedback_ids, return_counts=True)
    long_enough = np.isin(sents.feedback_ids, ids[counts >= min_sentences])
    topical = np.array([is_topical(a) for a in ts.sentence_aspects(store, sents)], dtype=bool)
    keep = long_enough & topical
    return sents.take(np.flatnonzero(keep))
