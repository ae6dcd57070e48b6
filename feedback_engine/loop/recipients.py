"""Who hears back about an action: themes resolved through merges, evidence, eligible customers.

An item is about an action when one of its sentences is confident, topical **evidence** for one of
the action's themes (or a theme merged into them): :mod:`feedback_engine.themes.evidence`, the
strict reading of the membership that ``themes list`` counts (an item faintly near a theme, or
"Love it!", is a member for volumes but never makes a recipient), or when it is linked to the
action by hand. The recipients of a shipped action are the customers behind those items whose feedback was written
before it shipped (``created_at``, or ``ingested_at`` when the source gave no date), who said
yes to contact (``consent = 1``; NULL means unknown and is never contacted), have a usable
email address, and are neither unsubscribed nor suppressed. One customer is one recipient, with
all their matching items.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from feedback_engine.loop.holdout import held_back, holdout_of
from feedback_engine.loop.mail import InvalidAddress, make_address
from feedback_engine.store import Store
from feedback_engine.themes import queries as tq
from feedback_engine.themes.evidence import Evidence, theme_evidence
from feedback_engine.themes.queries import member_themes, survivor_of

__all__ = [
    "Recipient",
    "theme_survivors",
    "survivor_of",
    "member_themes",
    "action_members",
    "items_of_action",
    "recipients_for",
]


@dataclass
class Recipient:
    customer_id: int
    email: str
    name: str | None
    feedback_ids: list[int] = field(default_factory=list)  # strongest evidence first, then most recent
    matches: dict[int, Evidence] = field(default_factory=dict)  # feedback id -> the sentence that matched


def parse_time(value: str | None) -> datetime | None:
    """ISO 8601 text (``Z`` or offset, or a bare date) as an aware UTC datetime; None if unparseable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def theme_survivors(conn: sqlite3.Connection) -> dict[int, int]:
    """Every theme id mapped to the theme that survives it (see :mod:`feedback_engine.themes.queries`)."""
    return tq.resolve_survivors(conn)


def action_themes(conn: sqlite3.Connection, action_id: int) -> list[int]:
    """The theme ids an action was tied to, as stored (not resolved)."""
    sql = "SELECT theme_id FROM action_themes WHERE action_id = ? ORDER BY theme_id"
    return [int(r[0]) for r in conn.execute(sql, (action_id,))]


def linked_items(conn: sqlite3.Connection, action_id: int) -> set[int]:
    """The items tied to an action by hand (``action_items``)."""
    return {int(r[0]) for r in conn.execute("SELECT feedback_id FROM action_items WHERE action_id = ?", (action_id,))}


def action_members(
    conn: sqlite3.Connection, action_id: int, survivors: dict[int, int] | None = None
) -> dict[int, tq.Member]:
    """The items an action is about: members of its (resolved) themes, each once with its sentences in
    any of them, plus the items linked by hand (with their own sentiment when in none of the themes)."""
    survivors = theme_survivors(conn) if survivors is None else survivors
    members = tq.union_members(tq.theme_members(conn, action_themes(conn, action_id), survivors).values())
    extra = linked_items(conn, action_id) - set(members)
    members.update(tq.item_members(conn, extra))
    return members


def items_of_action(conn: sqlite3.Connection, action_id: int, survivors: dict[int, int] | None = None) -> set[int]:
    """Every member item of the action's themes (for figures), plus the items linked by hand."""
    return set(action_members(conn, action_id, survivors))


def action_evidence(
    conn: sqlite3.Connection,
    action_id: int,
    survivors: dict[int, int] | None = None,
    feedback_ids: list[int] | None = None,
) -> dict[int, Evidence]:
    """Feedback id -> the sentence that makes it about the action (see the module docstring)."""
    return theme_evidence(conn, action_themes(conn, action_id), survivors, feedback_ids=feedback_ids)


def recipient_items(
    conn: sqlite3.Connection, action_id: int, survivors: dict[int, int] | None = None
) -> tuple[set[int], dict[int, Evidence]]:
    """The items whose customers may hear back: items with evidence, and items linked by hand."""
    evidence = action_evidence(conn, action_id, survivors)
    return set(evidence) | linked_items(conn, action_id), evidence


def eligibility(row: dict[str, Any] | sqlite3.Row) -> str | None:
    """Why a customer cannot be emailed now (None: they can)."""
    if row["consent"] != 1:
        return "no_consent"
    if not row["email"]:
        return "no_email"
    if row["unsubscribed_at"]:
        return "unsubscribed"
    if row["suppressed_at"]:
        return "suppressed"
    try:
        make_address(row["email"])
    except InvalidAddress:
        return "invalid_email"
    return None


def excluded_by_person(conn: sqlite3.Connection, action_id: int) -> tuple[set[int], set[int]]:
    """The customers and items taken out of this action's recipients with ``actions exclude``."""
    customers, items = set(), set()
    for cid, fid in conn.execute(
        "SELECT customer_id, feedback_id FROM action_exclusions WHERE action_id = ?", (action_id,)
    ):
        if cid is not None:
            customers.add(int(cid))
        if fid is not None:
            items.add(int(fid))
    return customers, items


def recipients_for(
    conn: sqlite3.Connection,
    action_id: int,
    shipped_at: str,
    survivors: dict[int, int] | None = None,
    *,
    invalid: dict[int, str] | None = None,
) -> tuple[list[Recipient], Counter[str]]:
    """The recipients of a shipped action, and how many customers were left out for each reason.

    ``invalid``, when given, collects the customers left out for an unusable address (id -> address).
    """
    items, evidence = recipient_items(conn, action_id, survivors)
    excluded: Counter[str] = Counter()
    no_customers, no_items = excluded_by_person(conn, action_id)
    items -= no_items
    if not items:
        return [], excluded
    shipped = parse_time(shipped_at)
    by_customer: dict[int, Recipient] = {}
    reasons: dict[int, str] = {}
    ordered = sorted(items)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        marks = ",".join("?" * len(chunk))
        cursor = conn.execute(
            f"""SELECT f.id AS feedback_id, f.created_at, f.ingested_at, c.id AS customer_id, c.email,
                       c.display_name, c.consent, c.unsubscribed_at, c.suppressed_at
                FROM feedback f JOIN customers c ON c.id = f.customer_id
                WHERE f.id IN ({marks})""",
            chunk,
        )
        names = [d[0] for d in cursor.description]
        for values in cursor:
            row = dict(zip(names, values, strict=True))
            written = parse_time(row["created_at"]) or parse_time(row["ingested_at"])
            cid = int(row["customer_id"])
            if cid in no_customers:
                reasons[cid] = "excluded_by_person"
                continue
            if shipped is not None and (written is None or written >= shipped):
                reasons.setdefault(cid, "after_shipping")
                continue
            reason = eligibility(row)
            if reason is not None:
                reasons[cid] = reason
                if reason == "invalid_email" and invalid is not None:
                    invalid[cid] = row["email"]
                continue
            rec = by_customer.setdefault(cid, Recipient(cid, row["email"], row["display_name"]))
            fid = int(row["feedback_id"])
            rec.feedback_ids.append((written, fid))  # type: ignore[arg-type]
            if fid in evidence:
                rec.matches[fid] = evidence[fid]
    for rec in by_customer.values():
        pairs: list[tuple[datetime, int]] = rec.feedback_ids  # type: ignore[assignment]

        def rank(pair: tuple[datetime, int], rec: Recipient = rec) -> tuple[float, datetime, int]:
            match = rec.matches.get(pair[1])
            return (match.score if match else 2.0, pair[0], pair[1])  # linked by hand: a person chose it

        rec.feedback_ids = [fid for _, fid in sorted(pairs, key=rank, reverse=True)]
        reasons.pop(rec.customer_id, None)
    excluded.update(reasons.values())
    return sorted(by_customer.values(), key=lambda r: r.customer_id), excluded


def most_reachable_theme(store: Store) -> int | None:
    """The active theme that would reach the most customers who may be emailed (consent, an
    address, not unsubscribed or suppressed) with a confident sentence of theirs (evidence); ties go
    to the lower id. Of the ten themes with the most such customers among their members: a theme of
    general praise ("Easy: teams, simple") has many members and almost no evidence."""
    rows = store.conn.execute(
        """
        SELECT ta.theme_id, ta.feedback_id, c.id
        FROM theme_assignments ta
        JOIN themes t ON t.id = ta.theme_id AND t.status = 'active'
        JOIN feedback f ON f.id = ta.feedback_id
        JOIN customers c ON c.id = f.customer_id
        WHERE c.consent = 1 AND c.email IS NOT NULL AND c.unsubscribed_at IS NULL AND c.suppressed_at IS NULL
        """
    ).fetchall()
    customers_of: dict[int, dict[int, int]] = {}
    for theme_id, feedback_id, customer_id in rows:
        customers_of.setdefault(int(theme_id), {})[int(feedback_id)] = int(customer_id)
    ranked = sorted(customers_of, key=lambda t: (-len(set(customers_of[t].values())), t))[:10]
    best: tuple[int, int] | None = None
    for theme_id in ranked:
        who = customers_of[theme_id]
        reached = len({who[f] for f in theme_evidence(store.conn, [theme_id]) if f in who})
        if reached and (best is None or (-reached, theme_id) < best):
            best = (-reached, theme_id)
    return None if best is None else best[1]


def preview(store: Store, action_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """Who a shipped action reaches (as of its ship date, or ``now`` for one not shipped yet): each
    recipient with the sentence that matched and its score, strongest first, and the exclusions."""
    conn = store.conn
    row = conn.execute("SELECT status, shipped_at FROM actions WHERE id = ?", (action_id,)).fetchone()
    if row is None:
        raise LookupError(action_id)
    status, shipped_at = row
    as_of = shipped_at or (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    recipients, excluded = recipients_for(conn, action_id, as_of)
    members = items_of_action(conn, action_id)
    holdout = holdout_of(conn, action_id)
    out: list[dict[str, Any]] = []
    for rec in recipients:
        best = max(rec.matches.values(), key=lambda m: m.score, default=None)
        out.append(
            {
                "customer_id": rec.customer_id,
                # in the control group (`--holdout`): a recipient who is never emailed about this action
                "held_back": holdout is not None and held_back(holdout[1], action_id, rec.customer_id, holdout[0]),
                "email": rec.email,
                "name": rec.name,
                "feedback_ids": list(rec.feedback_ids),
                "feedback_id": best.feedback_id if best else rec.feedback_ids[0],
                "sentence": best.text if best else None,
                "context": best.before if best else None,  # the sentence before it, quoted with it
                "score": round(best.score, 3) if best else None,
                "why": ("seed" if best.source == "seed" else "manual" if best.source == "manual" else "theme")
                if best
                else "linked",
            }
        )
    out.sort(key=lambda r: (-(r["score"] if r["score"] is not None else 2.0), r["customer_id"]))
    with_evidence = set(action_evidence(conn, action_id))
    related = tq.similar_themes(conn, action_themes(conn, action_id))
    for theme in related:  # what adding it would bring: items with evidence there and not here yet
        theme["more_items"] = len(set(theme_evidence(conn, [theme["theme_id"]])) - with_evidence)
    return {
        "action_id": action_id,
        "status": status,
        "as_of": as_of,
        "recipients": out,
        "excluded": dict(sorted(excluded.items())),
        "member_items": len(members),
        "items_without_evidence": len(members - with_evidence),  # members no sentence of which says it
        # themes that may be the same subject in other words (:data:`~feedback_engine.themes.queries.RELATED_COS`):
        # shown to the person shipping, never added by themselves
        "related_themes": related,
    }
