"""SMTP faults against a real aiosmtpd server: which 5xx suppresses whom, and exit code 75 for cron/systemd."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from feedback_engine import Engine
from feedback_engine.cli import main
from feedback_engine.loop.actions import update_action

from .conftest import add_customer, add_feedback, add_theme, at, free_port, make_settings, smtp_env

CUSTOMERS = [f"c{i}@example.com" for i in range(5)]
NOW = at("2025-03-02T08:00:00Z")


def seed(store) -> dict[str, int]:
    theme = add_theme(store, "Login")
    ids = {}
    for email in CUSTOMERS:
        ids[email] = add_customer(store, email)
        add_feedback(store, ids[email], "login broken", themes=[theme])
    aid = Engine(store).actions.add(themes=[theme], title="Fixed login", description="Done.", by="lead")
    update_action(store, aid, status="shipped", by="lead", now="2025-03-01T00:00:00Z")
    return ids


def statuses(store) -> dict[str, int]:
    return dict(store.conn.execute("SELECT status, count(*) FROM emails GROUP BY status").fetchall())


def suppressed(store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT email FROM customers WHERE suppressed_at IS NOT NULL ORDER BY id")]


def cli_send(store, port, monkeypatch, *extra: str):
    for key, value in smtp_env(port).items():
        monkeypatch.setenv(key, value)
    return CliRunner().invoke(main, ["--db", str(store.path), "notify", "--send", *extra])


def later() -> datetime:
    return datetime.now(UTC) + timedelta(hours=7)  # past any backoff set by a CLI run (real clock)


def test_500_after_every_message_is_a_server_fault_nobody_is_suppressed(store, smtp, monkeypatch):
    seed(store)
    smtp.handler.data_reply = "500 5.0.0 mailbox backend broken"
    result = cli_send(store, smtp.port, monkeypatch, "--json")
    assert result.exit_code == 75
    last = f"SMTP server 127.0.0.1:{smtp.port} refused the message to c2@example.com (500 5.0.0 mailbox backend broken)"
    assert result.stderr == (
        f"Error: Stopped early: The SMTP server answered 500 for 3 different recipients in a row (last: {last}); "
        "that is a server fault, not bad addresses, so nobody was suppressed. Check the SMTP server; the emails "
        "stay queued for the next run.\n"
    )
    report = json.loads(result.stdout)
    assert (report["sent"], report["retry"], report["bounced"], report["exit_code"]) == (0, 3, [], 75)
    assert report["server_fault"] == {
        "code": 500,
        "recipients": CUSTOMERS[:3],
        "last_reply": last + ".",
    }
    assert suppressed(store) == [] and statuses(store) == {"retry": 3, "queued": 2}
    smtp.handler.data_reply = None  # the backend is repaired
    healthy = Engine(store, settings=make_settings(smtp.port)).outbox.notify(send=True, now=later())
    assert (healthy.sent, healthy.stopped, healthy.exit_code) == (5, None, 0)
    assert smtp.handler.to() == CUSTOMERS and statuses(store) == {"sent": 5}


def test_a_550_at_rcpt_suppresses_only_that_customer(store, smtp, monkeypatch):
    ids = seed(store)
    smtp.handler.reject_rcpt = {"c2@example.com": "550 5.1.1 no such user"}
    result = cli_send(store, smtp.port, monkeypatch)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "Sent 4 emails; 0 to retry later; 0 notifications held by the frequency cap; 0 cancelled; "
        "5 new notifications planned.\n"
        "Bounced and suppressed: c2@example.com (c2@example.com rejected permanently (550 5.1.1 no such user).)\n"
    )
    assert suppressed(store) == ["c2@example.com"]
    assert statuses(store) == {"sent": 4, "bounced": 1}
    events = store.query("SELECT customer_id, by, event FROM contact_events")
    assert events == [{"customer_id": ids["c2@example.com"], "by": "notify", "event": "suppressed"}]


@pytest.mark.parametrize(
    ("rejected", "suppressed_after", "exit_code"),
    [
        (["c0@example.com", "c1@example.com"], ["c0@example.com", "c1@example.com"], 0),  # broken by c2's success
        (["c3@example.com", "c4@example.com"], ["c3@example.com", "c4@example.com"], 0),  # the batch ends
        (["c1@example.com", "c2@example.com", "c3@example.com"], [], 75),  # three in a row: a server fault
    ],
)
def test_rcpt_rejections_are_held_until_their_streak_ends(store, smtp, rejected, suppressed_after, exit_code):
    seed(store)
    smtp.handler.reject_rcpt = dict.fromkeys(rejected, "550 5.1.1 no such user")
    report = Engine(store, settings=make_settings(smtp.port)).outbox.notify(send=True, now=NOW)
    assert report.exit_code == exit_code
    assert suppressed(store) == suppressed_after
    assert [b["to"] for b in report.bounced] == suppressed_after
    if exit_code:
        assert report.server_fault["recipients"] == rejected
        assert statuses(store) == {"sent": 1, "retry": 3, "queued": 1}


def test_different_codes_in_a_row_are_per_recipient_rejections(store, smtp):
    seed(store)
    smtp.handler.reject_rcpt = {
        "c0@example.com": "550 5.1.1 no such user",
        "c1@example.com": "551 5.1.6 moved",
        "c2@example.com": "553 5.1.3 bad mailbox",
    }
    report = Engine(store, settings=make_settings(smtp.port)).outbox.notify(send=True, now=NOW)
    assert (report.exit_code, report.sent) == (0, 2)
    assert suppressed(store) == CUSTOMERS[:3]


def test_550_to_every_rcpt_is_a_server_fault_then_all_arrive(store, smtp, monkeypatch):
    seed(store)
    smtp.handler.reject_all_rcpt = "550 5.7.1 relaying denied"
    result = cli_send(store, smtp.port, monkeypatch, "--json")
    assert result.exit_code == 75 and result.stderr.startswith(
        "Error: Stopped early: The SMTP server answered 550 for 3 different recipients in a row "
        "(last: c2@example.com rejected permanently (550 5.7.1 relaying denied)); that is a server fault"
    )
    assert json.loads(result.stdout)["bounced"] == [] and suppressed(store) == []
    outcomes = [r[0] for r in store.conn.execute("SELECT outcome FROM delivery_attempts ORDER BY id")]
    assert outcomes == ["permanent"] * 3
    smtp.handler.reject_all_rcpt = None
    assert Engine(store, settings=make_settings(smtp.port)).outbox.notify(send=True, now=later()).sent == 5
    assert smtp.handler.to() == CUSTOMERS


def test_a_refused_sender_suppresses_nobody(store, smtp):
    seed(store)
    smtp.handler.mail_reply = "553 5.7.1 sender not allowed"
    report = Engine(store, settings=make_settings(smtp.port)).outbox.notify(send=True, now=NOW)
    assert report.exit_code == 75 and report.server_fault["code"] == 553
    assert "refused the sender feedback@acme.test (553 5.7.1 sender not allowed)" in report.stopped
    assert suppressed(store) == [] and smtp.handler.rcpts == []


def test_unreachable_server_exits_75_and_loses_nothing(store, monkeypatch):
    seed(store)
    port = free_port()
    result = cli_send(store, port, monkeypatch, "--json")
    assert result.exit_code == 75
    reason = f"Cannot reach SMTP server 127.0.0.1:{port} ([Errno 111] Connection refused)."
    assert result.stderr == f"Error: Stopped early: {reason} The emails stay queued for the next run.\n"
    report = json.loads(result.stdout)
    assert (report["sent"], report["retry"], report["stopped"], report["exit_code"]) == (0, 1, reason, 75)
    assert statuses(store) == {"retry": 1, "queued": 4} and suppressed(store) == []
    human = cli_send(store, port, monkeypatch)
    assert human.exit_code == 75
    assert human.stdout == (
        "Sent 0 emails; 1 to retry later; 0 notifications held by the frequency cap; 0 cancelled; "
        "0 new notifications planned.\n"
    )
    assert human.stderr == f"Error: Stopped early: {reason} The emails stay queued for the next run.\n"


def test_connection_lost_mid_batch_exits_75_and_the_rest_follows(store, smtp, monkeypatch):
    seed(store)
    smtp.handler.drop_at_rcpt = {"c2@example.com"}
    result = cli_send(store, smtp.port, monkeypatch, "--json")
    assert result.exit_code == 75, result.output
    report = json.loads(result.stdout)
    assert (report["sent"], report["retry"]) == (2, 1) and "connection" in report["stopped"]
    assert result.stderr.startswith(f"Error: Stopped early: SMTP connection to 127.0.0.1:{smtp.port} failed (")
    assert result.stderr.count("\n") == 1
    assert statuses(store) == {"sent": 2, "retry": 1, "queued": 2}
    again = Engine(store, settings=make_settings(smtp.port)).outbox.notify(send=True, now=later())
    assert (again.sent, again.exit_code) == (3, 0)
    assert smtp.handler.to() == CUSTOMERS


def test_one_message_refused_after_its_body_is_retried_not_suppressed(store, smtp):
    seed(store)
    smtp.handler.data_reply_for = {"c2@example.com": "554 5.7.1 message content rejected"}
    engine = Engine(store, settings=make_settings(smtp.port))
    report = engine.outbox.notify(send=True, now=NOW)
    assert (report.sent, report.retry, report.bounced, report.exit_code) == (4, 1, [], 0)
    assert suppressed(store) == [] and statuses(store) == {"sent": 4, "retry": 1}
    attempt = store.query("SELECT outcome, smtp_code FROM delivery_attempts ORDER BY id")[2]
    assert attempt == {"outcome": "transient", "smtp_code": 554}
    smtp.handler.data_reply_for = {}
    assert engine.outbox.notify(send=True, now=NOW + timedelta(minutes=6)).sent == 1
    assert smtp.handler.to() == CUSTOMERS
