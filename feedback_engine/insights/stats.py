"""Small statistics the insights share: predictive tail tests, Benjamini-Hochberg, intervals.

Everything here is a pure function on counts or arrays (numpy/scipy), so each analysis module
only gathers counts and states its rule.

- :func:`betabinom_sf`: P(X >= x) when X ~ BetaBinomial(n, a, b), the posterior predictive of a
  count out of ``n`` given a share learnt from a baseline (Beta posterior). Unlike a plain
  binomial with the baseline share plugged in, it allows for the baseline's own uncertainty,
  so a theme seen 3 times in the baseline is not "significant" at 6 on one day.
- :func:`benjamini_hochberg`: q-values (BH step-up adjusted p-values); a family of tests flagged
  at ``q <= fdr`` has an expected false discovery rate of at most ``fdr`` (independent or
  positively dependent tests).
- :func:`mean_ci`, :func:`diff_ci`, :func:`wilson`: normal-approximation and Wilson intervals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats as st

__all__ = ["Z95", "betabinom_sf", "benjamini_hochberg", "wilson", "mean_se", "diff_ci", "normal_p", "fmt_p"]

Z95 = 1.959963984540054


def betabinom_sf(x: int, n: int, a: float, b: float) -> float:
    """P(X >= x) for X ~ BetaBinomial(n, a, b); 1.0 when x <= 0."""
    if x <= 0 or n <= 0:
        return 1.0
    if x > n:
        return 0.0
    return float(min(1.0, max(0.0, st.betabinom.sf(x - 1, n, a, b))))


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """BH-adjusted p-values (q-values), in the order given."""
    p = np.asarray(pvalues, dtype=float)
    m = len(p)
    if m == 0:
        return []
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    return [float(v) for v in q]


def wilson(k: int, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    """Wilson score interval of a share k/n; (None, None) when n == 0."""
    if n <= 0:
        return None, None
    phat = k / n
    denom = 1 + z * z / n
    centre = (phat + z * z / (2 * n)) / denom
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_se(values: np.ndarray) -> tuple[float | None, float | None]:
    """Mean and its standard error (sample sd / sqrt n); (None, None) when empty."""
    n = len(values)
    if n == 0:
        return None, None
    mean = float(values.mean())
    se = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else float("inf")
    return mean, se


def normal_p(estimate: float, se: float) -> float:
    """Two-sided p-value of estimate/se under a standard normal."""
    if not se or not math.isfinite(se):
        return 1.0
    return float(2 * st.norm.sf(abs(estimate / se)))


def diff_ci(estimate: float, se: float, z: float = Z95) -> tuple[float, float]:
    return estimate - z * se, estimate + z * se


def fmt_p(p: float) -> str:
    """A p-value for people: ``p=0.003``, ``p=2e-08``, ``p<1e-300``."""
    if p <= 0:
        return "p<1e-300"
    return f"p={p:.2g}" if p < 0.001 else f"p={p:.3f}"
