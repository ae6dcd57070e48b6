"""Drivers: which themes move NPS, CSAT or the star rating.

Responses are the items with that score under the filters. The score of a set of responses is
the NPS (% promoters 9-10 minus % detractors 0-6; each response coded +100 / 0 / -100, so the
NPS is their mean), the mean CSAT (1-5) or the mean rating (1-5). A theme's responses are its
members' (:func:`feedback_engine.themes.queries.theme_members`, the one membership definition).

Two views per theme, each with a 95% interval:

- **Leave-one-out impact**: the score of all responses minus the score without the theme's
  responses, ``(n_theme / n) * (mean_theme - mean_rest)``, with the analytic standard error of
  the difference of the two means (Welch) scaled by the theme's share (held fixed). It answers
  "how much higher would the score be without what this theme's respondents said".
- **Multivariable model**: OLS of the response's coded score on the presence of every theme
  with at least :data:`MIN_RESPONSES` responses (plus an intercept; an item in two themes counts
  for both), with heteroscedasticity-robust (HC1) standard errors, since scores are bounded and
  discrete. Its coefficient is the theme's effect holding the other themes fixed.

Flag rule: a theme is a **driver** when its OLS coefficient's p-value passes Benjamini-Hochberg
at 5% across the themes in the model (and it has at least :data:`MIN_RESPONSES` responses);
the sign says whether it lowers or raises the score. With a ``segment`` attribute on customers
(migration 010), the same is computed per segment with at least :data:`MIN_SEGMENT` responses.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import sparse

from feedback_engine.insights import queries as iq
from feedback_engine.insights.queries import Filters
from feedback_engine.insights.stats import Z95, benjamini_hochberg, fmt_p, normal_p
from feedback_engine.store import Store

__all__ = ["drivers", "MIN_RESPONSES", "MIN_SEGMENT", "FDR", "SCORES"]

MIN_RESPONSES = 30
MIN_SEGMENT = 200
FDR = 0.05
SCORES = ("nps", "csat", "rating")
UNIT = {"nps": "NPS points", "csat": "CSAT points", "rating": "stars"}


def coded(score: str, values: np.ndarray) -> np.ndarray:
    """Each response's contribution: NPS +100/0/-100, else the value itself."""
    if score == "nps":
        return np.where(values >= 9, 100.0, np.where(values <= 6, -100.0, 0.0))
    return values.astype(float)


def _score_ci(y: np.ndarray) -> dict[str, Any]:
    n = len(y)
    if n == 0:
        return {"n": 0, "score": None, "ci": None}
    mean = float(y.mean())
    se = float(y.std(ddof=1) / math.sqrt(n)) if n > 1 else float("inf")
    return {"n": n, "score": round(mean, 3), "ci": _ci(mean, se)}


def _ci(est: float, se: float) -> list[float] | None:
    if not math.isfinite(se):
        return None
    return [round(est - Z95 * se, 3), round(est + Z95 * se, 3)]


def drivers(store: Store, score: str = "nps", filters: Filters | None = None) -> dict[str, Any]:
    """Per-theme leave-one-out impact and OLS effect on the score, drivers flagged (module docstring)."""
    if score not in SCORES:
        raise ValueError(f"score must be one of {', '.join(SCORES)}")
    filters = filters or Filters()
    conn = store.conn
    rows = iq.scored_items(conn, score, filters)
    fids = np.array([r[0] for r in rows], dtype=np.int64)
    y = coded(score, np.array([r[1] for r in rows], dtype=float))
    themes = iq.theme_rows(conn)
    pairs = np.array(iq.scored_pairs(conn, score, filters), dtype=np.int64).reshape(-1, 2)
    if len(fids):  # the response row of each pair's item (fids are sorted), where it has the score
        pos = np.minimum(np.searchsorted(fids, pairs[:, 0]), len(fids) - 1)
        found = fids[pos] == pairs[:, 0]
    else:
        pos, found = np.zeros(len(pairs), dtype=np.int64), np.zeros(len(pairs), dtype=bool)
    pos, owner = pos[found], pairs[found, 1]
    order = np.argsort(owner, kind="stable")
    pos, owner = pos[order], owner[order]
    member_rows: dict[int, np.ndarray] = {}
    for tid, start, count in zip(*np.unique(owner, return_index=True, return_counts=True), strict=True):
        if themes.get(int(tid), {}).get("status") == "active":
            member_rows[int(tid)] = np.sort(pos[start : start + count])
    result = _analyse(score, y, member_rows, themes)
    result.update(score=score, filters={"channel": filters.channel, "segment": filters.segment})
    result["rule"] = (
        f"driver: OLS coefficient passes Benjamini-Hochberg at {FDR:.0%} across the modelled themes "
        f"(themes with >= {MIN_RESPONSES} responses); HC1 robust 95% intervals"
    )
    result["by_segment"] = None
    if filters.segment is None and iq.has_customer_column(conn, "segment"):
        seg_of = iq.segments_of(conn, fids.tolist())
        by: dict[str, Any] = {}
        seg_arr = np.array([seg_of.get(int(f), "") for f in fids], dtype=object)
        for seg in sorted({s for s in seg_of.values()}):
            mask = seg_arr == seg
            if int(mask.sum()) < MIN_SEGMENT:
                continue
            positions = np.flatnonzero(mask)
            remap = -np.ones(len(fids), dtype=np.int64)
            remap[positions] = np.arange(len(positions))
            sub = {tid: remap[r[mask[r]]] for tid, r in member_rows.items()}
            by[seg] = _analyse(score, y[mask], sub, themes)
        result["by_segment"] = by
    return result


def _analyse(
    score: str, y: np.ndarray, member_rows: dict[int, np.ndarray], themes: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    n = len(y)
    overall = _score_ci(y)
    out_rows: list[dict[str, Any]] = []
    modelled = [tid for tid, r in sorted(member_rows.items()) if len(r) >= MIN_RESPONSES and len(r) < n]
    ols = _ols(y, [member_rows[t] for t in modelled]) if modelled and n > len(modelled) + 1 else None
    qs = benjamini_hochberg([ols["p"][i] for i in range(len(modelled))]) if ols else []
    for tid, rows in sorted(member_rows.items()):
        k = len(rows)
        if k == 0:
            continue
        mask = np.zeros(n, dtype=bool)
        mask[rows] = True
        inside, rest = y[mask], y[~mask]
        row: dict[str, Any] = {
            "theme_id": tid,
            "label": themes.get(tid, {}).get("label"),
            "responses": k,
            "score_theme": round(float(inside.mean()), 3),
            "score_without": round(float(rest.mean()), 3) if len(rest) else None,
            "loo_impact": None,
            "loo_ci": None,
            "ols_effect": None,
            "ols_ci": None,
            "ols_p": None,
            "q": None,
            "driver": False,
        }
        if len(rest) > 1 and k > 1:
            diff = float(inside.mean() - rest.mean())
            se = math.sqrt(float(inside.var(ddof=1)) / k + float(rest.var(ddof=1)) / len(rest))
            share = k / n
            row["loo_impact"] = round(share * diff, 3)
            row["loo_ci"] = _ci(share * diff, share * se)
        if ols is not None and tid in modelled:
            i = modelled.index(tid)
            est, se, p = ols["coef"][i], ols["se"][i], ols["p"][i]
            row.update(ols_effect=round(est, 3), ols_ci=_ci(est, se), ols_p=p, q=qs[i], driver=qs[i] <= FDR)
            if row["driver"]:
                way = "lowers" if est < 0 else "raises"
                lo, hi = row["ols_ci"] or [est, est]
                row["text"] = (
                    f"{row['label']}: {way} the {score.upper()} by {abs(est):.1f} {UNIT[score]} "
                    f"(95% CI {lo:.1f} to {hi:.1f}; {k} of {n} responses; {fmt_p(p)}, q={qs[i]:.2g})"
                )
        out_rows.append(row)
    out_rows.sort(key=lambda r: (not r["driver"], r["ols_p"] if r["ols_p"] is not None else 2.0, r["theme_id"]))
    return {
        "responses": n,
        "overall": overall,
        "intercept": None
        if ols is None
        else {"estimate": round(ols["intercept"], 3), "ci": _ci(ols["intercept"], ols["intercept_se"])},
        "modelled_themes": len(modelled),
        "themes": out_rows,
        "drivers": [r for r in out_rows if r["driver"]],
    }


def _ols(y: np.ndarray, columns: list[np.ndarray]) -> dict[str, Any]:
    """OLS of y on an intercept and 0/1 columns (row indices), with HC1 standard errors."""
    n, k = len(y), len(columns) + 1
    data = np.ones(n + sum(len(c) for c in columns))
    row_idx = np.concatenate([np.arange(n), *columns]) if columns else np.arange(n)
    col_idx = np.concatenate([np.zeros(n, dtype=np.int64), *[np.full(len(c), j + 1) for j, c in enumerate(columns)]])
    X = sparse.csr_matrix((data, (row_idx, col_idx)), shape=(n, k))
    xtx = (X.T @ X).toarray()
    xty = X.T @ y
    bread = np.linalg.pinv(xtx)
    beta = bread @ xty
    resid = y - X @ beta
    meat = (X.T @ X.multiply((resid**2)[:, None]).tocsr()).toarray()
    cov = bread @ meat @ bread * (n / max(n - k, 1))
    se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    p = [normal_p(float(b), float(s)) for b, s in zip(beta[1:], se[1:], strict=True)]
    return {
        "intercept": float(beta[0]),
        "intercept_se": float(se[0]),
        "coef": [float(b) for b in beta[1:]],
        "se": [float(s) for s in se[1:]],
        "p": p,
    }
