"""The analyze loop: pending items -> language -> spaCy -> redaction -> sentiment -> embeddings -> rows.

:class:`Analyzer` picks items never analysed or whose ``content_hash`` changed since (an edited
review), in id order and in batches, and writes each batch's ``analysis`` and ``sentences`` rows in
ONE transaction. Killed at any point, a rerun continues after the last committed batch and no item
is written twice; a batch that was computing when the process died is simply computed again.

Work per batch, in the order that keeps the models busy with few, large calls:

1. language (``LanguageDetector``): non-English items get no sentiment (NULL: "other language"),
   no sentences, and regex-only redaction; they keep an item embedding;
2. spaCy (``TextPreparer``) on the English items: sentences, aspects, PERSON names;
3. PII spans on the raw text -> ``redacted_text`` of the item and of each sentence (same offsets);
4. sentiment on each sentence, on each opinion clause of a sentence that has two or more
   (:mod:`feedback_engine.nlp.clauses`: each aspect term takes the polarity of its own clause,
   ``aspect_sentiment`` of the sentence and of the item), and on each multi-sentence item (a one-sentence item needs one inference, not two),
   one ``predict`` call per batch over de-duplicated redacted texts; a
   review's title ("Scam!", "Finally fixed") is read with its body for the item's sentiment
   (not for its sentences, its text or its theme);
5. embeddings of items and sentences (a one-sentence item's sentence shares the item vector), one
   ``encode`` call per batch over de-duplicated redacted texts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from feedback_engine.contracts import AnalysisBackend, Embedder, SentimentModel
from feedback_engine.nlp.clauses import aspect_sentiments
from feedback_engine.nlp.embed import to_blob
from feedback_engine.nlp.language import LanguageDetector
from feedback_engine.nlp.redact import apply_spans, find_pii
from feedback_engine.nlp.text import PreparedText, TextPreparer
from feedback_engine.progress import NullProgress, Progress
from feedback_engine.store import Store, utcnow

__all__ = ["Analyzer", "BatchComputer", "Computed", "LocalBackend", "RunCounts", "describe_model"]

PENDING_SQL = """
SELECT f.id, f.text, f.language, f.content_hash, f.title FROM feedback f
LEFT JOIN analysis a ON a.feedback_id = f.id
WHERE f.id > ? AND (a.feedback_id IS NULL OR a.content_hash != f.content_hash)
ORDER BY f.id LIMIT ?
"""

COUNT_PENDING_SQL = """
SELECT count(*) FROM feedback f LEFT JOIN analysis a ON a.feedback_id = f.id
WHERE a.feedback_id IS NULL OR a.content_hash != f.content_hash
"""

UPSERT_ANALYSIS = """
INSERT INTO analysis (feedback_id, content_hash, language, is_english, redacted_text, sentiment, sentiment_score,
                      sentiment_probs, aspects, aspect_sentiment, embedding, model_version, analyzed_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(feedback_id) DO UPDATE SET
    content_hash = excluded.content_hash, language = excluded.language, is_english = excluded.is_english,
    redacted_text = excluded.redacted_text, sentiment = excluded.sentiment,
    sentiment_score = excluded.sentiment_score, sentiment_probs = excluded.sentiment_probs,
    aspects = excluded.aspects, aspect_sentiment = excluded.aspect_sentiment, embedding = excluded.embedding, model_version = excluded.model_version,
    analyzed_at = excluded.analyzed_at
"""

INSERT_CLAUSE = """
INSERT INTO clauses (feedback_id, sentence_idx, idx, start_char, end_char, redacted_text, joined_by, sentiment,
                     sentiment_score, aspects)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

INSERT_SENTENCE = """
INSERT INTO sentences (feedback_id, idx, start_char, end_char, text, redacted_text, sentiment, sentiment_score,
                       aspects, aspect_sentiment, embedding)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""


def _libc_trim() -> Any:
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl, Windows): nothing to do
        return None


_MALLOC_TRIM = _libc_trim()


def release_heap() -> None:
    """Hand freed heap memory back to the OS after a batch (glibc ``malloc_trim``).

    The models allocate tensors of a new shape for nearly every batch (texts are batched by
    length), and glibc keeps the freed pieces: without this, the resident size of a long
    ``analyze`` keeps climbing (1.3 GB after 16,000 items in ``bench/analyze_bench.py``-like
    runs, 0.7 GB with it, at the same speed).
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def describe_model(model: Any) -> str:
    """A short, stable description of a model object for ``analysis.model_version``."""
    if model is None:
        return "none"
    meta = getattr(model, "meta", None)
    if isinstance(meta, dict) and "name" in meta:
        return f"spacy:{meta.get('lang', '')}_{meta['name']}-{meta.get('version', '')}"
    for attr in ("location", "model_path"):
        value = getattr(model, attr, None)
        if value is not None:
            kind = getattr(model, "precision", None) or ("int8" if getattr(model, "quantized", False) else "fp32")
            return f"{type(model).__name__}:{str(value).rstrip('/').rsplit('/', 1)[-1]}:{kind}"
    return type(model).__name__


@dataclass
class RunCounts:
    """What one :meth:`Analyzer.run` did."""

    analysed: int = 0
    english: int = 0
    other_language: int = 0
    sentences: int = 0
    batches: int = 0
    elapsed_s: float = 0.0
    languages: dict[str, int] = field(default_factory=dict)

    @property
    def items_per_s(self) -> float:
        return round(self.analysed / self.elapsed_s, 1) if self.elapsed_s > 0 else 0.0


@dataclass
class _Item:
    feedback_id: int
    text: str
    content_hash: str
    language: str
    is_english: bool
    prepared: PreparedText | None = None
    redacted: str = ""
    sentence_redacted: list[str] = field(default_factory=list)
    clause_redacted: list[list[str]] = field(default_factory=list)  # per sentence; empty: one clause
    title: str = ""  # redacted review title: part of the item's sentiment input, not of its text

    @property
    def sentiment_input(self) -> str:
        """What the item-level sentiment reads: "Title. body" for a titled review, else the body."""
        if not self.title:
            return self.redacted
        joiner = " " if self.title[-1] in ".!?:;" else ". "
        return f"{self.title}{joiner}{self.redacted}".strip()


@dataclass
class Computed:
    """One analysed batch, ready to write: the items, sentiment by text and vectors by text."""

    items: list[_Item]
    sentiments: dict[str, Any]
    vectors: dict[str, np.ndarray]


class BatchComputer:
    """The pure part of analyze: rows in, :class:`Computed` out; reads and writes no database.

    ``sentiment_model`` (:class:`~feedback_engine.contracts.SentimentModel`), ``embedder``
    (:class:`~feedback_engine.contracts.Embedder`), ``nlp``: a spaCy ``Language``; ``detector``: a
    :class:`LanguageDetector` (default one built when ``None``). A backend runs one per worker.
    """

    def __init__(
        self,
        *,
        sentiment_model: SentimentModel,
        embedder: Embedder,
        nlp: Any,
        detector: LanguageDetector | None = None,
        batch_size: int = 256,
    ) -> None:
        self.sentiment_model = sentiment_model
        self.embedder = embedder
        self.preparer = TextPreparer(nlp, batch_size=min(batch_size, 256))
        self.detector = detector or LanguageDetector()
        self.model_version = "; ".join(describe_model(m) for m in (sentiment_model, embedder, nlp))
        self.workers: tuple[int, int] | None = None  # (model threads, torch threads each); see _infer
        self._pool: Any = None

    def __call__(self, rows: Sequence[tuple[Any, ...]]) -> Computed:
        """Analyse one batch of ``(id, text, source language, content_hash, title)`` rows."""
        items = self._detect(rows)
        english = [it for it in items if it.is_english]
        for it, prepared in zip(english, self.preparer.prepare([it.text for it in english]), strict=True):
            it.prepared = prepared
            spans = find_pii(it.text, prepared.names)
            it.redacted = apply_spans(it.text, spans)
            it.sentence_redacted = [apply_spans(it.text, spans, s.start_char, s.end_char) for s in prepared.sentences]
            it.clause_redacted = [
                [apply_spans(it.text, spans, c.start_char, c.end_char) for c in s.clauses] for s in prepared.sentences
            ]
        for it in items:
            if not it.is_english:
                it.redacted = apply_spans(it.text, find_pii(it.text))
        sentiments, vectors = self._infer(self._sentiment_texts(english), self._embedding_texts(items))
        return Computed(items, sentiments, vectors)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_pool"] = None  # threads do not travel (a backend may pickle the computer)
        return state

    # -- steps ------------------------------------------------------------------------------
    def _detect(self, rows: Sequence[tuple[Any, ...]]) -> list[_Item]:
        items = []
        for feedback_id, text, source_language, content_hash, title in rows:
            result = self.detector.detect(text, source_language)
            item = _Item(int(feedback_id), text or "", content_hash, result.language, result.is_english)
            title = (title or "").strip()
            if title and item.is_english:
                item.title = apply_spans(title, find_pii(title))
            items.append(item)
        return items

    def _sentiment_texts(self, english: list[_Item]) -> list[str]:
        wanted: dict[str, None] = {}
        for it in english:
            for text in it.sentence_redacted:
                wanted[text] = None
            for clauses in it.clause_redacted:
                for text in clauses:
                    wanted[text] = None
            if it.sentiment_input.strip() and not _single_sentiment(it):
                wanted[it.sentiment_input] = None
        return list(wanted)

    def _embedding_texts(self, items: list[_Item]) -> list[str]:
        wanted: dict[str, None] = {}
        for it in items:
            wanted[it.redacted] = None
            if it.is_english and not _single(it):
                for text in it.sentence_redacted:
                    wanted[text] = None
        return list(wanted)

    def _sentiments(self, english: list[_Item]) -> dict[str, Any]:
        return self._infer(self._sentiment_texts(english), [])[0]

    def _embeddings(self, items: list[_Item]) -> dict[str, np.ndarray]:
        return self._infer([], self._embedding_texts(items))[1]

    def _infer(self, sentiment_texts: list[str], embed_texts: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Sentiment and vectors of de-duplicated texts, the two models' chunks run side by side.

        Texts are sorted by length and cut into chunks of one model batch each (the same chunks
        for the same texts, so results repeat run to run); the chunks run longest first on
        ``workers`` threads with one torch thread each (:func:`~feedback_engine.nlp.torch_utils.model_workers`:
        on a shared 2-core machine a two-threaded matrix product stalls whenever the other core is
        busy, two one-threaded batches do not).
        """
        jobs: list[tuple[int, list[str]]] = []
        for model, texts in ((0, sentiment_texts), (1, embed_texts)):
            size = int(getattr(self.sentiment_model if model == 0 else self.embedder, "batch_size", 0) or 64)
            ordered = sorted(texts, key=len)
            jobs += [(model, ordered[i : i + size]) for i in range(0, len(ordered), size)]
        jobs.sort(key=lambda job: -sum(len(t) for t in job[1]))
        pool, threads = self._workers(len(jobs))
        if pool is None:
            outputs = [self._run_job(job) for job in jobs]
        else:
            from feedback_engine.nlp.torch_utils import torch_threads

            with torch_threads(threads):
                outputs = list(pool.map(self._run_job, jobs))
        sentiments: dict[str, Any] = {}
        vectors: dict[str, np.ndarray] = {}
        for (model, texts), out in zip(jobs, outputs, strict=True):
            if model == 0:
                sentiments.update(zip(texts, out, strict=True))
            else:
                matrix = np.asarray(out, dtype=np.float32)
                vectors.update((text, matrix[i]) for i, text in enumerate(texts))
        return {t: sentiments[t] for t in sentiment_texts}, {t: vectors[t] for t in embed_texts}

    def _run_job(self, job: tuple[int, list[str]]) -> Any:
        model, texts = job
        return self.sentiment_model.predict(texts) if model == 0 else self.embedder.encode(texts)

    def _workers(self, jobs: int) -> tuple[Any, int]:
        """The thread pool for model chunks and the torch threads each (``None``: run inline)."""
        if self.workers is None:
            from feedback_engine.nlp.torch_utils import model_workers

            self.workers = model_workers()
        workers, threads = self.workers
        if workers < 2 or jobs < 2:
            return None, threads
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="analyze-model")
        return self._pool, threads


class LocalBackend:
    """Runs the batches in this process, one after the other (the default
    :class:`~feedback_engine.contracts.AnalysisBackend`)."""

    name = "local"

    def __init__(self, computer: BatchComputer) -> None:
        self.computer = computer
        self.model_version = computer.model_version

    def run(self, batches: Iterable[Sequence[tuple[Any, ...]]]) -> Iterator[Computed]:
        for rows in batches:
            yield self.computer(rows)


class Analyzer:
    """Analyses pending items of ``store``: the backend computes, this one writer commits.

    Pass the models (``sentiment_model``, ``embedder``, ``nlp``, ``detector``; a
    :class:`LocalBackend` is built over them) or a ready ``backend``.
    """

    def __init__(
        self,
        store: Store,
        *,
        sentiment_model: SentimentModel | None = None,
        embedder: Embedder | None = None,
        nlp: Any = None,
        detector: LanguageDetector | None = None,
        batch_size: int = 256,
        model_version: str | None = None,
        backend: AnalysisBackend | None = None,
    ) -> None:
        from feedback_engine.errors import AnalysisError

        if batch_size < 1:
            raise AnalysisError(f"--batch-size must be at least 1 (got {batch_size}).")
        if backend is None:
            if sentiment_model is None or embedder is None or nlp is None:
                raise AnalysisError("Analyzer needs a backend, or the sentiment model, embedder and spaCy pipeline.")
            backend = LocalBackend(
                BatchComputer(
                    sentiment_model=sentiment_model,
                    embedder=embedder,
                    nlp=nlp,
                    detector=detector,
                    batch_size=batch_size,
                )
            )
        self.store = store
        self.backend = backend
        self.batch_size = batch_size
        self.model_version = model_version or backend.model_version

    # -- the loop ---------------------------------------------------------------------------
    def pending(self) -> int:
        """Items that a run would analyse now."""
        return int(self.store.scalar(COUNT_PENDING_SQL) or 0)

    def run(self, *, limit: int | None = None, progress: Progress | None = None) -> RunCounts:
        """Analyse pending items batch by batch (one transaction each) until none are left or ``limit``."""
        progress = progress or NullProgress()
        counts = RunCounts()
        total = self.pending()
        if limit is not None:
            total = min(total, max(0, limit))
        started = time.perf_counter()
        progress.start(total, "analyze")
        try:
            for batch in self.backend.run(self._batches(total)):
                self.write(batch)
                self._account(batch.items, counts)
                progress.advance(len(batch.items))
                release_heap()
        finally:
            progress.finish()
        counts.elapsed_s = round(time.perf_counter() - started, 3)
        return counts

    def _batches(self, total: int) -> Iterator[list[tuple[Any, ...]]]:
        """Pending rows in id order, ``batch_size`` at a time, ``total`` in all."""
        last_id, read = 0, 0
        while read < total:
            rows = self.store.conn.execute(PENDING_SQL, (last_id, min(self.batch_size, total - read))).fetchall()
            if not rows:
                return
            last_id = int(rows[-1][0])
            read += len(rows)
            yield rows

    def analyse(self, rows: Sequence[tuple[Any, ...]]) -> list[_Item]:
        """Compute and write one batch of rows (what ``run`` does per batch)."""
        batch = next(iter(self.backend.run([rows])))
        self.write(batch)
        return batch.items

    def write(self, batch: Computed) -> None:
        """Write one computed batch: its ``analysis`` and ``sentences`` rows in ONE transaction."""
        items, sentiments, vectors = batch.items, batch.sentiments, batch.vectors
        now = utcnow()
        analysis_rows = []
        sentence_rows = []
        clause_rows = []
        for it in items:
            units = _opinion_units(it, sentiments)
            result = None
            if it.is_english:
                if _single_sentiment(it):
                    result = sentiments[it.sentence_redacted[0]]
                elif it.sentiment_input.strip():
                    result = sentiments[it.sentiment_input]
            prepared = it.prepared
            analysis_rows.append(
                (
                    it.feedback_id,
                    it.content_hash,
                    it.language,
                    int(it.is_english),
                    it.redacted,
                    _label(result, it.is_english),
                    _score(result, it.is_english),
                    json.dumps(_probs(result, it.is_english)) if it.is_english else None,
                    json.dumps(prepared.aspects if prepared else []),
                    json.dumps(aspect_sentiments([u for sent in units for u in sent])) if prepared else None,
                    to_blob(vectors[it.redacted]),
                    self.model_version,
                    now,
                )
            )
            if prepared is None:
                continue
            single = _single(it)
            for idx, (sentence, redacted) in enumerate(zip(prepared.sentences, it.sentence_redacted, strict=True)):
                res = sentiments[redacted]
                for cidx, (clause, c_text) in enumerate(zip(sentence.clauses, it.clause_redacted[idx], strict=True)):
                    c_res = sentiments[c_text]
                    clause_rows.append(
                        (
                            it.feedback_id,
                            idx,
                            cidx,
                            clause.start_char,
                            clause.end_char,
                            c_text,
                            clause.joined_by,
                            c_res.label,
                            round(float(c_res.score), 6),
                            json.dumps(clause.aspects),
                        )
                    )
                vector = vectors[it.redacted] if single else vectors[redacted]
                sentence_rows.append(
                    (
                        it.feedback_id,
                        idx,
                        sentence.start_char,
                        sentence.end_char,
                        sentence.text,
                        redacted,
                        res.label,
                        float(res.score),
                        json.dumps(sentence.aspects),
                        json.dumps(aspect_sentiments(units[idx])),
                        to_blob(vector),
                    )
                )
        ids = [(it.feedback_id,) for it in items]
        with self.store.transaction() as conn:
            conn.executemany("DELETE FROM clauses WHERE feedback_id = ?", ids)
            conn.executemany("DELETE FROM sentences WHERE feedback_id = ?", ids)
            conn.executemany(UPSERT_ANALYSIS, analysis_rows)
            conn.executemany(INSERT_SENTENCE, sentence_rows)
            conn.executemany(INSERT_CLAUSE, clause_rows)

    @staticmethod
    def _account(items: list[_Item], counts: RunCounts) -> None:
        counts.batches += 1
        for it in items:
            counts.analysed += 1
            counts.languages[it.language] = counts.languages.get(it.language, 0) + 1
            if it.is_english:
                counts.english += 1
                counts.sentences += len(it.sentence_redacted)
            else:
                counts.other_language += 1


def _opinion_units(it: _Item, sentiments: dict[str, Any]) -> list[list[tuple[list[str], Any]]]:
    """Per sentence, its ``(aspect terms, sentiment)`` units: its clauses, or itself when it is one clause."""
    if it.prepared is None:
        return []
    out = []
    for idx, (sentence, redacted) in enumerate(zip(it.prepared.sentences, it.sentence_redacted, strict=True)):
        if sentence.clauses:
            out.append(
                [(c.aspects, sentiments[t]) for c, t in zip(sentence.clauses, it.clause_redacted[idx], strict=True)]
            )
        else:
            out.append([(sentence.aspects, sentiments[redacted])])
    return out


def _single(it: _Item) -> bool:
    """One sentence covering the whole item: the item's results are the sentence's."""
    return len(it.sentence_redacted) == 1 and it.sentence_redacted[0] == it.redacted.strip()


def _single_sentiment(it: _Item) -> bool:
    """The item's sentiment is its one sentence's (no title to read with it)."""
    return not it.title and _single(it)


def _label(result: Any, english: bool) -> str | None:
    if not english:
        return None
    return "neutral" if result is None else str(result.label)


def _score(result: Any, english: bool) -> float | None:
    if not english:
        return None
    return 0.0 if result is None else round(float(result.score), 6)


def _probs(result: Any, english: bool) -> dict[str, float] | None:
    if not english:
        return None
    if result is None:
        return {"negative": 0.0, "neutral": 1.0, "positive": 0.0}
    return {k: round(float(v), 6) for k, v in dict(result.probs).items()}
