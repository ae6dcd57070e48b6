"""Revenue and segments: the customers and revenue behind each theme, and the theme table of two groups.

Per theme (membership: themes.queries, over the items of known customers under the filters):

- ``customers``: distinct customers with a member item, and their share of the customers who gave
  any feedback (Wilson 95% interval);
- ``mrr``: the summed MRR of those customers per currency (``with_revenue`` of them have one);
  ``mrr_at_risk``: the same over the customers whose member sentiment about the theme was negative
  and who have not churned;
- ``items`` and ``share_negative`` of the member items (Wilson interval).

Comparison (``segments=(A, B)`` or ``periods=((since, until), (since, until))``): the table of each
group, and per theme the difference of the customer shares and of the shares negative (group A
minus group B, Newcombe's interval, p-value), with Benjamini-Hochberg q-values over the themes'
customer-share tests; a theme is flagged at q <= 0.05. Customer shares count each customer once,
so one prolific customer cannot make a theme; shares negative are over items (a customer's items
are treated as independent there).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from feedback_engine.errors import InsightsError
from feedback_engine.insights import customer_queries as cq
from feedback_engine.insights.compare import compare_shares, share
from feedback_engine.insights.queries import Filters
from feedback_engine.insights.stats import benjamini_hochberg
from feedback_engine.store import Store

__all__ = ["themes_by_segment", "FDR"]

FDR = 0.05


def _group_table(
    table: cq.CustomerTable,
    cust_row: np.ndarray,
    themes: dict[int, tuple[np.ndarray, np.ndarray]],
    keep: np.ndarray,
    labels: dict[int, str],
) -> dict[str, Any]:
    """The theme table over the items ``keep`` (a boolean mask over the items)."""
    group_customers = np.unique(cust_row[keep])
    rows: list[dict[str, Any]] = []
    for tid, (idx, neg) in themes.items():
        sel = keep[idx]
        m_idx, m_neg = idx[sel], neg[sel]
        if not len(m_idx):
            continue
        who = np.unique(cust_row[m_idx])
        negative_who = np.unique(cust_row[m_idx[m_neg]])
        at_risk = negative_who[np.isnat(table.churned[negative_who])]
        k_neg = int(m_neg.sum())
        rows.append(
            {
                "theme_id": tid,
                "label": labels.get(tid),
                "customers": share(len(who), len(group_customers)),
                "items": int(len(m_idx)),
                "share_negative": share(k_neg, int(len(m_idx))),
                "mrr": table.revenue(who),
                "mrr_at_risk": table.revenue(at_risk),
                "_who": int(len(who)),
                "_neg": (k_neg, int(len(m_idx))),
            }
        )
    rows.sort(key=lambda r: (-r["customers"]["k"], r["theme_id"]))
    return {
        "customers": int(len(group_customers)),
        "items": int(keep.sum()),
        "mrr": table.revenue(group_customers),
        "themes": rows,
    }


def _strip(table: dict[str, Any]) -> dict[str, Any]:
    for r in table["themes"]:
        r.pop("_who", None)
        r.pop("_neg", None)
    return table


def _in_period(items: cq.CustomerItems, since: date | None, until: date | None) -> np.ndarray:
    keep = ~np.isnat(items.created)
    if since is not None:
        keep &= items.created >= np.datetime64(since.isoformat())
    if until is not None:
        keep &= items.created < np.datetime64(until.isoformat()) + np.timedelta64(1, "D")
    return keep


def themes_by_segment(
    store: Store,
    filters: Filters | None = None,
    *,
    segments: tuple[str, str] | None = None,
    periods: tuple[tuple[date | None, date | None], tuple[date | None, date | None]] | None = None,
) -> dict[str, Any]:
    """The theme table with customers and revenue behind each theme, and (given two segments or two
    periods) both groups' tables and their differences (see the module docstring)."""
    if segments is not None and periods is not None:
        raise InsightsError("Compare either two segments (--segments A B) or two periods (--periods P1 P2), not both.")
    f = filters or Filters()
    conn = store.conn
    table = cq.customer_table(conn)
    items = cq.customer_items(conn, f)
    themes = cq.theme_customers(conn, items)
    labels = cq.theme_labels(conn)
    cust_row = table.rows(items.customer_id) if len(table.ids) else np.zeros(0, dtype=np.int64)
    everything = np.ones(len(items), dtype=bool)
    out: dict[str, Any] = {
        "filters": {"since": f.since, "until": f.until, "channel": f.channel, "segment": f.segment},
        "overall": _strip(_group_table(table, cust_row, themes, everything, labels)),
        "comparison": None,
    }
    if segments is None and periods is None:
        return out
    if segments is not None:
        known = {str(v) for v in table.segment.tolist() if v}
        for s in segments:
            if s not in known:
                shown = ", ".join(sorted(known)[:20]) or "none: import them with `feedback-engine ingest customers`"
                raise InsightsError(f"No customers in segment {s!r}; the segments are: {shown}.")
        seg = table.segment[cust_row]
        masks = [seg == segments[0], seg == segments[1]]
        names = [f"segment {segments[0]}", f"segment {segments[1]}"]
    else:
        assert periods is not None
        masks = [_in_period(items, *periods[0]), _in_period(items, *periods[1])]
        names = [f"{p[0] or '...'}..{p[1] or '...'}" for p in periods]
    a = _group_table(table, cust_row, themes, np.asarray(masks[0], dtype=bool), labels)
    b = _group_table(table, cust_row, themes, np.asarray(masks[1], dtype=bool), labels)
    out["comparison"] = _compare(a, b, names, labels)
    return out


def _compare(a: dict[str, Any], b: dict[str, Any], names: list[str], labels: dict[int, str]) -> dict[str, Any]:
    rows_a = {r["theme_id"]: r for r in a["themes"]}
    rows_b = {r["theme_id"]: r for r in b["themes"]}
    rows = []
    for tid in sorted(set(rows_a) | set(rows_b)):
        ra, rb = rows_a.get(tid), rows_b.get(tid)
        ka = ra["_who"] if ra else 0
        kb = rb["_who"] if rb else 0
        na, nb = ra["_neg"] if ra else (0, 0), rb["_neg"] if rb else (0, 0)
        cust = compare_shares(ka, a["customers"], kb, b["customers"])
        neg = compare_shares(na[0], na[1], nb[0], nb[1])
        rows.append(
            {
                "theme_id": tid,
                "label": labels.get(tid),
                "customers_a": cust["a"],
                "customers_b": cust["b"],
                "customer_share_diff": cust["diff"],
                "customer_share_ci": cust["ci"],
                "p": cust["p"],
                "share_negative_a": neg["a"],
                "share_negative_b": neg["b"],
                "share_negative_diff": neg["diff"],
                "share_negative_ci": neg["ci"],
                "share_negative_p": neg["p"],
                "mrr_a": ra["mrr"] if ra else None,
                "mrr_b": rb["mrr"] if rb else None,
            }
        )
    qs = benjamini_hochberg([r["p"] if r["p"] is not None else 1.0 for r in rows])
    for r, q in zip(rows, qs, strict=True):
        r["q"] = round(q, 6)
        r["flagged"] = bool(q <= FDR)
    rows.sort(key=lambda r: (not r["flagged"], -abs(r["customer_share_diff"] or 0.0), r["theme_id"]))
    return {
        "a": {"name": names[0], "customers": a["customers"], "items": a["items"], "mrr": a["mrr"]},
        "b": {"name": names[1], "customers": b["customers"], "items": b["items"], "mrr": b["mrr"]},
        "themes": rows,
        "fdr": FDR,
    }
