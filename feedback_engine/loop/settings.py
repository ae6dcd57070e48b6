"""Loop settings from the environment: SMTP server, sender, link base URL, signing secret.

=================================  =========================================  ==========================
variable                           meaning                                    needed by
=================================  =========================================  ==========================
``FEEDBACK_ENGINE_SMTP_HOST``      SMTP server host name                      ``notify --send``
``FEEDBACK_ENGINE_SMTP_PORT``      port (default 25 / 587 starttls / 465 tls) optional
``FEEDBACK_ENGINE_SMTP_USER``      login user (no login when unset)           optional
``FEEDBACK_ENGINE_SMTP_PASSWORD``  login password (required with a user)      with a user
``FEEDBACK_ENGINE_SMTP_SECURITY``  ``none`` | ``starttls`` | ``tls``          optional (default starttls)
``FEEDBACK_ENGINE_SMTP_TIMEOUT``   seconds per SMTP operation (default 30)    optional
``FEEDBACK_ENGINE_FROM``           sender, ``Name <addr@domain>`` or addr      ``notify --send``
``FEEDBACK_ENGINE_BASE_URL``       public URL of ``serve`` for unsubscribe    ``notify --send``
``FEEDBACK_ENGINE_SECRET``         token signing key, >= 16 characters        ``notify --send``, ``serve``
``FEEDBACK_ENGINE_FREQUENCY_DAYS`` at most one email per customer per N days  optional (default 7)
=================================  =========================================  ==========================

A dry run needs none of them: it signs links with a throwaway key and uses placeholder
addresses (the .eml files are for reading, never for sending).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from email.headerregistry import Address
from typing import cast

from feedback_engine.errors import ConfigError

__all__ = ["Settings", "SECURITY_MODES"]

PREFIX = "FEEDBACK_ENGINE_"
SECURITY_MODES = ("none", "starttls", "tls")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}
MIN_SECRET = 16
DRY_RUN_FROM = "feedback@example.invalid"
DRY_RUN_BASE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Settings:
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_security: str = "starttls"
    smtp_timeout: float = 30.0
    from_address: str | None = None
    base_url: str | None = None
    secret: str | None = None
    frequency_days: float = 7.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the ``FEEDBACK_ENGINE_*`` variables; only their format is checked here."""
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(PREFIX + name)
            return value.strip() if value and value.strip() else None

        security = (get("SMTP_SECURITY") or "starttls").lower()
        if security not in SECURITY_MODES:
            raise ConfigError(f"FEEDBACK_ENGINE_SMTP_SECURITY must be one of none, starttls, tls (got {security!r}).")
        return cls(
            smtp_host=get("SMTP_HOST"),
            smtp_port=cast("int | None", _number(get("SMTP_PORT"), "SMTP_PORT", int)),
            smtp_user=get("SMTP_USER"),
            smtp_password=env.get(PREFIX + "SMTP_PASSWORD") or None,
            smtp_security=security,
            smtp_timeout=_number(get("SMTP_TIMEOUT"), "SMTP_TIMEOUT", float) or 30.0,
            from_address=get("FROM"),
            base_url=get("BASE_URL"),
            secret=env.get(PREFIX + "SECRET") or None,
            frequency_days=_number(get("FREQUENCY_DAYS"), "FREQUENCY_DAYS", float) or 7.0,
        )

    # -- checks per use ------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self.smtp_port or DEFAULT_PORTS[self.smtp_security]

    def require_secret(self) -> str:
        if not self.secret:
            raise ConfigError(
                "FEEDBACK_ENGINE_SECRET is not set. Set it to a long random string, e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
            )
        if len(self.secret) < MIN_SECRET:
            raise ConfigError(f"FEEDBACK_ENGINE_SECRET is too short; use at least {MIN_SECRET} random characters.")
        return self.secret

    def for_sending(self) -> Settings:
        """These settings, checked for ``notify --send``; raises ConfigError naming the first gap."""
        for name, value in (("SMTP_HOST", self.smtp_host), ("FROM", self.from_address), ("BASE_URL", self.base_url)):
            if not value:
                raise ConfigError(f"{PREFIX}{name} is not set; notify --send needs it.")
        self.require_secret()
        sender_address(self.from_address or "")
        _check_base_url(self.base_url or "")
        if self.smtp_user and self.smtp_password is None:
            raise ConfigError("FEEDBACK_ENGINE_SMTP_PASSWORD is not set but FEEDBACK_ENGINE_SMTP_USER is.")
        return self

    def for_dry_run(self) -> Settings:
        """These settings with placeholders where a dry run may do without (never used to send)."""
        secret = self.secret if self.secret and len(self.secret) >= MIN_SECRET else secrets.token_urlsafe(32)
        if self.from_address:
            sender_address(self.from_address)
        if self.base_url:
            _check_base_url(self.base_url)
        return replace(
            self,
            from_address=self.from_address or DRY_RUN_FROM,
            base_url=self.base_url or DRY_RUN_BASE_URL,
            secret=secret,
        )


def sender_address(value: str) -> Address:
    """Parse ``FEEDBACK_ENGINE_FROM`` (``Name <addr>`` or ``addr``) into an Address.

    Exactly one address, no CR/LF; the name is neutralised like a customer's
    (``mail.clean_display_name``). This address is also the envelope sender (``MAIL FROM``).
    """
    from email.utils import getaddresses

    from feedback_engine.loop.mail import InvalidAddress, make_address

    hint = "use Name <addr@example.com>"
    if any(ch in value for ch in "\r\n\x00"):
        raise ConfigError(f"FEEDBACK_ENGINE_FROM must be one line; {hint}.")
    parsed = getaddresses([value])
    if len(parsed) != 1 or not parsed[0][1]:
        raise ConfigError(f"FEEDBACK_ENGINE_FROM must hold exactly one address (got {value!r}); {hint}.")
    name, addr = parsed[0]
    try:
        return make_address(addr, name)
    except InvalidAddress as exc:
        raise ConfigError(f"FEEDBACK_ENGINE_FROM is not a valid address ({exc}); {hint}.") from None


def _check_base_url(url: str) -> None:
    if not url.startswith(("http://", "https://")) or any(ch in url for ch in " \r\n<>\"'"):
        raise ConfigError(f"FEEDBACK_ENGINE_BASE_URL must be an http(s) URL without spaces (got {url!r}).")


def _number(value: str | None, name: str, kind: type) -> float | int | None:
    if value is None:
        return None
    try:
        number = kind(value)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name} must be a number (got {value!r}).") from None
    if number <= 0:
        raise ConfigError(f"{PREFIX}{name} must be positive (got {value!r}).")
    return number
