"""Web app latency on loopback: the triage page, a theme page and a search, with many items.

    python bench/web_bench.py [--items 100000] [--themes 40] [--requests 60] [--clients 4] [--repeats 5] [--json]

Builds a database in a temporary folder with SQL (no models: items, analysis rows, one sentence
each, theme assignments spread over ``--themes`` themes, one editor), starts the real server
(uvicorn, one worker) on 127.0.0.1, logs in, then for each page sends ``--requests`` sequential
requests and reports p50/p95/max in milliseconds (``triage_filtered`` is never cached: each
request recomputes the table); ``recompute`` times the table in-process, the Python way it was
computed before and the SQL table now (medians of ``--repeats``); finally ``--clients`` threads send
``--requests`` requests each to the triage page and the requests/s are reported. Bounded: at most
``requests * (3 + clients)`` requests, all to loopback.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from feedback_engine.engine import Engine
from feedback_engine.loop.settings import Settings
from feedback_engine.store import Store
from feedback_engine.web.server import make_server

WORDS = [
    "refund",
    "late",
    "delivery",
    "broken",
    "login",
    "password",
    "app",
    "crash",
    "slow",
    "support",
    "agent",
    "rude",
    "kind",
    "helpful",
    "price",
    "expensive",
    "cheap",
    "screen",
    "battery",
    "update",
    "sync",
    "account",
    "email",
    "payment",
    "card",
    "invoice",
    "order",
    "tracking",
    "parcel",
    "courier",
    "box",
]
T0 = "2025-01-01T00:00:00+00:00"
PASSWORD = "benchmark password 1"


def build(db_path: Path, items: int, themes: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    Engine(db_path).close()
    with Store(db_path) as store, store.transaction() as conn:
        for t in range(themes):
            conn.execute(
                "INSERT INTO themes (label, status, terms, quotes, created_at, updated_at) VALUES (?, 'active', ?, '[]', ?, ?)",
                (f"Theme {t}: {WORDS[t % len(WORDS)]}", json.dumps([[WORDS[t % len(WORDS)], 0.5]]), T0, T0),
            )
        cols = {c[1]: (c[3], c[4]) for c in conn.execute("PRAGMA table_info(analysis)")}
        for start in range(0, items, 5000):
            feedback, analysis, sentences, assignments = [], [], [], []
            for fid in range(start + 1, min(items, start + 5000) + 1):
                text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 20)))
                day = 1 + fid % 28
                created = f"2025-{1 + fid % 12:02d}-{day:02d}T10:00:00+00:00"
                feedback.append((fid, f"bench:{fid}", text, created, created, f"h{fid}"))
                score = rng.uniform(-1, 1)
                label = "negative" if score < -0.3 else "positive" if score > 0.3 else "neutral"
                values = {
                    "feedback_id": fid,
                    "redacted_text": text,
                    "sentiment": label,
                    "sentiment_score": score,
                    "language": "en",
                    "aspects": "[]",
                }
                for name, (notnull, default) in cols.items():
                    if name not in values and notnull and default is None:
                        values[name] = T0 if name.endswith("_at") else "bench"
                analysis.append(values)
                sentences.append((fid, text, text, label, score, json.dumps([text.split()[0]])))
                assignments.append((fid, 1 + fid % themes, T0))
            conn.executemany(
                "INSERT INTO feedback (id, natural_key, channel, platform, text, created_at, ingested_at, raw, "
                "content_hash) VALUES (?, ?, 'survey', 'typeform', ?, ?, ?, '{}', ?)",
                feedback,
            )
            names = list(analysis[0])
            conn.executemany(
                f"INSERT INTO analysis ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                [[row[n] for n in names] for row in analysis],
            )
            conn.executemany(
                "INSERT INTO sentences (feedback_id, idx, text, redacted_text, sentiment, sentiment_score, aspects) "
                "VALUES (?, 0, ?, ?, ?, ?, ?)",
                sentences,
            )
            conn.executemany(
                "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, assigned_at) "
                "VALUES (?, 0, ?, 0.9, ?)",
                assignments,
            )
    with Engine(db_path) as engine:
        engine.accounts.add("bench@example.com", "editor", PASSWORD)


def opener_logged_in(base: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login", timeout=30).read().decode()
    nonce = re.search(r'name="csrf" value="([^"]+)"', page)
    assert nonce, "no login form"
    data = urllib.parse.urlencode(
        {"csrf": nonce.group(1), "email": "bench@example.com", "password": PASSWORD, "next": "/"}
    ).encode()
    opener.open(f"{base}/login", data=data, timeout=30).read()
    return opener


def timed(opener: urllib.request.OpenerDirector, url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        with opener.open(url, timeout=60) as response:
            response.read()
            assert response.status == 200, response.status
        out.append((time.perf_counter() - started) * 1000)
    return out


def summary(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"p50_ms": round(statistics.median(ordered), 1), "p95_ms": round(p95, 1), "max_ms": round(ordered[-1], 1)}


def recompute(db_path: Path, repeats: int) -> dict[str, float]:
    """Median ms of what the triage table costs when its cache is stale, in-process: the themes'
    figures from Member objects in Python (``queries.theme_figures``, what ``themes list`` did
    before) and from the SQL theme table (``engine.themes.list()`` now, :mod:`feedback_engine.themes.aggregate`)."""
    from feedback_engine.themes import metrics
    from feedback_engine.themes import queries as tq

    out: dict[str, float] = {}
    with Engine(db_path, migrate=False) as engine:
        ref = metrics.reference_time(engine.store)
        for name, run in (
            ("python_members_ms", lambda: tq.theme_figures(engine.store.conn, None, ref)),
            ("sql_table_ms", engine.themes.list),
        ):
            run()  # warm the page cache
            ms = []
            for _ in range(repeats):
                started = time.perf_counter()
                run()
                ms.append((time.perf_counter() - started) * 1000)
            out[name] = round(statistics.median(ms), 1)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--themes", type=int, default=40)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5, help="Runs of each in-process recompute (median).")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "bench.db"
        started = time.perf_counter()
        build(db_path, args.items, args.themes)
        built_s = time.perf_counter() - started
        settings = Settings.from_env({**os.environ, "FEEDBACK_ENGINE_SECRET": "web-bench-secret-0123456789abcdef"})
        server = make_server(db_path, port=0, settings=settings, quiet=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            opener = opener_logged_in(base)
            pages = {
                "triage": f"{base}/",
                "triage_filtered": f"{base}/?platform=typeform&sort=negative",  # never cached: recomputed each time
                "theme": f"{base}/themes/1",
                "search": f"{base}/?q=refund+late",
            }
            results: dict[str, object] = {"items": args.items, "themes": args.themes, "build_s": round(built_s, 1)}
            results["recompute"] = recompute(db_path, args.repeats)
            for name, url in pages.items():
                timed(opener, url, 2)  # warm up
                results[name] = summary(timed(opener, url, args.requests))
            done: list[float] = []
            lock = threading.Lock()

            def client() -> None:
                own = opener_logged_in(base)
                ms = timed(own, pages["triage"], args.requests)
                with lock:
                    done.extend(ms)

            threads = [threading.Thread(target=client) for _ in range(args.clients)]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
            results["load"] = {
                "clients": args.clients,
                "requests": len(done),
                "requests_per_s": round(len(done) / elapsed, 1),
                **summary(done),
            }
        finally:
            server.shutdown()
            server.server_close()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for key, value in results.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
