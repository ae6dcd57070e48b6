"""``/api/...``: the same reads as the pages, as JSON, for scripts and integrations.

Every request carries a per-user token (``feedback-engine users token EMAIL``) as
``Authorization: Bearer TOKEN``; the token's user needs at least the viewer role. The API only
reads, so it needs no CSRF token (a bearer token is never sent by a browser on its own).
Errors are JSON too: ``{"error": "..."}`` with 400, 401, 404 or 503.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from feedback_engine.accounts import AccountService
from feedback_engine.engine import Engine
from feedback_engine.errors import AnalysisError, FeedbackEngineError, NotFoundError, StoreError
from feedback_engine.web.context import call, query

__all__ = ["routes"]


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, default=str)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _read(fn: Callable[[Request], Callable[[Engine], Any]]) -> Callable[[Request], Awaitable[Response]]:
    """A read endpoint: bearer token checked, ``fn(request)`` run on an engine, JSON out."""

    async def endpoint(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        user = None
        if scheme.lower() == "bearer" and token.strip():
            user = await call(request, lambda engine: engine.accounts.api_user(token.strip()))
        if user is None or not AccountService.allows(user["role"], "viewer"):
            return _json(
                {"error": "Send a valid token: Authorization: Bearer TOKEN (see `feedback-engine users token`)."},
                401,
                {"WWW-Authenticate": "Bearer"},
            )
        try:
            work = fn(request)
            return _json(await call(request, work))
        except (ValueError, KeyError):
            return _json({"error": "A parameter is invalid."}, 400)
        except NotFoundError as exc:
            return _json({"error": exc.message}, 404)
        except StoreError:
            return _json({"error": "The database is unavailable; try again later."}, 503)
        except AnalysisError as exc:
            return _json({"error": exc.message}, 409)
        except FeedbackEngineError as exc:
            return _json({"error": exc.message}, 400)

    endpoint.__name__ = fn.__name__
    return endpoint


def _pid(request: Request) -> int:
    return int(request.path_params["id"])


def _offset(request: Request) -> int:
    return max(0, int(query(request, "offset", "0") or 0))


THEME_FILTERS = ("channel", "platform", "language", "segment", "since", "until")


def themes(request: Request) -> Callable[[Engine], Any]:
    """Every active theme's figures; ``?channel=&platform=&language=&segment=&since=&until=``
    (ISO dates, inclusive) narrow them to those items, as the triage filters do."""
    chosen = {k: query(request, k).strip()[:200] for k in THEME_FILTERS if query(request, k).strip()}
    for name in ("since", "until"):
        if name in chosen:
            date.fromisoformat(chosen[name])  # ValueError: a 400
    if chosen:
        return lambda engine: engine.browse.themes(**chosen)
    return lambda engine: engine.themes.list()


def theme(request: Request) -> Callable[[Engine], Any]:
    theme_id = _pid(request)
    return lambda engine: engine.themes.show(theme_id)


def theme_items(request: Request) -> Callable[[Engine], Any]:
    theme_id, offset = _pid(request), _offset(request)
    limit = max(1, min(200, int(query(request, "limit", "50") or 50)))
    return lambda engine: engine.browse.theme_items(theme_id, offset=offset, limit=limit)


def search(request: Request) -> Callable[[Engine], Any]:
    text = query(request, "q")[:200]
    return lambda engine: engine.browse.search(text)


def item(request: Request) -> Callable[[Engine], Any]:
    item_id = _pid(request)
    return lambda engine: engine.browse.item(item_id)


def actions(request: Request) -> Callable[[Engine], Any]:
    status = query(request, "status", "all")
    return lambda engine: engine.actions.list(status=status)


def action(request: Request) -> Callable[[Engine], Any]:
    action_id = _pid(request)
    return lambda engine: engine.actions.show(action_id)


def status(request: Request) -> Callable[[Engine], Any]:
    return lambda engine: engine.status()


routes = [
    Route("/api/status", _read(status), methods=["GET", "HEAD"]),
    Route("/api/themes", _read(themes), methods=["GET", "HEAD"]),
    Route("/api/themes/{id:int}", _read(theme), methods=["GET", "HEAD"]),
    Route("/api/themes/{id:int}/items", _read(theme_items), methods=["GET", "HEAD"]),
    Route("/api/search", _read(search), methods=["GET", "HEAD"]),
    Route("/api/items/{id:int}", _read(item), methods=["GET", "HEAD"]),
    Route("/api/actions", _read(actions), methods=["GET", "HEAD"]),
    Route("/api/actions/{id:int}", _read(action), methods=["GET", "HEAD"]),
]
