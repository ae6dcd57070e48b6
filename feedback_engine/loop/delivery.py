"""Delivery outcomes a mail transport reports (see ``contracts.MailTransport``).

- :class:`TransientError`: try again later (connection refused, timeout, 4xx). ``connection``
  is True when the server itself is unreachable, so the job stops the batch instead of trying
  every remaining message against a dead server.
- :class:`MessageRejected` (a TransientError): a 5xx to ``MAIL FROM``, to ``DATA`` or after the
  body. That is the server refusing this message or this session (a broken mailbox backend, a
  misconfigured sender, a content filter), not proof that the recipient's address is bad: the
  email is retried later and nobody is suppressed.
- :class:`PermanentError`: the server refused the recipient at ``RCPT TO`` (5xx); the notify job
  suppresses the address unless the same code came for several recipients in a row (a server
  fault, see ``notify``).
- :class:`DeliveryDeferred`: raised by the CLI after printing the report of a run that stopped
  early (server unreachable or faulty); exit code 75 (``EX_TEMPFAIL``), nothing is lost.
"""

from __future__ import annotations

from feedback_engine.errors import NotifyError

__all__ = ["TransientError", "MessageRejected", "PermanentError", "DeliveryDeferred", "EX_TEMPFAIL"]

EX_TEMPFAIL = 75


class TransientError(NotifyError):
    """Delivery failed for now; the message stays queued and is retried with backoff."""

    def __init__(
        self, message: str, *, code: int | None = None, connection: bool = False, stage: str | None = None
    ) -> None:
        super().__init__(message, code=code, stage=stage)
        self.code = code
        self.connection = connection
        self.stage = stage  # connect, mail, rcpt, data, body


class MessageRejected(TransientError):
    """A 5xx to MAIL FROM, DATA or after the body: the message failed, the address is not to blame."""


class PermanentError(NotifyError):
    """The server rejected the recipient permanently (5xx to RCPT TO)."""

    def __init__(self, message: str, *, code: int | None = None, recipient: str | None = None) -> None:
        super().__init__(message, code=code, recipient=recipient)
        self.code = code
        self.recipient = recipient


class DeliveryDeferred(NotifyError):
    """A send run stopped early because of the server; its emails stay queued (exit code 75)."""

    exit_code = EX_TEMPFAIL
