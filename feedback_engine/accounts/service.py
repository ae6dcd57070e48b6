"""Users, roles, login sessions and API tokens: the rules, with the SQL in :mod:`.queries`.

- Roles are ordered ``viewer`` < ``editor`` < ``admin``; :meth:`AccountService.allows` compares.
- Passwords are hashed with argon2id (argon2-cffi's defaults); at least 10 characters.
- A login session is a random 256-bit token in the cookie; the database keeps only its SHA-256,
  so a copy of the database opens no session. Sessions last ``SESSION_HOURS`` and are revoked by
  logout, by a password change and by ``users revoke``.
- Logins are rate limited: after ``MAX_FAILURES_PER_EMAIL`` failures for one email or
  ``MAX_FAILURES_PER_CLIENT`` from one client within ``WINDOW_MINUTES``, further attempts are
  refused (even with the right password) until the window passes.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from feedback_engine.accounts import queries
from feedback_engine.errors import FeedbackEngineError, NotFoundError
from feedback_engine.store import Store

__all__ = ["ROLES", "AccountError", "AccountService", "LoginRefused", "Session"]

ROLES = ("viewer", "editor", "admin")
SESSION_HOURS = 12
WINDOW_MINUTES = 15
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_CLIENT = 20
MIN_PASSWORD = 10
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_hasher = PasswordHasher()


class AccountError(FeedbackEngineError):
    """A user cannot be added or changed as asked (bad email, role, or password)."""


class LoginRefused(FeedbackEngineError):
    """A login was refused: wrong email or password, or too many failures (``limited``)."""

    def __init__(self, message: str, *, limited: bool = False) -> None:
        super().__init__(message)
        self.limited = limited


@dataclass(frozen=True)
class Session:
    token: str  # goes in the cookie; never stored
    csrf: str
    user: dict[str, Any]


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}; use one of: {', '.join(ROLES)}.")
    return role


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"The password is too short; use at least {MIN_PASSWORD} characters.")
    return password


class AccountService:
    """``engine.accounts``: everything about the people who use the web app."""

    def __init__(self, store: Store, *, session_hours: float = SESSION_HOURS) -> None:
        self.store = store
        self.session_hours = session_hours

    # -- users -----------------------------------------------------------------------------
    def add(self, email: str, role: str, password: str) -> dict[str, Any]:
        email = email.strip()
        if not _EMAIL.fullmatch(email):
            raise AccountError(f"{email!r} is not an email address.")
        _check_role(role)
        if queries.user_by_email(self.store, email) is not None:
            raise AccountError(f"A user {email} exists already; use `users passwd` or `users role` to change it.")
        queries.insert_user(self.store, email, role, _hasher.hash(_check_password(password)), _iso(_now()))
        return self.user(email)

    def user(self, email: str) -> dict[str, Any]:
        found = queries.user_by_email(self.store, email.strip())
        if found is None:
            raise NotFoundError(f"No user {email}; see `feedback-engine users list`.")
        return {k: v for k, v in found.items() if k != "password_hash"}

    def list(self) -> list[dict[str, Any]]:
        return queries.users(self.store)

    def set_password(self, email: str, password: str) -> int:
        """Change the password; every open session of the user is revoked (returns how many)."""
        user = self.user(email)
        now = _iso(_now())
        queries.update_user(self.store, user["id"], now, password_hash=_hasher.hash(_check_password(password)))
        return queries.revoke_user_sessions(self.store, user["id"], now)

    def set_role(self, email: str, role: str) -> dict[str, Any]:
        user = self.user(email)
        queries.update_user(self.store, user["id"], _iso(_now()), role=_check_role(role))
        return self.user(email)

    def disable(self, email: str, *, undo: bool = False) -> dict[str, Any]:
        user = self.user(email)
        now = _iso(_now())
        queries.update_user(self.store, user["id"], now, disabled_at=None if undo else now)
        if not undo:
            queries.revoke_user_sessions(self.store, user["id"], now)
        return self.user(email)

    def revoke(self, email: str) -> int:
        """End every open session of the user; returns how many were open."""
        return queries.revoke_user_sessions(self.store, self.user(email)["id"], _iso(_now()))

    # -- sessions --------------------------------------------------------------------------
    def login(self, email: str, password: str, *, client: str = "-") -> Session:
        email = (email or "").strip()[:320]
        now = _now()
        since = _iso(now - timedelta(minutes=WINDOW_MINUTES))
        by_email, by_client = queries.failures_since(self.store, email, client, since)
        if by_email >= MAX_FAILURES_PER_EMAIL or by_client >= MAX_FAILURES_PER_CLIENT:
            raise LoginRefused(f"Too many failed logins; wait {WINDOW_MINUTES} minutes and try again.", limited=True)
        found = queries.user_by_email(self.store, email) if email else None
        ok = False
        if found is not None and found["disabled_at"] is None:
            try:
                ok = _hasher.verify(found["password_hash"], password or "")
            except (VerificationError, InvalidHashError):
                ok = False
        else:
            _hasher.hash("spend the same time as a real check")  # no timing hint that the email is unknown
        queries.record_attempt(self.store, email, client, _iso(now), ok)
        if not ok or found is None:
            raise LoginRefused("The email or the password is wrong.")
        if _hasher.check_needs_rehash(found["password_hash"]):
            queries.update_user(self.store, found["id"], _iso(now), password_hash=_hasher.hash(password))
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires = _iso(now + timedelta(hours=self.session_hours))
        queries.insert_session(self.store, _digest(token), found["id"], csrf, _iso(now), expires, client[:100])
        user = {"id": found["id"], "email": found["email"], "role": found["role"]}
        return Session(token=token, csrf=csrf, user=user)

    def session(self, token: str | None) -> Session | None:
        """The live session for a cookie's token, or None (unknown, expired, revoked, user disabled)."""
        if not token or len(token) > 200:
            return None
        row = queries.session(self.store, _digest(token), _iso(_now()))
        if row is None:
            return None
        return Session(token=token, csrf=row["csrf_token"], user={k: row[k] for k in ("id", "email", "role")})

    def logout(self, token: str | None) -> None:
        if token:
            queries.revoke_session(self.store, _digest(token), _iso(_now()))

    @staticmethod
    def allows(role: str, needed: str) -> bool:
        """Whether ``role`` may do what ``needed`` may (viewer < editor < admin)."""
        return role in ROLES and ROLES.index(role) >= ROLES.index(needed)

    @staticmethod
    def csrf_ok(session: Session, sent: str | None) -> bool:
        return bool(sent) and secrets.compare_digest(session.csrf.encode(), (sent or "").encode())

    # -- API tokens ------------------------------------------------------------------------
    def new_api_token(self, email: str, name: str = "api") -> str:
        """A new token for ``/api/...`` (shown once; only its SHA-256 is kept)."""
        user = self.user(email)
        token = "fe_" + secrets.token_urlsafe(32)
        queries.insert_api_token(self.store, user["id"], _digest(token), name, _iso(_now()))
        return token

    def api_user(self, token: str | None) -> dict[str, Any] | None:
        if not token or len(token) > 200:
            return None
        return queries.api_token_user(self.store, _digest(token))
