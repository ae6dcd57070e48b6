"""Two-group comparisons with their counts and 95% intervals (churn, segments, loop effect).

- :func:`share`: a share ``k/n`` with its Wilson interval.
- :func:`compare_shares`: two shares, their difference with Newcombe's hybrid score interval
  (method 10 of Newcombe 1998: built from the two Wilson intervals, it keeps its coverage at small
  counts and near 0 or 1, where the Wald interval does not) and a two-sided p-value (Fisher's
  exact test when an expected cell count is under 5, else the pooled two-proportion z-test).
- :func:`mean`: a mean with its normal interval; :func:`compare_means`: Welch's difference of
  two means (unequal variances) with a t interval and p-value.
- :func:`nps`: Net Promoter Score (-100..100) with the interval of the difference of two
  multinomial shares (promoters - detractors): var = (p + d - (p - d)^2) / n.
Every result carries its ``n``; an estimate on no data is ``None``, never 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats as st

from feedback_engine.insights.stats import Z95, wilson

__all__ = ["share", "compare_shares", "mean", "compare_means", "nps", "compare_nps"]


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), digits)


def share(k: int, n: int) -> dict[str, Any]:
    """``{"k", "n", "share", "ci"}`` with the Wilson 95% interval."""
    low, high = wilson(k, n)
    return {"k": int(k), "n": int(n), "share": _r(k / n) if n else None, "ci": [_r(low), _r(high)] if n else None}


def compare_shares(k1: int, n1: int, k2: int, n2: int) -> dict[str, Any]:
    """Group 1 against group 2: both shares, ``diff`` = share1 - share2 with Newcombe's interval, ``p``."""
    a, b = share(k1, n1), share(k2, n2)
    out: dict[str, Any] = {"a": a, "b": b, "diff": None, "ci": None, "p": None, "test": None}
    if not n1 or not n2:
        return out
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1)
    l2, u2 = wilson(k2, n2)
    assert l1 is not None and u1 is not None and l2 is not None and u2 is not None
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    pooled = (k1 + k2) / (n1 + n2)
    expected = min(n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled))
    if expected < 5:
        p = float(st.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]])[1])
        test = "fisher"
    else:
        se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        p = float(2 * st.norm.sf(abs(d / se))) if se > 0 else 1.0
        test = "z"
    out.update(diff=_r(d), ci=[_r(max(-1.0, low)), _r(min(1.0, high))], p=_r(p, 6), test=test)
    return out


def mean(values: Sequence[float] | np.ndarray) -> dict[str, Any]:
    """``{"n", "mean", "ci"}``: the t interval of the mean (None with fewer than 2 values)."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n == 0:
        return {"n": 0, "mean": None, "ci": None}
    m = float(x.mean())
    if n < 2:
        return {"n": 1, "mean": _r(m), "ci": None}
    half = float(st.t.ppf(0.975, n - 1)) * float(x.std(ddof=1)) / math.sqrt(n)
    return {"n": n, "mean": _r(m), "ci": [_r(m - half), _r(m + half)]}


def compare_means(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> dict[str, Any]:
    """Welch's difference mean(a) - mean(b) with its 95% interval and p-value."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    out: dict[str, Any] = {"a": mean(x), "b": mean(y), "diff": None, "ci": None, "p": None}
    if len(x) < 2 or len(y) < 2:
        return out
    vx, vy = float(x.var(ddof=1)) / len(x), float(y.var(ddof=1)) / len(y)
    d = float(x.mean() - y.mean())
    se = math.sqrt(vx + vy)
    if se == 0:
        out.update(diff=_r(d), ci=[_r(d), _r(d)], p=1.0 if d == 0 else 0.0)
        return out
    df = (vx + vy) ** 2 / ((vx**2 / (len(x) - 1) if vx else 0.0) + (vy**2 / (len(y) - 1) if vy else 0.0))
    tq = float(st.t.ppf(0.975, df))
    p = float(2 * st.t.sf(abs(d / se), df))
    out.update(diff=_r(d), ci=[_r(d - tq * se), _r(d + tq * se)], p=_r(p, 6))
    return out


def _nps_parts(scores: np.ndarray) -> tuple[int, float, float]:
    n = len(scores)
    promoters = float((scores >= 9).sum()) / n
    detractors = float((scores <= 6).sum()) / n
    return n, promoters, detractors


def nps(scores: Sequence[int] | np.ndarray) -> dict[str, Any]:
    """NPS = 100 * (share of 9-10 - share of 0-6), with its normal 95% interval."""
    x = np.asarray(scores, dtype=float)
    if len(x) == 0:
        return {"n": 0, "nps": None, "ci": None}
    n, p, d = _nps_parts(x)
    value = p - d
    se = math.sqrt(max(p + d - value**2, 0.0) / n)
    return {"n": n, "nps": _r(100 * value, 2), "ci": [_r(100 * (value - Z95 * se), 2), _r(100 * (value + Z95 * se), 2)]}


def compare_nps(a: Sequence[int] | np.ndarray, b: Sequence[int] | np.ndarray) -> dict[str, Any]:
    """NPS(a) - NPS(b) with a normal 95% interval and p-value (independent groups)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    out: dict[str, Any] = {"a": nps(x), "b": nps(y), "diff": None, "ci": None, "p": None}
    if len(x) < 2 or len(y) < 2:
        return out
    _, p1, d1 = _nps_parts(x)
    _, p2, d2 = _nps_parts(y)
    v = (p1 + d1 - (p1 - d1) ** 2) / len(x) + (p2 + d2 - (p2 - d2) ** 2) / len(y)
    diff = (p1 - d1) - (p2 - d2)
    se = math.sqrt(max(v, 0.0))
    p = float(2 * st.norm.sf(abs(diff / se))) if se > 0 else (1.0 if diff == 0 else 0.0)
    out.update(diff=_r(100 * diff, 2), ci=[_r(100 * (diff - Z95 * se), 2), _r(100 * (diff + Z95 * se), 2)], p=_r(p, 6))
    return out
