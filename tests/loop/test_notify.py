"""The notify job against a real aiosmtpd server on loopback."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from click.testing import CliRunner

from feedback_engine import Engine
from feedback_engine.cli import main
from feedback_engine.errors import ConfigError, LockHeldError
from feedback_engine.loop.actions import update_action
from feedback_engine.loop.notify import job_lock
from feedback_engine.loop.tokens import make_token

from .conftest import (
    SECRET,
    add_customer,
    add_feedback,
    add_theme,
    at,
    make_settings,
    merge_theme,
    smtp_env,
)

SHIP = "2025-03-01T12:00:00Z"
NOW = at("2025-03-02T08:00:00Z")


def ship(store, engine, themes, title="Faster login", description="We rebuilt the login page.", when=SHIP, items=None):
    aid = engine.actions.add(themes=themes, items=items, title=title, description=description, by="lead")
    update_action(store, aid, status="shipped", by="lead", now=when)
    return aid


@pytest.fixture
def engine(store, smtp):
    return Engine(store, settings=make_settings(smtp.port))


def status_counts(store):
    return dict(store.conn.execute("SELECT status, count(*) FROM emails GROUP BY status").fetchall())


def test_recipients_dedupe_merges_and_exclusions(store, engine, smtp):
    login, signin, other = add_theme(store, "Login"), add_theme(store, "Sign in"), add_theme(store, "Other")
    merge_theme(store, signin, login)
    many = add_customer(store, "many@example.com", name="Many")
    for i in range(10):
        add_feedback(store, many, f"login {i}", themes=[login])
    both = add_customer(store, "both@example.com")
    add_feedback(store, both, "a", themes=[login])
    add_feedback(store, both, "b. c.", sentence_themes={0: signin, 1: other})  # only one sentence is on the theme
    skipped = {
        "no_consent": add_customer(store, "no@example.com", consent=0),
        "unknown": add_customer(store, "unknown@example.com", consent=None),
        "no_email": add_customer(store, None, handle="someone"),
        "unsub": add_customer(store, "unsub@example.com", unsubscribed=True),
        "supp": add_customer(store, "supp@example.com", suppressed=True),
        "late": add_customer(store, "late@example.com"),
        "bad": add_customer(store, "bad address@example.com"),
    }
    for key, cid in skipped.items():
        created = "2025-03-05T00:00:00Z" if key == "late" else "2025-02-01T00:00:00Z"
        add_feedback(store, cid, "x", themes=[signin], created_at=created)
    unrelated = add_customer(store, "unrelated@example.com")
    add_feedback(store, unrelated, "x", themes=[other])
    ship(store, engine, [signin])  # shipped on a merged theme: follows the survivor

    report = engine.outbox.notify(send=True, now=NOW)
    assert smtp.handler.to() == ["both@example.com", "many@example.com"]
    assert report.sent == 2 and report.planned == 2
    assert report.excluded == {
        "after_shipping": 1,
        "invalid_email": 1,
        "no_consent": 2,
        "no_email": 1,
        "suppressed": 1,
        "unsubscribed": 1,
    }
    ids = store.conn.execute("SELECT feedback_ids FROM notifications WHERE customer_id = ?", (many,)).fetchone()[0]
    assert len(eval(ids)) == 10  # one recipient carrying all ten items


def test_run_twice_sends_nothing_new_and_headers_arrive(store, engine, smtp):
    theme = add_theme(store, "Login")
    cid = add_customer(store, "ann@example.com", name="Ann")
    add_feedback(
        store,
        cid,
        "Login is slow",
        themes=[theme],
        channel="review",
        platform="appstore",
        redacted="Login is slow, call me on [PHONE]",
    )
    ship(store, engine, [theme])
    first = engine.outbox.notify(send=True, now=NOW)
    second = engine.outbox.notify(send=True, now=NOW + timedelta(days=30))
    assert (first.sent, second.sent, second.planned) == (1, 0, 0)
    assert len(smtp.handler.messages) == 1
    received = smtp.handler.messages[0]
    msg = received.message
    assert received.mail_from == "feedback@acme.test" and received.rcpt_tos == ["ann@example.com"]
    assert msg["List-Unsubscribe"] == f"<https://fb.acme.test/unsubscribe?token={make_token(SECRET, cid)}>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Message-ID"] == store.scalar("SELECT message_id FROM emails")
    assert received.raw.rstrip(b"\r\n") == store.scalar("SELECT raw FROM emails").rstrip(b"\r\n")  # sent as stored
    text = received.text
    assert 'On 1 February 2025 you wrote in a review on the App Store:\n  "Login is slow, call me on [PHONE]"\n' in text
    assert "What we did (1 March 2025): Faster login\nWe rebuilt the login page.\n" in text


def test_no_analysis_row_means_no_quote(store, engine, smtp):
    theme = add_theme(store, "Login")
    cid = add_customer(store, "ann@example.com")
    add_feedback(store, cid, "My number is 555 123 4567, login broken", themes=[theme])
    ship(store, engine, [theme])
    engine.outbox.notify(send=True, now=NOW)
    raw = smtp.handler.messages[0].raw
    assert b"555" not in raw and b"login broken" not in raw
    assert "On 1 February 2025 you gave us feedback in a survey.\n" in smtp.handler.messages[0].text


def test_frequency_cap_holds_then_sends_one_digest(store, engine, smtp):
    t1, t2, t3 = add_theme(store, "Login"), add_theme(store, "Export"), add_theme(store, "Dark mode")
    cid = add_customer(store, "ann@example.com", name="Ann")
    for theme in (t1, t2, t3):
        add_feedback(store, cid, "x", themes=[theme])
    ship(store, engine, [t1], title="Faster login")
    assert engine.outbox.notify(send=True, now=NOW).sent == 1
    ship(store, engine, [t2], title="CSV export", when="2025-03-03T00:00:00Z")
    ship(store, engine, [t3], title="Dark mode", when="2025-03-04T00:00:00Z")
    held = engine.outbox.notify(send=True, now=NOW + timedelta(days=3))
    assert (held.sent, held.held, held.planned) == (0, 2, 2)
    later = engine.outbox.notify(send=True, now=NOW + timedelta(days=7, minutes=1))
    assert later.sent == 1 and later.held == 0
    assert len(smtp.handler.messages) == 2
    digest = smtp.handler.messages[1].message
    assert digest["Subject"] == "You said, we did: 2 updates on your feedback"
    body = smtp.handler.messages[1].text
    assert body.index("CSV export") < body.index("Dark mode")
    assert engine.outbox.notify(send=True, now=NOW + timedelta(days=30)).sent == 0


def test_server_down_then_up_loses_nothing(store, engine, smtp):
    theme = add_theme(store, "Login")
    for i in range(3):
        add_feedback(store, add_customer(store, f"c{i}@example.com"), "x", themes=[theme])
    ship(store, engine, [theme])
    smtp.stop()
    down = engine.outbox.notify(send=True, now=NOW)
    assert down.sent == 0 and down.retry == 1 and down.stopped and "Cannot reach SMTP server" in down.stopped
    assert status_counts(store) == {"queued": 2, "retry": 1}
    smtp.start()
    assert engine.outbox.notify(send=True, now=NOW + timedelta(minutes=1)).sent == 2  # the retry waits for its backoff
    assert engine.outbox.notify(send=True, now=NOW + timedelta(minutes=6)).sent == 1
    assert smtp.handler.to() == ["c0@example.com", "c1@example.com", "c2@example.com"]
    assert status_counts(store) == {"sent": 3}


def test_4xx_is_retried_and_5xx_suppresses(store, engine, smtp):
    theme = add_theme(store, "Login")
    ok, soft, hard = (add_customer(store, f"{n}@example.com") for n in ("ok", "soft", "hard"))
    for cid in (ok, soft, hard):
        add_feedback(store, cid, "x", themes=[theme])
    smtp.handler.reject_rcpt = {
        "soft@example.com": "450 4.2.1 mailbox busy",
        "hard@example.com": "550 5.1.1 no such user",
    }
    ship(store, engine, [theme])
    report = engine.outbox.notify(send=True, now=NOW)
    assert (report.sent, report.retry) == (1, 1)
    assert report.bounced == [
        {
            "customer_id": hard,
            "to": "hard@example.com",
            "code": 550,
            "reason": "hard@example.com rejected permanently (550 5.1.1 no such user).",
        }
    ]
    assert store.scalar("SELECT suppressed_reason FROM customers WHERE id = ?", (hard,)).startswith("smtp 550")
    result = CliRunner().invoke(main, ["--db", str(store.path), "customers", "list", "--json"])
    assert result.exit_code == 0 and '"suppressed_at": "2025-03-02T08:00:00Z"' in result.output
    smtp.handler.reject_rcpt = {}
    assert engine.outbox.notify(send=True, now=NOW + timedelta(minutes=10)).sent == 1
    assert smtp.handler.to() == ["ok@example.com", "soft@example.com"]
    attempts = store.query("SELECT outcome, smtp_code FROM delivery_attempts ORDER BY id")
    assert [a["outcome"] for a in attempts] == ["accepted", "transient", "permanent", "accepted"]


def test_unsubscribed_after_planning_is_not_sent(store, engine, smtp):
    theme = add_theme(store, "Login")
    cid = add_customer(store, "ann@example.com")
    add_feedback(store, cid, "x", themes=[theme])
    other = add_customer(store, "bob@example.com")
    add_feedback(store, other, "x", themes=[theme])
    ship(store, engine, [theme])
    smtp.stop()
    engine.outbox.notify(send=True, now=NOW)  # both queued, one marked retry
    engine.customers.unsubscribe("ANN@example.com")
    smtp.start()
    engine.outbox.notify(send=True, now=NOW + timedelta(hours=1))
    assert smtp.handler.to() == ["bob@example.com"]


def test_address_changed_while_queued_goes_to_the_new_address_once(store, engine, smtp):
    theme = add_theme(store, "Login")
    cid = add_customer(store, "old@example.com")
    add_feedback(store, cid, "x", themes=[theme])
    ship(store, engine, [theme])
    smtp.stop()
    engine.outbox.notify(send=True, now=NOW)
    with store.transaction() as conn:
        conn.execute("UPDATE customers SET email = 'new@example.com' WHERE id = ?", (cid,))
    smtp.start()
    engine.outbox.notify(send=True, now=NOW + timedelta(hours=1))  # drops the old email
    engine.outbox.notify(send=True, now=NOW + timedelta(hours=2))  # builds and sends one for the new address
    engine.outbox.notify(send=True, now=NOW + timedelta(days=9))
    assert smtp.handler.to() == ["new@example.com"]
    assert status_counts(store) == {"cancelled": 1, "sent": 1}


def test_header_injection_end_to_end(store, engine, smtp):
    theme = add_theme(store, "Login")
    cid = add_customer(store, "ann@example.com", name="Ann\r\nBcc: victim@evil.test\r\n")
    add_feedback(store, cid, "x", themes=[theme])
    ship(store, engine, [theme], title="Fixed\r\nBcc: victim@evil.test")
    engine.outbox.notify(send=True, now=NOW)
    received = smtp.handler.messages[0]
    assert received.rcpt_tos == ["ann@example.com"]
    parsed = message_from_bytes(received.raw, policy=policy.default)
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "You said, we did: Fixed Bcc: victim@evil.test"


def test_dry_run_writes_eml_and_changes_nothing(store, engine, smtp, tmp_path):
    theme = add_theme(store, "Login")
    add_feedback(store, add_customer(store, "ann@example.com"), "x", themes=[theme], redacted="x")
    ship(store, engine, [theme])
    before = store.scalar("SELECT count(*) FROM notifications"), store.scalar("SELECT count(*) FROM emails")
    report = engine.outbox.notify(dry_run_dir=tmp_path / "out", now=NOW)
    assert [p.split("/")[-1] for p in report.files] == ["0001-customer-1.eml"]
    dry = message_from_bytes((tmp_path / "out" / "0001-customer-1.eml").read_bytes(), policy=policy.default)
    assert (store.scalar("SELECT count(*) FROM notifications"), store.scalar("SELECT count(*) FROM emails")) == before
    assert smtp.handler.messages == []
    engine.outbox.notify(send=True, now=NOW)
    assert smtp.handler.messages[0].message["Message-ID"] == dry["Message-ID"]  # same plan, same id


def test_dry_run_needs_no_settings_but_send_does(store, tmp_path, monkeypatch):
    for name in ("SMTP_HOST", "FROM", "BASE_URL", "SECRET"):
        monkeypatch.delenv(f"FEEDBACK_ENGINE_{name}", raising=False)
    theme = add_theme(store, "Login")
    add_feedback(store, add_customer(store, "ann@example.com"), "x", themes=[theme])
    engine = Engine(store)
    ship(store, engine, [theme])
    report = engine.outbox.notify(dry_run_dir=tmp_path / "out")
    assert len(report.files) == 1 and "placeholders" in report.notes[0]
    with pytest.raises(ConfigError, match="^FEEDBACK_ENGINE_SMTP_HOST is not set; notify --send needs it.$"):
        engine.outbox.notify(send=True)
    result = CliRunner().invoke(main, ["--db", str(store.path), "notify", "--send"])
    assert (result.exit_code, result.output) == (
        2,
        "Error: FEEDBACK_ENGINE_SMTP_HOST is not set; notify --send needs it.\n",
    )


def test_second_instance_exits_at_once(store, smtp, monkeypatch):
    for key, value in smtp_env(smtp.port).items():
        monkeypatch.setenv(key, value)
    with job_lock(store):
        result = CliRunner().invoke(main, ["--db", str(store.path), "notify", "--send"])
        with pytest.raises(LockHeldError):
            Engine(store).outbox.notify(send=True)
    assert result.exit_code == 3
    assert result.output.startswith("Error: Another `feedback-engine notify --send` (pid ")
    assert "is running on" in result.output and result.output.count("\n") == 1
    result = CliRunner().invoke(main, ["--db", str(store.path), "notify", "--send", "--json"])
    assert result.exit_code == 0 and '"sent": 0' in result.output  # the lock is free again


def test_cli_notify_human_output(store, smtp, monkeypatch, tmp_path):
    for key, value in smtp_env(smtp.port).items():
        monkeypatch.setenv(key, value)
    theme = add_theme(store, "Login")
    add_feedback(store, add_customer(store, "ann@example.com"), "x", themes=[theme])
    ship(store, Engine(store), [theme])
    out = tmp_path / "dry"
    result = CliRunner().invoke(main, ["--db", str(store.path), "notify", "--dry-run", str(out)])
    assert result.output == (  # then who, for which action, and the sentence (none here: no redacted text)
        f"Wrote 1 emails to {out} (1 new notifications, 0 held by the frequency cap, 0 cancelled).\n"
        "    0.90  ann@example.com  action 1: (no quotable sentence)\n"
    )
    result = CliRunner().invoke(main, ["--db", str(store.path), "notify", "--send"])
    assert result.output == (
        "Sent 1 emails; 0 to retry later; 0 notifications held by the frequency cap; "
        "0 cancelled; 1 new notifications planned.\n"
    )
    result = CliRunner().invoke(main, ["--db", str(store.path), "notify"])
    assert result.exit_code == 2 and "Pass either --dry-run DIR or --send." in result.output


def test_outbox_queue_counts_waiting_notifications_and_emails_by_state(store, smtp, monkeypatch):
    for key, value in smtp_env(smtp.port).items():
        monkeypatch.setenv(key, value)
    theme = add_theme(store, "Login")
    add_feedback(store, add_customer(store, "ann@example.com"), "x", themes=[theme])
    engine = Engine(store)
    assert engine.outbox.queue() == {"waiting": 0}
    ship(store, engine, [theme])
    engine.outbox.notify(send=True)
    assert engine.outbox.queue() == {"waiting": 0, "sent": 1}
    assert engine.status()["outbox"] == {"waiting": 0, "sent": 1}
