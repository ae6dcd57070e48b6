"""Build the outgoing ``EmailMessage``: safe headers, a deterministic Message-ID, RFC 8058 headers.

Customer data never reaches a header as raw text: addresses are validated and wrapped in
``email.headerregistry.Address`` objects (which refuse CR/LF), display names and subjects lose
every control character, and the ``email`` package encodes what is left.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime

from feedback_engine.errors import NotifyError

__all__ = ["InvalidAddress", "make_address", "clean_header_text", "message_id_for", "build_message", "POLICY"]

_VERBATIM = frozenset({"list-unsubscribe"})


class _Policy(EmailPolicy):
    """``policy.SMTP``, except that List-Unsubscribe is written as is on one line.

    The standard folder turns a URL longer than a line into RFC 2047 encoded words, which mail
    clients would not read as a link. Its value is built by us from a checked URL (no CR/LF, no
    spaces) and stays within RFC 5322's 998-character line limit.
    """

    def fold(self, name: str, value: str) -> str:
        if name.lower() in _VERBATIM:
            return f"{name}: {value}{self.linesep}"
        return super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() in _VERBATIM:
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


POLICY = _Policy(linesep="\r\n")

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


class InvalidAddress(NotifyError):
    """An email address that cannot be used safely (syntax, control characters, non-ASCII)."""


def clean_header_text(value: str | None, limit: int = 150) -> str:
    """One line of text for a header: control characters (CR, LF, tab, ...) become spaces."""
    text = " ".join(_CONTROL.sub(" ", value or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def make_address(addr_spec: str | None, display_name: str | None = None) -> Address:
    """An Address from untrusted parts; InvalidAddress unless ``addr_spec`` is a plain ASCII address."""
    addr = (addr_spec or "").strip()
    if not addr or len(addr) > 254 or not _EMAIL.match(addr):
        shown = clean_header_text(addr, 60) or "(empty)"
        raise InvalidAddress(f"{shown!r} is not a usable email address.")
    try:
        return Address(display_name=clean_header_text(display_name, 80), addr_spec=addr)
    except (ValueError, IndexError) as exc:  # belt and braces: the regex already excludes these
        raise InvalidAddress(f"{clean_header_text(addr, 60)!r} is not a usable email address ({exc}).") from None


def message_id_for(keys: Iterable[str], sender: Address) -> str:
    """A Message-ID that depends only on ``keys`` (the notifications it carries and the address)."""
    digest = hashlib.sha256("\n".join(sorted(keys)).encode("utf-8")).hexdigest()[:32]
    return f"<ywd.{digest}@{sender.domain}>"


def build_message(
    *,
    sender: Address,
    to: Address,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    date: datetime,
    unsubscribe_url: str,
) -> EmailMessage:
    """A multipart/alternative (text + HTML) message with the one-click unsubscribe headers."""
    if len(unsubscribe_url) > 900 or not unsubscribe_url.isascii() or any(ch in unsubscribe_url for ch in "\r\n<> "):
        raise NotifyError(
            "The unsubscribe URL contains characters not allowed in a header; check FEEDBACK_ENGINE_BASE_URL."
        )
    msg = EmailMessage(policy=POLICY)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = clean_header_text(subject, 200)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg


def envelope(message: EmailMessage) -> tuple[str, list[str]]:
    """Envelope sender and recipients (addr-specs only) of a built message."""
    sender = message["From"].addresses[0].addr_spec
    recipients = [a.addr_spec for a in message["To"].addresses]
    return sender, recipients
