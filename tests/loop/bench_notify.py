"""Throughput of the notify job: ``python -m tests.loop.bench_notify [CUSTOMERS]`` (local aiosmtpd).

Not collected by pytest. Seeds CUSTOMERS consenting customers with three items each on one theme,
ships one action, then times a dry run, a send and an idle rerun.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from feedback_engine import Engine
from feedback_engine.loop.actions import update_action
from feedback_engine.store import Store
from tests.loop.conftest import T0, SMTPServer, add_theme, at, make_settings


def main(customers: int = 1000) -> None:
    folder = Path(tempfile.mkdtemp())
    store = Store(folder / "bench.db")
    server = SMTPServer()
    server.start()
    theme = add_theme(store, "Login")
    with store.transaction() as conn:
        for i in range(customers):
            cid = conn.execute(
                "INSERT INTO customers (email, consent, created_at, updated_at) VALUES (?, 1, ?, ?)",
                (f"c{i}@example.com", T0, T0),
            ).lastrowid
            for j in range(3):
                fid = conn.execute(
                    """INSERT INTO feedback (natural_key, channel, platform, customer_id, text, created_at,
                       ingested_at, raw, content_hash) VALUES (?, 'survey', 'typeform', ?, 'x', ?, ?, '{}', 'h')""",
                    (f"k{i}-{j}", cid, "2025-02-01T00:00:00Z", "2025-02-01T00:00:00Z"),
                ).lastrowid
                conn.execute(
                    "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, assigned_at) VALUES (?, -1, ?, ?)",
                    (fid, theme, T0),
                )
    engine = Engine(store, settings=make_settings(server.port))
    action = engine.actions.add(themes=[theme], title="Fixed", description="Done.")
    update_action(store, action, status="shipped", now="2025-03-01T00:00:00Z")
    now = at("2025-03-02T00:00:00Z")
    start = time.perf_counter()
    report = engine.outbox.notify(dry_run_dir=folder / "out", now=now)
    took = time.perf_counter() - start
    print(f"dry run: {len(report.files)} emails in {took:.2f}s ({len(report.files) / took:.0f} emails/s)")
    start = time.perf_counter()
    report = engine.outbox.notify(send=True, now=now)
    took = time.perf_counter() - start
    print(
        f"send: {report.sent} emails in {took:.2f}s ({report.sent / took:.0f} emails/s); "
        f"server received {len(server.handler.messages)}"
    )
    start = time.perf_counter()
    report = engine.outbox.notify(send=True, now=now)
    print(f"idle rerun: {report.sent} sent in {time.perf_counter() - start:.2f}s")
    server.stop()
    store.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
