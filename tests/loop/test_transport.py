"""SMTPTransport over STARTTLS and implicit TLS with login, against aiosmtpd with a throwaway certificate."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from feedback_engine.loop.delivery import PermanentError, TransientError
from feedback_engine.loop.mail import build_message, make_address
from feedback_engine.loop.transport import SMTPTransport

from .conftest import RecordingHandler, free_port


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a throwaway certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"mailer", b"s3cret")
    return AuthResult(success=ok, handled=False)


ENVELOPE = {"sender": "feedback@acme.test", "recipients": ["ann@example.com"]}


def message():
    sender = make_address("feedback@acme.test", "Acme")
    return build_message(
        sender=sender,
        to=make_address("ann@example.com"),
        subject="hi",
        text="hello\n.\nend\n",
        html="<p>hello</p>",
        message_id="<ywd.1@acme.test>",
        date=datetime(2025, 1, 1, tzinfo=UTC),
        unsubscribe_url="https://fb.acme.test/unsubscribe?token=t",
    )


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_modes_with_login(certificate, security):
    cert, key = certificate
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    handler, port = RecordingHandler(), free_port()
    options = (
        {"tls_context": server_ctx, "require_starttls": True}
        if security == "starttls"
        else {"ssl_context": server_ctx, "auth_require_tls": False}
    )  # aiosmtpd only counts STARTTLS as TLS for AUTH
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_required=True,
        server_hostname="localhost",
        **options,
    )
    controller.start()
    try:
        good = SMTPTransport(
            "127.0.0.1", port, security=security, user="mailer", password="s3cret", timeout=10, ssl_context=client_ctx
        )
        good.send(message(), **ENVELOPE)
        good.close()
        assert handler.to() == ["ann@example.com"]
        assert b"\r\n.\r\nend\r\n" in handler.messages[0].raw  # a lone dot line survives dot-stuffing
        bad = SMTPTransport(
            "127.0.0.1", port, security=security, user="mailer", password="wrong", timeout=10, ssl_context=client_ctx
        )
        with pytest.raises(TransientError, match="login .* refused") as info:
            bad.send(message(), **ENVELOPE)
        assert info.value.connection
        untrusted = SMTPTransport("127.0.0.1", port, security=security, user="mailer", password="s3cret", timeout=10)
        with pytest.raises(TransientError, match="Cannot reach SMTP server"):
            untrusted.send(message(), **ENVELOPE)  # a certificate nobody vouches for is refused
    finally:
        controller.stop()


def test_refused_connection_and_rejections_map_to_delivery_errors(smtp):
    transport = SMTPTransport("127.0.0.1", free_port(), timeout=5)
    with pytest.raises(TransientError, match="Cannot reach SMTP server") as info:
        transport.send(message(), **ENVELOPE)
    assert info.value.connection
    smtp.handler.reject_rcpt = {"ann@example.com": "550 5.1.1 unknown user"}
    live = SMTPTransport("127.0.0.1", smtp.port, timeout=5)
    with pytest.raises(PermanentError) as perm:
        live.send(message(), **ENVELOPE)
    assert (perm.value.code, perm.value.recipient) == (550, "ann@example.com")
    smtp.handler.reject_rcpt = {}
    smtp.handler.data_reply = "452 4.3.1 insufficient storage"
    with pytest.raises(TransientError) as temp:
        live.send(message(), **ENVELOPE)
    assert temp.value.code == 452 and not temp.value.connection
    smtp.handler.data_reply = None
    live.send(message(), **ENVELOPE)  # the same connection is still usable after the refusals
    live.close()
    assert smtp.handler.to() == ["ann@example.com"]


def test_a_connection_closed_by_the_server_is_reopened_once(smtp):
    transport = SMTPTransport("127.0.0.1", smtp.port, timeout=5)
    transport.send(message(), **ENVELOPE)
    smtp.stop()  # drops the open connection
    smtp.start()
    transport.send(message(), **ENVELOPE)
    transport.close()
    assert smtp.handler.to() == ["ann@example.com", "ann@example.com"]


def test_both_transports_satisfy_the_contract_and_recording_keeps_the_envelope(store):
    from feedback_engine import Engine
    from feedback_engine.contracts import MailTransport
    from feedback_engine.loop.actions import update_action
    from feedback_engine.loop.transport import RecordingTransport

    from .conftest import add_customer, add_feedback, add_theme, at, make_settings

    assert isinstance(SMTPTransport("127.0.0.1", 25), MailTransport)
    recording = RecordingTransport()
    assert isinstance(recording, MailTransport)
    theme = add_theme(store, "Login")
    cid = add_customer(store, "ann@example.com", name="Ann")
    add_feedback(store, cid, "x", themes=[theme])
    engine = Engine(store, settings=make_settings(free_port()), mail_transport=recording)
    aid = engine.actions.add(themes=[theme], title="Fixed", description="Done.", by="lead")
    update_action(store, aid, status="shipped", by="lead", now="2025-03-01T00:00:00Z")
    report = engine.outbox.notify(send=True, now=at("2025-03-02T08:00:00Z"))
    assert report.sent == 1 and recording.closed == 1
    [sent] = recording.sent
    assert (sent.sender, sent.recipients) == ("feedback@acme.test", ["ann@example.com"])
    assert sent.message["To"] == "Ann <ann@example.com>"
    assert store.scalar("SELECT sending_at FROM emails") is not None  # before_commit was called
