"""Benchmark and validation of the insights analyses: emerging, alerts (preview), drivers, impact.

    .venv/bin/python bench/insights_bench.py --items 1000000 --customers 200000   # timing at scale
    .venv/bin/python bench/insights_bench.py --seeds 40                           # detection and false alarms

Timing: a store is built with bulk SQL inserts (no ingest, no models: the FTS trigger is dropped
in this throwaway store, since no analysis reads it): ``--items`` items over 120 days (60%
surveys with NPS and CSAT, 25% reviews with a rating, 15% social), ``--customers`` customers with
a segment, 30 themes with one item-level assignment for 75% of the items, a sentiment per item,
one shipped action. Each analysis is timed once on it (wall clock, this machine).

Validation (``--seeds N``): per seed a small store (35 days, ~60 items a day) with (a) a planted
spike of 25 items on a known day, (b) a theme with a planted NPS effect of -55 points, (c) an
action after which one theme's complaints halve -- and the same without any planted effect. It
prints the detection rate, the error of the estimates and the false-alarm rate (runs with any
flag / significant verdict when nothing was planted), each with a Wilson 95% interval.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feedback_engine.engine import Engine  # noqa: E402
from feedback_engine.insights.stats import wilson  # noqa: E402
from feedback_engine.store import Store  # noqa: E402

T0 = "2025-01-01T00:00:00Z"
CHANNELS = np.array(["survey", "review", "social"])
PLATFORM = {"survey": "generic", "review": "generic", "social": "twitter"}
LABELS = np.array(["negative", "neutral", "positive"])
# The planted NPS effect: members' P(detractor) 0.6 instead of 0.3; 57% of the rest are promoters,
# so NPS 100 * (0.4 * 0.57 - 0.6) = -37.2 against 100 * (0.7 * 0.57 - 0.3) = +9.9: -47.1 points.
TRUE_NPS_EFFECT = 100 * (0.4 * 0.57 - 0.6) - 100 * (0.7 * 0.57 - 0.3)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(
    path: Path,
    *,
    items: int,
    customers: int,
    themes: int,
    start: date,
    days: int,
    seed: int,
    spike: tuple[int, int, int] | None = None,  # (theme index, day, extra items)
    nps_effect: tuple[int, float] | None = None,  # (theme index, P(detractor) for its members)
    drop: tuple[int, int, float] | None = None,  # (theme index, ship day, share of its complaints removed after)
    shares: np.ndarray | None = None,
    action: tuple[int, int] | None = None,  # (theme index, ship day)
) -> Store:
    """A store of generated items written with bulk inserts (see the module docstring)."""
    rng = np.random.default_rng(seed)
    store = Store(path)
    conn = store.conn
    conn.execute("DROP TRIGGER IF EXISTS feedback_ai")
    k = themes
    p = shares if shares is not None else np.full(k, 0.75 / k)
    probs = np.append(p, 1 - p.sum())
    day = rng.integers(0, days, items)
    theme = rng.choice(k + 1, size=items, p=probs)  # k: no theme
    if spike is not None:
        t, d, extra = spike
        day = np.concatenate([day, np.full(extra, d)])
        theme = np.concatenate([theme, np.full(extra, t)])
    n = len(day)
    channel = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])
    neg = rng.random(n) < 0.3
    label = np.where(neg, 0, rng.integers(1, 3, n))
    det_p = np.full(n, 0.3)
    if nps_effect is not None:
        det_p[theme == nps_effect[0]] = nps_effect[1]
    group = np.where(rng.random(n) < det_p, 0, np.where(rng.random(n) < 0.43, 1, 2))
    nps = np.where(
        group == 0, rng.integers(0, 7, n), np.where(group == 1, rng.integers(7, 9, n), rng.integers(9, 11, n))
    )
    keep = np.ones(n, dtype=bool)
    if drop is not None:
        t, d, share = drop
        keep &= ~((theme == t) & (label == 0) & (day >= d) & (rng.random(n) < share))
    idx = np.flatnonzero(keep)
    seconds = rng.integers(0, 86400, n)
    cust = rng.integers(1, customers + 1, n) if customers else np.zeros(n, dtype=np.int64)
    with store.transaction():
        if customers:
            conn.executemany(
                "INSERT INTO customers (id, email, created_at, updated_at, segment) VALUES (?, ?, ?, ?, ?)",
                (
                    (i, f"c{i}@bench.test", T0, T0, ("enterprise", "smb", "self-serve")[i % 3])
                    for i in range(1, customers + 1)
                ),
            )
        conn.executemany(
            "INSERT INTO themes (id, label, origin, status, created_at, updated_at) VALUES (?, ?, 'discovered', 'active', ?, ?)",
            ((t + 1, f"theme {t + 1}", T0, T0) for t in range(k)),
        )

        def stamp(i: int) -> str:
            dt = datetime(start.year, start.month, start.day, tzinfo=UTC) + timedelta(
                days=int(day[i]), seconds=int(seconds[i])
            )
            return dt.isoformat().replace("+00:00", "Z")

        rows = []
        for j, i in enumerate(idx, 1):
            ch = str(CHANNELS[channel[i]])
            rows.append(
                (
                    j,
                    f"bench:{j}",
                    ch,
                    PLATFORM[ch],
                    int(cust[i]) or None,
                    f"item {j} about theme {int(theme[i]) + 1}",
                    int(nps[i]) if ch == "survey" else None,
                    int(min(5, 1 + nps[i] // 2)) if ch == "survey" else None,
                    int(min(5, 1 + nps[i] // 2)) if ch == "review" else None,
                    stamp(i),
                )
            )
        conn.executemany(
            "INSERT INTO feedback (id, natural_key, channel, platform, customer_id, text, nps, csat, rating, created_at, "
            "ingested_at, raw, content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '2025-01-01T00:00:00Z', '{}', 'h')",
            rows,
        )
        conn.executemany(
            "INSERT INTO analysis (feedback_id, content_hash, is_english, redacted_text, sentiment, sentiment_score, analyzed_at) "
            "VALUES (?, 'h', 1, ?, ?, ?, ?)",
            ((j, f"item {j}", str(LABELS[label[i]]), float(label[i]) - 1.0, T0) for j, i in enumerate(idx, 1)),
        )
        conn.executemany(
            "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, source, assigned_at) "
            "VALUES (?, -1, ?, 0.9, 'fit', ?)",
            ((j, int(theme[i]) + 1, T0) for j, i in enumerate(idx, 1) if theme[i] < k),
        )
        if action is not None:
            t, d = action
            shipped = (datetime(start.year, start.month, start.day, tzinfo=UTC) + timedelta(days=d)).isoformat()
            conn.execute(
                "INSERT INTO actions (id, title, description, status, shipped_at, created_at, created_by, updated_at, updated_by) "
                "VALUES (1, 'Fix it', 'Fixed.', 'shipped', ?, ?, 'bench', ?, 'bench')",
                (shipped.replace("+00:00", "Z"), T0, T0),
            )
            conn.execute("INSERT INTO action_themes (action_id, theme_id) VALUES (1, ?)", (t + 1,))
    return store


def timed(fn: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def scale(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        t_build, store = timed(
            lambda: build(
                Path(tmp) / "bench.db",
                items=args.items,
                customers=args.customers,
                themes=30,
                start=date(2025, 1, 1),
                days=120,
                seed=1,
                spike=(4, 115, max(25, args.items // 2000)),
                action=(2, 90),
            )
        )
        engine = Engine(store)
        out: dict[str, Any] = {"items": args.items, "customers": args.customers, "build_s": round(t_build, 1)}
        for name, fn in (
            ("emerging", lambda: engine.insights.emerging()),
            ("alerts_preview", lambda: engine.insights.alerts(env={})),
            ("drivers_nps", lambda: engine.insights.drivers("nps")),
            ("impact", lambda: engine.insights.impact()),
        ):
            seconds, result = timed(fn)
            out[f"{name}_s"] = round(seconds, 2)
            print(f"{name}: {seconds:.2f} s", file=sys.stderr)
            if name == "emerging":
                out["emerging_flags"] = [f["key"] for f in result["flags"]]  # planted: theme 5 on day 115
                out["emerging_tests"] = result["tests"]
        out["peak_rss_mb"] = round(peak_rss_mb())
        engine.close()
    return out


def validate(seeds: int) -> dict[str, Any]:
    counts = {k: 0 for k in ("spike_found", "spike_null", "driver_found", "driver_null", "drop_found", "drop_null")}
    driver_err, drop_ratio = [], []
    start = date(2025, 3, 3)
    shares = np.array([0.08, 0.08, 0.06])
    with tempfile.TemporaryDirectory() as tmp:
        for s in range(seeds):
            for planted in (True, False):
                path = Path(tmp) / f"s{s}{planted}.db"
                store = build(
                    path,
                    items=2100,
                    customers=0,
                    themes=3,
                    start=start,
                    days=35,
                    seed=1000 + s,
                    shares=shares,
                    spike=(0, 31, 25) if planted else None,
                )
                flags = Engine(store).insights.emerging()["flags"]
                if planted:
                    counts["spike_found"] += any(
                        f["kind"] == "volume" and f["day"] == "2025-04-03" and f["label"] == "theme 1" for f in flags
                    )
                else:
                    counts["spike_null"] += bool(flags)
                store.close()
                path = Path(tmp) / f"d{s}{planted}.db"
                store = build(path, items=3000, customers=0, themes=3, start=start, days=30, seed=2000 + s,
                              shares=np.array([0.2, 0.2, 0.2]), nps_effect=(0, 0.6) if planted else None)  # fmt: skip
                drivers = Engine(store).insights.drivers("nps")
                if planted:
                    hit = [d for d in drivers["drivers"] if d["label"] == "theme 1"]
                    counts["driver_found"] += bool(hit)
                    row = next(t for t in drivers["themes"] if t["label"] == "theme 1")
                    driver_err.append(row["ols_effect"] - TRUE_NPS_EFFECT)
                else:
                    counts["driver_null"] += bool(drivers["drivers"])
                store.close()
                path = Path(tmp) / f"i{s}{planted}.db"
                store = build(path, items=4800, customers=0, themes=3, start=start, days=60, seed=3000 + s,
                              shares=np.array([0.15, 0.15, 0.2]), drop=(0, 30, 0.5) if planted else None,
                              action=(0, 30))  # fmt: skip
                a = Engine(store).insights.impact(1)["actions"][0]
                if planted:
                    counts["drop_found"] += a["verdict"] == "fewer complaints, significant"
                    drop_ratio.append(a["complaints_vs_others"]["ratio"])
                else:
                    counts["drop_null"] += a["verdict"].endswith(", significant")
                store.close()
    out: dict[str, Any] = {"seeds": seeds}
    for key, value in counts.items():
        lo, hi = wilson(value, seeds)
        out[key] = {"rate": round(value / seeds, 3), "ci": [round(lo or 0, 3), round(hi or 0, 3)], "k": value}
    errs = driver_err
    out["driver_effect_true"] = round(TRUE_NPS_EFFECT, 1)
    out["driver_effect_error_mean"] = round(float(np.mean(errs)), 2) if errs else None
    out["driver_effect_error_sd"] = round(float(np.std(errs)), 2) if errs else None
    out["drop_ratio_true"] = 0.5
    out["drop_ratio_mean"] = round(float(np.mean(drop_ratio)), 3) if drop_ratio else None
    out["drop_ratio_sd"] = round(float(np.std(drop_ratio)), 3) if drop_ratio else None
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, default=0, help="Validation seeds instead of the timing run.")
    args = parser.parse_args()
    result = validate(args.seeds) if args.seeds else scale(args)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
