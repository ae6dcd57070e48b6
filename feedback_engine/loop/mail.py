"""Build the outgoing ``EmailMessage``: safe headers, a deterministic Message-ID, RFC 8058 headers.

Customer data never reaches a header as raw text, and no header is ever read back to decide
where a message goes (the SMTP envelope comes from the stored, validated address; see
``notify``):

- addresses must be plain ASCII ``local@domain`` (:func:`make_address`): no spaces, quotes,
  commas, angle brackets, comments, CR/LF, ``=?`` ``?=`` (encoded-word look-alikes) or
  non-ASCII, local part at most 64 characters, whole address at most 254;
- display names (:func:`clean_display_name`) keep only letters, marks, digits, spaces and
  ``. - '``: everything a mail reader could take for structure (``" , ; : < > @ \\ ( ) [ ]``),
  control characters and Unicode format characters (bidi overrides, zero-width characters) is
  removed, and a name that held an RFC 2047 encoded word (``=?charset?b?...?=``) is dropped
  altogether, so no decoder can turn it into ``Bcc: victim@example.org``;
- subjects (:func:`clean_subject`) lose control and format characters and every ``=?`` is
  broken up, so no decoder sees an encoded word in them either.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from email import message_from_bytes
from email.headerregistry import Address, AddressHeader
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime
from typing import cast

from feedback_engine.errors import NotifyError

__all__ = [
    "InvalidAddress",
    "make_address",
    "clean_header_text",
    "clean_display_name",
    "clean_subject",
    "header_recipients",
    "message_id_for",
    "build_message",
    "POLICY",
]

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
_EMAIL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_ENCODED_WORD = re.compile(r"=\s*\?|\?\s*=")  # also "= ?": when in doubt, the name goes
_ADJACENT = re.compile(r"=\?|\?=")
_NAME_PUNCTUATION = frozenset(".-'")
_NAME_LIMIT = 80


class InvalidAddress(NotifyError):
    """An email address that cannot be used safely (syntax, control characters, non-ASCII)."""


def clean_header_text(value: str | None, limit: int = 150) -> str:
    """One line of text for a header: control characters (CR, LF, tab, ...) become spaces."""
    text = " ".join(_CONTROL.sub(" ", value or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _visible(value: str | None) -> str:
    """``value`` without control characters and Unicode format characters (bidi, zero-width)."""
    out = []
    for ch in value or "":
        category = unicodedata.category(ch)
        if category == "Cf":  # U+200B-200F, U+202A-202E, U+2060-2069, U+FEFF, ...: dropped
            continue
        out.append(" " if category in ("Cc", "Zl", "Zp") or ch.isspace() else ch)
    return "".join(out)


def clean_display_name(value: str | None) -> str:
    """A display name nobody can read as structure; ``""`` (no name) when in doubt.

    Letters, combining marks, digits, spaces and ``. - '`` are kept; any other character becomes
    a space. A name that contains an encoded-word opener or closer (``=?`` / ``?=``) is dropped.
    """
    text = _visible(value)
    if _ENCODED_WORD.search(text):
        return ""
    kept = "".join(
        ch if ch == " " or ch in _NAME_PUNCTUATION or unicodedata.category(ch)[0] in "LMN" else " " for ch in text
    )
    name = " ".join(kept.split())
    if len(name) > _NAME_LIMIT:
        name = name[:_NAME_LIMIT].rsplit(" ", 1)[0] if " " in name[:_NAME_LIMIT] else name[:_NAME_LIMIT]
    if not any(unicodedata.category(ch)[0] in "LN" for ch in name):
        return ""
    return name


def clean_subject(value: str | None, limit: int = 200) -> str:
    """One line for the Subject: no control or format characters, no encoded word (``=?`` is broken up)."""
    text = _visible(value)
    while _ADJACENT.search(text):
        text = _ADJACENT.sub(lambda m: f"{m.group(0)[0]} {m.group(0)[1]}", text)
    return clean_header_text(text, limit)


def make_address(addr_spec: str | None, display_name: str | None = None) -> Address:
    """An Address from untrusted parts; InvalidAddress unless ``addr_spec`` is a plain ASCII address.

    ``addr_spec`` is used exactly as given (no trimming): the address that is validated is the
    address that is stored and sent to. The display name goes through :func:`clean_display_name`.
    """
    addr = addr_spec or ""
    local = addr.rsplit("@", 1)[0]
    if not addr or len(addr) > 254 or len(local) > 64 or not _EMAIL.fullmatch(addr) or _ADJACENT.search(addr):
        shown = clean_header_text(_visible(addr), 60) or "(empty)"
        raise InvalidAddress(f"{shown!r} is not a usable email address.")
    try:
        address = Address(display_name=clean_display_name(display_name), addr_spec=addr)
    except (ValueError, IndexError) as exc:  # belt and braces: the regex already excludes these
        raise InvalidAddress(f"{clean_header_text(addr, 60)!r} is not a usable email address ({exc}).") from None
    if address.addr_spec != addr:  # e.g. the email package would quote the local part
        raise InvalidAddress(f"{clean_header_text(addr, 60)!r} is not a usable email address.")
    return address


def header_recipients(raw: bytes) -> list[str]:
    """The addr-specs a mail reader finds in the To header of ``raw`` (for checking only, never for sending)."""
    try:
        message = message_from_bytes(raw, policy=POLICY)
        headers = message.get_all("To") or []
        return [a.addr_spec for header in headers for a in cast(AddressHeader, header).addresses]
    except Exception:  # noqa: BLE001 - an unreadable header counts as "does not match"
        return []


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
    """A multipart/alternative (text + HTML) message with the one-click unsubscribe headers.

    ``sender`` and ``to`` are re-made through :func:`make_address`, so an Address built some
    other way cannot bring an unchecked name or address into the headers.
    """
    if len(unsubscribe_url) > 900 or not unsubscribe_url.isascii() or any(ch in unsubscribe_url for ch in "\r\n<> "):
        raise NotifyError(
            "The unsubscribe URL contains characters not allowed in a header; check FEEDBACK_ENGINE_BASE_URL."
        )
    msg = EmailMessage(policy=POLICY)
    msg["From"] = make_address(sender.addr_spec, sender.display_name)
    msg["To"] = make_address(to.addr_spec, to.display_name)
    msg["Subject"] = clean_subject(subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg
