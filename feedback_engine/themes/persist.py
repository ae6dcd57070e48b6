"""Reading and writing themes in the store; the human edits (rename, merge).

Embeddings are stored as float32 little-endian blobs (``analysis.embedding``,
``sentences.embedding``, ``themes.centroid``, ``themes.seed_embedding``). A merged theme keeps
its row (``status='merged'``, ``merged_into``); :func:`~feedback_engine.themes.queries.resolve_survivors` follows merge chains so every
reader lands on the surviving theme.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from feedback_engine.errors import AnalysisError, NotFoundError
from feedback_engine.themes.queries import resolve_survivors, theme_items

if TYPE_CHECKING:
    from feedback_engine.store import Store

RUN_ANALYZE = "No analysed feedback yet. Run `feedback-engine analyze` first, then ask for themes."


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


@overload
def from_blob(blob: bytes) -> np.ndarray: ...
@overload
def from_blob(blob: None) -> None: ...
def from_blob(blob: bytes | None) -> np.ndarray | None:
    if blob is None:
        return None
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


def unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32) if norm > 0 else vector.astype(np.float32)


def nearest(E: np.ndarray, M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``E``: the index of its most similar row of ``M`` (dot product of unit
    vectors = cosine) and that similarity."""
    sims = E @ M.T
    best = sims.argmax(axis=1)
    return best, sims[np.arange(len(E)), best]


def stack(blobs: list[bytes], dim: int | None = None) -> np.ndarray:
    if not blobs:
        return np.zeros((0, dim or 0), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), -1).astype(np.float32)


def has_analysis(store: Store) -> bool:
    return store.db["analysis"].exists() and store.scalar("SELECT 1 FROM analysis LIMIT 1") is not None


def require_analysis(store: Store) -> None:
    """Raise the "run analyze first" error when nothing has been analysed."""
    if not has_analysis(store):
        raise AnalysisError(RUN_ANALYZE)


@dataclass
class Units:
    """Items or sentences with their stored embeddings, in a fixed order."""

    feedback_ids: np.ndarray
    sentence_idx: np.ndarray  # -1 for whole items
    texts: list[str]
    embeddings: np.ndarray

    def __len__(self) -> int:
        return len(self.feedback_ids)

    def take(self, order: np.ndarray) -> Units:
        return Units(
            self.feedback_ids[order],
            self.sentence_idx[order],
            [self.texts[i] for i in order],
            self.embeddings[order],
        )


def concat(a: Units, b: Units) -> Units:
    """``a`` then ``b`` as one set of units."""
    if not len(a):
        return b
    if not len(b):
        return a
    return Units(
        np.concatenate([a.feedback_ids, b.feedback_ids]),
        np.concatenate([a.sentence_idx, b.sentence_idx]),
        [*a.texts, *b.texts],
        np.vstack([a.embeddings, b.embeddings]),
    )


def _units(rows: list[tuple[Any, ...]], sentence: bool) -> Units:
    return Units(
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] if sentence else -1 for r in rows], dtype=np.int64),
        [r[2] or "" for r in rows],
        stack([r[3] for r in rows]),
    )


ITEM_SQL = """
SELECT a.feedback_id, -1, a.redacted_text, a.embedding FROM analysis a
WHERE a.is_english = 1 AND a.embedding IS NOT NULL {where}
ORDER BY a.feedback_id
"""

PENDING = """
AND NOT EXISTS (SELECT 1 FROM theme_assignments t WHERE t.feedback_id = a.feedback_id AND t.sentence_idx = -1
                AND (t.assigned_at >= a.analyzed_at OR t.source = 'manual'))
AND NOT EXISTS (SELECT 1 FROM theme_outliers o WHERE o.feedback_id = a.feedback_id AND o.checked_at >= a.analyzed_at)
"""


def load_items(store: Store, pending_only: bool = False) -> Units:
    """English analysed items with embeddings; ``pending_only``: those not yet placed (or re-analysed since)."""
    rows = store.conn.execute(ITEM_SQL.format(where=PENDING if pending_only else "")).fetchall()
    return _units(rows, sentence=False)


def load_sentences(store: Store, feedback_ids: np.ndarray | None = None) -> Units:
    """Sentences of English multi-sentence items (all, or only those of ``feedback_ids``)."""
    sql = """
    SELECT s.feedback_id, s.idx, s.redacted_text, s.embedding FROM sentences s
    JOIN analysis a ON a.feedback_id = s.feedback_id
    WHERE a.is_english = 1 AND s.embedding IS NOT NULL
      AND (SELECT count(*) FROM sentences s2 WHERE s2.feedback_id = s.feedback_id) > 1 {where}
    ORDER BY s.feedback_id, s.idx
    """
    if feedback_ids is None:
        return _units(store.conn.execute(sql.format(where="")).fetchall(), sentence=True)
    ids = [int(x) for x in feedback_ids]
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(ids), 500):  # only the pending items' sentences, in chunks
        chunk = ids[start : start + 500]
        where = f"AND s.feedback_id IN ({','.join('?' * len(chunk))})"
        rows += store.conn.execute(sql.format(where=where), chunk).fetchall()
    return _units(rows, sentence=True)


def sentence_aspects(store: Store, sents: Units) -> list[str | None]:
    """The stored aspects (JSON) of each sentence in ``sents``, in that order."""
    found: dict[tuple[int, int], str | None] = {}
    ids = sorted({int(f) for f in sents.feedback_ids})
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        sql = f"SELECT feedback_id, idx, aspects FROM sentences WHERE feedback_id IN ({','.join('?' * len(chunk))})"
        found.update({(int(f), int(i)): a for f, i, a in store.conn.execute(sql, chunk)})
    return [found.get((int(f), int(i))) for f, i in zip(sents.feedback_ids, sents.sentence_idx, strict=True)]


PRODUCT_WORDS = "product_words"


def save_setting(store: Store, key: str, value: Any, now: str) -> None:
    """Store what a fit learned about the corpus (``theme_settings``, value as JSON)."""
    store.execute(
        "INSERT INTO theme_settings (key, value, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (key, json.dumps(value), now),
    )


def sentiment_counts(store: Store, feedback_ids: set[int]) -> dict[str, int]:
    """English items *not* in ``feedback_ids``, by item sentiment label."""
    out = {"positive": 0, "neutral": 0, "negative": 0}
    rows = store.conn.execute(
        "SELECT feedback_id, sentiment FROM analysis WHERE is_english = 1 AND embedding IS NOT NULL"
    ).fetchall()
    for fid, label in rows:
        if int(fid) not in feedback_ids and label in out:
            out[label] += 1
    return out


def count_other_language(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM analysis WHERE is_english = 0") or 0)


# -- theme rows --------------------------------------------------------------------------------


def theme_rows(store: Store, statuses: tuple[str, ...] = ("active", "merged", "retired")) -> list[dict[str, Any]]:
    marks = ",".join("?" * len(statuses))
    return store.query(f"SELECT * FROM themes WHERE status IN ({marks}) ORDER BY id", statuses)


def get_theme(store: Store, theme_id: int) -> dict[str, Any]:
    row = store.query("SELECT * FROM themes WHERE id = ?", (int(theme_id),))
    if not row:
        raise NotFoundError(
            f"Theme {theme_id} does not exist. Run `feedback-engine themes list` to see theme ids.", theme_id=theme_id
        )
    return row[0]


def prune_quotes(store: Store, theme_ids: list[int]) -> None:
    """Keep as a theme's quotes only its members (a sentence chosen as a quote can be placed in
    another theme by the one assignment rule); a theme keeps its quotes when none would be left."""
    for tid in theme_ids:
        quotes = json.loads(store.scalar("SELECT quotes FROM themes WHERE id = ?", (tid,)) or "[]")
        members = theme_items(store.conn, [tid])
        kept = [q for q in quotes if q in members]
        if kept and kept != quotes:
            store.execute("UPDATE themes SET quotes = ? WHERE id = ?", (json.dumps(kept), tid))


def refresh_sizes(store: Store) -> None:
    """``themes.size`` = distinct items with an item- or sentence-level assignment."""
    store.execute(
        """UPDATE themes SET size = (SELECT count(DISTINCT feedback_id) FROM theme_assignments t
                                     WHERE t.theme_id = themes.id)"""
    )


def drift(store: Store, confident: float) -> dict[str, Any]:
    """Items placed since the last fit, and how many of them fit no theme well: left out as
    outliers, or placed at their nearest theme with a score below ``confident``.

    A fit rewrites every assignment as ``source = 'fit'`` (or ``'seed'``) and its outliers without a
    similarity; what ``assign`` placed since carries ``'assigned'``, its outliers a similarity.
    """
    fit_at = store.scalar("SELECT max(assigned_at) FROM theme_assignments WHERE source = 'fit'")
    outliers = int(store.scalar("SELECT count(*) FROM theme_outliers WHERE similarity IS NOT NULL") or 0)
    placed, faint = store.conn.execute(
        "SELECT count(*), coalesce(sum(probability < ?), 0) FROM theme_assignments"
        " WHERE sentence_idx = -1 AND source = 'assigned'",
        (confident,),
    ).fetchone()
    return {"last_fit_at": fit_at, "new_items": int(placed) + outliers, "unfit_items": int(faint) + outliers}


def active_count(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM themes WHERE status = 'active'") or 0)


def survivor_id(store: Store, theme_id: int) -> int:
    """The theme ``theme_id`` counts for now (NotFoundError when there is no such theme)."""
    get_theme(store, theme_id)
    return resolve_survivors(store.conn).get(int(theme_id), int(theme_id))
