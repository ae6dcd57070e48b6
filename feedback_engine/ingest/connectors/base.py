"""What every connector shares: its settings, where its credential comes from, its base URL.

A connector is a :class:`~feedback_engine.contracts.Source` like the file readers: ``platform``,
``options`` and ``records()``, which here walks the API's pages and yields ``FeedbackRecord`` /
``Quarantined`` / ``Skipped`` plus :class:`~feedback_engine.ingest.records.Checkpoint` (the new
cursor, committed with the records before it).

Settings are stored in the database (``sources.settings``); a credential never is. A kind names
the environment variable that holds it (``token_env``, e.g. ``ZENDESK_API_TOKEN``), which the
user may rename per source (``--token-env``) or replace with a file (``--token-file``, read at
pull time, first line). Messages name the variable or the file, never the value.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from feedback_engine.errors import ConfigError
from feedback_engine.ingest.connectors.http import HttpClient, Page
from feedback_engine.ingest.records import Checkpoint, FeedbackRecord, Invalid, Quarantined, Skipped, parse_date

__all__ = ["Connector", "Option", "check_base_url", "cutoff_text"]

Item = FeedbackRecord | Quarantined | Skipped | Checkpoint
MAX_PAGES = 500  # per source and pull: a bound on every pagination loop
DEFAULT_BACKFILL_DAYS = 30


@dataclass(frozen=True)
class Option:
    """A setting of a kind: its name (``app_id`` -> ``--app-id``), whether required, its help."""

    name: str
    help: str
    required: bool = False
    default: str | None = None


@dataclass
class Connector:
    """Base of every kind. Subclasses set the class attributes and implement :meth:`walk`."""

    kind: ClassVar[str] = ""
    channel: ClassVar[str] = ""
    platform: ClassVar[str] = ""
    api: ClassVar[str] = ""  # the service's name in messages
    default_base_url: ClassVar[str] = ""
    token_env: ClassVar[str | None] = None  # default variable of the credential; None: no credential
    token_required: ClassVar[bool] = True
    settings_spec: ClassVar[tuple[Option, ...]] = ()

    name: str
    settings: dict[str, Any]
    http: HttpClient
    cursor: Any = None
    since: str | None = None
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)

    @property
    def options(self) -> dict[str, Any]:
        """What the run records: the kind and the settings (which never hold a credential)."""
        return {"kind": self.kind, **self.settings}

    @property
    def base_url(self) -> str:
        return str(self.settings.get("base_url") or self.default_base_url).rstrip("/")

    def records(self) -> Iterator[Item]:
        return self.walk()

    def walk(self) -> Iterator[Item]:  # pragma: no cover - every kind overrides it
        raise NotImplementedError

    # -- credentials ----------------------------------------------------------------------
    def credential_source(self) -> str:
        """Where the credential comes from, as messages say it (never its value)."""
        path = self.settings.get("token_file")
        if path:
            return f"the file {path} (--token-file)"
        return f"the environment variable {self.settings.get('token_env') or self.token_env}"

    def credential(self) -> str | None:
        """The credential, read now from the file or the variable; :class:`ConfigError` when a
        required one is missing (naming the variable to set)."""
        path = self.settings.get("token_file")
        if path:
            try:
                lines = Path(path).expanduser().read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise ConfigError(
                    f"Source {self.name}: cannot read its credential file {path} ({exc.strerror}); "
                    "fix the file or `sources add` it again with --token-env."
                ) from None
            value = lines[0].strip() if lines else ""
            if not value:
                raise ConfigError(f"Source {self.name}: its credential file {path} is empty.")
            return value
        var = self.settings.get("token_env") or self.token_env
        if not var:
            return None
        value = self.env.get(var, "").strip()
        if not value and self.token_required:
            raise ConfigError(
                f"Source {self.name} ({self.kind}) needs {var}: set it to the {self.api} credential "
                "(or `sources add` the source again with --token-env NAME or --token-file PATH)."
            )
        return value or None

    # -- helpers for the kinds ---------------------------------------------------------------
    def cutoff(self, key: str) -> str:
        """Oldest time to fetch (UTC ISO text): the cursor's ``key`` when it has one, else
        ``since``, else :data:`DEFAULT_BACKFILL_DAYS` ago (the bounded first backfill)."""
        if self.since:
            return self.since
        if isinstance(self.cursor, dict) and self.cursor.get(key):
            return str(self.cursor[key])
        return cutoff_text(None)

    def broken(self, page: Page, what: str = "page") -> Quarantined:
        """A page that cannot be read, as one quarantine entry located by its URL."""
        return Quarantined(f"{what} {page.url}", page.error or "unreadable page", page.text or "")


def cutoff_text(since: str | None, days: int = DEFAULT_BACKFILL_DAYS) -> str:
    """``since`` as UTC ISO text (``2026-11-01`` -> ``2026-11-01T00:00:00Z``), or ``days`` ago."""
    if since:
        try:
            parsed = parse_date(since)
        except Invalid:
            parsed = None
        if parsed is None:
            raise ConfigError(f"--since {since!r} is not a date; pass e.g. 2026-11-01.")
        return parsed
    moment = datetime.now(UTC) - timedelta(days=days)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def newer(a: str | None, b: str | None) -> str | None:
    """The later of two UTC ISO texts (``None`` counts as oldest)."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def check_base_url(url: str) -> str:
    """``url`` without a trailing slash; :class:`ConfigError` unless it is https, or http to loopback
    (credentials never travel in clear over a network)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--base-url {url!r} is not an http(s) URL; pass e.g. https://api.example.com.")
    if parts.username or parts.password:
        raise ConfigError("--base-url must not hold a user or password; use --token-env or --token-file.")
    if parts.query or parts.fragment:
        raise ConfigError(f"--base-url {url!r} must not have a query or fragment.")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ConfigError(
            f"--base-url {url!r} is plain http to another machine; use https (http is allowed to loopback only)."
        )
    return url.strip().rstrip("/")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Walk:
    """The state of one newest-first walk: the newest time seen, whether the cutoff was reached,
    whether a page was unreadable (then the cursor stays where it was, so nothing is skipped)."""

    cutoff: str
    newest: str | None = None
    done: bool = False
    broken: bool = False
    pages: int = 0

    def take(self, url: str, items: Iterator[Item]) -> Iterator[Item]:
        """The page's items newer than the cutoff (older ones end the walk); a quarantined record
        is located by the page's URL."""
        for item in items:
            if type(item) is FeedbackRecord:
                stamp = item.created_at
                if stamp is not None and stamp < self.cutoff:
                    self.done = True
                    continue
                self.newest = newer(self.newest, stamp)
                item.location = f"{url} {item.location}"
            elif type(item) is Quarantined:
                item = Quarantined(f"{url} {item.location}", item.reason, item.raw)
            yield item

    def checkpoint(self, cursor: Any, key: str) -> Checkpoint | None:
        """The cursor after a complete walk: ``key`` = the newest time seen (or the old one)."""
        if self.broken:
            return None
        old = cursor.get(key) if isinstance(cursor, dict) else None
        return Checkpoint({**(cursor if isinstance(cursor, dict) else {}), key: newer(old, self.newest)})


def follow(base_url: str, href: str) -> str:
    """A next-page link from the API, sent to ``base_url`` (a proxy or test server stays in the
    path): only the link's path and query are kept."""
    parts = urlsplit(href)
    base_path = urlsplit(base_url).path.rstrip("/")
    path = parts.path if not base_path or parts.path.startswith(base_path + "/") else base_path + parts.path
    root = base_url[: len(base_url) - len(urlsplit(base_url).path)] if urlsplit(base_url).path else base_url
    return root + path + (f"?{parts.query}" if parts.query else "")
