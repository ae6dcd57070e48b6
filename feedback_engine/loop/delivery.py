"""Delivery outcomes a mail transport reports (see ``contracts.MailTransport``).

- :class:`TransientError`: try again later (connection refused, timeout, 4xx). ``connection``
  is True when the server itself is unreachable, so the job stops the batch instead of trying
  every remaining message against a dead server.
- :class:`PermanentError`: the server refused this recipient for good (5xx); the address is
  suppressed and never tried again.
"""

from __future__ import annotations

from feedback_engine.errors import NotifyError

__all__ = ["TransientError", "PermanentError"]


class TransientError(NotifyError):
    """Delivery failed for now; the message stays queued and is retried with backoff."""

    def __init__(self, message: str, *, code: int | None = None, connection: bool = False) -> None:
        super().__init__(message, code=code)
        self.code = code
        self.connection = connection


class PermanentError(NotifyError):
    """The server rejected the recipient permanently (5xx)."""

    def __init__(self, message: str, *, code: int | None = None, recipient: str | None = None) -> None:
        super().__init__(message, code=code, recipient=recipient)
        self.code = code
        self.recipient = recipient
