"""Mail transports: :class:`SMTPTransport` for production, :class:`RecordingTransport` for tests.

Both satisfy ``contracts.MailTransport`` (``send(message)``). ``SMTPTransport.send`` also takes
``before_commit``: a callback run after the server said ``354`` to DATA and before the message
body and its final ``.`` are written. The notify job records "sending" there, so the only window
in which a kill leaves the outcome unknown is the body transfer and the server's last reply.

Failures map to ``delivery.TransientError`` (connection refused/reset, timeouts, 4xx) and
``delivery.PermanentError`` (5xx for a recipient).
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage

from feedback_engine.loop.delivery import PermanentError, TransientError
from feedback_engine.loop.mail import envelope
from feedback_engine.loop.settings import Settings

__all__ = ["SMTPTransport", "RecordingTransport"]

_LEADING_DOT = re.compile(rb"(?m)^\.")
_DISCONNECTED = (smtplib.SMTPServerDisconnected, ConnectionError)


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
    def send(self, message: EmailMessage, *, before_commit: Callable[[], None] | None = None) -> None:
        sender, recipients = envelope(message)
        data = message.as_bytes()
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
                raise TransientError(f"SMTP server refused sender {sender} ({code} {_text(reply)}).", code=code)
            for rcpt in recipients:
                code, reply = smtp.rcpt(rcpt)
                if code not in (250, 251):
                    self._reset(smtp)
                    self._fail(code, reply, rcpt)
            smtp.putcmd("data")
            code, reply = smtp.getreply()
            if code != 354:
                self._reset(smtp)
                self._fail(code, reply, recipients[0])
            if before_commit is not None:
                before_commit()
            body = _LEADING_DOT.sub(b"..", data)
            if not body.endswith(b"\r\n"):
                body += b"\r\n"
            smtp.send(body + b".\r\n")
            code, reply = smtp.getreply()
            if code != 250:
                self._fail(code, reply, recipients[0])
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

    @staticmethod
    def _fail(code: int, reply: bytes, recipient: str) -> None:
        detail = f"{code} {_text(reply)}"
        if 500 <= code < 600:
            raise PermanentError(f"{recipient} rejected permanently ({detail}).", code=code, recipient=recipient)
        raise TransientError(f"{recipient} deferred ({detail}).", code=code, connection=code == 421)


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:200]


class RecordingTransport:
    """Keeps sent messages in ``self.sent``; ``fail_with`` makes the next sends raise that error."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.fail_with: Exception | None = None

    def send(self, message: EmailMessage) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(message)
