"""Churn risk: who to call, what predicts churn, and which themes churners raised.

**Risk list.** A customer who has not churned is at risk when, under the filters, they gave a
detractor score (NPS 0-6) or said something negative (their member sentiment, themes.queries) in a
theme that has no shipped action. They are ranked by ``mrr * 0.5 ** (days since the latest such
signal / 30)``: revenue, halved for every month the signal is older; customers without a known
revenue come after those with one, by recency.

**Model** (when churn dates are known: customers imported with ``ingest customers``). A snapshot
at time ``t`` takes the customers with a known status who had not churned by ``t`` and had given
feedback before it; its features come from their feedback before ``t`` only -- number of items
(log), share of negative items, mean sentiment score, any detractor score, lowest NPS, days since
the last item (log), negative items in the ``horizon`` days before ``t`` (log), and whether they said
something negative in that window about each of the (up to) 20 themes raised by most customers
(a complaint fades: the planted tests showed an all-time "ever raised" flag dilutes the signal with
old complainers who stayed) -- and its label is churning within ``horizon`` days after ``t``. A logistic regression
(scikit-learn, standardised features, L2) is fitted on the snapshot at ``now - 2 * horizon`` and
validated on the later snapshot at ``now - horizon`` (a time split: no customer-period of the
test is seen in training): AUC with its Hanley-McNeil 95% interval, the Brier score, calibration
in the large (mean predicted against observed), the calibration slope and intercept (a logistic
fit of the outcome on the logit of the prediction: 1 and 0 when calibrated), and a reliability
table by quintile with Wilson intervals. The model refitted on the later snapshot scores the
risk list (probability of churning within ``horizon`` days). With fewer than
:data:`MIN_EVENTS` churners in either snapshot there is no model, and the result says why.

**Themes associated with churn.** Among customers with a known status and feedback, per theme:
the churn rate of those who raised it (an item before their churn date) against those who did
not (Wilson intervals), the difference with Newcombe's interval, and the odds ratio from one
logistic regression of churn on every theme (up to 50) and log(1 + items) -- churners stop writing,
so without that adjustment every theme looked protective on data with nothing planted -- with its
Wald interval and p-value; Benjamini-Hochberg q-values across the themes; a theme is flagged when
q <= 0.05 and its odds ratio is above 1.
"""

from __future__ import annotations

import csv
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from feedback_engine.errors import InsightsError
from feedback_engine.ingest.export import csv_safe
from feedback_engine.insights import customer_queries as cq
from feedback_engine.insights.compare import compare_shares, share
from feedback_engine.insights.queries import Filters
from feedback_engine.insights.stats import Z95, benjamini_hochberg
from feedback_engine.store import Store

__all__ = ["churn_risk", "write_csv", "HORIZON_DAYS", "MIN_EVENTS", "CSV_COLUMNS"]

HORIZON_DAYS = 90
HALF_LIFE_DAYS = 30.0
MIN_EVENTS = 10
TOP_THEMES = 20
FDR = 0.05
MIN_RAISED = 5
MAX_MODEL_THEMES = 50
CSV_COLUMNS = (
    "rank",
    "customer_id",
    "email",
    "name",
    "segment",
    "plan",
    "mrr",
    "currency",
    "last_signal_at",
    "days_since_signal",
    "detractor_responses",
    "last_nps",
    "negative_open_items",
    "open_themes",
    "churn_probability",
    "priority",
)


def _iso(value: np.datetime64) -> str | None:
    return None if np.isnat(value) else str(value.astype("datetime64[s]")) + "Z"


def churn_risk(
    store: Store,
    filters: Filters | None = None,
    *,
    now: datetime | None = None,
    horizon_days: int = HORIZON_DAYS,
    limit: int | None = 100,
) -> dict[str, Any]:
    """The risk list, the churn model's validation and the themes associated with churn (module docstring)."""
    f = filters or Filters()
    conn = store.conn
    table = cq.customer_table(conn, f.segment)
    items = cq.customer_items(conn, f)
    themes = cq.theme_customers(conn, items)
    open_ids, _shipped = cq.open_theme_ids(conn)
    labels = cq.theme_labels(conn)
    row_of = table.rows(items.customer_id) if len(table.ids) else np.zeros(0, dtype=np.int64)
    ref = _reference(now, f, items, table.churned)
    ctx = _Context(table.ids, row_of, items, themes, table.churned, table.signup, table.known)
    candidates, order, signal, revenue = _ranked(ctx, table, open_ids, ref)
    model = _model(ctx, ref, horizon_days)
    probs = model.pop("final", None) or {}
    shown = order if limit is None else order[:limit]
    risk = _rows(conn, ctx, table, candidates[shown], signal, open_ids, labels, ref, probs)
    return {
        "as_of": _iso(ref),
        "filters": {"since": f.since, "until": f.until, "channel": f.channel, "segment": f.segment},
        "customers": int(len(table.ids)),
        "at_risk": int(len(candidates)),
        "revenue_at_risk": revenue,
        "risk": risk,
        "model": model,
        "themes": _theme_association(ctx, labels),
        "rule": (
            "not churned, and a detractor score (NPS 0-6) or negative feedback in a theme with no shipped action;"
            f" priority = MRR x 0.5^(days since the signal / {HALF_LIFE_DAYS:g})"
        ),
    }


class _Context:
    def __init__(
        self,
        ids: np.ndarray,
        row_of: np.ndarray,
        items: cq.CustomerItems,
        themes: dict[int, tuple[np.ndarray, np.ndarray]],
        churned: np.ndarray,
        signup: np.ndarray,
        known: np.ndarray,
    ) -> None:
        self.ids, self.row_of, self.items, self.themes = ids, row_of, items, themes
        self.churned, self.signup, self.known = churned, signup, known


def _reference(now: datetime | None, f: Filters, items: cq.CustomerItems, churned: np.ndarray) -> np.datetime64:
    if now is not None:
        return np.datetime64(now.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat())
    if f.until is not None:
        return np.datetime64(f.until.isoformat()) + np.timedelta64(1, "D") - np.timedelta64(1, "s")
    values = [a[~np.isnat(a)].max() for a in (items.created, churned) if (~np.isnat(a)).any()]
    if values:
        return max(values)
    return np.datetime64(datetime.now(UTC).replace(tzinfo=None, microsecond=0).isoformat())


_NEVER = np.iinfo(np.int64).min


class _Signals:
    """Per customer row: the latest signal (seconds), detractor responses, last detractor NPS, negative
    items in open themes, and the (row, theme) pairs of those."""

    def __init__(self, ctx: _Context, open_ids: set[int], ref: np.datetime64) -> None:
        items, n = ctx.items, len(ctx.ids)
        created = items.created.astype(np.int64)
        in_time = ~np.isnat(items.created) & (items.created <= ref)
        det = np.flatnonzero(in_time & (items.nps <= 6))
        self.latest = np.full(n, _NEVER, dtype=np.int64)
        np.maximum.at(self.latest, ctx.row_of[det], created[det])
        self.detractors = np.bincount(ctx.row_of[det], minlength=n)
        self.last_nps = np.full(n, -1, dtype=np.int64)
        if len(det):
            order = det[np.lexsort((created[det], ctx.row_of[det]))]
            rows = ctx.row_of[order]
            last = np.append(rows[1:] != rows[:-1], True)
            self.last_nps[rows[last]] = items.nps[order[last]].astype(np.int64)
        picked, pair_rows, pair_themes = [], [], []
        for tid in sorted(open_ids):
            if tid not in ctx.themes:
                continue
            idx, neg = ctx.themes[tid]
            sel = idx[neg & in_time[idx]]
            picked.append(sel)
            rows = np.unique(ctx.row_of[sel])
            pair_rows.append(rows)
            pair_themes.append(np.full(len(rows), tid, dtype=np.int64))
        open_items = np.unique(np.concatenate(picked)) if picked else np.zeros(0, np.int64)
        np.maximum.at(self.latest, ctx.row_of[open_items], created[open_items])
        self.negative_open = np.bincount(ctx.row_of[open_items], minlength=n)
        self.pair_rows = np.concatenate(pair_rows) if pair_rows else np.zeros(0, np.int64)
        self.pair_themes = np.concatenate(pair_themes) if pair_themes else np.zeros(0, np.int64)


def _ranked(
    ctx: _Context, table: cq.CustomerTable, open_ids: set[int], ref: np.datetime64
) -> tuple[np.ndarray, np.ndarray, _Signals, dict[str, Any]]:
    """(at-risk customer rows, their order by priority, the signals, the revenue at risk)."""
    signal = _Signals(ctx, open_ids, ref)
    alive = np.isnat(ctx.churned) | (ctx.churned > ref)
    candidates = np.flatnonzero((signal.latest != _NEVER) & alive)
    days = np.maximum((ref.astype("datetime64[s]").astype(np.int64) - signal.latest[candidates]) / 86400.0, 0.0)
    weight = 0.5 ** (days / HALF_LIFE_DAYS)
    mrr = table.mrr[candidates]
    priority = np.where(np.isnan(mrr), 0.0, mrr * weight)
    order = np.lexsort((ctx.ids[candidates], -weight, -priority, np.isnan(mrr)))
    money = table.revenue(candidates)
    revenue = {"mrr": money["total"], "customers_without_revenue": int(len(candidates) - money["with_revenue"])}
    return candidates, order, signal, revenue


def _rows(
    conn: Any,
    ctx: _Context,
    table: cq.CustomerTable,
    rows: np.ndarray,
    signal: _Signals,
    open_ids: set[int],
    labels: dict[int, str],
    ref: np.datetime64,
    probs: dict[int, float],
) -> list[dict[str, Any]]:
    """The shown at-risk customers (``rows``: customer rows in rank order) as dicts."""
    details = cq.customer_details(conn, [int(ctx.ids[r]) for r in rows])
    wanted = np.isin(signal.pair_rows, rows)
    themes_of: dict[int, list[int]] = {}
    for r, t in zip(signal.pair_rows[wanted].tolist(), signal.pair_themes[wanted].tolist(), strict=True):
        themes_of.setdefault(r, []).append(t)
    ref_s = int(ref.astype("datetime64[s]").astype(np.int64))
    out = []
    for rank, r in enumerate(rows.tolist(), 1):
        cid = int(ctx.ids[r])
        row = details[cid]
        days = max((ref_s - int(signal.latest[r])) / 86400.0, 0.0)
        mrr = None if np.isnan(table.mrr[r]) else float(table.mrr[r])
        out.append(
            {
                "rank": rank,
                "customer_id": cid,
                "email": row["email"],
                "handle": f"{row['platform']}:{row['handle']}" if row["handle"] else None,
                "name": row["display_name"],
                "segment": row["segment"],
                "plan": row["plan"],
                "mrr": mrr,
                "currency": row["currency"],
                "last_signal_at": _iso(np.datetime64(int(signal.latest[r]), "s")),
                "days_since_signal": round(days, 1),
                "detractor_responses": int(signal.detractors[r]),
                "last_nps": int(signal.last_nps[r]) if signal.last_nps[r] >= 0 else None,
                "negative_open_items": int(signal.negative_open[r]),
                "open_themes": [{"id": t, "label": labels.get(t)} for t in sorted(themes_of.get(r, []))],
                "churn_probability": probs.get(cid),
                "priority": round(mrr * 0.5 ** (days / HALF_LIFE_DAYS), 2) if mrr is not None else None,
            }
        )
    return out


# -- the model ------------------------------------------------------------------------------------


def _features(ctx: _Context, t: np.datetime64, top: list[int], window: np.timedelta64) -> tuple[np.ndarray, np.ndarray]:
    """(customer rows in the snapshot at ``t``, their feature matrix) -- feedback before ``t`` only."""
    items = ctx.items
    n = len(ctx.ids)
    before = ~np.isnat(items.created) & (items.created < t)
    recent = before & (items.created >= t - window)
    rows = ctx.row_of[before]
    count = np.bincount(rows, minlength=n).astype(float)
    alive = (np.isnat(ctx.churned) | (ctx.churned > t)) & ctx.known
    alive &= np.isnat(ctx.signup) | (ctx.signup <= t)
    members = np.flatnonzero(alive & (count > 0))
    neg = np.bincount(rows, weights=items.negative[before].astype(float), minlength=n)
    scored = ~np.isnan(items.score) & before
    score_sum = np.bincount(ctx.row_of[scored], weights=items.score[scored], minlength=n)
    score_n = np.bincount(ctx.row_of[scored], minlength=n)
    has_nps = ~np.isnan(items.nps) & before
    lowest = np.full(n, 10.0)
    np.minimum.at(lowest, ctx.row_of[has_nps], items.nps[has_nps])
    any_nps = np.bincount(ctx.row_of[has_nps], minlength=n) > 0
    never = np.iinfo(np.int64).min
    latest = np.full(n, never, dtype=np.int64)
    np.maximum.at(latest, rows, items.created[before].astype(np.int64))
    seconds = t.astype("datetime64[s]").astype(np.int64)
    age = np.where(latest == never, 0.0, (seconds - latest) / 86400.0)
    columns = [
        np.log1p(count),
        np.divide(neg, count, out=np.zeros(n), where=count > 0),
        np.divide(score_sum, score_n, out=np.zeros(n), where=score_n > 0),
        (any_nps & (lowest <= 6)).astype(float),
        np.where(any_nps, lowest / 10.0, 1.0),
        np.log1p(np.maximum(age, 0.0)),
        np.log1p(np.bincount(ctx.row_of[recent & items.negative], minlength=n).astype(float)),
    ]
    for tid in top:
        raised = np.zeros(n)
        idx, neg = ctx.themes[tid]
        sel = idx[neg & recent[idx]]
        raised[ctx.row_of[sel]] = 1.0
        columns.append(raised)
    return members, np.column_stack(columns)[members]


def _labels(ctx: _Context, members: np.ndarray, t: np.datetime64, horizon: np.timedelta64) -> np.ndarray:
    churned = ctx.churned[members]
    return (~np.isnat(churned) & (churned > t) & (churned <= t + horizon)).astype(int)


def _top_themes(ctx: _Context) -> list[int]:
    counts = {tid: len(np.unique(ctx.row_of[idx])) for tid, (idx, _neg) in ctx.themes.items()}
    return [tid for tid, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_THEMES] if n >= MIN_RAISED]


def _model(ctx: _Context, ref: np.datetime64, horizon_days: int) -> dict[str, Any]:
    horizon = np.timedelta64(int(horizon_days), "D")
    t_test = ref - horizon
    t_train = t_test - horizon
    out: dict[str, Any] = {
        "horizon_days": int(horizon_days),
        "train_snapshot": _iso(t_train),
        "test_snapshot": _iso(t_test),
        "final": None,
    }
    if not ctx.known.any() or np.isnat(ctx.churned).all():
        out.update(status="no churn dates", note="Import churn dates with `feedback-engine ingest customers`.")
        return out
    top = _top_themes(ctx)
    train_rows, x_train = _features(ctx, t_train, top, horizon)
    test_rows, x_test = _features(ctx, t_test, top, horizon)
    y_train = _labels(ctx, train_rows, t_train, horizon)
    y_test = _labels(ctx, test_rows, t_test, horizon)
    out["train"] = {"customers": int(len(y_train)), "churned": int(y_train.sum())}
    out["test"] = {"customers": int(len(y_test)), "churned": int(y_test.sum())}
    counts = [int(y_train.sum()), int(len(y_train) - y_train.sum()), int(y_test.sum()), int(len(y_test) - y_test.sum())]
    if min(counts) < MIN_EVENTS:
        out.update(
            status="not enough data",
            note=f"a time-split model needs {MIN_EVENTS}+ churners and non-churners in both snapshots"
            f" (train {counts[0]}/{counts[1]}, test {counts[2]}/{counts[3]}); try a shorter --horizon",
        )
        return out
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def fit(x: np.ndarray, y: np.ndarray) -> Any:
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000)).fit(x, y)

    model = fit(x_train, y_train)
    p = model.predict_proba(x_test)[:, 1]
    out.update(status="ok", validation=_validate(y_test, p))
    names = ["log_items", "share_negative", "mean_sentiment", "detractor", "lowest_nps", "log_days_since_item"]
    names += ["log_recent_negative"] + [f"recent_negative_theme:{t}" for t in top]
    final = fit(x_test, y_test)
    coefs = final[-1].coef_[0]
    out["coefficients"] = [
        {"feature": name, "coef_per_sd": round(float(c), 4)}
        for name, c in sorted(zip(names, coefs, strict=True), key=lambda kv: -abs(kv[1]))
    ]
    now_rows, x_now = _features(ctx, ref + np.timedelta64(1, "s"), top, horizon)
    if len(now_rows):
        probs = final.predict_proba(x_now)[:, 1]
        out["final"] = {int(ctx.ids[r]): round(float(q), 4) for r, q in zip(now_rows, probs, strict=True)}
    return out


def _validate(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(y, p))
    n1, n0 = int(y.sum()), int(len(y) - y.sum())
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    se = math.sqrt((auc * (1 - auc) + (n1 - 1) * (q1 - auc * auc) + (n0 - 1) * (q2 - auc * auc)) / (n1 * n0))
    slope, intercept = _calibration_line(y, p)
    bins = []
    edges = np.quantile(p, np.linspace(0, 1, 6))
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, 4)
    for b in range(5):
        mask = which == b
        if mask.any():
            observed = share(int(y[mask].sum()), int(mask.sum()))
            bins.append({"n": int(mask.sum()), "mean_predicted": round(float(p[mask].mean()), 4), "observed": observed})
    return {
        "n": int(len(y)),
        "churned": n1,
        "auc": round(auc, 4),
        "auc_ci": [round(max(0.0, auc - Z95 * se), 4), round(min(1.0, auc + Z95 * se), 4)],
        "better_than_chance": bool(auc - Z95 * se > 0.5),
        "brier": round(float(np.mean((p - y) ** 2)), 4),
        "mean_predicted": round(float(p.mean()), 4),
        "observed": share(n1, int(len(y))),
        "calibration_slope": slope,
        "calibration_intercept": intercept,
        "reliability": bins,
    }


def _calibration_line(y: np.ndarray, p: np.ndarray) -> tuple[float | None, float | None]:
    """Slope and intercept of logit P(y) = a + b * logit(p) (maximum likelihood; None if it diverges)."""
    eps = 1e-6
    q = np.clip(p, eps, 1 - eps)
    fitted = _logit(np.column_stack([np.ones_like(q), np.log(q / (1 - q))]), y.astype(float))
    if fitted is None:
        return None, None
    return round(float(fitted[0][1]), 4), round(float(fitted[0][0]), 4)


# -- themes associated with churn ------------------------------------------------------------------


def _theme_association(ctx: _Context, labels: dict[int, str]) -> dict[str, Any]:
    items = ctx.items
    n = len(ctx.ids)
    counts = np.bincount(ctx.row_of, minlength=n) if len(items) else np.zeros(n, int)
    population = ctx.known & (counts > 0)
    is_churned = ~np.isnat(ctx.churned)
    total = int(population.sum())
    churners = int((population & is_churned).sum())
    out: dict[str, Any] = {"customers": total, "churned": churners, "themes": [], "fdr": FDR, "adjusted_for": []}
    if total == 0 or churners == 0 or churners == total:
        return out
    raised_by: dict[int, np.ndarray] = {}
    for tid, (idx, _neg) in ctx.themes.items():
        raised = np.zeros(n, dtype=bool)
        c = ctx.row_of[idx]
        t = items.created[idx]
        before_churn = np.isnat(ctx.churned[c]) | (~np.isnat(t) & (t < ctx.churned[c]))
        raised[c[before_churn]] = True
        raised &= population
        if MIN_RAISED <= int(raised.sum()) <= total - MIN_RAISED:
            raised_by[tid] = raised
    tids = sorted(raised_by, key=lambda t: (-int(raised_by[t].sum()), t))[:MAX_MODEL_THEMES]
    pop = np.flatnonzero(population)
    y = is_churned[pop].astype(float)
    # sparse: the theme columns are 0/1 and mostly 0, and a dense 200,000 x 52 Newton step took ~1 s here
    where = [np.arange(len(pop)), np.arange(len(pop))] + [np.flatnonzero(raised_by[t][pop]) for t in tids]
    values = [np.ones(len(pop)), np.log1p(counts[pop].astype(float))] + [np.ones(len(r)) for r in where[2:]]
    columns = [np.full(len(r), j, dtype=np.int64) for j, r in enumerate(where)]
    design = sparse.csr_matrix(
        (np.concatenate(values), (np.concatenate(where), np.concatenate(columns))), shape=(len(pop), len(where))
    )
    fitted = _logit(design, y)
    rows: list[dict[str, Any]] = []
    for j, tid in enumerate(tids):
        raised = raised_by[tid]
        rest = population & ~raised
        cmp = compare_shares(
            int((raised & is_churned).sum()), int(raised.sum()), int((rest & is_churned).sum()), int(rest.sum())
        )
        row: dict[str, Any] = {"theme_id": tid, "label": labels.get(tid), "raised": cmp["a"], "not_raised": cmp["b"]}
        row.update(diff=cmp["diff"], ci=cmp["ci"], p_unadjusted=cmp["p"])
        if fitted is not None:
            beta, se = fitted[0][2 + j], fitted[1][2 + j]
            row["odds_ratio"] = round(math.exp(beta), 4)
            row["odds_ratio_ci"] = [round(math.exp(beta - Z95 * se), 4), round(math.exp(beta + Z95 * se), 4)]
            row["p"] = float(2 * _norm_sf(abs(beta / se))) if se > 0 else 1.0
        else:
            row.update(odds_ratio=None, odds_ratio_ci=None, p=cmp["p"])
        rows.append(row)
    qs = benjamini_hochberg([r["p"] if r["p"] is not None else 1.0 for r in rows])
    for r, q in zip(rows, qs, strict=True):
        r["p"] = round(r["p"], 6) if r["p"] is not None else None
        r["q"] = round(q, 6)
        effect = r["odds_ratio"] if r["odds_ratio"] is not None else 1.0 + (r["diff"] or 0.0)
        r["flagged"] = bool(q <= FDR and effect > 1)
    rows.sort(key=lambda r: (not r["flagged"], -(r["odds_ratio"] or 0.0), r["theme_id"]))
    out["themes"] = rows
    out["adjusted_for"] = ["log(1 + items)", "the other themes"]
    return out


def _norm_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def _logit(
    x: np.ndarray | sparse.csr_matrix, y: np.ndarray, ridge: float = 1e-6
) -> tuple[np.ndarray, np.ndarray] | None:
    """Maximum-likelihood logistic regression by Newton's method (``x`` dense or sparse, its first column
    the intercept): (coefficients, standard errors); None when it does not converge (separation)."""
    design = sparse.csr_matrix(x)
    beta = np.zeros(design.shape[1])
    for _ in range(100):
        mu = 1 / (1 + np.exp(-np.clip(design @ beta, -30, 30)))
        w = mu * (1 - mu)
        hessian = (design.T @ design.multiply(w[:, None]).tocsr()).toarray() + ridge * np.eye(design.shape[1])
        try:
            step = np.linalg.solve(hessian, design.T @ (y - mu) - ridge * beta)
        except np.linalg.LinAlgError:
            return None
        beta = beta + step
        if np.abs(step).max() < 1e-8:
            break
    else:
        return None
    try:
        cov = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        return None
    se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    if not np.all(np.isfinite(se)) or np.abs(beta).max() > 25:
        return None
    return beta, se


def write_csv(rows: list[dict[str, Any]], path: str | Path) -> int:
    """The risk list as CSV (cells through :func:`~feedback_engine.ingest.export.csv_safe`)."""
    target = Path(path)
    if not target.parent.exists():
        raise InsightsError(f"The folder {target.parent} does not exist; create it or pass another --csv path.")
    with target.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for r in rows:
            flat = dict(r)
            flat["open_themes"] = "; ".join(f"{t['id']}:{t['label']}" for t in r["open_themes"])
            flat["email"] = r["email"] or r.get("handle")
            writer.writerow([csv_safe(flat.get(c)) for c in CSV_COLUMNS])
    return len(rows)
