"""Hostile display names, addresses, subjects and senders: nothing reaches a header or the envelope but the stored address.

The regression: a survey first name ``=?utf-8?b?QmNjOiB2aWN0aW1AZXhhbXBsZS5vcmc=?= Mallory`` (an
RFC 2047 encoded word for ``Bcc: victim@example.org``) was written into the To header as is, and
the envelope recipient was parsed back from that header: the email went to victim@example.org.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.utils import getaddresses

import pytest
from click.testing import CliRunner

from feedback_engine import Engine
from feedback_engine.cli import main
from feedback_engine.errors import ConfigError
from feedback_engine.loop.actions import update_action
from feedback_engine.loop.mail import (
    InvalidAddress,
    build_message,
    clean_display_name,
    header_recipients,
    make_address,
)
from feedback_engine.loop.recipients import eligibility
from feedback_engine.loop.settings import sender_address

from .conftest import add_customer, add_feedback, add_theme, at, make_settings, smtp_env

EXPLOIT = "=?utf-8?b?QmNjOiB2aWN0aW1AZXhhbXBsZS5vcmc=?= Mallory"

HOSTILE_NAMES = [
    EXPLOIT,
    "=?utf-8?q?victim=40example.org?=",
    "=?iso-8859-1?q?=22victim=40example=2Eorg=22_=3Cvictim=40example=2Eorg=3E?=",
    "=?UTF-8?B?IiIgPHZpY3RpbUBleGFtcGxlLm9yZz4sIA==?=",  # '"" <victim@example.org>, '
    "Eve =?utf-8?b?PHZpY3RpbUBleGFtcGxlLm9yZz4=?= Mallory",
    "= ?utf-8?b?QmNjOiB2aWN0aW1AZXhhbXBsZS5vcmc=? =",
    "Eve <victim@example.org>",
    "<victim@example.org>",
    '"victim@example.org" <victim@example.org>',
    "Eve, victim@example.org",
    "Eve; victim@example.org",
    "Bcc: victim@example.org",
    "undisclosed: victim@example.org;",
    'Eve\\" <victim@example.org>',
    "Eve\\",
    '"',
    "Eve\r\nBcc: victim@example.org",
    "Eve\nTo: victim@example.org",
    "Eve\x00\x1b[31m",
    "(comment) victim@example.org",
    "[victim@example.org]",
    "\u202eelaM\u202c victim@example.org",
    "Ann\u200b\u2066victim@example.org\u2069",
    "\u200e\u200f\u202a\u202b\u202c\u202d\u2067\u2068\ufeff",
    "＜victim＠example.org＞",  # fullwidth look-alikes
    "victim@example.org",
    "Eve\u2028Bcc: victim@example.org",
    "x" * 500,
    "é" * 300 + " <victim@example.org>",
    "",
    "   ",
]
BENIGN_NAMES = {
    "Ann": "Ann",
    "Zoë Ōsaka": "Zoë Ōsaka",
    "李小龍": "李小龍",
    "O'Brien": "O'Brien",
    "J. Smith-Jones": "J. Smith-Jones",
}

HOSTILE_ADDRESSES = [
    "victim9@example.com\r\nBcc: victim@example.org",
    "victim9@example.com\nBcc: victim@example.org",
    "victim9@example.com\n",
    "a@example.com, victim@example.org",
    "a@example.com,victim@example.org",
    "victim@example.org;a@example.com",
    "a@b@example.com",
    "a@@example.com",
    '"victim@example.org"@example.com',
    '"a b"@example.com',
    '"a"@example.com',
    "<victim@example.org>",
    "a <victim@example.org>",
    "a@example.com>",
    "a b@example.com",
    " a@example.com",
    "a@example.com ",
    "a@example.com\t",
    "ä@example.com",
    "a@exämple.com",
    "a@example.com\u200b",
    "\u202ea@example.com",
    "x" * 65 + "@example.com",
    "a@" + ("b" * 63 + ".") * 4 + "com",
    "a@" + "b" * 64 + ".com",
    "=?utf-8?q?victim=40example.org?=@example.com",
    "a=?x?=@example.com",
    "a(comment)@example.com",
    "a@[127.0.0.1]",
    "a..b@example.com",
    ".a@example.com",
    "a.@example.com",
    "a@-example.com",
    "a@example",
    "a@example.com.",
    "a\x00@example.com",
    "@example.com",
    "a@",
    "no-at-sign",
    "",
]
VALID_ADDRESSES = ["victim9@example.com", "o'brien+tag@mail.example.co.uk", "a_b-c.d@x-y.example"]
FORBIDDEN_IN_NAMES = set("\"',;:<>@\\()[]=?\r\n\t") - {"'"}


def _message(to_addr: str, name: str | None, subject: str = "You said, we did: x", sender_name: str = "Acme"):
    sender = make_address("feedback@acme.test", sender_name)
    return build_message(
        sender=sender,
        to=make_address(to_addr, name),
        subject=subject,
        text="hi\n",
        html="<p>hi</p>\n",
        message_id="<ywd.1@acme.test>",
        date=datetime(2025, 3, 2, tzinfo=UTC),
        unsubscribe_url="https://fb.acme.test/unsubscribe?token=t",
    )


def _raw_header(raw: bytes, name: str) -> str:
    """The header's value as on the wire (unfolded), before any decoding."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    values = []
    for line in head.replace("\r\n ", " ").replace("\r\n\t", " ").split("\r\n"):
        key, _, value = line.partition(":")
        if key.lower() == name.lower():
            values.append(value.strip())
    return "\n".join(values)


def test_the_reported_exploit_names_only_the_stored_address():
    raw = _message("victim9@example.com", EXPLOIT).as_bytes()
    assert header_recipients(raw) == ["victim9@example.com"]
    assert _raw_header(raw, "To") == "victim9@example.com"  # an encoded-word name is dropped altogether
    assert b"victim@example.org" not in raw and b"=?utf-8?b?QmNj" not in raw


@pytest.mark.parametrize("name", HOSTILE_NAMES + list(BENIGN_NAMES))
@pytest.mark.parametrize("addr", VALID_ADDRESSES)
def test_a_hostile_display_name_leaves_exactly_the_stored_address(name, addr):
    raw = _message(addr, name).as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"victim@" not in head and b"Bcc" not in head.replace(b"Bcc ", b"")
    for pol in (policy.default, policy.compat32):
        parsed = message_from_bytes(raw, policy=pol)
        assert parsed.get_all("Bcc") is None and parsed.get_all("Cc") is None
        assert len(parsed.get_all("To")) == 1
    assert header_recipients(raw) == [addr]
    assert [a.addr_spec for a in message_from_bytes(raw, policy=policy.default)["To"].addresses] == [addr]
    # a naive reader: decode every encoded word first, then look for addresses
    decoded = str(make_header(decode_header(_raw_header(raw, "To"))))
    found = getaddresses([decoded])
    assert [a for _, a in found] == [addr], decoded
    shown = found[0][0]
    assert not (set(shown) & FORBIDDEN_IN_NAMES), shown
    assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in shown), ascii(shown)
    assert len(shown) <= 80
    if name in BENIGN_NAMES:
        assert shown == BENIGN_NAMES[name]


def test_encoded_word_look_alikes_drop_the_name():
    assert clean_display_name(EXPLOIT) == ""
    assert clean_display_name("Eve =?utf-8?b?PHY+?= Mallory") == ""
    assert clean_display_name("Eve, <victim@example.org>") == "Eve victim example.org"
    assert clean_display_name("\u202eelaM\u202c") == "elaM"
    assert clean_display_name("<>@;:") == ""


@pytest.mark.parametrize("addr", HOSTILE_ADDRESSES)
def test_a_hostile_address_is_refused(addr):
    with pytest.raises(InvalidAddress, match="is not a usable email address"):
        make_address(addr, "Ann")
    row = {"consent": 1, "email": addr, "unsubscribed_at": None, "suppressed_at": None}
    assert eligibility(row) == ("no_email" if addr == "" else "invalid_email")


@pytest.mark.parametrize(
    "subject",
    [
        "You said, we did: =?utf-8?b?QmNjOiB2aWN0aW1AZXhhbXBsZS5vcmc=?=",
        "=?utf-8?q?=0D=0ABcc=3A_victim=40example=2Eorg?=",
        "Fixed\r\nBcc: victim@example.org",
        "Fixed \u202egnp.exe\u202c \u200bthing",
        "a=?=?=b ?= =?",
    ],
)
def test_a_hostile_subject_cannot_smuggle_an_encoded_word_or_a_header(subject):
    raw = _message("victim9@example.com", "Ann", subject=subject).as_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed.get_all("Bcc") is None and len(parsed.get_all("Subject")) == 1
    decoded = str(make_header(decode_header(_raw_header(raw, "Subject"))))
    assert "=?" not in decoded and "?=" not in decoded, decoded
    assert "victim@example.org" not in parsed["Subject"] or "Bcc: victim" in subject  # only as plain text
    assert "Bcc: victim@example.org" not in decoded.replace("Fixed Bcc: victim@example.org", "")
    assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in parsed["Subject"])
    assert header_recipients(raw) == ["victim9@example.com"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Acme Feedback <feedback@acme.test>", "Acme Feedback <feedback@acme.test>"),
        ("feedback@acme.test", "feedback@acme.test"),
        (f"{EXPLOIT} <feedback@acme.test>", "feedback@acme.test"),
        ('"victim@example.org" <feedback@acme.test>', '"victim example.org" <feedback@acme.test>'),
        ("Acme\u202e <feedback@acme.test>", "Acme <feedback@acme.test>"),
    ],
)
def test_the_sender_setting_is_neutralised(value, expected):
    assert str(sender_address(value)) == expected


@pytest.mark.parametrize(
    "value",
    [
        "Acme <feedback@acme.test>, victim@example.org",
        "feedback@acme.test victim@example.org",
        "Acme <feedback@acme.test> <victim@example.org>",
        "feedback@acme.test\r\nBcc: victim@example.org",
        "Acme <feedback@acme.test\n>",
        "Acme <=?utf-8?q?victim=40example.org?=@acme.test>",
        "nobody",
    ],
)
def test_a_sender_setting_with_more_than_one_plain_address_is_refused(value):
    with pytest.raises(ConfigError, match="^FEEDBACK_ENGINE_FROM "):
        sender_address(value)


# -- end to end: the real `notify --send` against aiosmtpd --------------------------------------------------
def _seed(store):
    theme = add_theme(store, "Login")
    valid, invalid = {}, {}
    for i, name in enumerate(HOSTILE_NAMES):
        addr = f"victim{i}@example.com"
        valid[add_customer(store, addr, name=name)] = addr
    for i, addr in enumerate(HOSTILE_ADDRESSES):
        if addr:
            invalid[add_customer(store, addr, name=f"Bad {i}")] = addr
    for cid in [*valid, *invalid]:
        add_feedback(store, cid, "login broken", themes=[theme], redacted="login broken")
    engine = Engine(store)
    aid = engine.actions.add(themes=[theme], title="Fixed login", description="Done.", by="lead")
    update_action(store, aid, status="shipped", by="lead", now="2025-03-01T00:00:00Z")
    return valid, invalid


def test_notify_send_puts_only_stored_addresses_on_the_envelope(store, smtp, monkeypatch):
    for key, value in smtp_env(smtp.port).items():
        monkeypatch.setenv(key, value)
    valid, invalid = _seed(store)
    result = CliRunner().invoke(main, ["--db", str(store.path), "notify", "--send", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["sent"] == len(valid) and report["bounced"] == [] and report["stopped"] is None
    assert report["excluded"] == {"invalid_email": len(invalid)}
    assert sorted(i["customer_id"] for i in report["invalid"]) == sorted(invalid)
    # every envelope address the server was given, accepted or not, is the stored address of a customer
    assert sorted(smtp.handler.rcpts) == sorted(valid.values())
    assert set(smtp.handler.senders) == {"feedback@acme.test"}
    stored = {
        r["message_id"]: (r["customer_id"], r["to_address"])
        for r in store.query("SELECT message_id, customer_id, to_address FROM emails")
    }
    assert len(smtp.handler.messages) == len(valid)
    for received in smtp.handler.messages:
        cid, to_address = stored[received.message["Message-ID"]]
        assert received.rcpt_tos == [to_address] == [valid[cid]]
        assert header_recipients(received.raw) == [to_address]
        decoded = str(make_header(decode_header(_raw_header(received.raw, "To"))))
        assert [a for _, a in getaddresses([decoded])] == [to_address]
    assert not store.scalar(
        f"SELECT count(*) FROM emails WHERE customer_id IN ({','.join('?' * len(invalid))})", list(invalid)
    )
    human = CliRunner().invoke(main, ["--db", str(store.path), "notify", "--send"])
    ids = ", ".join(str(c) for c in sorted(invalid)[:10]) + ", ..."
    assert human.exit_code == 0
    assert (
        f"Not sent: {len(invalid)} customers have an unusable email address (customer ids {ids}); "
        "fix them in the source data.\n" in human.output
    )


def test_a_queued_email_with_a_forged_to_header_is_rebuilt_not_sent(store, smtp):
    theme = add_theme(store, "Login")
    cid = add_customer(store, "victim9@example.com", name=EXPLOIT)
    add_feedback(store, cid, "x", themes=[theme])
    engine = Engine(store, settings=make_settings(smtp.port))
    aid = engine.actions.add(themes=[theme], title="Fixed login", description="Done.", by="lead")
    update_action(store, aid, status="shipped", by="lead", now="2025-03-01T00:00:00Z")
    smtp.stop()
    engine.outbox.notify(send=True, now=at("2025-03-02T08:00:00Z"))  # queued, then retry (server down)
    raw = store.scalar("SELECT raw FROM emails")
    forged = raw.replace(
        b"\r\nTo: victim9@example.com\r\n", b"\r\nTo: Bcc: victim@example.org Mallory <victim9@example.com>\r\n"
    )
    assert forged != raw and header_recipients(forged) == ["victim@example.org"]  # what the old version wrote
    with store.transaction() as conn:
        conn.execute("UPDATE emails SET raw = ?", (forged,))
    smtp.start()
    report = engine.outbox.notify(send=True, now=at("2025-03-02T09:00:00Z"))
    assert report.sent == 0 and smtp.handler.rcpts == []
    assert report.notes == [
        "Email 1 was not sent: its To header does not name exactly victim9@example.com; the next run sends a rebuilt one."
    ]
    again = engine.outbox.notify(send=True, now=at("2025-03-02T09:05:00Z"))
    assert again.sent == 1 and smtp.handler.rcpts == ["victim9@example.com"]
    assert header_recipients(smtp.handler.messages[0].raw) == ["victim9@example.com"]
    assert dict(store.conn.execute("SELECT status, count(*) FROM emails GROUP BY status").fetchall()) == {
        "cancelled": 1,
        "sent": 1,
    }


def test_the_transport_sends_to_the_given_envelope_never_to_the_headers(smtp):
    from feedback_engine.loop.transport import SMTPTransport

    raw = _message("victim9@example.com", "Ann").as_bytes()
    forged = raw.replace(
        b"\r\nTo: Ann <victim9@example.com>\r\n",
        b"\r\nTo: victim@example.org\r\nCc: victim2@example.org\r\nBcc: victim3@example.org\r\n",
    ).replace(b"From: Acme <feedback@acme.test>", b"From: evil@example.org")
    assert forged.count(b"victim") == 3
    transport = SMTPTransport("127.0.0.1", smtp.port, timeout=5)
    transport.send(forged, sender="feedback@acme.test", recipients=["victim9@example.com"])
    with pytest.raises(InvalidAddress):
        transport.send(raw, sender="feedback@acme.test", recipients=["victim9@example.com, victim@example.org"])
    with pytest.raises(InvalidAddress):
        transport.send(raw, sender="feedback@acme.test\r\nRCPT TO:<victim@example.org>", recipients=["a@example.com"])
    transport.close()
    assert smtp.handler.rcpts == ["victim9@example.com"] and smtp.handler.senders == ["feedback@acme.test"]
    assert smtp.handler.messages[0].raw.rstrip(b"\r\n") == forged.rstrip(b"\r\n")  # stored bytes, sent as is


@pytest.mark.parametrize("tampered", ["victim9@example.com, victim@example.org", "victim9@example.com\r\nBcc: x@y.org"])
def test_a_stored_recipient_is_validated_again_before_sending(store, smtp, tampered):
    theme = add_theme(store, "Login")
    cid = add_customer(store, "victim9@example.com")
    add_feedback(store, cid, "x", themes=[theme])
    engine = Engine(store, settings=make_settings(smtp.port))
    aid = engine.actions.add(themes=[theme], title="Fixed login", description="Done.", by="lead")
    update_action(store, aid, status="shipped", by="lead", now="2025-03-01T00:00:00Z")
    smtp.stop()
    engine.outbox.notify(send=True, now=at("2025-03-02T08:00:00Z"))
    with store.transaction() as conn:
        conn.execute("UPDATE emails SET to_address = ?", (tampered,))
    smtp.start()
    report = engine.outbox.notify(send=True, now=at("2025-03-02T09:00:00Z"))
    assert report.sent == 0 and smtp.handler.rcpts == []
    assert [i["customer_id"] for i in report.invalid] == [cid]
    assert store.query("SELECT status, last_error FROM emails") == [
        {"status": "cancelled", "last_error": "invalid_email"}
    ]
