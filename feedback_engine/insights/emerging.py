"""Emerging themes and spikes: which themes rise above what their past share predicts.

Windows. The **window** is the days looked at (default: the 7 days ending on the newest item's
day; ``since``/``until`` override); the **baseline** is the ``baseline_days`` (28) days before it.
Days are UTC calendar days of ``feedback.created_at``. Members are those of
:func:`feedback_engine.themes.queries.theme_members` (the one definition), kept to the channel and
segment filters; the denominator is every item of that day under the same filters.

Volume (per theme, per window day and for the window as a whole). Total volume moves a lot by
weekday and by campaign, so a theme is judged by its **share** of the day's items, not its raw
count. The baseline gives the theme's share per weekday, shrunk towards its overall share (a
Beta prior worth one week of volume), and a day's count is compared with the Beta-binomial
predictive of that share over that day's items: ``P(X >= observed)``. That accounts for total
volume (``n`` that day), weekday (its own weekday share) and for the baseline being a sample.

Share negative (per theme, per window day and for the window). The members' negative share is
compared with the Beta-binomial predictive of the theme's baseline negative share over that
day's labelled members (a member's label: what its sentences in the theme say, else the item's).

Channel crossing: a theme with at least :data:`MIN_CROSS_BASELINE` baseline members, none of them
on channel C, that has members on C in the window (e.g. first seen on social, now in reviews);
the p-value is that of the window's count on C under the predictive of a share never seen in the
baseline (Jeffreys prior).

Multiple testing: every p-value above (themes x days x volume/negative, the window tests and the
channel tests) is one family, adjusted with Benjamini-Hochberg; a flag is raised at ``q <= fdr``
(default 0.05: in expectation at most 5% of the flags are false). Each flag states the counts
behind it ("31 items vs 9.0 expected of 412 that day, p=..., q=...").

New themes: discovered themes created at the latest refit, when an earlier fit existed (their
ids did not exist before); listed with their member counts, outside the BH family (not a test).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from feedback_engine.insights import queries as iq
from feedback_engine.insights.queries import Filters, day_of
from feedback_engine.insights.stats import benjamini_hochberg, betabinom_sf, fmt_p, wilson
from feedback_engine.store import Store
from feedback_engine.themes.queries import Member

__all__ = ["emerging", "FDR", "BASELINE_DAYS", "WINDOW_DAYS", "MIN_CROSS_BASELINE"]

FDR = 0.05
BASELINE_DAYS = 28
WINDOW_DAYS = 7
MIN_CROSS_BASELINE = 10
PRIOR_WEEKS = 1.0  # strength of the pull of a weekday's share towards the theme's overall share
MAX_IDS = 50  # member ids kept per flag (alerts quote from them)


@dataclass
class _Test:
    kind: str  # volume, negative, channel
    theme_id: int
    day: date | None  # None: the window as a whole
    observed: int
    expected: float
    n: int
    p: float
    ids: list[int]
    channel: str | None = None
    context: str = ""


def _windows(store: Store, filters: Filters, window_days: int, baseline_days: int) -> tuple[date, date, date] | None:
    until = filters.until or iq.newest_day(store.conn)
    if until is None:
        return None
    since = filters.since or until - timedelta(days=window_days - 1)
    if since > until:
        since, until = until, since
    return since, until, since - timedelta(days=baseline_days)


def emerging(
    store: Store,
    filters: Filters | None = None,
    *,
    fdr: float = FDR,
    baseline_days: int = BASELINE_DAYS,
    window_days: int = WINDOW_DAYS,
) -> dict[str, Any]:
    """Flags of rising volume, rising share negative, channel crossings and new themes (module docstring)."""
    filters = filters or Filters()
    spans = _windows(store, filters, window_days, baseline_days)
    if spans is None:
        return _empty(filters, fdr)
    since, until, base_start = spans
    conn = store.conn
    themes = iq.theme_rows(conn)
    scope = Filters(since=base_start, until=until, channel=filters.channel, segment=filters.segment)
    totals = iq.daily_totals(conn, scope)
    groups = iq.members(conn, scope)
    window = [since + timedelta(days=i) for i in range((until - since).days + 1)]
    base_days = [base_start + timedelta(days=i) for i in range(baseline_days)]
    n_base = sum(totals.get(d, 0) for d in base_days)
    n_week = {k: sum(totals.get(d, 0) for d in base_days if d.weekday() == k) for k in range(7)}
    tests: list[_Test] = []
    summary = []
    for tid, group in sorted(groups.items()):
        meta = themes.get(tid)
        if meta is None or meta["status"] != "active":
            continue
        by_day: dict[date, list[Member]] = defaultdict(list)
        for m in group.values():
            d = day_of(m.created)
            if d is not None:
                by_day[d].append(m)
        base = [m for d in base_days for m in by_day.get(d, [])]
        win = [m for d in window for m in by_day.get(d, [])]
        summary.append({"theme_id": tid, "label": meta["label"], "baseline_items": len(base), "window_items": len(win)})
        if n_base > 0:
            tests += _volume_tests(tid, by_day, base_days, window, totals, n_base, n_week, len(base))
        tests += _negative_tests(tid, by_day, window, base)
        tests += _channel_tests(tid, base, win)
    qvalues = benjamini_hochberg([t.p for t in tests])
    flags = [_flag(t, q, themes, fdr) for t, q in zip(tests, qvalues, strict=True) if q <= fdr]
    flags.sort(key=lambda f: (f["q"], f["p"], f["theme_id"]))
    new = _new_themes(store, themes, groups, since, until)
    return {
        "window": {"since": since.isoformat(), "until": until.isoformat(), "days": len(window)},
        "baseline": {
            "since": base_start.isoformat(),
            "until": (since - timedelta(days=1)).isoformat(),
            "items": n_base,
        },
        "window_items": sum(totals.get(d, 0) for d in window),
        "filters": {"channel": filters.channel, "segment": filters.segment},
        "fdr": fdr,
        "tests": len(tests),
        "method": "Beta-binomial predictive of the baseline share (per weekday, shrunk); Benjamini-Hochberg across all tests",
        "flags": flags,
        "new_themes": new,
        "themes": summary,
    }


def _empty(filters: Filters, fdr: float) -> dict[str, Any]:
    return {
        "window": None,
        "baseline": None,
        "window_items": 0,
        "filters": {"channel": filters.channel, "segment": filters.segment},
        "fdr": fdr,
        "tests": 0,
        "method": "",
        "flags": [],
        "new_themes": [],
        "themes": [],
    }


def _volume_tests(
    tid: int,
    by_day: dict[date, list[Member]],
    base_days: list[date],
    window: list[date],
    totals: dict[date, int],
    n_base: int,
    n_week: dict[int, int],
    x_base: int,
) -> list[_Test]:
    share = (x_base + 0.5) / (n_base + 1)
    prior = PRIOR_WEEKS * 7 * n_base / max(len(base_days), 1)
    x_week = Counter(d.weekday() for d in base_days for _ in by_day.get(d, []))
    out = []
    expected_total = 0.0
    for d in window:
        k = d.weekday()
        a = prior * share + x_week.get(k, 0)
        b = prior * (1 - share) + n_week[k] - x_week.get(k, 0)
        n, x = totals.get(d, 0), len(by_day.get(d, []))
        expected = n * a / (a + b)
        expected_total += expected
        ids = [m.feedback_id for m in by_day.get(d, [])][:MAX_IDS]
        out.append(_Test("volume", tid, d, x, expected, n, betabinom_sf(x, n, a, b), ids))
    n_win = sum(totals.get(d, 0) for d in window)
    x_win = sum(len(by_day.get(d, [])) for d in window)
    if len(window) > 1 and n_win:
        mean = expected_total / n_win
        conc = n_base + 1
        ids = [m.feedback_id for d in window for m in by_day.get(d, [])][:MAX_IDS]
        p = betabinom_sf(x_win, n_win, mean * conc, (1 - mean) * conc)
        out.append(_Test("volume", tid, None, x_win, expected_total, n_win, p, ids))
    return out


def _labels(group: list[Member]) -> tuple[int, int, list[int]]:
    labelled = [(m.feedback_id, m.sentiment()[0]) for m in group]
    labelled = [(fid, lab) for fid, lab in labelled if lab]
    negative = [fid for fid, lab in labelled if lab == "negative"]
    return len(negative), len(labelled), negative


def _negative_tests(tid: int, by_day: dict[date, list[Member]], window: list[date], base: list[Member]) -> list[_Test]:
    neg_b, lab_b, _ = _labels(base)
    if lab_b == 0:
        return []
    a, b = neg_b + 0.5, lab_b - neg_b + 0.5
    rate = a / (a + b)
    out = []
    days: list[date | None] = [*window, None] if len(window) > 1 else list(window)
    for d in days:
        group = by_day.get(d, []) if d is not None else [m for w in window for m in by_day.get(w, [])]
        neg, lab, ids = _labels(group)
        ctx = f"baseline {neg_b} of {lab_b} negative"
        out.append(
            _Test("negative", tid, d, neg, lab * rate, lab, betabinom_sf(neg, lab, a, b), ids[:MAX_IDS], None, ctx)
        )
    return out


def _channel_tests(tid: int, base: list[Member], win: list[Member]) -> list[_Test]:
    if len(base) < MIN_CROSS_BASELINE or not win:
        return []
    seen = Counter(m.channel for m in base)
    now = Counter(m.channel for m in win)
    out = []
    for channel, count in sorted(now.items()):
        if seen.get(channel):
            continue
        first = ", ".join(f"{c} {n}" for c, n in seen.most_common())
        p = betabinom_sf(count, len(win), 0.5, len(base) + 0.5)
        ids = [m.feedback_id for m in win if m.channel == channel][:MAX_IDS]
        ctx = f"baseline: {len(base)} items ({first}), none on {channel}"
        out.append(_Test("channel", tid, None, count, 0.0, len(win), p, ids, channel, ctx))
    return out


def _flag(t: _Test, q: float, themes: dict[int, dict[str, Any]], fdr: float) -> dict[str, Any]:
    label = themes.get(t.theme_id, {}).get("label") or f"theme {t.theme_id}"
    when = t.day.isoformat() if t.day else "the window"
    stat = f"{fmt_p(t.p)}, q={q:.2g}"
    if t.kind == "volume":
        of = f"of {t.n} items that day" if t.day else f"of {t.n} items in the window"
        text = f"{label}: {t.observed} items vs {t.expected:.1f} expected {of} ({when}; {stat})"
    elif t.kind == "negative":
        text = f"{label}: {t.observed} of {t.n} negative vs {t.expected:.1f} expected ({when}; {t.context}; {stat})"
    else:
        text = f"{label}: now {t.observed} of {t.n} window items on {t.channel} ({t.context}; {stat})"
    scope = t.day.isoformat() if t.day else "window"
    key = f"{t.kind}:{t.theme_id}:{scope}" + (f":{t.channel}" if t.channel else "")
    return {
        "key": key,
        "kind": t.kind if t.kind != "channel" else "channel_crossing",
        "theme_id": t.theme_id,
        "label": label,
        "day": t.day.isoformat() if t.day else None,
        "channel": t.channel,
        "observed": t.observed,
        "expected": round(t.expected, 2),
        "n": t.n,
        "share": _share(t),
        "p": t.p,
        "q": q,
        "fdr": fdr,
        "text": text,
        "feedback_ids": t.ids,
    }


def _share(t: _Test) -> dict[str, Any] | None:
    """The observed share (of the day's items, or of the members for share negative) with its Wilson
    95% interval, next to the expected share."""
    if t.n <= 0:
        return None
    lo, hi = wilson(t.observed, t.n)
    return {
        "observed": round(t.observed / t.n, 4),
        "ci": [round(lo or 0.0, 4), round(hi or 0.0, 4)],
        "expected": round(t.expected / t.n, 4),
    }


def _new_themes(
    store: Store, themes: dict[int, dict[str, Any]], groups: dict[int, dict[int, Member]], since: date, until: date
) -> list[dict[str, Any]]:
    last, first = iq.last_fit(store.conn)
    if not last or not first or last <= first:
        return []
    out = []
    for tid, meta in sorted(themes.items()):
        if meta["origin"] != "discovered" or meta["status"] != "active" or (meta["created_at"] or "") < last:
            continue
        total = len(groups.get(tid, {}))  # members over the baseline and the window
        in_window = [
            m.feedback_id
            for m in groups.get(tid, {}).values()
            if (d := day_of(m.created)) is not None and since <= d <= until
        ]
        out.append(
            {
                "key": f"new_theme:{tid}",
                "kind": "new_theme",
                "theme_id": tid,
                "label": meta["label"],
                "created_at": meta["created_at"],
                "items": total,
                "window_items": len(in_window),
                "text": f"{meta['label']}: new theme at the refit of {last[:10]} ({total} items since the baseline start, {len(in_window)} in the window)",
                "feedback_ids": in_window[:MAX_IDS],
            }
        )
    return out
