"""Signed unsubscribe tokens: ``u1.<customer id>.<HMAC-SHA256, base64url>``.

The signature covers a purpose tag, the version and the customer id, keyed with
``FEEDBACK_ENGINE_SECRET``; without the key a token for another customer cannot be made, and
the 256-bit signature cannot be guessed. Verification compares in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from feedback_engine.errors import TokenError

__all__ = ["make_token", "verify_token"]

VERSION = "u1"
_TOKEN = re.compile(r"^u1\.([1-9][0-9]{0,17})\.([A-Za-z0-9_-]{43})$")


def _signature(secret: str, customer_id: int) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"unsubscribe:{VERSION}:{customer_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode("ascii").rstrip("=")


def make_token(secret: str, customer_id: int) -> str:
    """The unsubscribe token of one customer."""
    if not secret:
        raise TokenError("No signing secret. Set FEEDBACK_ENGINE_SECRET.")
    return f"{VERSION}.{int(customer_id)}.{_signature(secret, int(customer_id))}"


def verify_token(secret: str, token: str) -> int:
    """The customer id a token was made for; TokenError when malformed or not signed with ``secret``."""
    match = _TOKEN.match((token or "").strip())
    if match is None:
        raise TokenError("This unsubscribe link is malformed. Copy the whole link from the email.")
    customer_id = int(match.group(1))
    expected = _signature(secret, customer_id)
    if not hmac.compare_digest(expected.encode("ascii"), match.group(2).encode("ascii")):
        raise TokenError(
            "This unsubscribe link is not valid (its signature does not match). Use the link from the email."
        )
    return customer_id
