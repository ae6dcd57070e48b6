"""Ingest benchmark: N generated survey rows from CSV through the real API, beside a bare executemany.

    python bench/ingest_bench.py               # 1,000,000 rows
    python bench/ingest_bench.py --rows 100000 --runs 3

Prints, for the real ingest (validation, dedupe, customers, FTS index, quarantine checks):
rows/s and the peak RSS of the ingest process; and for a bare ``executemany`` of the same rows
into the same ``feedback`` table (real schema, tuples pre-built outside the timed part), once
with the per-row FTS trigger and once indexing FTS in bulk per batch as the loader does:
rows/s, plus the ratios. Each measurement runs in its own subprocess so
that peak RSS (``ru_maxrss`` of that process) is the ingest's own.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_PHRASES = """the app crashes when I open invoices sync is slow support was great billing page confusing love the
board view dark mode please export to csv fails login with google broken on android notifications arrive late
search works well pricing too high for small teams onboarding took five minutes calendar integration missing
offline edits lost after update team adopted it fast reports are useful"""
WORDS = _PHRASES.split()


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    customers = max(1, rows // 10)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["response_id", "submitted_at", "email", "nps", "comment"])
        for i in range(rows):
            text = " ".join(rng.choices(WORDS, k=rng.randint(6, 24))).capitalize() + "."
            writer.writerow(
                [
                    f"r{i:08d}",
                    f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}Z",
                    f"Customer{rng.randrange(customers)}@Example.com",
                    str(rng.randint(0, 10)),
                    text,
                ]
            )


def child_ingest(csv_path: Path, db_path: Path) -> dict[str, float]:
    from feedback_engine import Engine

    with Engine(db_path) as engine:
        started = time.perf_counter()
        report = engine.ingest.surveys(csv_path)
        seconds = time.perf_counter() - started
    return {"rows": report.added, "seconds": seconds, "quarantined": report.quarantined}


def child_bare(csv_path: Path, db_path: Path, batch: int = 20_000, bulk_fts: bool = False) -> dict[str, float]:
    """executemany of pre-built tuples (built outside the timed part) into the real schema.

    ``bulk_fts``: drop the per-row FTS trigger and index each batch with one INSERT ... SELECT,
    as the loader does; otherwise the trigger indexes row by row.
    """
    from feedback_engine.store import Store

    store = Store(db_path)
    conn = store.conn
    conn.execute("PRAGMA cache_size = -65536")
    if bulk_fts:
        conn.execute("DROP TRIGGER feedback_ai")
        conn.commit()
    sql = (
        "INSERT INTO feedback (natural_key, channel, platform, source, run_id, external_id, response_id, question,"
        " customer_id, text, title, rating, nps, csat, language, url, created_at, source_updated_at, ingested_at,"
        " raw, content_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    )
    timed = 0.0
    count = 0
    with csv_path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        while True:
            rows = []
            for fields in reader:
                rid, date, email, nps, text = fields
                raw = json.dumps(
                    dict(zip(("response_id", "submitted_at", "email", "nps", "comment"), fields, strict=True))
                )
                rows.append(
                    (f"generic:{rid}:comment", "survey", "generic", str(csv_path), None, rid, rid, "comment", None,
                     text, None, None, int(nps), None, None, None, date, None, "now", raw, rid)
                )  # fmt: skip
                if len(rows) >= batch:
                    break
            if not rows:
                break
            started = time.perf_counter()
            conn.execute("BEGIN")
            conn.executemany(sql, rows)
            if bulk_fts:
                conn.execute(
                    "INSERT INTO feedback_fts (rowid, title, text) SELECT id, title, text FROM feedback WHERE id > ?",
                    (count,),
                )
            conn.commit()
            timed += time.perf_counter() - started
            count += len(rows)
    store.close()
    return {"rows": count, "seconds": timed}


def run_child(mode: str, csv_path: Path, db_path: Path) -> dict[str, float]:
    for suffix in ("", "-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(csv_path), str(db_path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1, help="repeat and report the median")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "CSV", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, csv_path, db_path = args.child
        if mode == "ingest":
            result = child_ingest(Path(csv_path), Path(db_path))
        else:
            result = child_bare(Path(csv_path), Path(db_path), bulk_fts=mode == "bare-bulk")
        # the child's own peak resident set (KiB on Linux): the ingest's memory, nothing else's
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "responses.csv"
        started = time.perf_counter()
        generate(csv_path, args.rows)
        size_mb = csv_path.stat().st_size / 1e6
        print(f"generated {args.rows:,} rows ({size_mb:.0f} MB) in {time.perf_counter() - started:.1f}s")
        ingest_rates, bare_rates, bulk_rates, peaks = [], [], [], []
        for run in range(args.runs):
            ing = run_child("ingest", csv_path, Path(tmp) / "ingest.db")
            bare = run_child("bare", csv_path, Path(tmp) / "bare.db")
            bulk = run_child("bare-bulk", csv_path, Path(tmp) / "bulk.db")
            ingest_rates.append(ing["rows"] / ing["seconds"])
            bare_rates.append(bare["rows"] / bare["seconds"])
            bulk_rates.append(bulk["rows"] / bulk["seconds"])
            peaks.append(ing["peak_rss_mb"])
            print(
                f"run {run + 1}: ingest {ing['rows']:,.0f} rows in {ing['seconds']:.2f}s = "
                f"{ingest_rates[-1]:,.0f} rows/s (peak RSS {ing['peak_rss_mb']:.0f} MB); bare executemany "
                f"{bare_rates[-1]:,.0f} rows/s (FTS trigger), {bulk_rates[-1]:,.0f} rows/s (bulk FTS)"
            )
        ingest_rate = statistics.median(ingest_rates)
        bare_rate = statistics.median(bare_rates)
        bulk_rate = statistics.median(bulk_rates)
        print(f"median of {args.runs} run(s), {args.rows:,} rows:")
        print(f"  ingest through the API (parse, validate, dedupe, customers, FTS): {ingest_rate:>9,.0f} rows/s")
        print(f"  peak RSS of the ingest process:                                   {max(peaks):>9,.0f} MB")
        print(f"  bare executemany, same rows and table, FTS by trigger:            {bare_rate:>9,.0f} rows/s")
        print(f"  bare executemany, same rows and table, FTS in bulk per batch:     {bulk_rate:>9,.0f} rows/s")
        print(f"  ratio ingest / bare (trigger):                                    {ingest_rate / bare_rate:>9.2f}")
        print(f"  ratio ingest / bare (bulk FTS):                                   {ingest_rate / bulk_rate:>9.2f}")


if __name__ == "__main__":
    main()
