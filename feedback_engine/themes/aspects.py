"""Split a discovered cluster by the words its customers use: one child theme per aspect.

Clustering embeddings groups sentences by what they are broadly about, and that is often wider
than what a product team ships a fix for: on 600 real patient reviews one cluster ("Pain:
headaches, migraines") held every sentence about pain, so an action on headaches reached people
who had written about back pain (precision 0.22), and on airline tweets one cluster held both
cancellations and delays (0.40-0.47). Customers name an aspect with a handful of words, so after
clustering each cluster is read for the **aspect words** that it owns (:func:`aspect_words`):

- a word stem named by at least :data:`MIN_CHILD` of the cluster's units and
  :data:`MIN_CHILD_SHARE` of them;
- at least :data:`LIFT` times as common in the cluster as in all the units (it says what this
  cluster is about; "took", "day" do not), in at most
  :data:`~feedback_engine.themes.seeds.MAX_SHARE` of all units, and not a stop word, a noise word
  or a word for the product as a whole.

Words that mean the same (their embeddings within :data:`SYNONYM_COS`: bag, luggage, baggage;
headache, migraine; nausea, vomiting) form one aspect; words further apart (cancelled and delayed:
0.49, headache and pain: 0.59) stay apart. Each aspect, largest first, takes the cluster's units
that name one of its words and that no larger aspect took; an aspect is a child when it has at least
:data:`MIN_CHILD` units. The cluster is split when that leaves it at least two parts worth a
theme; a cluster one aspect mostly fills (:data:`WHOLE_SHARE`) is that aspect and stays whole. The
units that name none of the children's words stay in the parent (the rest of "Pain"), or join
the nearest child when too few are left for a theme of their own.

**On by default** (``FEEDBACK_ENGINE_SPLIT_ASPECTS=0``, or ``ThemeStage(split_aspects=False)``, turns it
off): on 1,500 real airline tweets it took recipient precision on discovered themes from 0.50 to
0.92 (recall 0.66 to 0.73, with children of one aspect joined across clusters), on 600 patient
reviews from 0.69 to 0.81. Only clusters of at least :data:`MIN_SPLIT` units are read: a smaller
cluster is already specific, and splitting "support" off a 40-sentence cluster about support (the
synthetic test corpus) made two themes of one and broke refit stability. The cost: 2-3 times as
many themes on real text, and one aspect customers describe with unrelated words stays in several
themes ("on hold" and "phone"; "tired" and "sleep"). Deterministic (no sampling; ties broken by
word), and bounded (:data:`MAX_CHILDREN` per cluster, one level). ``bench/recipient_bench.py``
measures what it does to recipients.

What is left of a cluster once its aspects are children can be a catch-all (everything else about
flying, once cancellations and delays went): :class:`~feedback_engine.themes.stage.ThemeStage`
then splits it (:func:`~feedback_engine.themes.clustering.split_catch_alls`) and reads the parts
for aspects once more, so a small aspect inside it (wifi) gets a theme of its own. Two passes at most.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from feedback_engine.themes.evidence import GENERIC_ASPECTS
from feedback_engine.themes.labels import STOP_WORDS, env_stop_terms, is_noise_word
from feedback_engine.themes.seeds import _WORD, MAX_SHARE, stem

__all__ = [
    "ENV_SPLIT",
    "LIFT",
    "aspects_enabled",
    "MAX_CHILDREN",
    "MIN_CHILD",
    "MIN_SPLIT",
    "SYNONYM_COS",
    "WHOLE_SHARE",
    "aspect_words",
    "split_by_aspects",
]

MIN_CHILD = 10
MIN_SPLIT = 50
MIN_CHILD_SHARE = 0.08
LIFT = 2.0
SYNONYM_COS = 0.65
WHOLE_SHARE = 0.8
MAX_CHILDREN = 5
ENV_SPLIT = "FEEDBACK_ENGINE_SPLIT_ASPECTS"
#: Words that say what a customer did or felt, not what about: never an aspect of their own
#: ("taking" and "i'm" became children of patient-review clusters).
GENERIC_WORDS = frozenset(
    {
        "taking", "taken", "took", "take", "takes", "help", "helped", "helps", "helping", "life", "effect",
        "effects", "side", "feel", "feels", "felt", "feeling", "start", "started", "starting", "stop", "stopped",
        "use", "used", "using", "try", "tried", "trying", "going", "went", "make", "made", "makes", "say",
        "said", "know", "want", "wanted", "need", "needed", "think", "thought", "like", "good", "great", "bad",
        "better", "worse", "far", "long", "ago", "week", "weeks", "month", "months", "hour", "hours",
        "minute", "minutes", "works", "worked", "working", "get", "getting", "gets", "give", "gave", "given",
    }
)  # fmt: skip
_SKIP = frozenset(STOP_WORDS) | frozenset(GENERIC_ASPECTS) | GENERIC_WORDS


def aspects_enabled() -> bool:
    """Whether clusters are split by their aspects: yes unless ``FEEDBACK_ENGINE_SPLIT_ASPECTS`` is
    ``0``, ``false``, ``no`` or ``off``."""
    return os.environ.get(ENV_SPLIT, "").strip().lower() not in {"0", "false", "no", "off"}


_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z][A-Za-z'-]*|[a-z]+[A-Z][A-Za-z]*)")


def proper_names(texts: Sequence[str]) -> frozenset[str]:
    """Words written capitalised inside a sentence most of the times they appear: devices, places,
    brands and medicines ("iPhone", "Houston", "Ambien"). Customers name them with an aspect
    ("crashes on my iPhone"), not as one, so they never make a child of their own."""
    upper: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for text in texts:
        body = text or ""
        for m in _CAPITALISED.finditer(body):
            upper[m.group(1).lower().replace("'", "")] += 1
        for w in _WORD.findall(body.lower()):
            seen[w.replace("'", "")] += 1
    return frozenset(w for w, k in upper.items() if k * 2 > seen[w])


def _unit_words(texts: Sequence[str]) -> tuple[list[set[str]], dict[str, str]]:
    """Each unit's word stems, and each stem's most common surface word (what gets embedded)."""
    skip = _SKIP | frozenset(env_stop_terms()) | proper_names(texts)
    surface: dict[str, Counter[str]] = {}
    per_unit: list[set[str]] = []
    for text in texts:
        found: set[str] = set()
        for w in _WORD.findall((text or "").lower()):
            w = w.replace("'", "")
            if w in skip or len(w) < 3 or is_noise_word(w):
                continue
            s = stem(w)
            if len(s) < 3 or s in skip:
                continue
            found.add(s)
            surface.setdefault(s, Counter())[w] += 1
        per_unit.append(found)
    return per_unit, {s: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] for s, c in surface.items()}


def aspect_words(members: np.ndarray, per_unit: Sequence[set[str]], df: Counter[str], n: int) -> list[str]:
    """The stems a cluster (unit indices ``members``) owns, most specific first (see the module docstring)."""
    inside: Counter[str] = Counter()
    for i in members:
        inside.update(per_unit[i])
    size = len(members)
    need = max(MIN_CHILD, MIN_CHILD_SHARE * size)
    found = [s for s, k in inside.items() if k >= need and df[s] <= MAX_SHARE * n and (k / size) >= LIFT * (df[s] / n)]
    # the most specific first (highest lift): in a cluster about tasks, "recurring" claims its
    # sentences before "task" takes the rest, so "Recurring tasks" is a child of its own
    return sorted(found, key=lambda s: (-(inside[s] / size) / (df[s] / n), -inside[s], s))


def _synonym_groups(words: list[str], surface: dict[str, str], embedder: Any) -> list[list[str]]:
    """Words grouped with the first (most named) word they mean the same as."""
    if not words:
        return []
    vectors = np.asarray(embedder.encode([surface[w] for w in words]), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    heads: list[int] = []
    groups: list[list[str]] = []
    for i, w in enumerate(words):
        for g, h in enumerate(heads):
            if float(vectors[i] @ vectors[h]) >= SYNONYM_COS:
                groups[g].append(w)
                break
        else:
            heads.append(i)
            groups.append([w])
    return groups


def split_by_aspects(texts: Sequence[str], labels: np.ndarray, embeddings: np.ndarray, embedder: Any) -> np.ndarray:
    """``labels`` (cluster per unit, -1 outlier) with clusters split into their aspects' children;
    new children get new cluster numbers above the existing ones. Children (and whole clusters)
    that stand for the same aspect in different clusters are then one theme (:func:`_join_aspects`)."""
    labels = np.asarray(labels, dtype=np.int64).copy()
    clusters = sorted(int(c) for c in np.unique(labels) if c >= 0)
    if not clusters or embedder is None:
        return labels
    per_unit, surface = _unit_words(texts)
    n = len(per_unit)
    df: Counter[str] = Counter()
    for words in per_unit:
        df.update(words)
    next_label = max(clusters) + 1
    E = np.asarray(embeddings, dtype=np.float32)
    aspect_of: dict[int, list[str]] = {}  # cluster number -> the words of the aspect it stands for
    for c in clusters:
        members = np.flatnonzero(labels == c)
        if len(members) < MIN_SPLIT:
            continue
        found = aspect_words(members, per_unit, df, n)
        groups = _synonym_groups(found, surface, embedder)
        claimed = np.full(len(members), -1, dtype=np.int64)
        children: list[np.ndarray] = []
        child_words: list[list[str]] = []
        for group in groups:
            if len(children) >= MAX_CHILDREN:
                break
            wanted = set(group)
            pick = np.array([claimed[j] < 0 and bool(per_unit[i] & wanted) for j, i in enumerate(members)])
            if pick.sum() >= MIN_CHILD:
                claimed[pick] = len(children)
                children.append(members[pick])
                child_words.append(group)
        rest = members[claimed < 0]
        parts = len(children) + (1 if len(rest) >= MIN_CHILD else 0)
        if children and max(len(ch) for ch in children) >= WHOLE_SHARE * len(members):
            aspect_of[c] = child_words[int(np.argmax([len(ch) for ch in children]))]  # it is that aspect
            continue
        if not children:
            continue
        if parts < 2:  # one aspect and a few units besides: the cluster is that aspect
            aspect_of[c] = child_words[0]
            continue
        if len(rest) < MIN_CHILD and len(rest):  # too few left for a theme: the nearest child
            cents = np.stack([E[ch].mean(axis=0) for ch in children])
            near = np.argmax(E[rest] @ cents.T, axis=1)
            children = [np.concatenate([ch, rest[near == k]]) for k, ch in enumerate(children)]
        for k, ch in enumerate(children):
            if k == 0 and len(rest) < MIN_CHILD:
                aspect_of[c] = child_words[0]  # the first child keeps the cluster's number (and old id)
                continue
            labels[ch] = next_label
            aspect_of[next_label] = child_words[k]
            next_label += 1
    return _join_aspects(labels, aspect_of, surface, embedder)


def _join_aspects(
    labels: np.ndarray, aspect_of: dict[int, list[str]], surface: dict[str, str], embedder: Any
) -> np.ndarray:
    """One theme per aspect: clusters whose aspects share a word, or have two words that mean the
    same (:data:`SYNONYM_COS`: acne and pimples, bleeding and spotting), are joined under the number of the largest. Clustering put "cancelled" in
    three clusters of airline tweets (cancelled and rebooked, cancelled and on hold, cancelled
    "Flightled"), and each split off its own "cancelled" child; an action on one of them reached a
    third of the customers who wrote about cancellations."""
    keys = sorted(aspect_of)
    if len(keys) < 2:
        return labels
    words = sorted({w for k in keys for w in aspect_of[k]})
    vectors = np.asarray(embedder.encode([surface[w] for w in words]), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    at = {w: i for i, w in enumerate(words)}
    rows = [[at[w] for w in aspect_of[k]] for k in keys]
    sims = vectors @ vectors.T
    close = np.array([[float(sims[np.ix_(a, b)].max()) for b in rows] for a in rows])
    parent = list(range(len(keys)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            if set(aspect_of[keys[i]]) & set(aspect_of[keys[j]]) or close[i, j] >= SYNONYM_COS:
                parent[root(j)] = root(i)
    sizes = {k: int(np.sum(labels == k)) for k in keys}
    joined: dict[int, list[int]] = {}
    for i, k in enumerate(keys):
        joined.setdefault(root(i), []).append(k)
    out = labels.copy()
    for group in joined.values():
        if len(group) < 2:
            continue
        into = max(group, key=lambda k: (sizes[k], -k))
        for k in group:
            out[labels == k] = into
    return out
