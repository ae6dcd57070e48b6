"""Edits people make to themes: rename, merge, unmerge, split, and moving one item to another
theme or out of all themes. Each is kept in ``theme_edits`` (who, when, what) and survives
refits: renamed labels are pinned, merged themes stay merged (a cluster that continues a merged
theme goes to its survivor), and items split out or moved by hand are ``source = 'manual'``
assignments, which a refit never rewrites. A moved item is also pinned (``theme_item_pins``,
migration 012): its trigger keeps every automatic writer from placing the item in any theme but
the one it was moved to (none, after a move out of all themes), so its sentences stay out too.
"""

from __future__ import annotations

import getpass
import json
import os
from typing import Any

import numpy as np

from feedback_engine.errors import ActionError, NotFoundError
from feedback_engine.store import Store, utcnow
from feedback_engine.themes.labels import merge_terms
from feedback_engine.themes.persist import from_blob, get_theme, refresh_sizes, stack, to_blob, unit
from feedback_engine.themes.queries import resolve_survivors

__all__ = ["history", "item_history", "merge", "move", "rename", "split", "unmerge"]


def _who(by: str | None) -> str:
    if by and by.strip():
        return " ".join(by.split())[:80]
    try:
        return os.environ.get("USER") or getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name on this system
        return "unknown"


def _record(
    store: Store,
    edit: str,
    theme_id: int | None,
    detail: dict[str, Any],
    by: str | None,
    at: str,
    feedback_id: int | None = None,
) -> None:
    store.execute(
        "INSERT INTO theme_edits (at, by, edit, theme_id, feedback_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
        (at, _who(by), edit, None if theme_id is None else int(theme_id), feedback_id, json.dumps(detail)),
    )


def _rows(store: Store, where: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    rows = store.query(
        f"SELECT at, by, edit, theme_id, feedback_id, detail FROM theme_edits WHERE {where} ORDER BY id", params
    )
    for row in rows:
        row["detail"] = json.loads(row["detail"])
    return rows


def history(store: Store, theme_id: int) -> list[dict[str, Any]]:
    """Every edit of this theme (and of the themes merged into it, and items moved out of it), oldest first."""
    tid = int(theme_id)
    return _rows(
        store,
        "theme_id = ? OR (edit = 'merge' AND EXISTS (SELECT 1 FROM json_each(detail, '$.merged') WHERE value = ?)) "
        "OR (edit = 'move' AND EXISTS (SELECT 1 FROM json_each(detail, '$.from') WHERE value = ?))",
        (tid, tid, tid),
    )


def item_history(store: Store, feedback_id: int) -> list[dict[str, Any]]:
    """Every edit that placed this item by hand (moves, and splits that took it along), oldest first."""
    fid = int(feedback_id)
    return _rows(
        store,
        "feedback_id = ? OR (edit = 'split' AND EXISTS (SELECT 1 FROM json_each(detail, '$.items') WHERE value = ?))",
        (fid, fid),
    )


def rename(store: Store, theme_id: int, name: str, *, by: str | None = None) -> dict[str, Any]:
    """Set a theme's label and pin it so that refits never relabel it. A merged theme's survivor is
    renamed (the merged id only shows what it became); ``renamed`` and ``requested`` say which."""
    name = " ".join((name or "").split())
    if not name:
        raise ActionError('A theme name cannot be empty. Pass a name, e.g. `themes rename 3 "Billing"`.')
    if len(name) > 120:
        raise ActionError("A theme name can have at most 120 characters. Pass a shorter name.")
    get_theme(store, theme_id)
    target = resolve_survivors(store.conn).get(int(theme_id), int(theme_id))
    old = get_theme(store, target)
    if old["status"] == "retired":
        raise ActionError(
            f"Theme {theme_id} is retired (a refit found it no more); rename an active theme instead "
            "(`feedback-engine themes list`).",
            theme_id=int(theme_id),
        )
    now = utcnow()
    with store.transaction():
        store.execute("UPDATE themes SET label = ?, label_pinned = 1, updated_at = ? WHERE id = ?", (name, now, target))
        _record(store, "rename", target, {"from": old["label"], "to": name, "requested": int(theme_id)}, by, now)
    out = get_theme(store, target)
    out["renamed"], out["requested"] = target, int(theme_id)
    return out


def merge(store: Store, theme_ids: list[int], into: int | None = None, *, by: str | None = None) -> dict[str, Any]:
    """Merge themes into one survivor (``into``, one of them; default the largest); assignments move
    to it and remember where they came from (``merged_from``), so :func:`unmerge` can undo it.

    Merged rows stay with ``status='merged'`` and ``merged_into`` = survivor; themes that were
    merged into a merged theme are re-pointed at the survivor, so chains stay one hop long.
    """
    wanted = [int(t) for t in theme_ids]
    for tid in [*wanted, *([int(into)] if into is not None else [])]:
        get_theme(store, tid)
    mapping = resolve_survivors(store.conn)
    ids = sorted({mapping[t] for t in wanted})
    if into is not None and mapping[int(into)] not in ids:
        shown = " ".join(str(t) for t in wanted)
        raise ActionError(
            f"--into {into} is not one of the themes being merged ({shown}). Pass it among them: "
            f"`themes merge {shown} {into} --into {into}`.",
            theme_id=int(into),
        )
    rows = {r["id"]: r for r in store.query(f"SELECT * FROM themes WHERE id IN ({','.join('?' * len(ids))})", ids)}
    if len(ids) < 2:
        raise ActionError(
            f"Nothing to merge: the themes given are all theme {ids[0]} (merged themes follow their survivor). "
            "Pass at least two different theme ids."
        )
    survivor = mapping[int(into)] if into is not None else max(ids, key=lambda t: (rows[t]["size"], -t))
    losers = [t for t in ids if t != survivor]
    now = utcnow()
    weights = [max(1, int(rows[t]["size"])) for t in ids]
    vectors = [from_blob(rows[t]["centroid"]) for t in ids]
    pairs = [(w, v) for w, v in zip(weights, vectors, strict=True) if v is not None]
    centroid = unit(np.sum([w * v for w, v in pairs], axis=0)) if pairs else None
    terms = merge_terms([json.loads(rows[t]["terms"] or "[]") for t in ids])
    quotes: list[int] = []
    for t in [survivor, *losers]:
        quotes += [q for q in json.loads(rows[t]["quotes"] or "[]") if q not in quotes]
    marks = ",".join("?" * len(losers))
    with store.transaction():
        store.execute(
            f"UPDATE theme_assignments SET merged_from = COALESCE(merged_from, theme_id), theme_id = ? "
            f"WHERE theme_id IN ({marks})",
            [survivor, *losers],
        )
        store.execute(f"UPDATE themes SET merged_into = ? WHERE merged_into IN ({marks})", [survivor, *losers])
        store.execute(
            f"UPDATE themes SET status = 'merged', merged_into = ?, size = 0, updated_at = ? WHERE id IN ({marks})",
            [survivor, now, *losers],
        )
        store.execute(
            "UPDATE themes SET status = 'active', centroid = COALESCE(?, centroid), terms = ?, quotes = ?, "
            "updated_at = ? WHERE id = ?",
            (None if centroid is None else to_blob(centroid), json.dumps(terms), json.dumps(quotes[:5]), now, survivor),
        )
        refresh_sizes(store)
        _record(store, "merge", survivor, {"merged": losers}, by, now)
    out = get_theme(store, survivor)
    out["merged"] = losers
    return out


def _recentre(store: Store, theme_id: int) -> None:
    """A theme's centroid as the mean of its members' stored item vectors (after its members changed)."""
    blobs = [
        r[0]
        for r in store.conn.execute(
            "SELECT a.embedding FROM theme_assignments t JOIN analysis a ON a.feedback_id = t.feedback_id "
            "WHERE t.theme_id = ? AND t.sentence_idx = -1 AND a.embedding IS NOT NULL",
            (theme_id,),
        )
    ]
    if blobs:
        centroid = unit(stack(blobs).mean(axis=0))
        store.execute("UPDATE themes SET centroid = ? WHERE id = ?", (to_blob(centroid), theme_id))


def unmerge(store: Store, theme_id: int, *, by: str | None = None) -> dict[str, Any]:
    """Undo a merge: ``theme_id`` is active again with the assignments the merge had moved away
    from it (those a refit has rewritten since follow the centroids: the next refit may place them
    back). Themes that had been merged into it stay with the survivor."""
    row = get_theme(store, theme_id)
    if row["status"] != "merged":
        raise ActionError(
            f"Theme {theme_id} is not merged (it is {row['status']}). `themes show {theme_id}` shows it.",
            theme_id=int(theme_id),
        )
    survivor = int(row["merged_into"])
    now = utcnow()
    with store.transaction():
        moved = store.execute(
            "UPDATE theme_assignments SET theme_id = ?, merged_from = NULL WHERE merged_from = ? AND theme_id = ?",
            (int(theme_id), int(theme_id), survivor),
        ).rowcount
        store.execute(
            "UPDATE themes SET status = 'active', merged_into = NULL, updated_at = ? WHERE id = ?", (now, theme_id)
        )
        for tid in (int(theme_id), survivor):
            _recentre(store, tid)
        terms = [json.loads(get_theme(store, t)["terms"] or "[]") for t in (survivor,)]
        store.execute("UPDATE themes SET terms = ? WHERE id = ?", (json.dumps(merge_terms(terms)), survivor))
        refresh_sizes(store)
        _record(store, "unmerge", int(theme_id), {"from": survivor, "assignments": moved}, by, now)
    out = get_theme(store, theme_id)
    out["unmerged_from"], out["assignments_moved"] = survivor, moved
    return out


def split(store: Store, theme_id: int, feedback_ids: list[int], name: str, *, by: str | None = None) -> dict[str, Any]:
    """Move the given items of a theme (their item and sentence assignments to it) into a new theme
    named ``name``; the moves are manual, so refits keep them. Returns the new theme."""
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise ActionError('A split needs a name of 1-120 characters, e.g. `themes split 3 --items 12,40 --name "SSO"`.')
    target = resolve_survivors(store.conn).get(int(theme_id), int(theme_id))
    get_theme(store, target)
    wanted = sorted({int(f) for f in feedback_ids})
    if not wanted:
        raise ActionError("Pass the items to split out, e.g. `--items 12,40`.")
    marks = ",".join("?" * len(wanted))
    present = {
        int(r[0])
        for r in store.conn.execute(
            f"SELECT DISTINCT feedback_id FROM theme_assignments WHERE theme_id = ? AND feedback_id IN ({marks})",
            [target, *wanted],
        )
    }
    missing = [f for f in wanted if f not in present]
    if missing:
        raise ActionError(
            f"Items {', '.join(map(str, missing))} are not in theme {target}; `themes show {target}` lists its items.",
            theme_id=target,
        )
    now = utcnow()
    with store.transaction():
        cur = store.execute(
            "INSERT INTO themes (label, origin, label_pinned, status, terms, quotes, size, created_at, updated_at) "
            "VALUES (?, 'manual', 1, 'active', '[]', ?, 0, ?, ?)",
            (name, json.dumps(wanted[:5]), now, now),
        )
        new_id = int(cur.lastrowid or 0)
        store.execute(
            f"UPDATE theme_assignments SET theme_id = ?, source = 'manual', merged_from = NULL, assigned_at = ? "
            f"WHERE theme_id = ? AND feedback_id IN ({marks})",
            [new_id, now, target, *wanted],
        )
        for tid in (new_id, target):
            _recentre(store, tid)
        refresh_sizes(store)
        _record(store, "split", target, {"into": new_id, "items": wanted, "name": name}, by, now)
    out = get_theme(store, new_id)
    out["split_from"], out["items_moved"] = target, len(wanted)
    return out


def _refresh(store: Store, theme_ids: list[int]) -> None:
    """``themes.size`` of the given themes only (a move touches two or three themes)."""
    if theme_ids:
        store.execute(
            f"UPDATE themes SET size = (SELECT count(DISTINCT feedback_id) FROM theme_assignments t "
            f"WHERE t.theme_id = themes.id) WHERE id IN ({','.join('?' * len(theme_ids))})",
            theme_ids,
        )


def move(
    store: Store, feedback_id: int, to: int | None, *, by: str | None = None, strict: bool = True
) -> dict[str, Any]:
    """Put one item in theme ``to`` only (``None``: in no theme), by hand, for good.

    The item's assignments to other themes (as a whole and by sentence) go; its sentences already
    in ``to`` stay there, so what it says about that theme keeps their sentiment. The item is then
    pinned: refits, ``analyze`` and new seeds never place it anywhere else (migration 012's
    trigger). Centroids are not recomputed: one item moves a theme's centre by little, and the
    next refit recomputes them. Returns ``{feedback_id, from, to, label, changed}``; ``from``
    lists the themes (survivors) the item was in. An item already where it is sent is an
    ActionError, or with ``strict=False`` a result with ``changed`` false (a batch of items).
    """
    fid = int(feedback_id)
    if store.scalar("SELECT 1 FROM feedback WHERE id = ?", (fid,)) is None:
        raise NotFoundError(f"No feedback item {fid}; `feedback-engine export feedback` lists the items.")
    mapping = resolve_survivors(store.conn)
    target: int | None = None
    if to is not None:
        get_theme(store, to)
        target = mapping.get(int(to), int(to))
        if get_theme(store, target)["status"] != "active":
            raise ActionError(
                f"Theme {to} is retired (a refit found it no more); move the item to an active theme "
                "(`feedback-engine themes list`).",
                theme_id=int(to),
            )
    rows = store.conn.execute(
        "SELECT sentence_idx, theme_id, source FROM theme_assignments WHERE feedback_id = ?", (fid,)
    ).fetchall()
    before = sorted({mapping.get(int(t), int(t)) for _, t, _ in rows})
    pinned = store.scalar("SELECT 1 FROM theme_item_pins WHERE feedback_id = ?", (fid,)) is not None
    manual = any(int(i) == -1 and s == "manual" and mapping.get(int(t), int(t)) == target for i, t, s in rows)
    if pinned and before == ([] if target is None else [target]) and (target is None or manual):
        if not strict:
            label = None if target is None else str(get_theme(store, target)["label"])
            return {"feedback_id": fid, "from": before, "to": target, "label": label, "changed": False}
        where = "no theme" if target is None else f"theme {target} only"
        raise ActionError(f"Item {fid} is already in {where}; nothing was changed.", theme_id=target)
    now = utcnow()
    with store.transaction():
        store.execute(
            "INSERT INTO theme_item_pins (feedback_id, at, by) VALUES (?, ?, ?) "
            "ON CONFLICT (feedback_id) DO UPDATE SET at = excluded.at, by = excluded.by",
            (fid, now, _who(by)),
        )
        gone = [(fid, int(i)) for i, t, _ in rows if target is None or mapping.get(int(t), int(t)) != target]
        store.conn.executemany("DELETE FROM theme_assignments WHERE feedback_id = ? AND sentence_idx = ?", gone)
        store.execute("DELETE FROM theme_outliers WHERE feedback_id = ?", (fid,))
        if target is None:
            store.execute("INSERT INTO theme_outliers (feedback_id, checked_at) VALUES (?, ?)", (fid, now))
        else:
            store.execute(
                "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, source, assigned_at) "
                "VALUES (?, -1, ?, 1.0, 'manual', ?) ON CONFLICT (feedback_id, sentence_idx) DO UPDATE SET "
                "theme_id = excluded.theme_id, probability = 1.0, source = 'manual', merged_from = NULL, "
                "assigned_at = excluded.assigned_at",
                (fid, target, now),
            )
        left = [t for t in before if t != target]
        for tid in left:
            quotes = json.loads(get_theme(store, tid)["quotes"] or "[]")
            if fid in quotes and len(quotes) > 1:
                store.execute(
                    "UPDATE themes SET quotes = ? WHERE id = ?", (json.dumps([q for q in quotes if q != fid]), tid)
                )
        _refresh(store, sorted({*before, *([target] if target is not None else [])}))
        _record(store, "move", target, {"item": fid, "from": before, "to": target}, by, now, feedback_id=fid)
    label = None if target is None else str(get_theme(store, target)["label"])
    return {"feedback_id": fid, "from": before, "to": target, "label": label, "changed": True}
