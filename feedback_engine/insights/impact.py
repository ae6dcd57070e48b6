"""Impact of shipped actions: did the complaints about its themes fall after it shipped?

For a shipped action, the **before** window is the ``window_days`` (28) days before
``actions.shipped_at`` and the **after** window the same length from it, cut at the newest item
(so a recent action is judged on what has come in since). The action's themes are resolved to
their survivors; its members are the items in any of them, each once (with what its sentences
there say, :func:`feedback_engine.themes.queries.union_members`), and the **control** is every
item in some other active theme and in none of the action's.

Figures, each with its counts and a 95% interval:

- **volume share**: the action's members among all items, before and after (Wilson intervals),
  and their count relative to the control's, after against before (a ratio as below);
- **complaints vs other themes** (the verdict): the negative members of the action's themes
  relative to the control's items, after against before -- the ratio
  ``(c_after / o_after) / (c_before / o_before)`` with a log-normal (Poisson) interval, 0.5 added
  to each count when one is 0. A difference-in-differences on the log scale: a change in overall
  volume or in the other themes moves both sides alike;
- **share negative**: the change in the members' negative share minus the control's change;
- **NPS**: the change in the members' NPS minus the control's change (responses coded
  +100/0/-100, normal interval).

Verdict: with fewer than :data:`MIN_AFTER` members since the ship date, or no complaint before,
"no measurable change yet: N items since"; otherwise "fewer complaints, significant" when the
ratio's interval lies below 1, "more complaints, significant" above 1, else "no significant
change in complaints".
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from feedback_engine.errors import NotFoundError
from feedback_engine.insights import queries as iq
from feedback_engine.insights.queries import Filters
from feedback_engine.insights.stats import Z95, wilson
from feedback_engine.store import Store
from feedback_engine.themes.queries import Member, parse_time, union_members

__all__ = ["impact", "WINDOW_DAYS", "MIN_AFTER"]

WINDOW_DAYS = 28
MIN_AFTER = 20


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def impact(
    store: Store, action_id: int | None = None, *, window_days: int = WINDOW_DAYS, filters: Filters | None = None
) -> dict[str, Any]:
    """The impact of one shipped action (``action_id``) or of every shipped action (module docstring)."""
    filters = filters or Filters()
    conn = store.conn
    if action_id is not None:
        found = iq.action_exists(conn, action_id)
        if found is None:
            raise NotFoundError(
                f"No action {action_id}; `feedback-engine actions list` shows the ids.", action=action_id
            )
        actions = [found]
    else:
        actions = iq.shipped_actions(conn)
    newest = parse_time(conn.execute("SELECT max(created_at) FROM feedback").fetchone()[0])
    ships = [t for a in actions if a["status"] == "shipped" and (t := parse_time(a["shipped_at"])) is not None]
    groups: dict[int, dict[int, Member]] = {}
    if ships:  # members written in the windows only: the same membership, read for that span
        span = Filters(
            since=(min(ships) - timedelta(days=window_days + 1)).date(),
            until=(max(ships) + timedelta(days=window_days + 1)).date(),
            channel=filters.channel,
            segment=filters.segment,
        )
        groups = iq.members(conn, span)
    themes = iq.theme_rows(conn)
    active = [t for t, meta in themes.items() if meta["status"] == "active"]
    everyone = _everyone(groups, active) if actions else {}
    out = []
    for action in actions:
        out.append(_one(store, action, groups, everyone, newest, window_days, filters))
    return {
        "window_days": window_days,
        "filters": {"channel": filters.channel, "segment": filters.segment},
        "actions": out,
    }


def _everyone(groups: dict[int, dict[int, Member]], active: list[int]) -> dict[int, Member]:
    """The members of every active theme, each item once: ``union_members`` over the items in
    several themes (what their sentences there say), the others as they are (no copy)."""
    seen: dict[int, int] = {}
    for t in active:
        for fid in groups.get(t, {}):
            seen[fid] = seen.get(fid, 0) + 1
    out = {fid: m for t in active for fid, m in groups.get(t, {}).items() if seen[fid] == 1}
    shared = {fid for fid, c in seen.items() if c > 1}
    if shared:
        out.update(union_members({f: m for f, m in groups.get(t, {}).items() if f in shared} for t in active))
    return out


def _one(
    store: Store,
    action: dict[str, Any],
    groups: dict[int, dict[int, Member]],
    everyone: dict[int, Member],
    newest: datetime | None,
    window_days: int,
    filters: Filters,
) -> dict[str, Any]:
    base = {"action_id": action["id"], "title": action["title"], "shipped_at": action["shipped_at"]}
    shipped = parse_time(action["shipped_at"]) if action["status"] == "shipped" else None
    if shipped is None:
        return {**base, "verdict": "not shipped yet", "themes": []}
    theme_ids = iq.action_theme_ids(store.conn, action["id"])
    mine = union_members(groups.get(t, {}) for t in theme_ids)
    others = {fid: m for fid, m in everyone.items() if fid not in mine}  # in other themes only
    end = shipped + timedelta(days=window_days)
    if newest is not None and newest < end:
        end = newest + timedelta(seconds=1)
    start = shipped - timedelta(days=window_days)
    windows = {
        "before": iq.items_between(store.conn, _iso(start), _iso(shipped), filters),
        "after": iq.items_between(store.conn, _iso(shipped), _iso(end), filters) if end > shipped else [],
    }
    counts = {name: _counts(rows, mine, others) for name, rows in windows.items()}
    b, a = counts["before"], counts["after"]
    days_after = max(0.0, (end - shipped).total_seconds() / 86400)
    result = {
        **base,
        "themes": theme_ids,
        "before": {"since": _iso(start), "until": _iso(shipped), **_public(b)},
        "after": {"since": _iso(shipped), "until": _iso(end), "days": round(days_after, 1), **_public(a)},
        "volume_share": {
            "before": _share(b["members"], b["items"]),
            "after": _share(a["members"], a["items"]),
        },
        "volume_vs_others": _ratio(b["members"], b["others"], a["members"], a["others"]),
        "complaints_vs_others": _ratio(b["complaints"], b["others"], a["complaints"], a["others"]),
        "share_negative_did": _did_share(b, a),
        "nps_did": _did_nps(b, a),
    }
    result["verdict"] = _verdict(result, a["members"], b["complaints"])
    return result


def _counts(rows: list[tuple[int, int | None]], mine: dict[int, Member], others: dict[int, Member]) -> dict[str, Any]:
    ids = [fid for fid, _ in rows]
    nps_of = dict(rows)
    members = [mine[f] for f in ids if f in mine]
    labels = [m.sentiment()[0] for m in members]
    labelled = [lab for lab in labels if lab]
    control = [f for f in ids if f in others]
    control_labels = [others[f].sentiment()[0] for f in control]
    return {
        "items": len(ids),
        "members": len(members),
        "complaints": labels.count("negative"),
        "labelled": len(labelled),
        "others": len(control),
        "nps_members": _coded([nps_of[m.feedback_id] for m in members]),
        "nps_others": _coded([nps_of[f] for f in control]),
        "others_negative": control_labels.count("negative"),
        "others_labelled": sum(1 for lab in control_labels if lab),
    }


def _coded(values: list[int | None]) -> np.ndarray:
    v = np.array([x for x in values if x is not None], dtype=float)
    return np.where(v >= 9, 100.0, np.where(v <= 6, -100.0, 0.0))


def _public(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "items": c["items"],
        "members": c["members"],
        "complaints": c["complaints"],
        "other_theme_items": c["others"],
        "nps_responses": len(c["nps_members"]),
    }


def _share(k: int, n: int) -> dict[str, Any]:
    lo, hi = wilson(k, n)
    return {
        "share": round(k / n, 4) if n else None,
        "ci": None if lo is None else [round(lo, 4), round(hi or 0, 4)],
        "k": k,
        "n": n,
    }


def _ratio(c_b: int, o_b: int, c_a: int, o_a: int) -> dict[str, Any]:
    cells = [c_b, o_b, c_a, o_a]
    if min(o_b, o_a) == 0 and sum(cells) == 0:
        return {"ratio": None, "ci": None}
    adj = [x + 0.5 for x in cells] if 0 in cells else [float(x) for x in cells]
    log_rr = math.log((adj[2] / adj[3]) / (adj[0] / adj[1]))
    se = math.sqrt(sum(1 / x for x in adj))
    return {
        "ratio": round(math.exp(log_rr), 3),
        "ci": [round(math.exp(log_rr - Z95 * se), 3), round(math.exp(log_rr + Z95 * se), 3)],
        "counts": [c_b, c_a],
        "other_theme_items": [o_b, o_a],
    }


def _did_share(b: dict[str, Any], a: dict[str, Any]) -> dict[str, Any]:
    cells = [(b["complaints"], b["labelled"]), (a["complaints"], a["labelled"])]
    cells += [(b["others_negative"], b["others_labelled"]), (a["others_negative"], a["others_labelled"])]
    if any(n == 0 for _, n in cells):
        return {"did": None, "ci": None, "n": [n for _, n in cells]}
    p = [k / n for k, n in cells]
    est = (p[1] - p[0]) - (p[3] - p[2])
    se = math.sqrt(sum(q * (1 - q) / n for q, (_, n) in zip(p, cells, strict=True)))
    return {
        "did": round(est, 4),
        "ci": [round(est - Z95 * se, 4), round(est + Z95 * se, 4)],
        "members": [round(p[0], 4), round(p[1], 4)],
        "others": [round(p[2], 4), round(p[3], 4)],
        "n": [n for _, n in cells],
    }


def _did_nps(b: dict[str, Any], a: dict[str, Any]) -> dict[str, Any]:
    parts = [b["nps_members"], a["nps_members"], b["nps_others"], a["nps_others"]]
    if any(len(p) < 2 for p in parts):
        return {"did": None, "ci": None, "n": [len(p) for p in parts]}
    means = [float(p.mean()) for p in parts]
    est = (means[1] - means[0]) - (means[3] - means[2])
    se = math.sqrt(sum(float(p.var(ddof=1)) / len(p) for p in parts))
    return {
        "did": round(est, 2),
        "ci": [round(est - Z95 * se, 2), round(est + Z95 * se, 2)],
        "members": [round(means[0], 1), round(means[1], 1)],
        "others": [round(means[2], 1), round(means[3], 1)],
        "n": [len(p) for p in parts],
    }


def _verdict(result: dict[str, Any], after_members: int, complaints_before: int) -> str:
    ratio = result["complaints_vs_others"]
    if after_members < MIN_AFTER or complaints_before == 0 or ratio["ci"] is None:
        return f"no measurable change yet: {after_members} items since"
    lo, hi = ratio["ci"]
    if hi < 1:
        return "fewer complaints, significant"
    if lo > 1:
        return "more complaints, significant"
    return f"no significant change in complaints: {after_members} items since"
