"""``engine.sources``: configure API sources and pull them (``sources add|list|remove``, ``pull``).

``pull`` holds ``<db>.pull.lock`` (:func:`feedback_engine.store.locks.job_lock`): a second run
exits at once with exit code 3, so it is safe from cron or a systemd timer every few minutes.
Each source is pulled in turn as one ingest run (``ingest_runs.source`` = ``api:NAME``); its
cursor is written in the same transaction as the rows it covers (see
:class:`~feedback_engine.ingest.records.Checkpoint`), so a killed pull loses nothing and a
re-pull duplicates nothing (natural keys). One source's failure -- a 401, an API that keeps
failing, a wrong setting, even a defect of ours -- is recorded on that source and the others go
on; :attr:`PullReport.exit_code` is 0 when every source succeeded, 1 when any failed.

``since``: the first pull of a source takes the last 30 days (``--since DATE`` for another
bounded backfill); later pulls start from the cursor. ``--since`` on a later pull re-reads from
that date (idempotent: what is stored is counted unchanged).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feedback_engine.errors import ConfigError, FeedbackEngineError, IngestError, NotFoundError
from feedback_engine.ingest.connectors import KINDS, queries
from feedback_engine.ingest.connectors.base import check_base_url, cutoff_text
from feedback_engine.ingest.connectors.http import HttpClient
from feedback_engine.ingest.loader import IngestReport, Loader
from feedback_engine.progress import Progress
from feedback_engine.store.locks import job_lock

if TYPE_CHECKING:
    from feedback_engine.store import Store

__all__ = ["PullReport", "SourceService", "COMMON_SETTINGS"]

COMMON_SETTINGS = ("base_url", "token_env", "token_file")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


@dataclass
class SourceResult:
    """One source's part of a pull."""

    source: str
    kind: str
    status: str  # ok | failed
    error: str | None = None
    run_id: int | None = None
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    skipped: int = 0
    requests: int = 0
    cursor: Any = None


@dataclass
class PullReport:
    sources: list[SourceResult] = field(default_factory=list)

    @property
    def failed(self) -> list[SourceResult]:
        return [s for s in self.sources if s.status != "ok"]

    @property
    def exit_code(self) -> int:
        """0: every source pulled; 1: at least one failed (the others were pulled)."""
        return 1 if self.failed else 0

    def to_dict(self) -> dict[str, Any]:
        return {"sources": [asdict(s) for s in self.sources], "exit_code": self.exit_code}


class SourceService:
    """API sources of one store. ``http`` builds the HTTP client of a pull (tests pass tiny
    retry waits); ``env`` is where credentials are read (default ``os.environ``)."""

    def __init__(
        self,
        store: Store,
        *,
        http: Callable[[], HttpClient] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.http = http or HttpClient
        self.env = env

    # -- configuration ---------------------------------------------------------------------
    def kinds(self) -> dict[str, dict[str, Any]]:
        """Every kind with its channel, settings and credential variable (for help and docs)."""
        return {
            kind: {
                "channel": cls.channel,
                "platform": cls.platform,
                "settings": [o.name for o in cls.settings_spec],
                "required": [o.name for o in cls.settings_spec if o.required],
                "token_env": cls.token_env,
            }
            for kind, cls in KINDS.items()
        }

    def add(self, name: str, kind: str, settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Store a new source; :class:`ConfigError` for an unknown kind, a missing or foreign
        setting, or a taken name. Credentials are never accepted here, only where they live."""
        if not _NAME.match(name or ""):
            raise ConfigError(f"Source name {name!r} is not valid; use letters, digits, '-', '_' or '.' (at most 64).")
        cls = KINDS.get(kind)
        if cls is None:
            raise ConfigError(f"Unknown source kind {kind!r}. Use one of: {', '.join(sorted(KINDS))}.")
        given = {k: v for k, v in (settings or {}).items() if v not in (None, "")}
        allowed = {o.name: o for o in cls.settings_spec}
        foreign = sorted(k for k in given if k not in allowed and k not in COMMON_SETTINGS)
        if foreign:
            accepted = ", ".join(_flag(k) for k in [*allowed, *COMMON_SETTINGS])
            raise ConfigError(f"{', '.join(_flag(k) for k in foreign)} does not apply to {kind} (it takes {accepted}).")
        if cls.token_env is None and ("token_env" in given or "token_file" in given):
            raise ConfigError(f"{kind} needs no credential; leave out --token-env and --token-file.")
        missing = [o.name for o in cls.settings_spec if o.required and o.name not in given]
        if missing:
            raise ConfigError(f"{kind} needs {', '.join(_flag(k) for k in missing)}.")
        for option in cls.settings_spec:
            if option.default is not None and option.name not in given:
                given[option.name] = option.default
        if "base_url" in given:
            given["base_url"] = check_base_url(str(given["base_url"]))
        if "token_env" in given and not _ENV.match(str(given["token_env"])):
            raise ConfigError(f"--token-env {given['token_env']!r} is not an environment variable name.")
        if "token_file" in given:
            path = Path(str(given["token_file"])).expanduser().absolute()
            if not path.is_file():
                raise ConfigError(f"--token-file {path} does not exist; create it (first line: the credential).")
            given["token_file"] = str(path)
        if kind == "reddit" and not (given.get("subreddit") or given.get("query")):
            raise ConfigError("reddit needs --subreddit, --query or both.")
        if kind == "zendesk" and not (given.get("subdomain") or given.get("base_url")):
            raise ConfigError("zendesk needs --subdomain (acme for acme.zendesk.com) or --base-url.")
        if not queries.add(self.store, name, kind, given):
            raise ConfigError(f"A source named {name} exists; `sources remove {name}` first or pick another name.")
        return self.get(name)

    def get(self, name: str) -> dict[str, Any]:
        source = queries.get(self.store, name)
        if source is None:
            raise NotFoundError(f"No source named {name}. See `feedback-engine sources list`.")
        return self._shown(source)

    def configured(self) -> list[dict[str, Any]]:
        return [self._shown(s) for s in queries.all_sources(self.store)]

    def remove(self, name: str) -> dict[str, Any]:
        """Forget a source and its cursor (its items stay)."""
        source = self.get(name)
        queries.remove(self.store, name)
        return source

    def last_pulls(self) -> list[dict[str, Any]]:
        return queries.last_pulls(self.store)

    def _shown(self, source: dict[str, Any]) -> dict[str, Any]:
        cls = KINDS.get(source["kind"])
        settings = dict(source["settings"])
        if cls is not None and cls.token_env and "token_file" not in settings:
            settings.setdefault("token_env", cls.token_env)
        source["settings"] = settings
        return source

    # -- pulling -----------------------------------------------------------------------------
    def pull(
        self, name: str | None = None, *, since: str | None = None, progress: Progress | None = None
    ) -> PullReport:
        """Pull one source (``name``) or every source (``None``), under the pull lock."""
        since_text = cutoff_text(since) if since else None
        if name is not None:
            targets = [queries.get(self.store, name)]
            if targets[0] is None:
                raise NotFoundError(f"No source named {name}. See `feedback-engine sources list`.")
        else:
            targets = queries.all_sources(self.store)  # type: ignore[assignment]
            if not targets:
                raise ConfigError("No sources yet. Add one with `feedback-engine sources add NAME --kind KIND ...`.")
        report = PullReport()
        with job_lock(
            self.store,
            "pull",
            command="feedback-engine pull",
            after="this one exits (the next scheduled pull starts where that one ends).",
            open_error=IngestError,
        ):
            for source in targets:
                assert source is not None
                report.sources.append(self._pull_one(source, since_text, progress))
        return report

    def _pull_one(self, source: dict[str, Any], since: str | None, progress: Progress | None) -> SourceResult:
        name, kind = source["name"], source["kind"]
        result = SourceResult(source=name, kind=kind, status="failed")
        cls = KINDS.get(kind)
        if cls is None:
            result.error = f"unknown kind {kind!r} (written by a newer feedback_engine?)"
            queries.record_pull(self.store, name, status="failed", error=result.error, run_id=None, added=0, records=0)
            return result
        http = self.http()
        connector = cls(
            name,
            dict(source["settings"]),
            http,
            cursor=source["cursor"],
            since=since,
            env=self.env if self.env is not None else os.environ,
        )
        loader = Loader(
            self.store,
            kind=cls.channel,
            platform=cls.platform,
            source=f"api:{name}",
            options=connector.options,
            progress=progress,
            on_checkpoint=lambda conn, cursor: queries.save_cursor(conn, name, cursor),
        )
        try:
            loader.run(connector.records())
            result.status = "ok"
        except FeedbackEngineError as exc:
            result.error = exc.message
        except Exception as exc:  # a defect of ours on one source must not cost the other sources
            result.error = (
                f"unexpected error ({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); please report it"
            )
        finally:
            http.close()
        _copy(loader.report, result)
        result.requests = http.requests
        stored = queries.get(self.store, name)
        result.cursor = stored["cursor"] if stored else None
        queries.record_pull(
            self.store,
            name,
            status=result.status,
            error=result.error,
            run_id=result.run_id,
            added=result.added,
            records=loader.report.records,
        )
        return result


def _copy(report: IngestReport, result: SourceResult) -> None:
    result.run_id = report.run_id
    result.added, result.updated, result.unchanged = report.added, report.updated, report.unchanged
    result.quarantined, result.skipped = report.quarantined, report.skipped


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")
