"""Mail transports: :class:`SMTPTransport` for production, :class:`RecordingTransport` for tests.

Both satisfy ``contracts.MailTransport``: ``send(message, *, sender, recipients,
before_commit=None)``, ``close()`` and ``supports_before_commit``. The envelope (``MAIL FROM``
and ``RCPT TO``) is always given by the caller -- the sender from the settings, the recipient
from the stored, validated address -- and is never parsed from the message's headers; both are
checked again here with ``mail.make_address``. ``message`` is sent as is when it is bytes (the
stored rendering), else serialised with ``mail.POLICY``.

``SMTPTransport`` calls ``before_commit`` after the server said ``354`` to DATA and before the
message body and its final ``.`` are written. The notify job records "sending" there, so the only
window in which a kill leaves the outcome unknown is the body transfer and the server's last reply.

Failures map to ``delivery.TransientError`` (connection refused/reset, timeouts, 4xx),
``delivery.MessageRejected`` (5xx to MAIL FROM, DATA or after the body) and
``delivery.PermanentError`` (5xx to RCPT TO for that recipient).
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage

from feedback_engine.loop.delivery import MessageRejected, PermanentError, TransientError
from feedback_engine.loop.mail import POLICY, InvalidAddress, make_address
from feedback_engine.loop.settings import Settings

__all__ = ["SMTPTransport", "RecordingTransport", "Sent", "checked_envelope"]

_LEADING_DOT = re.compile(rb"(?m)^\.")
_DISCONNECTED = (smtplib.SMTPServerDisconnected, ConnectionError)


def checked_envelope(sender: str, recipients: Sequence[str]) -> tuple[str, list[str]]:
    """The envelope as given, after checking every address; InvalidAddress otherwise."""
    if isinstance(recipients, str):
        raise TypeError("recipients must be a list of addresses, not one string")
    rcpts = [make_address(r).addr_spec for r in recipients]
    if not rcpts:
        raise InvalidAddress("A message needs at least one recipient.")
    return make_address(sender).addr_spec, rcpts


def _as_bytes(message: EmailMessage | bytes) -> bytes:
    return bytes(message) if isinstance(message, bytes | bytearray) else message.as_bytes(policy=POLICY)


class SMTPTransport:
    """Sends over one SMTP connection, opened on first use and reused; ``close()`` ends it."""

    supports_before_commit = True

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        security: str = "none",
        user: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in ("none", "starttls", "tls"):
            raise ValueError(f"security must be none, starttls or tls, not {security!r}")
        self.host, self.port, self.security = host, port, security
        self.user, self.password, self.timeout = user, password, timeout
        self.ssl_context = ssl_context
        self._smtp: smtplib.SMTP | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SMTPTransport:
        assert settings.smtp_host
        return cls(
            settings.smtp_host,
            settings.port,
            security=settings.smtp_security,
            user=settings.smtp_user,
            password=settings.smtp_password,
            timeout=settings.smtp_timeout,
        )

    # -- connection ----------------------------------------------------------------------
    def _connect(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        where = f"{self.host}:{self.port}"
        context = self.ssl_context or ssl.create_default_context()
        try:
            if self.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            smtp.ehlo()
            if self.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise TransientError(
                f"SMTP login to {where} refused ({exc.smtp_code}); check FEEDBACK_ENGINE_SMTP_USER/PASSWORD.",
                code=exc.smtp_code,
                connection=True,
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise TransientError(
                f"SMTP server {where} answered {exc.smtp_code} while connecting.", code=exc.smtp_code, connection=True
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientError(f"Cannot reach SMTP server {where} ({exc}).", connection=True) from None
        self._smtp = smtp
        return smtp

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    # -- sending -------------------------------------------------------------------------
    def send(
        self,
        message: EmailMessage | bytes,
        *,
        sender: str,
        recipients: Sequence[str],
        before_commit: Callable[[], None] | None = None,
    ) -> None:
        """Send ``message`` from ``sender`` to ``recipients`` (the envelope; headers are not read)."""
        sender, rcpts = checked_envelope(sender, recipients)
        data = _as_bytes(message)
        smtp = self._connect()
        try:
            try:
                code, reply = smtp.mail(sender)
            except _DISCONNECTED:  # an idle connection the server closed: reconnect once
                self._drop()
                smtp = self._connect()
                code, reply = smtp.mail(sender)
            if code != 250:
                self._reset(smtp)
                self._fail_message(code, reply, "mail", f"refused the sender {sender}")
            for rcpt in rcpts:
                code, reply = smtp.rcpt(rcpt)
                if code not in (250, 251):
                    self._reset(smtp)
                    self._fail_recipient(code, reply, rcpt)
            smtp.putcmd("data")
            code, reply = smtp.getreply()
            if code != 354:
                self._reset(smtp)
                self._fail_message(code, reply, "data", f"refused DATA for {rcpts[0]}")
            if before_commit is not None:
                before_commit()
            body = _LEADING_DOT.sub(b"..", data)
            if not body.endswith(b"\r\n"):
                body += b"\r\n"
            smtp.send(body + b".\r\n")
            code, reply = smtp.getreply()
            if code != 250:
                self._fail_message(code, reply, "body", f"refused the message to {rcpts[0]}")
        except (TransientError, PermanentError):
            raise
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise TransientError(
                f"SMTP connection to {self.host}:{self.port} failed ({exc}).", connection=True
            ) from None

    def _reset(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _fail_message(self, code: int, reply: bytes, stage: str, what: str) -> None:
        detail = f"{code} {_text(reply)}"
        where = f"{self.host}:{self.port}"
        if 500 <= code < 600:
            raise MessageRejected(f"SMTP server {where} {what} ({detail}).", code=code, stage=stage)
        raise TransientError(f"SMTP server {where} {what} ({detail}).", code=code, connection=code == 421, stage=stage)

    @staticmethod
    def _fail_recipient(code: int, reply: bytes, recipient: str) -> None:
        detail = f"{code} {_text(reply)}"
        if 500 <= code < 600:
            raise PermanentError(f"{recipient} rejected permanently ({detail}).", code=code, recipient=recipient)
        raise TransientError(f"{recipient} deferred ({detail}).", code=code, connection=code == 421, stage="rcpt")


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:200]


@dataclass
class Sent:
    """One message a RecordingTransport accepted, with the envelope it was given."""

    message: EmailMessage
    sender: str
    recipients: list[str]


class RecordingTransport:
    """Keeps sent messages in ``self.sent``; ``fail_with`` makes the next sends raise that error.

    It checks the envelope like SMTPTransport and calls ``before_commit`` before recording.
    """

    supports_before_commit = True

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.fail_with: Exception | None = None
        self.closed = 0

    def send(
        self,
        message: EmailMessage | bytes,
        *,
        sender: str,
        recipients: Sequence[str],
        before_commit: Callable[[], None] | None = None,
    ) -> None:
        sender, rcpts = checked_envelope(sender, recipients)
        if self.fail_with is not None:
            raise self.fail_with
        if before_commit is not None:
            before_commit()
        parsed = message_from_bytes(_as_bytes(message), policy=POLICY)
        self.sent.append(Sent(parsed, sender, rcpts))  # type: ignore[arg-type]

    def close(self) -> None:
        self.closed += 1
