"""SQL of the customer analyses (churn risk, revenue by theme and segment, loop effect); parameters only.

Theme membership is never defined here: :func:`theme_customers` reads the members of every theme
from :func:`feedback_engine.themes.queries.theme_members` (the one definition every surface reads)
and only maps each member item to its customer. What this module reads itself is what membership
does not cover: customers and their attributes (migration 010), every item of a customer with its
scores and item-level sentiment, the themes of shipped actions, and an action's notified and
held-back recipients (``notifications``, ``action_holdouts``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import numpy as np

from feedback_engine.insights.queries import Filters
from feedback_engine.themes import queries as tq

__all__ = [
    "CustomerItems",
    "customers",
    "CustomerTable",
    "customer_table",
    "customer_details",
    "customer_items",
    "theme_customers",
    "open_theme_ids",
    "theme_labels",
    "has_attributes",
    "recipients_of",
    "action_row",
    "holdout_of",
]

CUSTOMER_COLUMNS = (
    "id, email, platform, handle, display_name, segment, plan, mrr, currency, country, signup_at, churned_at,"
    " attributes_at"
)


def has_attributes(conn: sqlite3.Connection) -> bool:
    """Whether any customer came from a CRM import (``ingest customers``)."""
    return conn.execute("SELECT 1 FROM customers WHERE attributes_at IS NOT NULL LIMIT 1").fetchone() is not None


def customers(conn: sqlite3.Connection, segment: str | None = None) -> dict[int, dict[str, Any]]:
    """Customer id -> its row (attributes included), optionally of one segment."""
    sql = f"SELECT {CUSTOMER_COLUMNS} FROM customers"
    args: list[Any] = []
    if segment:
        sql += " WHERE segment = ?"
        args.append(segment)
    cursor = conn.execute(sql, args)
    names = [d[0] for d in cursor.description]
    return {int(row[0]): dict(zip(names, row, strict=True)) for row in cursor}


@dataclass
class CustomerItems:
    """Every item of a known customer under the filters, as parallel numpy arrays (one row per item)."""

    feedback_id: np.ndarray  # int64
    customer_id: np.ndarray  # int64
    created: np.ndarray  # datetime64[s]; NaT when the source gave no date
    nps: np.ndarray  # float, NaN when none
    negative: np.ndarray  # bool: the item's own sentiment is negative
    score: np.ndarray  # float sentiment score, NaN before analysis

    def __len__(self) -> int:
        return len(self.feedback_id)


_NAT = np.iinfo(np.int64).min  # what numpy reads as NaT


def customer_items(conn: sqlite3.Connection, filters: Filters | None = None) -> CustomerItems:
    """The items of customers (``customer_id`` set) under the filters, with NPS and item-level sentiment.
    SQLite turns the dates into epoch seconds and the label into a flag, so numpy reads plain columns."""
    where, args = (filters or Filters()).where()
    sql = (
        f"SELECT f.id, f.customer_id, coalesce(CAST(strftime('%s', f.created_at) AS INTEGER), {_NAT}), f.nps,"
        " a.sentiment = 'negative', a.sentiment_score"
        " FROM feedback f LEFT JOIN analysis a ON a.feedback_id = f.id"
        f" WHERE f.customer_id IS NOT NULL AND {where} ORDER BY f.id"
    )
    rows = conn.execute(sql, args).fetchall()
    if not rows:
        empty = np.array([], dtype=np.int64)
        return CustomerItems(
            empty, empty.copy(), np.array([], dtype="datetime64[s]"), np.array([]), np.array([], bool), np.array([])
        )
    fid, cid, created, nps, negative, score = zip(*rows, strict=True)
    return CustomerItems(
        np.asarray(fid, dtype=np.int64),
        np.asarray(cid, dtype=np.int64),
        np.asarray(created, dtype=np.int64).view("datetime64[s]"),
        np.array(nps, dtype=float),  # None -> NaN
        np.array(negative, dtype=float) == 1.0,  # NULL (not analysed) -> False
        np.array(score, dtype=float),
    )


def theme_customers(conn: sqlite3.Connection, items: CustomerItems) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Surviving theme id -> (rows in ``items`` of its member items, whether the member says something
    negative about the theme): the members (themes.queries) among ``items``, with the member's
    sentiment about that theme."""
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    fids = items.feedback_id  # sorted (ORDER BY f.id)
    if not len(fids):
        return out
    for theme_id, group in tq.theme_members(conn).items():
        ids = np.fromiter(group.keys(), dtype=np.int64, count=len(group))
        neg = np.fromiter((m.sentiment()[0] == "negative" for m in group.values()), dtype=bool, count=len(group))
        pos = np.minimum(np.searchsorted(fids, ids), len(fids) - 1)
        found = fids[pos] == ids
        if found.any():
            out[theme_id] = (pos[found], neg[found])
    return out


@dataclass
class CustomerTable:
    """Every customer (of a segment) as parallel arrays sorted by id: what the analyses compute on."""

    ids: np.ndarray  # int64, sorted
    segment: np.ndarray  # object (str or None)
    mrr: np.ndarray  # float, NaN when unknown
    currency: np.ndarray  # int: index into ``currencies`` (-1: none)
    currencies: list[str]
    signup: np.ndarray  # datetime64[s], NaT when unknown
    churned: np.ndarray  # datetime64[s], NaT when not churned
    known: np.ndarray  # bool: imported with `ingest customers` (a churn status is known)

    def rows(self, customer_ids: np.ndarray) -> np.ndarray:
        """Positions of these (present) customer ids."""
        return np.searchsorted(self.ids, customer_ids)

    def revenue(self, rows: np.ndarray) -> dict[str, Any]:
        """Summed MRR per currency of the customers at ``rows``, and how many have a revenue."""
        rows = np.asarray(rows, dtype=np.int64)
        valid = rows[~np.isnan(self.mrr[rows])]
        codes = self.currency[valid]
        sums = np.bincount(codes + 1, weights=self.mrr[valid], minlength=len(self.currencies) + 1)
        present = np.bincount(codes + 1, minlength=len(self.currencies) + 1) > 0
        names = ["unknown currency", *self.currencies]
        total = {names[k]: round(float(sums[k]), 2) for k in range(len(names)) if present[k]}
        return {"total": dict(sorted(total.items())), "with_revenue": int(len(valid)), "customers": int(len(rows))}


def customer_table(conn: sqlite3.Connection, segment: str | None = None) -> CustomerTable:
    sql = (
        "SELECT id, segment, mrr, currency, substr(signup_at, 1, 19), substr(churned_at, 1, 19),"
        " attributes_at IS NOT NULL FROM customers"
    )
    args: list[Any] = []
    if segment:
        sql += " WHERE segment = ?"
        args.append(segment)
    rows = conn.execute(sql + " ORDER BY id", args).fetchall()
    if not rows:
        nat = np.array([], dtype="datetime64[s]")
        return CustomerTable(
            np.array([], np.int64), np.array([], object), np.array([]), np.array([], np.int64), [], nat, nat.copy(),
            np.array([], bool),
        )  # fmt: skip
    ids, seg, mrr, cur, signup, churned, known = zip(*rows, strict=True)
    currencies = sorted({c for c in cur if c})
    code = {c: i for i, c in enumerate(currencies)}
    return CustomerTable(
        np.asarray(ids, dtype=np.int64),
        np.array(seg, dtype=object),
        np.array([np.nan if v is None else v for v in mrr], dtype=float),
        np.array([code.get(c, -1) if c else -1 for c in cur], dtype=np.int64),
        currencies,
        np.array([v if v else "NaT" for v in signup], dtype="datetime64[s]"),
        np.array([v if v else "NaT" for v in churned], dtype="datetime64[s]"),
        np.asarray(known, dtype=bool),
    )


def customer_details(conn: sqlite3.Connection, customer_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Customer id -> its row, for the customers a result shows."""
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(customer_ids), tq.CHUNK):
        chunk = customer_ids[start : start + tq.CHUNK]
        cursor = conn.execute(
            f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id IN ({','.join('?' * len(chunk))})", chunk
        )
        names = [d[0] for d in cursor.description]
        for row in cursor:
            out[int(row[0])] = dict(zip(names, row, strict=True))
    return out


def open_theme_ids(conn: sqlite3.Connection) -> tuple[set[int], set[int]]:
    """(active themes with no shipped action, themes with one), resolved through merges."""
    survivors = tq.resolve_survivors(conn)
    shipped = {
        tq.survivor_of(survivors, int(r[0]))
        for r in conn.execute(
            "SELECT t.theme_id FROM action_themes t JOIN actions a ON a.id = t.action_id WHERE a.status = 'shipped'"
        )
    }
    active = {int(r[0]) for r in conn.execute("SELECT id FROM themes WHERE status = 'active'")}
    return active - shipped, shipped


def theme_labels(conn: sqlite3.Connection) -> dict[int, str]:
    return {int(r[0]): str(r[1]) for r in conn.execute("SELECT id, label FROM themes")}


def action_row(conn: sqlite3.Connection, action_id: int) -> dict[str, Any] | None:
    row = conn.execute("SELECT id, title, status, shipped_at FROM actions WHERE id = ?", (int(action_id),)).fetchone()
    return None if row is None else {"id": int(row[0]), "title": row[1], "status": row[2], "shipped_at": row[3]}


def holdout_of(conn: sqlite3.Connection, action_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT share, seed, created_at, created_by FROM action_holdouts WHERE action_id = ?", (int(action_id),)
    ).fetchone()
    return None if row is None else {"share": row[0], "seed": row[1], "created_at": row[2], "created_by": row[3]}


def held_out_actions(conn: sqlite3.Connection) -> list[int]:
    """Shipped actions that have a holdout group, oldest ship first."""
    sql = (
        "SELECT a.id FROM actions a JOIN action_holdouts h ON h.action_id = a.id WHERE a.status = 'shipped'"
        " ORDER BY a.shipped_at, a.id"
    )
    return [int(r[0]) for r in conn.execute(sql)]


def recipients_of(conn: sqlite3.Connection, action_id: int) -> dict[str, list[int]]:
    """The action's recipients: ``assigned`` (every recipient not held back, emailed or not: the
    intention-to-treat group), ``emailed`` (their email was accepted, or may have been) and ``held``
    (the control group: notifications cancelled with the reason ``holdout``)."""
    rows = conn.execute(
        "SELECT n.customer_id, n.status, n.cancel_reason, e.status FROM notifications n"
        " LEFT JOIN emails e ON e.id = n.email_id WHERE n.action_id = ? ORDER BY n.customer_id",
        (int(action_id),),
    ).fetchall()
    out: dict[str, list[int]] = {"assigned": [], "emailed": [], "held": []}
    for cid, status, reason, email_status in rows:
        if status == "cancelled" and reason == "holdout":
            out["held"].append(int(cid))
            continue
        out["assigned"].append(int(cid))
        if email_status in ("sent", "unconfirmed"):
            out["emailed"].append(int(cid))
    return out
