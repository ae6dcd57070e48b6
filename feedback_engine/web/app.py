"""The Starlette application: its routes, wrapped in :class:`~feedback_engine.web.guard.Guard`.

:func:`build_app` is what uvicorn serves; :func:`app_from_env` builds the same app from the
environment for ``--workers N`` (uvicorn starts each worker from an import string).
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from feedback_engine.loop.settings import Settings
from feedback_engine.web import api, auth, backlog, charts, insights, pages, settings, unsubscribe
from feedback_engine.web.context import AppConfig, render
from feedback_engine.web.guard import EXPLAIN, Guard

__all__ = ["app_from_env", "build_app"]


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    title = {404: "Not found", 403: "Forbidden", 400: "Bad request"}.get(status, "Error")
    detail = exc.detail if isinstance(exc, HTTPException) and status in (400, 403) else EXPLAIN.get(status, "")
    return render("page.html.jinja", status, title=title, paragraphs=[detail], form_action=None)


def routes() -> list[BaseRoute]:
    static = StaticFiles(directory=str(Path(__file__).parent / "static"))
    return [
        *unsubscribe.routes,
        *auth.routes,
        *pages.routes,
        *backlog.routes,
        *insights.routes,
        *api.routes,
        *settings.routes,
        *charts.routes,
        Mount("/static", app=static, name="static"),
    ]


def build_app(
    db_path: str | Path,
    settings: Settings,
    *,
    quiet: bool = False,
    request_timeout: float = 30.0,
    secure_cookies: bool = False,
) -> Guard:
    app = Starlette(routes=routes(), exception_handlers={HTTPException: _http_error})
    app.state.config = AppConfig(Path(db_path), settings, secure_cookies=secure_cookies)
    return Guard(app, app.router, quiet=quiet, request_timeout=request_timeout)


def app_from_env() -> Guard:
    """The app for one uvicorn worker: database from ``FEEDBACK_ENGINE_DB``, settings from the environment."""
    settings = Settings.from_env()
    return build_app(
        os.environ.get("FEEDBACK_ENGINE_DB", "feedback.db"),
        settings,
        quiet=os.environ.get("FEEDBACK_ENGINE_WEB_QUIET") == "1",
        secure_cookies=os.environ.get("FEEDBACK_ENGINE_SECURE_COOKIES") == "1",
    )
