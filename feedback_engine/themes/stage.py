"""Themes: BERTopic on stored embeddings, with stable ids, human edits and fast assignment.

``ThemeStage(topic_model=None, embedder=None).update(store, refit=False)`` is called at the end of
every ``analyze``:

- no discovered theme yet, or ``refit=True``: *fit*. A BERTopic model clusters the stored
  embeddings of the redacted English items (nothing is re-embedded), outliers are reduced with
  the ``embeddings`` strategy (items below ``outlier_threshold`` cosine stay outliers), and each
  new cluster is matched to the theme id it continues (Hungarian matching on centroid cosine and
  member overlap, ``match_threshold``). Unmatched clusters get new ids; unmatched old discovered
  themes are retired (rows and links stay). A cluster matching a merged theme goes to its
  survivor; one matching a seeded theme joins the seed. Pinned labels (renamed themes) are kept.
- otherwise *assign*: new or re-analysed items (and their sentences) go to the nearest theme
  centroid; centroids do not move between refits, so ids and meaning stay put.

Non-English items (``analysis.is_english = 0``) get no theme: they are reported as
``other_language`` and count neither for nor against coverage. Sentences of multi-sentence items
are assigned too (``sentence_idx``), when their cosine to a centroid reaches
``sentence_threshold``. ``probability`` is the cosine similarity to the theme centroid, clipped
to [0, 1].

Default model (:func:`default_topic_model`): no dimensionality reduction, Ward clustering with the
number of themes chosen by silhouette (:mod:`feedback_engine.themes.clustering`, which says why not
UMAP -> HDBSCAN: order-invariant, ARI 1.0 between shuffled refits), a CountVectorizer with uni-
and bigrams and stop words removed, and c-TF-IDF with frequent-word reduction (MMR optional).
Above 12,000 items an order-free hash sample is clustered and the rest joins the nearest theme.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from feedback_engine.contracts import Embedder, TopicModel
from feedback_engine.store import utcnow
from feedback_engine.themes import edits
from feedback_engine.themes import persist as ts
from feedback_engine.themes.anchors import discover_anchors, learn_product_words, subject_sentences, topical_sentences
from feedback_engine.themes.aspects import aspects_enabled, split_by_aspects
from feedback_engine.themes.clustering import WardClustering, split_catch_alls
from feedback_engine.themes.discovery import (
    DEFAULT_SEED,
    Discovery,
    _one_thread,
    _quiet_bertopic,
    cluster_terms,
    default_embedder,
    default_topic_model,
    fit_sample,
)
from feedback_engine.themes.evidence import coverage, min_score
from feedback_engine.themes.labels import (
    corpus_stop_terms,
    learn_casing,
    make_label,
    pick_quotes,
    shown_terms,
    usable_terms,
)
from feedback_engine.themes.placement import Index, LocalPlacer, Placed, Placer
from feedback_engine.themes.queries import resolve_survivors
from feedback_engine.themes.seeds import create_seed, seed_scores, seed_terms

if TYPE_CHECKING:
    from feedback_engine.progress import Progress
    from feedback_engine.store import Store


class ThemeStage:
    """Discovers, keeps and assigns themes. Parts are passed in; defaults are built lazily.

    ``topic_model``: a configured (unfitted) BERTopic; ``None`` builds :func:`default_topic_model`
    sized to the data. ``embedder``: ``encode(texts) -> (n, 384)`` unit vectors, needed only to
    embed new text (``assign_text``, ``seed``) and candidate words for MMR; when ``None`` it is
    built on first need by ``embedder_factory`` (the engine's shared embedder) or the default.
    Fitting, assigning stored items, rename, merge and stats never load it. ``placer``: where the
    rows are placed (:class:`~feedback_engine.themes.placement.LocalPlacer`, or a ``RayPlacer``).
    """

    def __init__(
        self,
        topic_model: TopicModel | None = None,
        embedder: Embedder | None = None,
        *,
        seed: int = DEFAULT_SEED,
        outlier_threshold: float = 0.3,
        sentence_threshold: float = 0.3,
        seed_threshold: float = 0.4,
        match_threshold: float = 0.75,
        overlap_threshold: float = 0.5,
        min_fit_items: int = 20,
        max_fit_items: int = 12_000,
        n_quotes: int = 3,
        embedder_factory: Callable[[], Embedder] | None = None,
        auto_refit: bool = True,
        refit_min_unfit: int = 25,
        refit_share: float = 0.25,
        discover_sentences: bool = True,
        split_sentences: int = 3,
        split_aspects: bool | None = None,
        placer: Placer | None = None,
    ) -> None:
        self.topic_model = topic_model
        self._embedder = embedder
        self._embedder_factory = embedder_factory
        self.random_state = seed
        self.outlier_threshold = outlier_threshold
        self.sentence_threshold = sentence_threshold
        self.seed_threshold = seed_threshold
        self.match_threshold = match_threshold
        self.overlap_threshold = overlap_threshold
        self.min_fit_items = min_fit_items
        self.max_fit_items = max(min_fit_items, max_fit_items)
        self.n_quotes = n_quotes
        self._index: Index | None = None
        # new topics surface without a manual refit: past this many new items that fit no theme well
        # (and this share of all new items since the last fit), assign turns into a refit
        self.auto_refit = auto_refit
        self.refit_min_unfit = refit_min_unfit
        self.refit_share = refit_share
        self.discover_sentences = discover_sentences
        self.split_sentences = max(2, split_sentences)
        # on by default (themes/aspects.py): more precise themes, but more of them
        self.split_aspects = aspects_enabled() if split_aspects is None else split_aspects
        self.placer: Placer = placer or LocalPlacer()  # where rows are placed (themes/placement.py)

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            self._embedder = self._embedder_factory() if self._embedder_factory else default_embedder()
        return self._embedder

    # -- entry point ---------------------------------------------------------------------------

    def update(self, store: Store, refit: bool = False, progress: Progress | None = None) -> dict[str, Any]:
        """Fit (first time or ``refit``) or assign new items; returns a JSON-able report."""
        ts.require_analysis(store)
        started = time.perf_counter()
        discovered = store.scalar("SELECT count(*) FROM themes WHERE origin != 'seeded'") or 0
        if refit or not discovered:
            report = self.fit(store, mode="refit" if discovered else "fit", progress=progress)
        else:
            report = self.assign(store, progress=progress)
            drift = ts.drift(store, min_score())
            unfit, new = drift["unfit_items"], drift["new_items"]
            if self.auto_refit and unfit >= self.refit_min_unfit and unfit >= self.refit_share * max(1, new):
                report = self.fit(store, mode="refit", progress=progress)
                report["auto_refit"] = (
                    f"{unfit} of {new} items since the last fit fit no theme well; themes were rediscovered "
                    "(ids, names, merges, seeds and actions kept)"
                )
            elif unfit >= max(5, self.refit_min_unfit // 3):
                report["hint"] = (
                    f"{unfit} of {new} new items fit no theme well; run `feedback-engine analyze --refit` "
                    "to discover new themes."
                )
        report.update(self.coverage(store))
        report["elapsed_s"] = round(time.perf_counter() - started, 3)
        return report

    # -- discovery -----------------------------------------------------------------------------

    def discover(self, docs: Sequence[str], embeddings: np.ndarray) -> Discovery:
        """Cluster ``docs`` by their stored ``embeddings``; outliers reduced by embedding similarity.

        Above ``max_fit_items`` items the themes are discovered on a sample and every other item
        joins the theme whose centroid is nearest: Ward clustering keeps an n x n distance matrix
        (12,000 items: 0.6 GB and ~8 s on 2 cores; 100,000 would need 40 GB). The sample is the
        items with the smallest text hashes, so it does not depend on the order of the rows and
        grows stably with the data.
        """
        n = len(docs)
        if n <= self.max_fit_items:
            return self._discover_all(docs, embeddings)
        sample = fit_sample(docs, self.max_fit_items)
        found = self._discover_all([docs[i] for i in sample], embeddings[sample])
        labels = np.full(n, -1, dtype=np.int64)
        labels[sample] = found.labels
        rest = np.setdiff1d(np.arange(n), sample, assume_unique=True)
        groups = np.unique(found.labels[found.labels >= 0])
        if len(groups) and len(rest):
            vectors = np.asarray(embeddings, dtype=np.float32)
            in_sample = vectors[sample]
            centroids = np.stack([ts.unit(in_sample[found.labels == g].mean(axis=0)) for g in groups])
            for start in range(0, len(rest), 20_000):
                chunk = rest[start : start + 20_000]
                best, sim = ts.nearest(vectors[chunk], centroids)
                labels[chunk] = np.where(sim >= self.outlier_threshold, groups[best], -1)
        return Discovery(labels=labels, raw_outlier_share=found.raw_outlier_share, sampled=len(sample))

    def _discover_all(self, docs: Sequence[str], embeddings: np.ndarray) -> Discovery:
        n = len(docs)
        model = (
            self.topic_model
            if self.topic_model is not None
            else default_topic_model(n, self._embedder, self.random_state)
        )
        self._fitted_model = model
        with _quiet_bertopic():
            topics = np.asarray(model.fit_transform(list(docs), embeddings=embeddings)[0], dtype=np.int64)
            raw = float(np.mean(topics == -1)) if n else 0.0
            if (topics == -1).any() and (topics >= 0).any():
                topics = np.asarray(
                    model.reduce_outliers(
                        list(docs),
                        topics.tolist(),
                        strategy="embeddings",
                        embeddings=embeddings,
                        threshold=self.outlier_threshold,
                    ),
                    dtype=np.int64,
                )
        return Discovery(labels=topics, raw_outlier_share=raw)

    def _split_settings(self) -> dict[str, Any]:
        """The catch-all split of the clustering that found the themes (the defaults if not Ward)."""
        clustering = getattr(getattr(self, "_fitted_model", None), "hdbscan_model", None)
        ward = clustering if isinstance(clustering, WardClustering) else WardClustering(random_state=self.random_state)
        return ward.split_settings()

    # -- fit / refit ---------------------------------------------------------------------------

    def fit(self, store: Store, mode: str = "fit", progress: Progress | None = None) -> dict[str, Any]:
        """Rediscover themes on every English item and map them onto existing ids."""
        items = ts.load_items(store)
        units = self.discovery_units(store, items)
        if progress is not None:
            progress.start(len(items), "themes")
        if len(items) < self.min_fit_items:
            discovery = Discovery(labels=np.full(len(units), -1, dtype=np.int64), raw_outlier_share=1.0)
            self._fitted_model = None
        else:
            discovery = self.discover(list(units.texts), units.embeddings)
        labels = discovery.labels  # with split_aspects, clusters split into their aspects' children
        if self.split_aspects:
            # then what is left of a big cluster once its aspects went is a catch-all: split it,
            # and read its children for aspects once more (two passes, bounded)
            labels = split_by_aspects(units.texts, labels, units.embeddings, self.embedder)
            split = split_catch_alls(units.embeddings, labels, **self._split_settings())
            if not np.array_equal(split, labels):
                labels = split_by_aspects(units.texts, split, units.embeddings, self.embedder)
        plan = self._plan(store, units, labels)
        report = self._write_fit(store, units, plan, items)
        self._index = None
        if progress is not None:
            progress.advance(len(items))
            progress.finish()
        report.update(mode=mode, raw_outlier_share=round(discovery.raw_outlier_share, 4))
        if discovery.sampled:
            report["clustered_sample"] = discovery.sampled
        return report

    def discovery_units(self, store: Store, items: ts.Units) -> ts.Units:
        """What themes are discovered on: with ``discover_sentences`` (the default) the sentences of items of at least
        ``split_sentences`` sentences (a review raises several aspects), and shorter items (a tweet) whole. Sentences
        that name no subject but the product's own words are left out (:func:`subject_sentences`)."""
        self._product_words: frozenset[str] = frozenset()  # saved by the fit: evidence reads it
        sents = self._split_items(ts.load_sentences(store)) if self.discover_sentences else None
        if sents is None or not len(sents):
            return items
        multi = np.isin(items.feedback_ids, np.unique(sents.feedback_ids))
        aspects = ts.sentence_aspects(store, sents)
        self._product_words = learn_product_words(sents.feedback_ids, aspects, self.embedder)
        subject = subject_sentences(sents.feedback_ids, aspects, product=self._product_words)
        return ts.concat(items.take(np.flatnonzero(~multi)), sents.take(np.flatnonzero(subject)))

    def _split_items(self, sents: ts.Units) -> ts.Units:
        """The sentences of the items long enough to be read sentence by sentence (``split_sentences``)."""
        ids, counts = np.unique(sents.feedback_ids, return_counts=True)
        keep = np.isin(sents.feedback_ids, ids[counts >= self.split_sentences])
        return sents.take(np.flatnonzero(keep))

    def _plan(self, store: Store, items: ts.Units, labels: np.ndarray) -> dict[str, Any]:
        """Decide the theme id of each item: seeds, cluster -> old id matching, new ids."""
        rows = ts.theme_rows(store)
        resolved = resolve_survivors(store.conn)
        seeds = [r for r in rows if r["origin"] == "seeded" and r["status"] == "active" and r["seed_embedding"]]
        E = items.embeddings
        # 1. items that match a seed's description go to the seed
        seed_of = np.full(len(items), -1, dtype=np.int64)
        seed_sim = np.zeros(len(items), dtype=np.float32)
        if seeds and len(items):
            Q = np.stack([ts.from_blob(r["seed_embedding"]) for r in seeds])
            terms = [seed_terms(store, r) for r in seeds]
            best, seed_sim = seed_scores(items.texts, E, Q, terms)
            hit = seed_sim >= self.seed_threshold
            seed_of[hit] = np.array([seeds[b]["id"] for b in best[hit]], dtype=np.int64)
        # 2. clusters -> old themes (Hungarian on centroid cosine and member overlap)
        clusters = sorted(int(c) for c in np.unique(labels) if c >= 0)
        targets = [
            r for r in rows if r["centroid"] is not None and (r["origin"] != "seeded" or r["status"] == "active")
        ]
        previous = {
            (int(f), int(i)): int(t)
            for f, i, t in store.conn.execute("SELECT feedback_id, sentence_idx, theme_id FROM theme_assignments")
        }
        cluster_theme: dict[int, int] = {}
        scores: dict[int, float] = {}
        if clusters and targets:
            C = np.stack([ts.unit(E[labels == c].mean(axis=0)) for c in clusters])
            T = np.stack([ts.from_blob(r["centroid"]) for r in targets])
            cos = C @ T.T
            overlap = np.zeros_like(cos)
            target_pos = {r["id"]: j for j, r in enumerate(targets)}
            for i, c in enumerate(clusters):
                members = np.flatnonzero(labels == c)
                for u in members:
                    old = previous.get((int(items.feedback_ids[u]), int(items.sentence_idx[u])))
                    if old is not None and old in target_pos:
                        overlap[i, target_pos[old]] += 1
                overlap[i] /= max(1, len(members))
            from scipy.optimize import linear_sum_assignment

            score = np.maximum(cos, overlap + 0.25 * cos)
            rows_i, cols_j = linear_sum_assignment(-score)
            for i, j in zip(rows_i, cols_j, strict=True):
                if cos[i, j] >= self.match_threshold or overlap[i, j] >= self.overlap_threshold:
                    target = targets[j]
                    cluster_theme[clusters[i]] = resolved.get(target["id"], target["id"])
                    scores[clusters[i]] = float(score[i, j])
        return {
            "rows": rows,
            "resolved": resolved,
            "seeds": seeds,
            "seed_of": seed_of,
            "labels": labels,
            "clusters": clusters,
            "cluster_theme": cluster_theme,
        }

    def _write_fit(self, store: Store, items: ts.Units, plan: dict[str, Any], whole: ts.Units) -> dict[str, Any]:
        """Write the themes found on the units ``items``; place every item of ``whole`` and every sentence."""
        labels: np.ndarray = plan["labels"]
        seed_of: np.ndarray = plan["seed_of"]
        rows = {r["id"]: r for r in plan["rows"]}
        cluster_theme: dict[int, int] = plan["cluster_theme"]
        now = utcnow()
        # final key per item: an existing theme id (int >= 1) or a new cluster (-(cluster + 2))
        key = np.full(len(items), 0, dtype=np.int64)  # 0 = outlier
        for c in plan["clusters"]:
            key[labels == c] = cluster_theme.get(c, -(c + 2))
        source = np.where(seed_of > 0, "seed", "fit")
        key = np.where(seed_of > 0, seed_of, key)
        keys = sorted(int(k) for k in np.unique(key) if k != 0)
        groups = np.full(len(items), -1, dtype=np.int64)
        key_group: dict[int, int] = {}
        for g, k in enumerate(keys):
            groups[key == k] = g
            key_group[k] = g
        terms = cluster_terms(getattr(self, "_fitted_model", None), items.texts, groups, items.feedback_ids)
        learned = corpus_stop_terms(terms.values())  # e.g. the product's own name, in most themes
        casing = learn_casing(items.texts)  # "jfk" -> "JFK": as customers write it
        anchors = discover_anchors(items.texts, groups, terms)
        E = items.embeddings
        new_ids: list[int] = []
        continued: dict[str, int] = {}
        final: dict[int, int] = {}  # group -> theme id
        with store.transaction():
            ts.save_setting(store, ts.PRODUCT_WORDS, sorted(getattr(self, "_product_words", ())), now)
            store.execute("DELETE FROM theme_assignments WHERE source != 'manual'")
            store.execute("DELETE FROM theme_outliers")
            for g, k in enumerate(keys):
                mask = groups == g
                centroid = ts.unit(E[mask].mean(axis=0))
                t_anchors = json.dumps(anchors.get(g, []))
                t_terms = usable_terms(terms.get(g, []), stop_terms=learned)[:10] or terms.get(g, [])[:10]
                quotes = pick_quotes(
                    items.feedback_ids[mask],
                    [items.texts[i] for i in np.flatnonzero(mask)],
                    E[mask],
                    centroid,
                    self.n_quotes,
                )
                if k > 0:
                    row = rows[k]
                    if row["origin"] == "seeded" and row["seed_embedding"]:
                        centroid = ts.unit(ts.from_blob(row["seed_embedding"]) + centroid)
                    label = (
                        row["label"]
                        if row["label_pinned"]
                        else make_label(t_terms, row["label"], stop_terms=learned, casing=casing)
                    )
                    store.execute(
                        "UPDATE themes SET label = ?, status = 'active', merged_into = NULL, terms = ?, quotes = ?, "
                        "centroid = ?, anchors = CASE WHEN origin = 'seeded' THEN anchors ELSE ? END, updated_at = ? WHERE id = ?",
                        (
                            label,
                            shown_terms(t_terms, casing),
                            json.dumps(quotes),
                            ts.to_blob(centroid),
                            t_anchors,
                            now,
                            k,
                        ),
                    )
                    final[g] = k
                    for c, tid in cluster_theme.items():
                        if tid == k:
                            continued[str(c)] = k
                else:
                    cur = store.execute(
                        "INSERT INTO themes (label, origin, status, terms, quotes, centroid, anchors, size, created_at, "
                        "updated_at) VALUES (?, 'discovered', 'active', ?, ?, ?, ?, 0, ?, ?)",
                        (
                            make_label(t_terms, stop_terms=learned, casing=casing),
                            shown_terms(t_terms, casing),
                            json.dumps(quotes),
                            ts.to_blob(centroid),
                            t_anchors,
                            now,
                            now,
                        ),
                    )
                    final[g] = int(cast(int, cur.lastrowid))
                    new_ids.append(final[g])
            kept = set(final.values())
            retired = [
                r["id"]
                for r in plan["rows"]
                if r["status"] == "active" and r["origin"] == "discovered" and r["id"] not in kept
            ]
            for tid in retired:
                store.execute("UPDATE themes SET status = 'retired', size = 0, updated_at = ? WHERE id = ?", (now, tid))
            theme_of = np.array([final.get(int(g), 0) for g in groups], dtype=np.int64)
            cos = np.zeros(len(items), dtype=np.float32)
            centroids = {
                tid: ts.from_blob(store.scalar("SELECT centroid FROM themes WHERE id = ?", (tid,))) for tid in kept
            }
            for tid, vec in centroids.items():
                m = theme_of == tid
                cos[m] = E[m] @ vec
            # an item that names another theme's anchor word moves there when that scores higher
            self._index = None
            placed, p_sim, _, lifted = self._place(self.index(store), E, items.texts)
            move = lifted & (placed > 0) & (placed != theme_of) & (p_sim > cos) & (source != "seed")
            theme_of, cos = np.where(move, placed, theme_of), np.where(move, p_sim, cos)
            single = items.sentence_idx == -1
            assign_rows = [
                (int(f), -1, int(t), float(np.clip(p, 0, 1)), str(s), now)
                for f, t, p, s, k in zip(items.feedback_ids, theme_of, cos, source, single, strict=True)
                if t > 0 and k
            ]
            outliers = [
                (int(f), now) for f, t, k in zip(items.feedback_ids, theme_of, single, strict=True) if t == 0 and k
            ]
            multi = whole.take(np.flatnonzero(~np.isin(whole.feedback_ids, items.feedback_ids[single])))
            if len(multi):  # items of several sentences: themes came from their sentences
                t, p, s = self.place_items(
                    self.index(store), multi, topical_sentences(store, multi.feedback_ids, self.split_sentences)
                )
                ok = (t > 0) & ((p >= self.outlier_threshold) | (s == "seed"))
                assign_rows += [
                    (int(f), -1, int(tt), float(np.clip(pp, 0, 1)), "seed" if ss == "seed" else "fit", now)
                    for f, tt, pp, ss, kk in zip(multi.feedback_ids, t, p, s, ok, strict=True)
                    if kk
                ]
                outliers += [(int(f), now) for f, kk in zip(multi.feedback_ids, ok, strict=True) if not kk]
            store.conn.executemany(
                "INSERT OR IGNORE INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, source, "
                "assigned_at) VALUES (?, ?, ?, ?, ?, ?)",
                assign_rows,
            )
            store.conn.executemany("INSERT INTO theme_outliers (feedback_id, checked_at) VALUES (?, ?)", outliers)
            self._index = None
            n_sent = self._assign_sentences(store, topical_sentences(store), now, "fit")
            ts.refresh_sizes(store)
            ts.prune_quotes(store, sorted(kept))
        return {
            "themes": int(store.scalar("SELECT count(*) FROM themes WHERE status = 'active'")),
            "items": len(whole),
            "items_assigned": len(assign_rows),
            "sentences_assigned": n_sent,
            "outliers": len(outliers),
            "new": new_ids,
            "continued": continued,
            "retired": retired,
            "mapping": {
                str(c): cluster_theme.get(c, final.get(key_group.get(-(c + 2), -1), 0)) for c in plan["clusters"]
            },
        }

    # -- assignment ----------------------------------------------------------------------------

    def index(self, store: Store) -> Index:
        """Centroid matrix of assignable themes, cached until this connection writes again."""
        key = (id(store.conn), store.conn.total_changes)
        if self._index is not None and self._index.key == key:
            return self._index
        resolved = resolve_survivors(store.conn)
        every = ts.theme_rows(store)
        status = {r["id"]: r["status"] for r in every}
        rows = [
            r
            for r in every
            if r["centroid"] is not None
            and r["status"] in ("active", "merged")
            and status[resolved[r["id"]]] == "active"
        ]
        seeds = [r for r in rows if r["status"] == "active" and r["origin"] == "seeded" and r["seed_embedding"]]
        dim = 384 if not rows else len(ts.from_blob(rows[0]["centroid"]))
        self._index = Index(
            key=key,
            target_ids=np.array([resolved[r["id"]] for r in rows], dtype=np.int64),
            centroids=np.stack([ts.from_blob(r["centroid"]) for r in rows]) if rows else np.zeros((0, dim), np.float32),
            seed_ids=np.array([r["id"] for r in seeds], dtype=np.int64),
            seed_vectors=np.stack([ts.from_blob(r["seed_embedding"]) for r in seeds])
            if seeds
            else np.zeros((0, dim), np.float32),
            seed_terms=[seed_terms(store, r) for r in seeds],
            anchor_terms=[
                set() if r["origin"] == "seeded" else set(json.loads(r.get("anchors") or "[]")) for r in rows
            ],
        )
        return self._index

    def place(
        self, index: Index, E: np.ndarray, texts: Sequence[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Theme id (0 = none), similarity and source for each row of ``E``: the best centroid once
        the ``texts`` that name a theme's anchor word count (:mod:`feedback_engine.themes.anchors`);
        seeds also match the texts that name their distinctive word (:mod:`~.seeds`)."""
        return self._place(index, E, texts)[:3]

    def place_items(
        self, index: Index, items: ts.Units, sentences: ts.Units
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Theme, score and source of each item: an item read sentence by sentence (its topical
        ``sentences``) goes where its most confident sentence goes, others to their nearest theme."""
        theme, sim, source = self.place(index, items.embeddings, items.texts)
        if not self.discover_sentences or not len(sentences):
            return theme, sim, source
        s_theme, s_sim, s_source = self.place(index, sentences.embeddings, sentences.texts)
        ok = (s_theme > 0) & ((s_sim >= self.sentence_threshold) | (s_source == "seed"))
        best: dict[int, tuple[float, int, str]] = {}
        for f, t, p, src, k in zip(sentences.feedback_ids, s_theme, s_sim, s_source, ok, strict=True):
            if k and (int(f) not in best or float(p) > best[int(f)][0]):
                best[int(f)] = (float(p), int(t), str(src))
        multi = set(int(f) for f in sentences.feedback_ids)
        for i, f in enumerate(items.feedback_ids):
            if int(f) in multi:
                p, t, src = best.get(int(f), (0.0, 0, "assigned"))
                theme[i], sim[i], source[i] = t, p, src
        return theme, sim, source

    def _place(self, index: Index, E: np.ndarray, texts: Sequence[str] | None = None) -> Placed:
        return self.placer.place(index, E, texts, self.seed_threshold)

    def assign(self, store: Store, progress: Progress | None = None) -> dict[str, Any]:
        """Place new (or re-analysed) items and their sentences; centroids stay fixed."""
        items = ts.load_items(store, pending_only=True)
        if progress is not None:
            progress.start(len(items), "themes")
        index = self.index(store)
        sentences = topical_sentences(store, items.feedback_ids)
        split = topical_sentences(store, items.feedback_ids, self.split_sentences)
        theme, sim, source = self.place_items(index, items, split)
        ok = (theme > 0) & ((sim >= self.outlier_threshold) | (source == "seed"))
        now = utcnow()
        with store.transaction():
            ids = [int(f) for f in items.feedback_ids]
            store.conn.executemany(
                "DELETE FROM theme_assignments WHERE feedback_id = ? AND source != 'manual'", [(f,) for f in ids]
            )
            store.conn.executemany("DELETE FROM theme_outliers WHERE feedback_id = ?", [(f,) for f in ids])
            store.conn.executemany(
                "INSERT OR IGNORE INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, source, "
                "assigned_at) VALUES (?, -1, ?, ?, ?, ?)",
                [
                    (int(f), int(t), float(np.clip(p, 0, 1)), str(s), now)
                    for f, t, p, s, k in zip(items.feedback_ids, theme, sim, source, ok, strict=True)
                    if k
                ],
            )
            store.conn.executemany(
                "INSERT INTO theme_outliers (feedback_id, similarity, checked_at) VALUES (?, ?, ?)",
                [(int(f), float(p), now) for f, p, k in zip(items.feedback_ids, sim, ok, strict=True) if not k],
            )
            n_sent = self._assign_sentences(store, sentences, now, "assigned", index)
            ts.refresh_sizes(store)
        if progress is not None:
            progress.advance(len(items))
            progress.finish()
        return {
            "mode": "assign",
            "themes": int(store.scalar("SELECT count(*) FROM themes WHERE status = 'active'")),
            "items": len(items),
            "items_assigned": int(ok.sum()),
            "sentences_assigned": n_sent,
            "outliers": int((~ok).sum()),
        }

    def _assign_sentences(
        self, store: Store, sents: ts.Units, now: str, default_source: str, index: Index | None = None
    ) -> int:
        if not len(sents):
            return 0
        index = index or self.index(store)
        theme, sim, source = self.place(index, sents.embeddings, sents.texts)
        ok = (theme > 0) & ((sim >= self.sentence_threshold) | (source == "seed"))
        rows = [
            (int(f), int(i), int(t), float(np.clip(p, 0, 1)), "seed" if s == "seed" else default_source, now)
            for f, i, t, p, s, k in zip(sents.feedback_ids, sents.sentence_idx, theme, sim, source, ok, strict=True)
            if k
        ]
        store.conn.executemany(
            "INSERT OR IGNORE INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, source, "
            "assigned_at) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        return len(rows)

    def assign_text(self, text: str, store: Store) -> tuple[int | None, float]:
        """Embed one text and return ``(theme_id, probability)`` of its nearest theme (``None`` if no themes)."""
        index = self.index(store)
        one = getattr(self.embedder, "encode_one", None)  # MiniLMEmbedder's fast path for one text
        with _one_thread():
            vec = (
                np.asarray(one(text), dtype=np.float32)[None, :]
                if callable(one)
                else np.asarray(self.embedder.encode([text]), dtype=np.float32)
            )
        theme, sim, _ = self.place(index, vec, [text])
        if theme[0] <= 0:
            return None, 0.0
        return int(theme[0]), float(np.clip(sim[0], 0, 1))

    # -- edits -------------------------------------------------------------------------------

    def seed(self, store: Store, name: str, description: str = "") -> dict[str, Any]:
        """Create a seeded theme from a name and description; matching stored items move to it now."""
        out = create_seed(store, self.embedder, name, description, self.seed_threshold)
        self._index = None
        return out

    def rename(self, store: Store, theme_id: int, name: str) -> dict[str, Any]:
        return edits.rename(store, theme_id, name)

    def merge(self, store: Store, theme_ids: list[int], into: int | None = None) -> dict[str, Any]:
        return edits.merge(store, theme_ids, into)

    # -- measures ------------------------------------------------------------------------------

    @staticmethod
    def coverage(store: Store) -> dict[str, Any]:
        """Honest coverage (:func:`feedback_engine.themes.evidence.coverage`)."""
        return coverage(store)
