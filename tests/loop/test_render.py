"""Templates (exact text), quote shortening, headers, header injection, tokens."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from feedback_engine.errors import ConfigError, TokenError
from feedback_engine.loop.mail import InvalidAddress, build_message, clean_header_text, make_address, message_id_for
from feedback_engine.loop.render import Update, channel_phrase, render_email, shorten
from feedback_engine.loop.settings import Settings
from feedback_engine.loop.tokens import make_token, verify_token

from .conftest import SECRET

UPDATE = Update(
    title="Faster login",
    description="We rebuilt the login page.\nIt now loads in under a second.",
    shipped_on="1 March 2025",
    written_on="1 February 2025",
    channel="in a review on the App Store",
    quote="Login takes forever & then fails <always>.",
)

EXPECTED_TEXT = """Hi Ann,

Thank you for telling us what you think. Here is what we did about it.

On 1 February 2025 you wrote in a review on the App Store:
  "Login takes forever & then fails <always>."

What we did (1 March 2025): Faster login
We rebuilt the login page.
It now loads in under a second.

Thank you,
Acme Feedback

--
You get this email because you agreed to hear back about your feedback.
Unsubscribe with one click: https://fb.acme.test/unsubscribe?token=T
"""


def test_plain_text_template_renders_exactly():
    out = render_email(
        customer_name="Ann",
        updates=[UPDATE],
        unsubscribe_url="https://fb.acme.test/unsubscribe?token=T",
        sender_name="Acme Feedback",
    )
    assert out.subject == "You said, we did: Faster login"
    assert out.text == EXPECTED_TEXT
    assert out.template == "you_said_we_did.v1"


EXPECTED_HTML = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>You said, we did: Faster login</title></head>
<body style="font-family: sans-serif; line-height: 1.5; max-width: 40em;">
<p>Hi Ann,</p>
<p>Thank you for telling us what you think. Here is what we did about it.</p>
<div style="margin: 1.5em 0;">
<p>On 1 February 2025 you wrote in a review on the App Store:</p>
<blockquote style="margin: 0 0 0 1em; padding-left: 1em; border-left: 3px solid #ccc;">\
Login takes forever &amp; then fails &lt;always&gt;.</blockquote>
<p><strong>What we did (1 March 2025): Faster login</strong></p>
<p style="white-space: pre-line;">We rebuilt the login page.
It now loads in under a second.</p>
</div>
<p>Thank you,<br>Acme Feedback</p>
<hr>
<p style="font-size: small; color: #666;">You get this email because you agreed to hear back about your feedback.
<a href="https://fb.acme.test/unsubscribe?token=T">Unsubscribe with one click</a>.</p>
</body>
</html>
"""


def test_html_template_renders_exactly():
    out = render_email(
        customer_name="Ann",
        updates=[UPDATE],
        unsubscribe_url="https://fb.acme.test/unsubscribe?token=T",
        sender_name="Acme Feedback",
    )
    assert out.html == EXPECTED_HTML


def test_digest_without_quote_renders_exactly():
    second = Update(
        title="Dark mode",
        description="Dark mode is here.",
        shipped_on="3 March 2025",
        written_on="5 January 2025",
        channel="in a post on X",
        quote=None,
    )
    out = render_email(customer_name=None, updates=[UPDATE, second], unsubscribe_url="https://u/x", sender_name=None)
    assert out.subject == "You said, we did: 2 updates on your feedback"
    body = EXPECTED_TEXT.replace("Hi Ann,", "Hi there,").replace("Acme Feedback", "The team")
    body = body.replace("https://fb.acme.test/unsubscribe?token=T", "https://u/x")
    body = body.replace(
        "It now loads in under a second.\n",
        "It now loads in under a second.\n\nOn 5 January 2025 you gave us feedback in a post on X.\n\n"
        "What we did (3 March 2025): Dark mode\nDark mode is here.\n",
    )
    assert out.text == body


def test_html_template_escapes_customer_and_staff_text():
    evil = Update(
        title="<b>x</b>",
        description="<script>alert(1)</script>",
        shipped_on="1 March 2025",
        written_on="1 February 2025",
        channel="in a survey",
        quote='"><img src=x onerror=alert(1)>',
    )
    out = render_email(
        customer_name="<i>Ann</i>", updates=[evil], unsubscribe_url="https://u/?token=a&b=c", sender_name="A & B"
    )
    assert "<script>" not in out.html and "<img" not in out.html and "<i>Ann" not in out.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out.html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in out.html
    assert 'href="https://u/?token=a&amp;b=c"' in out.html
    assert "A &amp; B" in out.html


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Short and sweet.", 240, "Short and sweet."),
        ("  spread\n over\tlines  ", 240, "spread over lines"),
        (
            "The app crashes on start. I tried reinstalling it twice and it still crashes every time.",
            60,
            "The app crashes on start. …",
        ),
        ("one two three four five six seven eight nine ten eleven twelve", 30, "one two three four five six…"),
        ("x" * 50, 20, "x" * 19 + "…"),
    ],
)
def test_shorten_cuts_at_sentence_then_word_boundary(text, limit, expected):
    assert shorten(text, limit) == expected
    assert len(shorten(text, limit)) <= limit + 1


def test_channel_phrases():
    assert channel_phrase("survey", "typeform") == "in a survey"
    assert channel_phrase("support", "zendesk") == "in a conversation with our support team"
    assert channel_phrase("review", "googleplay") == "in a review on Google Play"
    assert channel_phrase("review", "somewhere") == "in a review"
    assert channel_phrase("social", "reddit") == "in a post on Reddit"


def _message(name: str = "Ann", addr: str = "ann@example.com", subject: str = "You said, we did: x"):
    sender = make_address("feedback@acme.test", "Acme")
    return build_message(
        sender=sender,
        to=make_address(addr, name),
        subject=subject,
        text="hi\n",
        html="<p>hi</p>\n",
        message_id=message_id_for(["action:1:customer:7"], sender),
        date=datetime(2025, 3, 2, tzinfo=UTC),
        unsubscribe_url="https://fb.acme.test/unsubscribe?token=" + make_token(SECRET, 7),
    )


def test_headers_message_id_and_rfc8058():
    msg = _message()
    again = _message()
    digest = hashlib.sha256(b"action:1:customer:7").hexdigest()[:32]
    assert msg["Message-ID"] == again["Message-ID"] == f"<ywd.{digest}@acme.test>"
    assert msg["List-Unsubscribe"] == f"<https://fb.acme.test/unsubscribe?token={make_token(SECRET, 7)}>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    raw = msg.as_bytes()
    assert b"\r\nList-Unsubscribe: <https://fb.acme.test/unsubscribe?token=u1.7." in raw  # one token, no encoded words
    assert message_id_for(["b", "a"], make_address("x@acme.test")) == message_id_for(
        ["a", "b"], make_address("x@acme.test")
    )


def test_header_injection_through_name_subject_and_address_is_impossible():
    msg = _message(name="Eve\r\nBcc: victim@evil.test", subject="Hi\nBcc: victim@evil.test")
    raw = msg.as_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Bcc"] is None
    assert parsed.get_all("To") == ['"Eve Bcc victim evil.test" <ann@example.com>']
    assert [a.addr_spec for a in parsed["To"].addresses] == ["ann@example.com"]
    assert b"\r\nBcc:" not in raw and b"\nBcc:" not in raw
    for bad in [
        "ann@example.com\r\nBcc: v@evil.test",
        "ann@example.com\nX: y",
        "a b@example.com",
        "no-at-sign",
        "ann@localhost",
        "ann@@example.com",
        "ann@exa\u00a0mple.com",
        "\u00e4nn@example.com",
        "",
    ]:
        with pytest.raises(InvalidAddress):
            make_address(bad, "Ann")
    assert clean_header_text("a\r\n\tb\x00c\u2028d") == "a b c d"


def test_tokens_verify_and_reject_tampering():
    token = make_token(SECRET, 42)
    assert verify_token(SECRET, token) == 42
    prefix, cid, sig = token.split(".")
    forged = [
        f"{prefix}.43.{sig}",  # another customer, same signature
        f"{prefix}.{cid}.{sig[:-1]}{'A' if sig[-1] != 'A' else 'B'}",  # one character changed
        make_token("another-secret-0123456789abcdef", 42),  # signed with another key
        token + "x",
        "u1.42.",
        "",
        "u2" + token[2:],
        f"{prefix}.042.{sig}",
    ]
    for bad in forged:
        with pytest.raises(TokenError):
            verify_token(SECRET, bad)


def test_settings_name_the_missing_variable():
    with pytest.raises(ConfigError, match="^FEEDBACK_ENGINE_SMTP_HOST is not set"):
        Settings.from_env({}).for_sending()
    env = {
        "FEEDBACK_ENGINE_SMTP_HOST": "h",
        "FEEDBACK_ENGINE_FROM": "a@b.test",
        "FEEDBACK_ENGINE_BASE_URL": "https://x",
    }
    with pytest.raises(ConfigError, match="^FEEDBACK_ENGINE_SECRET is not set"):
        Settings.from_env(env).for_sending()
    with pytest.raises(ConfigError, match="too short"):
        Settings.from_env({**env, "FEEDBACK_ENGINE_SECRET": "short"}).for_sending()
    with pytest.raises(ConfigError, match="FEEDBACK_ENGINE_SMTP_SECURITY must be one of"):
        Settings.from_env({"FEEDBACK_ENGINE_SMTP_SECURITY": "ssl3"})
    with pytest.raises(ConfigError, match="FEEDBACK_ENGINE_SMTP_PORT must be a number"):
        Settings.from_env({"FEEDBACK_ENGINE_SMTP_PORT": "twenty"})
    with pytest.raises(ConfigError, match="FEEDBACK_ENGINE_FROM is not a valid address"):
        Settings.from_env({**env, "FEEDBACK_ENGINE_FROM": "nobody", "FEEDBACK_ENGINE_SECRET": SECRET}).for_sending()
    ok = Settings.from_env({**env, "FEEDBACK_ENGINE_SECRET": SECRET, "FEEDBACK_ENGINE_SMTP_SECURITY": "TLS"})
    assert ok.for_sending().port == 465
    dry = Settings.from_env({}).for_dry_run()
    assert dry.from_address and dry.base_url and dry.secret and len(dry.secret) >= 16
