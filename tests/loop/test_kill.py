"""A `notify --send` process really killed mid-batch, then rerun: every email arrives exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter

import pytest

from feedback_engine import Engine
from feedback_engine.loop.actions import update_action

from .conftest import add_customer, add_feedback, add_theme, smtp_env

pytestmark = pytest.mark.slow
CUSTOMERS = [f"c{i}@example.com" for i in range(5)]


def notify_cmd(db_path) -> list[str]:
    return [sys.executable, "-m", "feedback_engine", "--db", str(db_path), "notify", "--send", "--json"]


def seed(store) -> None:
    theme = add_theme(store, "Login")
    for email in CUSTOMERS:
        add_feedback(store, add_customer(store, email), "login broken", themes=[theme])
    engine = Engine(store)
    aid = engine.actions.add(themes=[theme], title="Fixed login", description="Done.", by="lead")
    update_action(store, aid, status="shipped", by="lead", now="2025-03-01T00:00:00Z")
    store.close()


def run_killed(db_path, smtp, event) -> None:
    env = {**os.environ, **smtp_env(smtp.port)}
    proc = subprocess.Popen(notify_cmd(db_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert event.wait(60), "the job never reached the SMTP server"
        second = subprocess.run(notify_cmd(db_path), env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 3
        assert second.stderr.startswith("Error: Another `feedback-engine notify --send` (pid ")
        assert second.stdout == ""
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def rerun(db_path, smtp) -> dict:
    env = {**os.environ, **smtp_env(smtp.port)}
    done = subprocess.run(notify_cmd(db_path), env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_killed_after_the_server_accepted_then_rerun(store, db_path, smtp):
    seed(store)
    smtp.handler.stall_after_data = 20.0  # the first message is recorded, the 250 is late: kill in that window
    run_killed(db_path, smtp, smtp.handler.accepted)
    assert smtp.handler.to() == ["c0@example.com"]
    report = rerun(db_path, smtp)
    assert report["sent"] == 4
    assert [u["to"] for u in report["unconfirmed"]] == ["c0@example.com"]
    assert Counter(smtp.handler.to()) == Counter(CUSTOMERS)  # exactly once each
    assert rerun(db_path, smtp)["sent"] == 0
    assert Counter(smtp.handler.to()) == Counter(CUSTOMERS)


def test_killed_before_the_message_was_handed_over_then_rerun(store, db_path, smtp):
    seed(store)
    smtp.handler.stall_at_rcpt = {"c1@example.com": 20.0}  # kill while the second message is at RCPT
    run_killed(db_path, smtp, smtp.handler.rcpt_seen)
    assert smtp.handler.to() == ["c0@example.com"]
    report = rerun(db_path, smtp)
    assert report["sent"] == 4 and report["unconfirmed"] == []
    assert Counter(smtp.handler.to()) == Counter(CUSTOMERS)
