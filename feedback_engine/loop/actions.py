"""The action backlog: what the product team does about a theme, with its full history.

Statuses move forward along ``proposed -> planned -> in_progress -> shipped`` (steps may be
skipped), back one step while open, to ``declined`` from any open status, and ``declined ->
proposed`` reopens. ``shipped`` is final: customers may already have been told. Setting the
status an action already has is a no-op: no history row, nobody notified.
"""

from __future__ import annotations

import csv
import getpass
import json
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

from feedback_engine.errors import ActionError, NotFoundError
from feedback_engine.ingest.export import csv_safe as _csv_safe
from feedback_engine.loop.holdout import parse_share, record_holdout
from feedback_engine.loop.recipients import action_members, action_themes, member_themes, survivor_of, theme_survivors
from feedback_engine.store import Store, utcnow
from feedback_engine.themes import queries as tq

__all__ = ["STATUSES", "OPEN_STATUSES", "add_action", "update_action", "get_action", "list_actions", "export_actions"]

STATUSES = ("proposed", "planned", "in_progress", "shipped", "declined")
OPEN_STATUSES = ("proposed", "planned", "in_progress")
_ORDER = {s: i for i, s in enumerate(("proposed", "planned", "in_progress", "shipped"))}
EXPORT_COLUMNS = (
    "id",
    "title",
    "status",
    "owner",
    "due_date",
    "overdue",
    "themes",
    "items",
    "sentiment",
    "shipped_at",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "description",
)


def who(by: str | None) -> str:
    """The person recorded in history: ``--by``, else ``$USER``, else the login name."""
    if by and by.strip():
        return " ".join(by.split())[:100]
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def allowed(current: str, new: str) -> bool:
    if current == new:
        return True
    if current == "shipped":
        return False
    if current == "declined":
        return new == "proposed"
    if new == "declined":
        return True
    return _ORDER[new] > _ORDER[current] or _ORDER[new] == _ORDER[current] - 1


def parse_due(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise ActionError(f"{value!r} is not a date; give the due date as YYYY-MM-DD.") from None


def check_status(value: str) -> str:
    status = value.strip().lower().replace("-", "_")
    if status not in STATUSES:
        raise ActionError(f"Unknown status {value!r}; use one of {', '.join(STATUSES)}.")
    return status


def _require_text(value: str | None, what: str) -> str:
    if value is None or not value.strip():
        raise ActionError(f"The action needs a {what}; pass --{what} TEXT.")
    return value.strip()


def add_action(
    store: Store,
    *,
    themes: list[int],
    title: str,
    description: str,
    items: list[int] | None = None,
    owner: str | None = None,
    due: str | None = None,
    by: str | None = None,
    now: str | None = None,
) -> int:
    """Create an action tied to ``themes`` (and optionally ``items``); returns its id."""
    if not themes and not items:
        raise ActionError("An action needs at least one theme; pass --theme ID (see `feedback-engine themes list`).")
    title, description = _require_text(title, "title"), _require_text(description, "description")
    due_date, person, at = parse_due(due), who(by), now or utcnow()
    with store.transaction() as conn:
        for tid in themes:
            if conn.execute("SELECT 1 FROM themes WHERE id = ?", (tid,)).fetchone() is None:
                raise NotFoundError(f"No theme with id {tid}; see `feedback-engine themes list`.", theme_id=tid)
        for fid in items or []:
            if conn.execute("SELECT 1 FROM feedback WHERE id = ?", (fid,)).fetchone() is None:
                raise NotFoundError(f"No feedback item with id {fid}.", feedback_id=fid)
        cur = conn.execute(
            """INSERT INTO actions (title, description, owner, due_date, created_at, created_by, updated_at, updated_by)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (title, description, (owner or "").strip() or None, due_date, at, person, at, person),
        )
        action_id = int(cur.lastrowid or 0)
        conn.executemany(
            "INSERT OR IGNORE INTO action_themes (action_id, theme_id) VALUES (?, ?)", [(action_id, t) for t in themes]
        )
        conn.executemany(
            "INSERT OR IGNORE INTO action_items (action_id, feedback_id) VALUES (?, ?)",
            [(action_id, f) for f in items or []],
        )
        _history(conn, action_id, at, person, "status", None, "proposed", "created")
    return action_id


def _history(
    conn: sqlite3.Connection, action_id: int, at: str, by: str, fld: str, old: Any, new: Any, note: str | None
) -> None:
    conn.execute(
        "INSERT INTO action_history (action_id, at, by, field, from_value, to_value, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (action_id, at, by, fld, old, new, note),
    )


def update_action(
    store: Store,
    action_id: int,
    *,
    status: str | None = None,
    owner: str | None = None,
    due: str | None = None,
    note: str | None = None,
    by: str | None = None,
    now: str | None = None,
    title: str | None = None,
    description: str | None = None,
    themes: list[int] | None = None,
    holdout: str | float | None = None,
    holdout_seed: int | None = None,
) -> dict[str, Any]:
    """Change status, owner, due date, title, description or themes; returns ``{"id", "changed":
    [fields], "status"}``. Each changed field is one history row (from, to, note).

    ``due=""`` clears the due date, ``owner=""`` the owner. A note alone is kept as history.
    ``themes`` replaces the action's themes (ids; merged ones are kept as given and followed to
    their survivor when read). The title, description and themes of a shipped action are final:
    customers may have been told with them. ``holdout`` (with ``status="shipped"`` only): the share of
    the recipients held back as a control group, never emailed about it (:mod:`feedback_engine.loop.holdout`).
    """
    person, at = who(by), now or utcnow()
    share = parse_share(holdout) if holdout is not None else None
    new_status = check_status(status) if status is not None else None
    new_due = parse_due(due) if due is not None else None
    new_title = _require_text(title, "title") if title is not None else None
    new_description = _require_text(description, "description") if description is not None else None
    if new_title is not None and len(new_title) > 200:
        raise ActionError("An action's title can have at most 200 characters; pass a shorter --title.")
    new_themes = sorted({int(t) for t in themes}) if themes is not None else None
    with store.transaction() as conn:
        row = conn.execute(
            "SELECT status, owner, due_date, title, description FROM actions WHERE id = ?", (action_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(
                f"No action with id {action_id}; see `feedback-engine actions list`.", action_id=action_id
            )
        current, cur_owner, cur_due, cur_title, cur_description = row
        changed: list[str] = []
        _edit_text(conn, action_id, current, at, person, note, changed, "title", cur_title, new_title)
        _edit_text(conn, action_id, current, at, person, note, changed, "description", cur_description, new_description)
        if new_themes is not None:
            _edit_themes(conn, action_id, current, at, person, note, changed, new_themes)
        if new_status is not None and new_status != current:
            if not allowed(current, new_status):
                if current == "shipped":
                    message = f"Action {action_id} is shipped, which is final; it cannot become {new_status}."
                elif current == "declined":
                    message = f"Action {action_id} is declined; reopen it with --status proposed first."
                else:
                    message = (
                        f"Action {action_id} cannot go back from {current} to {new_status}; go back one step at a time."
                    )
                raise ActionError(message, action_id=action_id)
            conn.execute(
                "UPDATE actions SET status = ?, shipped_at = CASE WHEN ? = 'shipped' THEN ? ELSE shipped_at END WHERE id = ?",
                (new_status, new_status, at, action_id),
            )
            _history(conn, action_id, at, person, "status", current, new_status, note)
            changed.append("status")
        if share is not None:
            if new_status != "shipped" or current == "shipped":
                raise ActionError(
                    "A holdout is drawn when the action ships: pass --holdout with --status shipped.",
                    action_id=action_id,
                )
            seed = record_holdout(conn, action_id, share, holdout_seed, person, at)
            _history(conn, action_id, at, person, "holdout", None, f"{share:.1%} (seed {seed})", note)
            changed.append("holdout")
        if owner is not None and ((owner.strip() or None) != cur_owner):
            conn.execute("UPDATE actions SET owner = ? WHERE id = ?", (owner.strip() or None, action_id))
            _history(conn, action_id, at, person, "owner", cur_owner, owner.strip() or None, note)
            changed.append("owner")
        if due is not None and new_due != cur_due:
            conn.execute("UPDATE actions SET due_date = ? WHERE id = ?", (new_due, action_id))
            _history(conn, action_id, at, person, "due_date", cur_due, new_due, note)
            changed.append("due_date")
        if not changed and note and note.strip():
            _history(conn, action_id, at, person, "note", None, None, note.strip())
            changed.append("note")
        if changed:
            conn.execute("UPDATE actions SET updated_at = ?, updated_by = ? WHERE id = ?", (at, person, action_id))
        final = conn.execute("SELECT status FROM actions WHERE id = ?", (action_id,)).fetchone()[0]
    return {"id": action_id, "changed": changed, "status": final}


def _edit_text(
    conn: sqlite3.Connection,
    action_id: int,
    status: str,
    at: str,
    person: str,
    note: str | None,
    changed: list[str],
    fld: str,
    old: str,
    new: str | None,
) -> None:
    if new is None or new == old:
        return
    if status == "shipped":
        raise ActionError(
            f"Action {action_id} is shipped: its {fld} is final (customers may have been told with it).",
            action_id=action_id,
        )
    conn.execute(f"UPDATE actions SET {fld} = ? WHERE id = ?", (new, action_id))  # fld: title or description
    _history(conn, action_id, at, person, fld, old, new, note)
    changed.append(fld)


def _edit_themes(
    conn: sqlite3.Connection,
    action_id: int,
    status: str,
    at: str,
    person: str,
    note: str | None,
    changed: list[str],
    themes: list[int],
) -> None:
    old = action_themes(conn, action_id)
    if themes == sorted(old):
        return
    if status == "shipped":
        raise ActionError(
            f"Action {action_id} is shipped: its themes are final (its recipients were picked from them).",
            action_id=action_id,
        )
    has_items = conn.execute("SELECT 1 FROM action_items WHERE action_id = ?", (action_id,)).fetchone()
    if not themes and not has_items:
        raise ActionError("An action needs at least one theme; pass --theme ID (see `feedback-engine themes list`).")
    for tid in themes:
        if conn.execute("SELECT 1 FROM themes WHERE id = ?", (tid,)).fetchone() is None:
            raise NotFoundError(f"No theme with id {tid}; see `feedback-engine themes list`.", theme_id=tid)
    conn.execute("DELETE FROM action_themes WHERE action_id = ?", (action_id,))
    conn.executemany("INSERT INTO action_themes (action_id, theme_id) VALUES (?, ?)", [(action_id, t) for t in themes])
    shown = (",".join(str(t) for t in sorted(old)), ",".join(str(t) for t in themes))
    _history(conn, action_id, at, person, "themes", shown[0], shown[1], note)
    changed.append("themes")


# -- reading: figures come from themes.queries, the one definition themes list also uses ----
def theme_stats(conn: sqlite3.Connection, survivors: dict[int, int], theme_id: int) -> dict[str, Any]:
    """A (resolved) theme's label, status, volume and mean sentiment, as ``themes list`` gives them
    (one definition: :mod:`feedback_engine.themes.queries`)."""
    surv = survivor_of(survivors, theme_id)
    row = conn.execute("SELECT label, status FROM themes WHERE id = ?", (surv,)).fetchone()
    figures = tq.theme_figures(conn, [surv], survivors=survivors)[surv]
    return {
        "id": surv,
        "label": row[0] if row else None,
        "status": row[1] if row else None,
        "volume": figures["volume"],
        "sentiment": figures["mean_sentiment"],
    }


def _summary(conn: sqlite3.Connection, row: dict[str, Any], survivors: dict[int, int], today: str) -> dict[str, Any]:
    aid = row["id"]
    resolved = sorted({survivor_of(survivors, t) for t in action_themes(conn, aid)})
    figures = tq.figures(action_members(conn, aid, survivors).values())
    out = dict(row)
    out["overdue"] = bool(row["status"] in OPEN_STATUSES and row["due_date"] and row["due_date"] < today)
    out["themes"] = [theme_stats(conn, survivors, t) for t in resolved]
    out["items"] = figures["volume"]
    out["sentiment"] = figures["mean_sentiment"]
    return out


def list_actions(
    store: Store,
    *,
    status: str | None = None,
    overdue: bool = False,
    owner: str | None = None,
    theme: int | None = None,
    today: str | None = None,
) -> list[dict[str, Any]]:
    """Actions (open ones unless ``status`` is given; ``"all"`` for every status) by due date."""
    today = today or date.today().isoformat()
    conn = store.conn
    survivors = theme_survivors(conn)
    where: list[str] = []
    params: list[Any] = []
    if status and status.lower() == "all":
        pass
    elif status:
        where.append("status = ?")
        params.append(check_status(status))
    else:
        where.append("status IN ('proposed', 'planned', 'in_progress')")
    if overdue:
        where.append("status IN ('proposed', 'planned', 'in_progress') AND due_date IS NOT NULL AND due_date < ?")
        params.append(today)
    if owner:
        where.append("lower(owner) = lower(?)")
        params.append(owner.strip())
    if theme is not None:
        if conn.execute("SELECT 1 FROM themes WHERE id = ?", (theme,)).fetchone() is None:
            raise NotFoundError(f"No theme with id {theme}; see `feedback-engine themes list`.", theme_id=theme)
        members = sorted(member_themes(survivors, [theme]))
        where.append(f"id IN (SELECT action_id FROM action_themes WHERE theme_id IN ({','.join('?' * len(members))}))")
        params.extend(members)
    sql = "SELECT * FROM actions" + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY due_date IS NULL, due_date, id"
    return [_summary(conn, row, survivors, today) for row in store.query(sql, params)]


def get_action(store: Store, action_id: int, *, today: str | None = None) -> dict[str, Any]:
    """One action with its themes, items, history and notification counts."""
    rows = store.query("SELECT * FROM actions WHERE id = ?", (action_id,))
    if not rows:
        raise NotFoundError(f"No action with id {action_id}; see `feedback-engine actions list`.", action_id=action_id)
    conn = store.conn
    out = _summary(conn, rows[0], theme_survivors(conn), today or date.today().isoformat())
    out["linked_items"] = [
        r["feedback_id"]
        for r in store.query(
            "SELECT feedback_id FROM action_items WHERE action_id = ? ORDER BY feedback_id", (action_id,)
        )
    ]
    out["history"] = store.query(
        "SELECT at, by, field, from_value, to_value, note FROM action_history WHERE action_id = ? ORDER BY id",
        (action_id,),
    )
    out["notifications"] = {
        r["status"]: r["n"]
        for r in store.query(
            "SELECT status, count(*) AS n FROM notifications WHERE action_id = ? GROUP BY status", (action_id,)
        )
    }
    return out


def export_actions(rows: list[dict[str, Any]], fmt: str, path: str | Path) -> int:
    """Write rows as CSV (themes as ``id:label`` joined by ``; ``) or JSONL; returns the row count."""
    path = Path(path)
    fmt = fmt.lower()
    if fmt not in ("csv", "jsonl"):
        raise ActionError(f"Unknown export format {fmt!r}; use csv or jsonl.")
    if not path.parent.exists():
        raise ActionError(f"The folder {path.parent} does not exist; create it or pass another -o path.")
    with path.open("w", encoding="utf-8", newline="") as fh:
        if fmt == "jsonl":
            for row in rows:
                fh.write(json.dumps({k: row.get(k) for k in EXPORT_COLUMNS}, ensure_ascii=False) + "\n")
        else:
            writer = csv.DictWriter(fh, fieldnames=EXPORT_COLUMNS)
            writer.writeheader()
            for row in rows:
                flat = {k: row.get(k) for k in EXPORT_COLUMNS}
                flat["themes"] = "; ".join(f"{t['id']}:{t['label']}" for t in row.get("themes", []))
                writer.writerow({k: _csv_safe(v) for k, v in flat.items()})
    return len(rows)


def action_by_title(store: Store, title: str) -> int | None:
    """The id of the (oldest) action with exactly this title, or None."""
    found = store.scalar("SELECT id FROM actions WHERE title = ? ORDER BY id LIMIT 1", (title,))
    return None if found is None else int(found)
