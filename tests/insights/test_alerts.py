"""Alerts: a real SMTP server (aiosmtpd) and a real HTTP server on loopback; each alert once,
retries after failures (a 500 then success), nothing lost, a lock against a second run."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from click.testing import CliRunner

from feedback_engine.cli import main
from feedback_engine.store.locks import job_lock
from tests.insights.conftest import Item, background
from tests.loop.conftest import SMTPServer, smtp_env

START = date(2025, 3, 3)
SPIKE = START + timedelta(days=31)
SHARES = {"refunds": 0.08, "login": 0.08}


class Hook:
    """A loopback HTTP server answering POSTs with the scripted status codes (then 200)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.bodies: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.bodies.append({"json": json.loads(body), "type": self.headers["Content-Type"]})
                status = hook.statuses.pop(0) if hook.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    made: list[Hook] = []

    def make(statuses: list[int] | None = None) -> Hook:
        made.append(Hook(statuses))
        return made[-1]

    yield make
    for h in made:
        h.close()


@pytest.fixture
def smtp():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


def _spiked(make_planted, text: str = "The refund never arrived, three weeks now"):
    rng = np.random.default_rng(7)
    items = background(rng, START, 35, SHARES)
    items += [Item(SPIKE, "refunds", "negative", text=f"{text} #{i}") for i in range(25)]
    return make_planted(items, list(SHARES))


def _env(smtp_port: int | None, to: str | None, url: str | None) -> dict[str, str]:
    env = smtp_env(smtp_port) if smtp_port else {}
    if to:
        env["FEEDBACK_ENGINE_ALERT_TO"] = to
    if url:
        env["FEEDBACK_ENGINE_ALERT_WEBHOOK"] = url
    return env


def _states(p) -> list[tuple[str, str, int, str, int]]:
    return [
        tuple(r)
        for r in p.engine.store.conn.execute(
            "SELECT key, email_status, email_attempts, webhook_status, webhook_attempts FROM alerts ORDER BY id"
        )
    ]


def test_digest_email_and_webhook_each_alert_once(make_planted, smtp, hook):
    p = _spiked(make_planted)
    h = hook()
    env = _env(smtp.port, "lead@acme.test, pm@acme.test", h.url)
    preview = p.engine.insights.alerts(env=env)
    assert preview.found >= 1 and preview.new == preview.found
    assert p.engine.store.scalar("SELECT count(*) FROM alerts") == 0  # a preview writes nothing
    report = p.engine.insights.alerts(send=True, env=env)
    assert report.exit_code == 0 and report.stopped is None
    assert report.new == report.found == preview.found
    spike = next(a for a in report.alerts if a["kind"] == "volume" and a["day"] == SPIKE.isoformat())
    day_texts = {
        r[0]
        for r in p.engine.store.conn.execute(
            "SELECT a.redacted_text FROM analysis a JOIN feedback f ON f.id = a.feedback_id "
            "JOIN theme_assignments t ON t.feedback_id = f.id WHERE t.theme_id = ? AND f.created_at LIKE ?",
            (p.theme_ids["refunds"], SPIKE.isoformat() + "%"),
        )
    }
    assert len(set(spike["quotes"])) == 3 and set(spike["quotes"]) <= day_texts  # members of that theme and day
    assert len(smtp.handler.messages) == 1
    msg = smtp.handler.messages[0]
    assert sorted(msg.rcpt_tos) == ["lead@acme.test", "pm@acme.test"]
    assert msg.mail_from == "feedback@acme.test"
    assert msg.message["Subject"].startswith(f"Feedback alerts: {report.new} new (refunds")
    body = msg.message.get_body(("plain",)).get_content()
    assert spike["text"] in body and f'"{spike["quotes"][0]}"' in body
    assert len(h.bodies) == 1 and h.bodies[0]["type"] == "application/json"
    assert set(h.bodies[0]["json"]) == {"text"} and spike["text"] in h.bodies[0]["json"]["text"]
    assert all(s[1:] == ("sent", 1, "sent", 1) for s in _states(p))
    again = p.engine.insights.alerts(send=True, env=env)  # the next cron run: nothing new, nothing resent
    assert (again.new, again.email["due"], again.webhook["due"]) == (0, 0, 0)
    assert len(smtp.handler.messages) == 1 and len(h.bodies) == 1


def test_webhook_500_then_success_within_the_run(make_planted, hook):
    p = _spiked(make_planted)
    h = hook([500])
    report = p.engine.insights.alerts(send=True, env=_env(None, None, h.url), retry_delays=(0.01,))
    assert report.exit_code == 0
    assert report.webhook == {"due": report.new, "sent": report.new, "retry": 0, "tries": 2, "error": None}
    assert len(h.bodies) == 2 and h.bodies[0] == h.bodies[1]  # the same payload again
    assert all(s[3:] == ("sent", 2) for s in _states(p))
    assert all(s[1] == "none" for s in _states(p))  # email not configured: never sent by email


def test_failed_sends_stay_due_and_go_out_later(make_planted, smtp, hook):
    p = _spiked(make_planted)
    h = hook([503, 503, 503])
    smtp.stop()  # the SMTP server is down
    env = _env(smtp.port, "lead@acme.test", h.url)
    first = p.engine.insights.alerts(send=True, env=env, retry_delays=(0.01,))
    assert first.exit_code == 75
    assert "Cannot reach SMTP server" in first.email["error"] and first.webhook["error"].startswith(
        "the alert webhook answered 503"
    )
    assert all(s[1] == "retry" and s[3] == "retry" for s in _states(p))
    too_soon = p.engine.insights.alerts(send=True, env=env)  # backoff: not yet due
    assert (too_soon.email["due"], too_soon.webhook["due"], len(h.bodies)) == (0, 0, 3)
    smtp.start()
    with p.engine.store.transaction() as conn:  # the backoff has passed
        conn.execute(
            "UPDATE alerts SET email_next_at = '2000-01-01T00:00:00Z', webhook_next_at = '2000-01-01T00:00:00Z'"
        )
    later = p.engine.insights.alerts(send=True, env=env)
    assert later.exit_code == 0 and later.email["sent"] == first.new and later.webhook["sent"] == first.new
    assert len(smtp.handler.messages) == 1 and len(h.bodies) == 4
    assert all(s[1:] == ("sent", 2, "sent", 4) for s in _states(p))


def test_cli_send_exit_codes_lock_and_settings(make_planted, smtp, hook, monkeypatch):
    p = _spiked(make_planted)
    db = str(p.engine.store.path)
    out = CliRunner().invoke(main, ["--db", db, "alerts", "--send"])
    assert out.exit_code == 2 and "FEEDBACK_ENGINE_ALERT_TO" in out.stderr
    monkeypatch.setenv("FEEDBACK_ENGINE_ALERT_TO", "lead@acme.test")
    out = CliRunner().invoke(main, ["--db", db, "alerts", "--send"])
    assert out.exit_code == 2 and "FEEDBACK_ENGINE_SMTP_HOST is not set" in out.stderr
    for k, v in smtp_env(smtp.port).items():
        monkeypatch.setenv(k, v)
    with job_lock(p.engine.store, "alerts"):
        out = CliRunner().invoke(main, ["--db", db, "alerts", "--send"])
    assert out.exit_code == 3 and "Another `feedback-engine alerts --send`" in out.stderr
    assert p.engine.store.scalar("SELECT count(*) FROM alerts") == 0
    out = CliRunner().invoke(main, ["--db", db, "alerts"])
    assert out.exit_code == 0 and "[volume] refunds:" in out.output and "refund never arrived" in out.output
    out = CliRunner().invoke(main, ["--db", db, "alerts", "--send", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["email"]["sent"] == data["new"] > 0 and data["exit_code"] == 0
    smtp.stop()
    with p.engine.store.transaction() as conn:
        conn.execute("UPDATE alerts SET email_status = 'pending'")
    out = CliRunner().invoke(main, ["--db", db, "alerts", "--send"])
    assert out.exit_code == 75 and "wait for the next run" in out.stderr


def test_hostile_text_is_escaped(make_planted, smtp, hook):
    p = _spiked(make_planted, text="<!channel> refund\r\nBcc: evil@example.org & more")
    with p.engine.store.transaction() as conn:
        conn.execute(
            "UPDATE themes SET label = ? WHERE label = 'refunds'",
            ("refunds\r\nBcc: evil@example.org =?utf-8?b?QQ==?=",),
        )
    h = hook()
    report = p.engine.insights.alerts(send=True, env=_env(smtp.port, "lead@acme.test", h.url))
    assert report.exit_code == 0
    msg = smtp.handler.messages[0]
    assert msg.rcpt_tos == ["lead@acme.test"] and msg.message["Bcc"] is None
    assert "\n" not in msg.message["Subject"] and "=?" not in msg.message["Subject"]
    text = h.bodies[0]["json"]["text"]
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text and "&amp; more" in text


def test_an_email_left_sending_by_a_killed_run_is_unconfirmed_not_resent(make_planted, smtp):
    p = _spiked(make_planted)
    env = _env(smtp.port, "lead@acme.test", None)
    p.engine.insights.alerts(send=True, env=env)
    assert len(smtp.handler.messages) == 1
    with p.engine.store.transaction() as conn:  # as a run killed between DATA and the server's answer leaves it
        conn.execute("UPDATE alerts SET email_status = 'sending' WHERE id = 1")
    report = p.engine.insights.alerts(send=True, env=env)
    assert report.unconfirmed == [1] and report.email["due"] == 0
    assert len(smtp.handler.messages) == 1
    assert p.engine.store.scalar("SELECT email_status FROM alerts WHERE id = 1") == "unconfirmed"
