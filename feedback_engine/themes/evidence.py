"""Who raised a theme, and in which words: confident, topical sentences (the loop's recipients).

Membership (:mod:`feedback_engine.themes.queries`) counts every item that touches a theme, which
is right for volumes and trends but too loose for a personal email: an item is placed at its
nearest theme even when it is only faintly like it, a long review touches several themes, and
"Love it!" says nothing about any subject. **Evidence** is the strict reading: a sentence that

- is assigned to the theme (or to a theme merged into it): a sentence of a multi-sentence item,
  or the one sentence of a one-sentence item (its item-level row);
- with a confident score: ``probability`` at least :data:`MIN_SCORE` -- the cosine to the theme's
  centroid (or :data:`~feedback_engine.themes.seeds.TERM_SCORE` when it names one of the theme's
  anchor words, :mod:`feedback_engine.themes.anchors`), or for a seed match at least
  :data:`SEED_MIN` (the cosine to the seed's description, or ``TERM_SCORE`` when the sentence names
  the seed's distinctive word, :mod:`feedback_engine.themes.seeds`); a person's explicit move
  (``source = 'manual'``) always counts;
- and is topical: it names a subject (a noun-phrase aspect found by spaCy) other than the product
  itself (:data:`GENERIC_ASPECTS`): "Worst app ever", "Love it!" and "Thanks" are never evidence;
  or, for a seeded theme, it names the seed's own word without a noun ("we are delayed again"
  for "Flight delays", :func:`seed_words`; a person chose those words). A discovered theme's
  words are not enough: its top term can be an opinion ("great") that its cluster happens to own;
- and, when its only subject is one of the product's own words that the last fit learned
  (:func:`product_words`: "medicine", "medication", "drug" in patient reviews), it names the
  theme's own words: "This medication was not for me." is not evidence for any theme (on 600
  patient reviews "Medicine: medication, pill" had evidence from 158 items, 114 once such
  sentences no longer counted), "My flight was delayed" still is for the delays theme; the
  product's words never count as a theme's subject words;
- for a discovered theme, it names the theme's subject (:func:`subject_words`: its anchor words and
  the words of its top term, "delay" for "Flight delayed: delay, hours") unless it is as close as
  :data:`STRONG_SCORE`: a centroid is an average, and on real tweets the sentences near it that
  named none of its words were mostly about something else.

A sentence about two subjects sits in one theme only ("bag lost and flight delayed"), so a sentence
placed elsewhere (or nowhere) also counts for a discovered theme when it **names** that theme's
subject and is at least loosely like it (cosine >= :data:`NAMED_FLOOR`); its score is
``max(cosine, TERM_SCORE)`` and its source ``named``. Volumes and trends (membership) do not change.
On 1,500 real airline tweets and 600 patient reviews these two rules moved recipient precision on
discovered themes from 0.46 and 0.54 to about 0.9 (``bench/recipient_bench.py``, README).

A customer hears back about an action when one of their sentences is evidence for one of its
themes (or an item of theirs is linked to the action by hand), and the email quotes that
sentence, the one with the highest score (after the sentence before it when it opens by pointing
back, "It logs me out.", or is very short: :func:`needs_context`). The thresholds were chosen on real tweets with
``bench/recipient_bench.py`` (figures in the README); ``FEEDBACK_ENGINE_EVIDENCE_MIN`` overrides
:data:`MIN_SCORE`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from feedback_engine.themes.persist import count_other_language, from_blob, sentiment_counts
from feedback_engine.themes.queries import CHUNK, json_list, member_themes, resolve_survivors
from feedback_engine.themes.seeds import MAX_SHARE, TERM_SCORE, name_stems, named_terms, stem

if TYPE_CHECKING:
    from feedback_engine.store import Store

__all__ = [
    "GENERIC_ASPECTS",
    "MIN_SCORE",
    "NAMED_FLOOR",
    "SEED_MIN",
    "STRONG_SCORE",
    "Evidence",
    "confident_items",
    "is_topical",
    "min_score",
    "product_words",
    "seed_words",
    "subject_words",
    "theme_evidence",
]

MIN_SCORE = 0.5
#: A seed's score is the cosine to its description, a different scale than to a centroid: on real
#: tweets seed matches at 0.5-0.6 were right 47-85% of the time, so a seed match counts at 0.6
#: (:data:`~feedback_engine.themes.seeds.TERM_SCORE`, what naming the seed's word scores).
SEED_MIN = 0.6
#: A discovered theme's sentence that names none of its subject words counts only from this score.
STRONG_SCORE = 0.7
#: A sentence placed in another theme that names this theme's subject counts from this cosine.
NAMED_FLOOR = 0.3
#: Subjects that name the product or the experience as a whole, not an aspect of it.
GENERIC_ASPECTS = frozenset(
    {
        "app", "application", "apps", "product", "products", "service", "software", "tool", "platform",
        "thing", "things", "stuff", "experience", "company", "brand", "one", "everything", "anything",
        "something", "nothing", "lot", "lots", "bit", "way", "day", "today", "time", "times", "year", "years",
        "star", "stars", "review", "rating", "update", "version", "guy", "guys", "team", "people", "job",
        "customer", "customers", "user", "users", "paying customer", "member", "members",
        "work", "money", "love", "thanks", "thank", "fan", "best", "worst", "idea", "problem", "issue",
    }
)  # fmt: skip

EVIDENCE_SQL = """
SELECT t.feedback_id, t.sentence_idx, t.theme_id, t.probability, t.source,
       s.redacted_text, s.aspects, a.redacted_text, a.aspects,
       (SELECT count(*) FROM sentences c WHERE c.feedback_id = t.feedback_id) AS n_sentences
FROM theme_assignments t
LEFT JOIN sentences s ON s.feedback_id = t.feedback_id AND s.idx = t.sentence_idx
LEFT JOIN analysis a ON a.feedback_id = t.feedback_id
WHERE t.theme_id IN ({marks})
"""


@dataclass(frozen=True)
class Evidence:
    """The best sentence of one item for a theme: its index (-1: the item is one sentence), text, score."""

    feedback_id: int
    sentence_idx: int
    text: str | None  # the redacted sentence; None when the item has no redacted text (never quoted)
    score: float
    source: str
    before: str | None = None  # the sentence before it, when the sentence alone does not make sense

    @property
    def quote(self) -> str | None:
        """What an email quotes: the sentence, after the one before it when it needs it."""
        if not self.text:
            return None
        return f"{self.before} {self.text}" if self.before else self.text


#: A sentence that opens with one of these points back ("It crashes again.") and is quoted after
#: the sentence before it; so is a sentence of fewer than :data:`MIN_QUOTE_WORDS` words.
BACK_REFERENCES = frozenset(
    [
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "they",
        "them",
        "their",
        "he",
        "she",
        "which",
        "so",
        "and",
        "but",
        "also",
        "still",
        "there",
        "same",
    ]
)
MIN_QUOTE_WORDS = 4


def needs_context(sentence: str) -> bool:
    """Whether a sentence says little on its own: very short, or opens by pointing back."""
    words = sentence.split()
    first = words[0].lower().strip("\"'(,.!?:;") if words else ""
    return len(words) < MIN_QUOTE_WORDS or first in BACK_REFERENCES


def min_score() -> float:
    """:data:`MIN_SCORE`, or ``FEEDBACK_ENGINE_EVIDENCE_MIN`` when set to a number in (0, 1]."""
    raw = os.environ.get("FEEDBACK_ENGINE_EVIDENCE_MIN", "").strip()
    try:
        value = float(raw) if raw else MIN_SCORE
    except ValueError:
        return MIN_SCORE
    return value if 0 < value <= 1 else MIN_SCORE


def is_topical(aspects_json: str | None, product: frozenset[str] = frozenset()) -> bool:
    """Whether a sentence names a subject other than the product as a whole: a word of its aspects
    not in :data:`GENERIC_ASPECTS` and whose stem is not one of the ``product`` words."""
    try:
        aspects = json.loads(aspects_json) if aspects_json else []
    except (TypeError, ValueError):
        return False
    for aspect in aspects if isinstance(aspects, list) else []:
        words = [w for w in str(aspect).lower().split() if w not in GENERIC_ASPECTS and stem(w) not in product]
        if words:
            return True
    return False


def product_words(conn: sqlite3.Connection) -> frozenset[str]:
    """The stems for the product as a whole that the last theme fit learned from the data
    (:func:`~feedback_engine.themes.anchors.learn_product_words`; none before a fit)."""
    try:
        row = conn.execute("SELECT value FROM theme_settings WHERE key = 'product_words'").fetchone()
    except sqlite3.OperationalError:  # a database from before migration 016, read without the store
        return frozenset()
    words = json_list(row[0]) if row else []
    return frozenset(str(w) for w in words if isinstance(w, str))


def _confident(score: float, source: str, threshold: float) -> bool:
    if source == "seed":  # a seed match: names the seed's word (TERM_SCORE) or is as close as that
        return score >= max(threshold, SEED_MIN)
    return source == "manual" or score >= threshold


def theme_evidence(
    conn: sqlite3.Connection,
    theme_ids: Iterable[int],
    survivors: dict[int, int] | None = None,
    *,
    feedback_ids: Iterable[int] | None = None,
    threshold: float | None = None,
) -> dict[int, Evidence]:
    """Feedback id -> its best :class:`Evidence` for the (resolved) themes given (see the module
    docstring); only items with evidence appear. ``feedback_ids`` limits the items looked at."""
    survivors = resolve_survivors(conn) if survivors is None else survivors
    threshold = min_score() if threshold is None else threshold
    theme_ids = [int(t) for t in theme_ids]
    members = sorted(member_themes(survivors, theme_ids))
    wanted = None if feedback_ids is None else {int(f) for f in feedback_ids}
    product = product_words(conn)
    # the product's own words ("medicine" in patient reviews) name no theme's subject
    subjects = {t: w - product for t, w in subject_words(conn, members).items() if w - product}
    seeded = {t: w - product for t, w in seed_words(conn, members).items() if w - product}
    # placed by meaning, a unit need only name the first word of a subject phrase, what tells the
    # phrase apart ("system dark setting" for "dark mode"; "lite mode" does not); lifted or found
    # by name (``_named``), it must name the phrase
    loose = {t: words | {w.split()[0] for w in words} for t, words in subjects.items()}
    placed: set[tuple[int, int]] = set()  # units already evidence here: named never relabels them
    best: dict[int, Evidence] = {}
    for start in range(0, len(members), CHUNK):
        chunk = members[start : start + CHUNK]
        for row in conn.execute(EVIDENCE_SQL.format(marks=",".join("?" * len(chunk))), chunk):
            fid, sidx, _tid, prob, source, s_text, s_aspects, a_text, a_aspects, n_sentences = row
            fid, sidx, score, source = int(fid), int(sidx), float(prob or 0.0), str(source or "")
            if wanted is not None and fid not in wanted:
                continue
            if sidx >= 0:
                text, aspects = s_text, s_aspects
            elif source == "manual" or int(n_sentences or 0) <= 1:
                text, aspects = a_text, a_aspects
            else:
                continue  # a long item near a theme as a whole: its sentences must say it
            if not _confident(score, source, threshold):
                continue
            own, says = loose.get(int(_tid)), seeded.get(int(_tid))
            if source != "manual" and not is_topical(aspects) and not (says and named_terms(text or "") & says):
                continue  # names no subject, and not the seed's own word either
            if source != "manual" and product and not is_topical(aspects, product):
                theirs = own or says
                if not (theirs and named_terms(text or "") & theirs):
                    continue  # its only subject is the product ("This medication was not for me.")
            if (
                own
                and source not in ("manual", "seed")
                and score < STRONG_SCORE
                and not (named_terms(text or "") & own)
            ):
                continue  # near the centroid, but about something else
            placed.add((fid, sidx))
            _keep(best, Evidence(fid, sidx, str(text) if text and str(text).strip() else None, score, source))
    targets: list[tuple[set[str], np.ndarray]] = []
    for target in sorted({survivors.get(int(t), int(t)) for t in theme_ids}):
        words = set().union(*(subjects.get(m, set()) for m in member_themes(survivors, [target])))
        centroid = conn.execute("SELECT centroid FROM themes WHERE id = ?", (target,)).fetchone()
        if words and centroid and centroid[0] is not None and max(TERM_SCORE, NAMED_FLOOR) >= threshold:
            targets.append((words, from_blob(centroid[0])))
    for e in _named(conn, targets, wanted):
        if (e.feedback_id, e.sentence_idx) not in placed:
            _keep(best, e)
    return _with_context(conn, best)


def _keep(best: dict[int, Evidence], e: Evidence) -> None:
    seen = best.get(e.feedback_id)
    if seen is None or (e.score, -e.sentence_idx) > (seen.score, -seen.sentence_idx):
        best[e.feedback_id] = e


def subject_words(conn: sqlite3.Connection, theme_ids: Iterable[int]) -> dict[int, set[str]]:
    """Discovered theme id -> the stems that name its subject: its anchor words
    (:mod:`~feedback_engine.themes.anchors`) and the words of its top term that are in at most
    :data:`~feedback_engine.themes.seeds.MAX_SHARE` of all feedback. Seeded themes have their own
    words (:mod:`~feedback_engine.themes.seeds`) and are not listed."""
    total = _total(conn)
    out: dict[int, set[str]] = {}
    share: dict[str, bool] = {}
    for tid, anchors_json, terms_json in _theme_rows(conn, theme_ids, "discovered", "anchors, terms"):
        words = {str(w) for w in json_list(anchors_json) if isinstance(w, str)}
        in_phrases = {p for w in words if " " in w for p in w.split()}  # "dark" of "dark mode"
        terms = json_list(terms_json)
        top = terms[0][0] if terms and isinstance(terms[0], list) and terms[0] else ""
        for word in str(top).lower().split():
            s = stem(word)
            if len(s) < 3 or s in _GENERIC_STEMS or not s.isalnum() or s in in_phrases:
                continue
            if _rare(conn, s, total, share):
                words.add(s)
        if words:
            out[int(tid)] = words
    return out


def seed_words(conn: sqlite3.Connection, theme_ids: Iterable[int]) -> dict[int, set[str]]:
    """Seeded theme id -> the stems that name its subject: of its name's content words
    (:func:`~feedback_engine.themes.seeds.name_stems`) and of its description's words that mean
    what the name says (``anchors``), those that are not generic and are in at most
    :data:`~feedback_engine.themes.seeds.MAX_SHARE` of all feedback ("delay" for "Flight delays"
    on airline tweets; "flight" is in most of them)."""
    total = _total(conn)
    out: dict[int, set[str]] = {}
    share: dict[str, bool] = {}
    for tid, label, anchors_json in _theme_rows(conn, theme_ids, "seeded", "label, anchors"):
        candidates = [*name_stems(str(label or "")), *(str(w) for w in json_list(anchors_json) if isinstance(w, str))]
        words = {
            s
            for s in dict.fromkeys(candidates)
            if len(s) >= 3 and s.isalnum() and s not in _GENERIC_STEMS and _rare(conn, s, total, share)
        }
        if words:
            out[int(tid)] = words
    return out


def _theme_rows(conn: sqlite3.Connection, theme_ids: Iterable[int], origin: str, columns: str) -> list[tuple]:
    """``id`` and ``columns`` of the themes of ``origin`` among ``theme_ids`` (read in chunks)."""
    ids = sorted({int(t) for t in theme_ids})
    rows: list[tuple] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        sql = f"SELECT id, {columns} FROM themes WHERE origin = ? AND id IN ({','.join('?' * len(chunk))})"
        rows += conn.execute(sql, [origin, *chunk]).fetchall()
    return rows


def _total(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM feedback").fetchone()[0] or 0)


def _rare(conn: sqlite3.Connection, s: str, total: int, cache: dict[str, bool]) -> bool:
    """Whether the stem ``s`` is in at most :data:`MAX_SHARE` of all feedback (full-text index)."""
    if s not in cache:
        found = conn.execute("SELECT count(*) FROM feedback_fts WHERE feedback_fts MATCH ?", (f"{s}*",)).fetchone()[0]
        cache[s] = int(found or 0) <= MAX_SHARE * total
    return cache[s]


_GENERIC_STEMS = frozenset(stem(w) for w in GENERIC_ASPECTS)

UNITS_SQL = """
SELECT a.feedback_id, -1, a.redacted_text, a.embedding, a.aspects FROM analysis a
WHERE a.is_english = 1 AND a.feedback_id IN ({marks})
  AND (SELECT count(*) FROM sentences c WHERE c.feedback_id = a.feedback_id) <= 1
UNION ALL
SELECT s.feedback_id, s.idx, s.redacted_text, s.embedding, s.aspects FROM sentences s
JOIN analysis a ON a.feedback_id = s.feedback_id AND a.is_english = 1
WHERE s.feedback_id IN ({marks})
  AND (SELECT count(*) FROM sentences c WHERE c.feedback_id = s.feedback_id) > 1
"""


def _named(
    conn: sqlite3.Connection, targets: list[tuple[set[str], np.ndarray]], wanted: set[int] | None
) -> list[Evidence]:
    """Sentences (or one-sentence items) that name one of a target's words and are like its centroid
    (cosine >= :data:`NAMED_FLOOR`): candidates from the full-text index, each unit read once."""
    if not targets:
        return []
    per_target: list[set[int]] = []
    for words, _centroid in targets:
        query = " OR ".join(_fts_term(w) for w in sorted(words) if all(p.isalnum() for p in w.split()))
        found = {int(r[0]) for r in conn.execute("SELECT rowid FROM feedback_fts WHERE feedback_fts MATCH ?", (query,))}
        per_target.append(found if wanted is None else found & wanted)
    candidates = sorted(set().union(*per_target))
    units: dict[int, list[tuple[int, str, set[str], np.ndarray]]] = {}
    for start in range(0, len(candidates), CHUNK):
        chunk = candidates[start : start + CHUNK]
        marks = ",".join("?" * len(chunk))
        for fid, idx, text, emb, aspects in conn.execute(UNITS_SQL.format(marks=marks), chunk + chunk):
            if emb is None or not text or not str(text).strip() or not is_topical(aspects):
                continue
            units.setdefault(int(fid), []).append((int(idx), str(text).strip(), named_terms(str(text)), from_blob(emb)))
    out: list[Evidence] = []
    for (words, centroid), fids in zip(targets, per_target, strict=True):
        for fid in sorted(fids):
            for idx, text, unit_words, vec in units.get(fid, ()):
                if unit_words & words:
                    cos = float(vec @ centroid)
                    if cos >= NAMED_FLOOR:
                        out.append(Evidence(fid, idx, text, max(cos, TERM_SCORE), "named"))
    return out


def _fts_term(term: str) -> str:
    """A full-text query for a subject stem (``refund*``) or phrase (``NEAR(dark* mode*, 3)``: stop
    words may stand between; :func:`~feedback_engine.themes.seeds.named_terms` then checks)."""
    parts = term.split()
    return f"{parts[0]}*" if len(parts) == 1 else f"NEAR({' '.join(p + '*' for p in parts)}, 3)"


def _with_context(conn: sqlite3.Connection, best: dict[int, Evidence]) -> dict[int, Evidence]:
    """Give each matched sentence that needs it (:func:`needs_context`) the sentence before it."""
    wanted = [
        (e.feedback_id, e.sentence_idx - 1)
        for e in best.values()
        if e.sentence_idx > 0 and e.text and needs_context(e.text)
    ]
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        where = " OR ".join("(feedback_id = ? AND idx = ?)" for _ in chunk)
        args = [v for pair in chunk for v in pair]
        for fid, text in conn.execute(f"SELECT feedback_id, redacted_text FROM sentences WHERE {where}", args):
            if text and str(text).strip():
                e = best[int(fid)]
                best[int(fid)] = Evidence(e.feedback_id, e.sentence_idx, e.text, e.score, e.source, str(text).strip())
    return best


def confident_items(conn: sqlite3.Connection) -> set[int]:
    """Items with evidence for at least one theme (what an honest coverage counts)."""
    ids = [int(r[0]) for r in conn.execute("SELECT id FROM themes WHERE status IN ('active', 'merged')")]
    return set(theme_evidence(conn, ids)) if ids else set()


def coverage(store: Store) -> dict[str, Any]:
    """Honest coverage: the share of English items with at least one confident, topical theme
    sentence (:mod:`feedback_engine.themes.evidence`); ``placed_share`` counts every item placed
    at its nearest theme, however faintly. ``general`` counts the rest by sentiment: general
    praise ("Love it!") and complaint ("Worst app ever") that name no theme's subject."""
    english = int(store.scalar("SELECT count(*) FROM analysis WHERE is_english = 1 AND embedding IS NOT NULL"))
    placed = int(
        store.scalar(
            "SELECT count(*) FROM analysis a WHERE a.is_english = 1 AND a.embedding IS NOT NULL AND EXISTS "
            "(SELECT 1 FROM theme_assignments t WHERE t.feedback_id = a.feedback_id AND t.sentence_idx = -1)"
        )
    )
    with_theme = confident_items(store.conn)
    confident = len(with_theme)
    rest = sentiment_counts(store, with_theme)
    return {
        "english_items": english,
        "coverage": round(confident / english, 4) if english else 0.0,
        "confident_items": confident,
        "placed_share": round(placed / english, 4) if english else 0.0,
        "outlier_share": round(1 - placed / english, 4) if english else 0.0,
        "other_language": count_other_language(store),
        # items that name no theme's subject confidently: "Love it!", "Worst app ever", or faint
        "general": {"praise": rest["positive"], "complaint": rest["negative"], "neutral": rest["neutral"]},
    }
