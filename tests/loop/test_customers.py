"""customers unsubscribe / resubscribe / unsuppress / show, and notify --dry-run into a folder that cannot exist."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from feedback_engine import Engine
from feedback_engine.cli import main
from feedback_engine.errors import NotFoundError
from feedback_engine.loop.actions import update_action
from feedback_engine.loop.mail import InvalidAddress

from .conftest import add_customer, add_feedback, add_theme, at, make_settings


@pytest.fixture(autouse=True)
def no_settings(monkeypatch):
    """The CLI's contact commands never need the loop settings (no secret, no SMTP)."""
    for name in ("SMTP_HOST", "FROM", "BASE_URL", "SECRET"):
        monkeypatch.delenv(f"FEEDBACK_ENGINE_{name}", raising=False)
    monkeypatch.setenv("LOGNAME", "robin")
    monkeypatch.setenv("USER", "robin")


def cli(store, *args: str):
    return CliRunner().invoke(main, ["--db", str(store.path), "customers", *args])


def one(store, sql, params=()):
    return store.query(sql, params)[0]


@pytest.mark.parametrize("command", ["unsubscribe", "resubscribe", "unsuppress", "show"])
def test_not_an_email_and_unknown_email_are_one_line_errors(store, command):
    add_customer(store, "ann@example.com")
    result = cli(store, command, "not-an-email")
    assert (result.exit_code, result.output) == (
        1,
        "Error: 'not-an-email' is not an email address; pass the customer's email, e.g. ann@example.com.\n",
    )
    result = cli(store, command, "nobody@example.com")
    assert (result.exit_code, result.output) == (
        1,
        "Error: No customer with email 'nobody@example.com'; see `feedback-engine customers list`.\n",
    )


def test_the_python_api_tells_an_email_from_a_token_without_the_secret(store):
    engine = Engine(store)
    with pytest.raises(InvalidAddress, match="^'not-an-email' is not an email address"):
        engine.customers.unsubscribe("not-an-email")
    with pytest.raises(NotFoundError):
        engine.customers.unsubscribe("nobody@example.com")


def test_unsubscribe_then_resubscribe_records_who_and_when(store):
    cid = add_customer(store, "ann@example.com")
    result = cli(store, "unsubscribe", "Ann@Example.com")
    since = store.scalar("SELECT unsubscribed_at FROM customers WHERE id = ?", (cid,))
    assert (result.exit_code, result.output) == (0, f"ann@example.com is now unsubscribed (since {since}).\n")
    again = cli(store, "unsubscribe", "ann@example.com")
    assert again.output == f"ann@example.com was already unsubscribed (since {since}).\n"
    back = cli(store, "resubscribe", "ann@example.com", "--by", "kim")
    event = one(store, "SELECT at, by, event, detail FROM contact_events ORDER BY id DESC LIMIT 1")
    assert event["by"] == "kim" and event["event"] == "resubscribed"
    assert (back.exit_code, back.output) == (
        0,
        f"ann@example.com is subscribed again (unsubscribed since {since}); by kim at {event['at']}.\n",
    )
    assert store.scalar("SELECT unsubscribed_at FROM customers WHERE id = ?", (cid,)) is None
    assert (
        cli(store, "resubscribe", "ann@example.com").output
        == "ann@example.com was not unsubscribed; nothing changed.\n"
    )
    events = store.query("SELECT by, event FROM contact_events ORDER BY id")
    assert events == [{"by": "robin", "event": "unsubscribed"}, {"by": "kim", "event": "resubscribed"}]


def test_resubscribe_says_when_consent_still_blocks_email(store):
    add_customer(store, "ann@example.com", consent=None, unsubscribed=True)
    result = cli(store, "resubscribe", "ann@example.com")
    at_ = store.scalar("SELECT at FROM contact_events")
    assert result.output == (
        f"ann@example.com is subscribed again (unsubscribed since 2025-01-01T00:00:00Z); by robin at {at_}; "
        "consent is not recorded as yes, so they still get no email.\n"
    )


def test_unsuppress_after_a_false_bounce_delivers_the_missed_update(store, smtp):
    theme = add_theme(store, "Login")
    cid = add_customer(store, "ann@example.com", name="Ann")
    add_feedback(store, cid, "x", themes=[theme])
    engine = Engine(store, settings=make_settings(smtp.port))
    aid = engine.actions.add(themes=[theme], title="Fixed login", description="Done.", by="lead")
    update_action(store, aid, status="shipped", by="lead", now="2025-03-01T00:00:00Z")
    smtp.handler.reject_rcpt = {"ann@example.com": "550 5.1.1 mailbox unavailable"}
    assert [b["to"] for b in engine.outbox.notify(send=True, now=at("2025-03-02T08:00:00Z")).bounced] == [
        "ann@example.com"
    ]
    assert engine.outbox.notify(send=True, now=at("2025-03-02T09:00:00Z")).sent == 0  # suppressed: nothing more
    smtp.handler.reject_rcpt = {}
    result = cli(store, "unsuppress", "ann@example.com", "--by", "kim")
    event = one(store, "SELECT at, by, detail FROM contact_events WHERE event = 'unsuppressed'")
    reason = "smtp 550: ann@example.com rejected permanently (550 5.1.1 mailbox unavailable)."
    assert event["by"] == "kim" and event["detail"] == reason
    assert (result.exit_code, result.output) == (
        0,
        f"ann@example.com is no longer suppressed (since 2025-03-02T08:00:00Z: {reason}); "
        f"1 updates queued again; by kim at {event['at']}.\n",
    )
    assert (
        cli(store, "unsuppress", "ann@example.com").output == "ann@example.com was not suppressed; nothing changed.\n"
    )
    report = engine.outbox.notify(send=True, now=at("2025-03-02T10:00:00Z"))
    assert report.sent == 1 and smtp.handler.to() == ["ann@example.com"]
    ids = [r[0] for r in store.conn.execute("SELECT message_id FROM emails ORDER BY id")]
    assert len(set(ids)) == 2  # the rebuilt email has its own Message-ID
    assert engine.outbox.notify(send=True, now=at("2025-03-20T10:00:00Z")).sent == 0  # delivered once

    shown = cli(store, "show", "ann@example.com")
    rows = store.query("SELECT at, by, event FROM contact_events ORDER BY id")
    assert [(r["by"], r["event"]) for r in rows] == [("notify", "suppressed"), ("kim", "unsuppressed")]
    cut = reason[:59] + "…"
    bounce = "ann@example.com rejected permanently (550 5.1.1 mailbox unavailable)."[:59] + "…"
    assert (shown.exit_code, shown.output) == (
        0,
        f"Customer {cid}: ann@example.com (Ann)\n"
        "  consent:      yes\n"
        "  unsubscribed: no\n"
        "  suppressed:   no\n"
        "Contact history:\n"
        f"at                    by      event         detail{' ' * 54}\n".rstrip()
        + "\n"
        f"{'-' * 20}  {'-' * 6}  {'-' * 12}  {'-' * 60}\n"
        f"2025-03-02T08:00:00Z  notify  suppressed    {cut}\n"
        f"{rows[1]['at']}  kim     unsuppressed  {cut}\n"
        "Emails:\n"
        f"id  status   created_at            sent_at               attempts  last_error\n"
        f"--  -------  {'-' * 20}  {'-' * 20}  --------  {'-' * 60}\n"
        f"1   bounced  2025-03-02T08:00:00Z                        1         {bounce}\n"
        "2   sent     2025-03-02T10:00:00Z  2025-03-02T10:00:00Z  1\n",
    )
    data = json.loads(cli(store, "show", "ann@example.com", "--json").stdout)
    assert [e["status"] for e in data["emails"]] == ["bounced", "sent"]
    assert [e["event"] for e in data["events"]] == ["suppressed", "unsuppressed"]


def test_dry_run_into_a_folder_that_cannot_be_created(store):
    result = CliRunner().invoke(main, ["--db", str(store.path), "notify", "--dry-run", "/proc/x"])
    assert (result.exit_code, result.output) == (
        1,
        "Error: Cannot create the folder /proc/x (No such file or directory); pass a folder you can write to, "
        "e.g. --dry-run outbox/.\n",
    )
    assert result.exception is None or isinstance(result.exception, SystemExit)
