"""Does closing the loop work? Notified against held-back recipients of a shipped action.

An action shipped with ``--holdout`` has a random control group (:mod:`feedback_engine.loop.holdout`)
drawn from the same recipients as those who are emailed, so a difference between the groups after
the ship date is the effect of the email. The comparison is intention-to-treat: ``notified`` is
every recipient not held back, whether their email has gone yet or bounced (``emailed`` says how
many were sent), so the randomisation is kept.

After the ship date (up to ``until`` or the newest item), per group:

- ``volume``: items per customer (customers without later feedback count 0), Welch interval;
- ``sentiment``: each customer's mean item sentiment score, over customers with later items, and
  ``share_negative`` of the later items (Newcombe interval);
- ``nps``: NPS of the later responses (normal interval of the difference); ``nps_change``: each
  customer's mean NPS after minus before the ship date, over customers with both (Welch);
- ``churn``: share of the group whose churn date (``ingest customers``) falls after the ship date.

``balance`` gives the same figures before the ship date: with a fair draw the groups differ there
only by chance. The verdict names NPS when it differs at the 5% level, else says there is no
measurable difference yet and how many responses there are.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from feedback_engine.errors import InsightsError, NotFoundError
from feedback_engine.insights import customer_queries as cq
from feedback_engine.insights.compare import compare_means, compare_nps, compare_shares
from feedback_engine.insights.queries import Filters
from feedback_engine.store import Store

__all__ = ["loop_effect"]


def _dt(text: str | None) -> np.datetime64:
    return np.datetime64(str(text)[:19]) if text else np.datetime64("NaT")


def loop_effect(
    store: Store, action_id: int | None = None, filters: Filters | None = None, *, now: datetime | None = None
) -> dict[str, Any]:
    """Notified against held-back customers of one shipped action (or of every action with a holdout)."""
    conn = store.conn
    f = filters or Filters()
    if action_id is not None:
        row = cq.action_row(conn, action_id)
        if row is None:
            raise NotFoundError(f"No action with id {action_id}; see `feedback-engine actions list`.")
        if row["status"] != "shipped":
            raise InsightsError(f"Action {action_id} is not shipped; there is no loop to measure yet.")
        if cq.holdout_of(conn, action_id) is None:
            raise InsightsError(
                f"Action {action_id} was shipped without a holdout, so there is no control group to compare with."
                " Ship the next action with `actions update ID --status shipped --holdout 10%`."
            )
        ids = [action_id]
    else:
        ids = cq.held_out_actions(conn)
    items = cq.customer_items(conn, Filters(channel=f.channel, segment=f.segment))
    custs = cq.customers(conn, f.segment)
    end = _end(now, f, items)
    return {
        "as_of": str(end) + "Z",
        "actions": [_one(conn, aid, items, custs, end) for aid in ids],
        "note": None if ids else "No shipped action has a holdout; ship one with --holdout 10%.",
    }


def _end(now: datetime | None, f: Filters, items: cq.CustomerItems) -> np.datetime64:
    if now is not None:
        return np.datetime64(now.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat())
    if f.until is not None:
        return np.datetime64(f.until.isoformat()) + np.timedelta64(1, "D") - np.timedelta64(1, "s")
    dated = items.created[~np.isnat(items.created)]
    if len(dated):
        return dated.max()
    return np.datetime64(datetime.now(UTC).replace(tzinfo=None, microsecond=0).isoformat())


def _group_figures(
    items: cq.CustomerItems, who: list[int], mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[int], np.ndarray, dict[int, float]]:
    """(items per customer, mean sentiment per customer with items, item negative flags, NPS responses,
    customer -> mean NPS) over the items in ``mask`` of the customers ``who``."""
    chosen = mask & np.isin(items.customer_id, np.asarray(who, dtype=np.int64))
    cids = items.customer_id[chosen]
    counts = {c: 0 for c in who}
    for c in cids.tolist():
        counts[int(c)] += 1
    score = items.score[chosen]
    sentiments: dict[int, list[float]] = {}
    nps_by: dict[int, list[float]] = {}
    for c, s, n in zip(cids.tolist(), score.tolist(), items.nps[chosen].tolist(), strict=True):
        if s == s:  # not NaN
            sentiments.setdefault(int(c), []).append(s)
        if n == n:
            nps_by.setdefault(int(c), []).append(n)
    volume = np.array([counts[c] for c in who], dtype=float)
    mean_sentiment = np.array([float(np.mean(v)) for v in sentiments.values()])
    negative = items.negative[chosen & ~np.isnan(items.score)].astype(int).tolist()
    responses = items.nps[chosen][~np.isnan(items.nps[chosen])]
    return volume, mean_sentiment, negative, responses, {c: float(np.mean(v)) for c, v in nps_by.items()}


def _compare(
    items: cq.CustomerItems, notified: list[int], held: list[int], mask: np.ndarray
) -> tuple[dict[str, Any], dict[int, float], dict[int, float]]:
    a = _group_figures(items, notified, mask)
    b = _group_figures(items, held, mask)
    out = {
        "volume": compare_means(a[0], b[0]),
        "sentiment": compare_means(a[1], b[1]),
        "share_negative": compare_shares(sum(a[2]), len(a[2]), sum(b[2]), len(b[2])),
        "nps": compare_nps(a[3], b[3]),
    }
    return out, a[4], b[4]


def _one(
    conn: Any, action_id: int, items: cq.CustomerItems, custs: dict[int, dict[str, Any]], end: np.datetime64
) -> dict[str, Any]:
    row = cq.action_row(conn, action_id)
    assert row is not None
    holdout = cq.holdout_of(conn, action_id)
    groups = cq.recipients_of(conn, action_id)
    notified = [c for c in groups["assigned"] if c in custs]
    held = [c for c in groups["held"] if c in custs]
    shipped = _dt(row["shipped_at"])
    dated = ~np.isnat(items.created)
    after_mask = dated & (items.created > shipped) & (items.created <= end)
    before_mask = dated & (items.created <= shipped)
    after, nps_after_a, nps_after_b = _compare(items, notified, held, after_mask)
    balance, nps_before_a, nps_before_b = _compare(items, notified, held, before_mask)
    change_a = [nps_after_a[c] - nps_before_a[c] for c in notified if c in nps_after_a and c in nps_before_a]
    change_b = [nps_after_b[c] - nps_before_b[c] for c in held if c in nps_after_b and c in nps_before_b]
    after["nps_change"] = compare_means(change_a, change_b)
    known = [c for c in notified + held if custs[c]["attributes_at"] is not None]
    if known:
        churn_a = [c for c in notified if custs[c]["attributes_at"] is not None]
        churn_b = [c for c in held if custs[c]["attributes_at"] is not None]

        def churned(c: int) -> bool:
            t = _dt(custs[c]["churned_at"])
            return bool(not np.isnat(t) and shipped < t <= end)

        after["churn"] = compare_shares(
            sum(churned(c) for c in churn_a), len(churn_a), sum(churned(c) for c in churn_b), len(churn_b)
        )
    else:
        after["churn"] = None
    days = float((end - shipped) / np.timedelta64(1, "D")) if not np.isnat(shipped) else None
    return {
        "action_id": action_id,
        "title": row["title"],
        "shipped_at": row["shipped_at"],
        "days_since": None if days is None else round(days, 1),
        "holdout": holdout,
        "notified": len(notified),
        "emailed": len([c for c in groups["emailed"] if c in custs]),
        "held_back": len(held),
        "after": after,
        "balance": balance,
        "verdict": _verdict(after),
    }


def _verdict(after: dict[str, Any]) -> str:
    nps = after["nps"]
    if nps["diff"] is None:
        n = nps["a"]["n"] + nps["b"]["n"]
        return f"no measurable change yet: {n} NPS responses since shipping (need 2+ in each group)"
    significant = nps["p"] is not None and nps["p"] < 0.05
    lo, hi = nps["ci"]
    sizes = f"{nps['a']['n']} vs {nps['b']['n']} responses"
    if significant:
        word = "higher" if nps["diff"] > 0 else "lower"
        return f"notified customers' NPS is {abs(nps['diff']):.1f} points {word} [{lo:.1f}, {hi:.1f}], significant ({sizes})"
    return f"no measurable difference in NPS yet: {nps['diff']:+.1f} points [{lo:.1f}, {hi:.1f}] ({sizes})"
