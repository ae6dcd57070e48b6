"""What every page handler shares: the served database and settings, templates, the request form.

Handlers parse the request, call one Engine service in a worker thread (SQLite calls block), and
render a template; they never hold SQL of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse

from feedback_engine.engine import Engine
from feedback_engine.loop.settings import Settings

__all__ = ["AppConfig", "call", "config", "form", "render"]

TEMPLATES = Path(__file__).parent / "templates"
T = TypeVar("T")


@dataclass(frozen=True)
class AppConfig:
    db_path: Path
    settings: Settings
    secure_cookies: bool = False  # set when served behind HTTPS (the reverse proxy terminates TLS)
    engine_session_hours: float = 12.0

    def engine(self) -> Engine:
        """An engine on the served database for one request (migrated once, at start-up)."""
        return Engine(self.db_path, migrate=False, settings=self.settings)


def config(request: Request) -> AppConfig:
    cfg: AppConfig = request.app.state.config
    return cfg


async def call(request: Request, fn: Callable[[Engine], T]) -> T:
    """Run ``fn(engine)`` in a worker thread on a fresh engine, closed afterwards."""
    cfg = config(request)

    def run() -> T:
        with cfg.engine() as engine:
            return fn(engine)

    return await run_in_threadpool(run)


def form(request: Request) -> dict[str, str]:
    """The urlencoded POST body (read, bounded, by the guard): the first value of each field."""
    body: bytes = request.scope.get("fe.body", b"")
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


def query(request: Request, name: str, default: str = "") -> str:
    """One query-string value; invalid percent-escapes become U+FFFD, never an exception."""
    raw = request.scope.get("query_string", b"").decode("latin-1")
    values = parse_qs(raw, keep_blank_values=True).get(name)
    return values[0] if values else default


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined
    )


def render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(environment().get_template(template).render(**context), status_code=status)
