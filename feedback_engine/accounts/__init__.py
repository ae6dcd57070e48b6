"""Accounts for the web app: users with roles, login sessions, API tokens (a stage of its own).

``queries.py`` holds the SQL; ``service.py`` the rules (argon2 hashes, rate limits, expiry) with
no SQL. The web face reaches it as ``engine.accounts``; the CLI as ``feedback-engine users ...``.
"""

from feedback_engine.accounts.service import ROLES, AccountError, AccountService, LoginRefused, Session

__all__ = ["ROLES", "AccountError", "AccountService", "LoginRefused", "Session"]
