"""The triage pages: home (themes table + search), a theme (items, edits), an item.

Each handler parses the request, calls one Engine service through :func:`call`, and renders.
Edits (rename, merge, unmerge, split, seed, moving items to another theme or out of all themes)
need the editor role and the CSRF token (see :mod:`.auth`).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from feedback_engine.accounts import Session
from feedback_engine.engine import Engine
from feedback_engine.errors import AnalysisError, FeedbackEngineError
from feedback_engine.web.auth import error_page, page, requires
from feedback_engine.web.charts import plotly_url
from feedback_engine.web.context import call, form, query

__all__ = ["routes"]

SORTS = {
    "label": lambda r: (r["label"] or "").casefold(),
    "volume": lambda r: r["volume"],
    "negative": lambda r: r["share_negative"] if r["share_negative"] is not None else -1.0,
    "sentiment": lambda r: r["mean_sentiment"] if r["mean_sentiment"] is not None else 2.0,
    "change": lambda r: (r.get("change_7d") or {}).get("change", 0),
    "nps": lambda r: r["nps"] if r.get("nps") is not None else -101.0,
    "positive": lambda r: r["share_positive"] if r["share_positive"] is not None else -1.0,
}
FILTERS = ("channel", "platform", "language", "segment", "since", "until")  # kept in every link of the table
T = TypeVar("T")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PAGE = 25
CACHE_SECONDS = 30.0  # the themes table is recomputed when the data changes, or after this long at most
_cache: dict[tuple[str, str], tuple[tuple[Any, ...], float, Any]] = {}
_cache_lock = threading.Lock()


def _cached(engine: Engine, name: str, compute: Callable[[], T]) -> T:
    """``compute()``, cached per database while :meth:`BrowseService.fingerprint` holds (30 s at
    most); the themes table took seconds at 100,000 items before it was aggregated in SQLite, and
    the filter choices scan every item."""
    key = (str(engine.store.path or ""), name)
    fingerprint = engine.browse.fingerprint()
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if key[0] and hit and hit[0] == fingerprint and now - hit[1] < CACHE_SECONDS:
            return cast(T, hit[2])
    value = compute()
    with _cache_lock:
        _cache[key] = (fingerprint, now, value)
    return value


def _themes(engine: Engine) -> list[dict[str, Any]]:
    """``engine.themes.list()`` through the cache (a copy: callers sort it)."""
    return list(_cached(engine, "themes", engine.themes.list))


def _is_day(text: str) -> bool:
    """``YYYY-MM-DD`` naming a real day."""
    try:
        return bool(_DATE.fullmatch(text)) and date.fromisoformat(text) is not None
    except ValueError:
        return False


def _int(text: str, default: int = 0, *, low: int = 0, high: int = 10**9) -> int:
    try:
        return max(low, min(high, int(text)))
    except ValueError:
        return default


def _path_id(request: Request, name: str = "id") -> int:
    value = request.path_params[name]
    return int(value)


@requires("viewer")
async def triage(request: Request, session: Session) -> Response:
    sort = query(request, "sort", "volume")
    sort = sort if sort in SORTS else "volume"
    order = "asc" if query(request, "dir") == "asc" else "desc"
    q = query(request, "q").strip()[:200]
    notice = ""
    themes: list[dict[str, Any]] = []
    results = None
    filters = {k: query(request, k).strip()[:200] for k in FILTERS}
    if any(filters[d] and not _is_day(filters[d]) for d in ("since", "until")):
        return error_page(request, session, 400, "Dates are YYYY-MM-DD.")
    chosen = {k: v for k, v in filters.items() if v}
    if q:  # a search shows its hits only (of the chosen channel and dates): the themes table is one click away
        channel, since, until = (chosen.get(k) for k in ("channel", "since", "until"))
        results = await call(request, lambda engine: engine.browse.search(q, channel=channel, since=since, until=until))
    else:

        def load(engine: Engine) -> list[dict[str, Any]]:
            return engine.browse.themes(**chosen) if chosen else _themes(engine)

        try:
            themes = await call(request, load)
        except AnalysisError as exc:
            notice = exc.message
        themes.sort(key=SORTS[sort], reverse=order == "desc")
    facets = await call(request, lambda engine: _cached(engine, "facets", engine.browse.facets))
    flags = [] if q else await call(request, _emerging)
    flagged: dict[int, list[str]] = {}
    for flag in flags:
        if flag.get("theme_id") is not None:
            flagged.setdefault(int(flag["theme_id"]), []).append(str(flag.get("text") or ""))
    keep = urlencode({k: v for k, v in filters.items() if v})
    return page(
        request,
        session,
        "triage.html.jinja",
        themes=themes,
        sort=sort,
        order=order,
        q=q,
        results=results,
        notice=notice,
        facets=facets,
        filters=filters,
        keep=keep,
        flags=flags,
        flagged=flagged,
    )


def _emerging(engine: Engine) -> list[dict[str, Any]]:
    """Emerging flags (rises in volume or share negative, channel crossings, new themes) of the
    last 7 days, the insights stage's one definition (``insights emerging``), through the cache."""
    try:
        report = _cached(engine, "emerging", engine.insights.emerging)
    except FeedbackEngineError:  # nothing to compare yet: the table still shows
        return []
    return [*report.get("flags", []), *report.get("new_themes", [])]


def _theme_page(engine: Engine, theme_id: int, offset: int) -> dict[str, Any]:
    theme = engine.themes.show(theme_id)
    return {
        "theme": theme,
        "items": engine.browse.theme_items(theme["id"], offset=offset, limit=PAGE),
        "actions": engine.actions.list(theme=theme["id"], status="all"),
        "others": [t for t in engine.browse.theme_options() if t["id"] != theme["id"]],
    }


@requires("viewer")
async def theme(request: Request, session: Session) -> Response:
    theme_id = _path_id(request)
    offset = _int(query(request, "offset", "0"))
    data = await call(request, lambda engine: _theme_page(engine, theme_id, offset))
    if data["theme"]["id"] != theme_id:
        return RedirectResponse(f"/themes/{data['theme']['id']}", status_code=303)
    return page(request, session, "theme.html.jinja", page_size=PAGE, plotly_url=plotly_url(), **data)


@requires("editor")
async def rename(request: Request, session: Session) -> Response:
    theme_id = _path_id(request)
    name = form(request).get("name", "").strip()
    if not name or len(name) > 200:
        return error_page(request, session, 400, "A theme name needs 1 to 200 characters; nothing was changed.")
    await call(request, lambda engine: engine.themes.rename(theme_id, name, by=session.user["email"]))
    return RedirectResponse(f"/themes/{theme_id}", status_code=303)


@requires("editor")
async def merge(request: Request, session: Session) -> Response:
    theme_id = _path_id(request)
    other = _int(form(request).get("other", ""), -1)
    if other < 0:
        return error_page(request, session, 400, "Pick the theme to merge into this one; nothing was changed.")
    await call(request, lambda engine: engine.themes.merge([theme_id, other], into=theme_id, by=session.user["email"]))
    return RedirectResponse(f"/themes/{theme_id}", status_code=303)


@requires("editor")
async def unmerge(request: Request, session: Session) -> Response:
    theme_id = _path_id(request)
    merged = _int(form(request).get("merged", ""), -1)
    if merged < 0:
        return error_page(request, session, 400, "Pick the merged theme to take out again; nothing was changed.")
    await call(request, lambda engine: engine.themes.unmerge(merged, by=session.user["email"]))
    return RedirectResponse(f"/themes/{theme_id}", status_code=303)


@requires("editor")
async def split(request: Request, session: Session) -> Response:
    """Move the ticked items of a theme into a new theme (manual: refits keep it)."""
    theme_id = _path_id(request)
    picked = _picked(request)
    name = form(request).get("name", "").strip()
    if not picked or not name or len(name) > 200:
        return error_page(request, session, 400, "Tick the items to move and name the new theme; nothing was changed.")
    made = await call(request, lambda engine: engine.themes.split(theme_id, picked, name, by=session.user["email"]))
    new_id = made.get("id") or theme_id
    return RedirectResponse(f"/themes/{new_id}", status_code=303)


def _picked(request: Request) -> list[int]:
    """Every ``item`` field of the POST body (the ticked items of a theme page)."""
    body: bytes = request.scope.get("fe.body", b"")
    return [int(v) for k, v in parse_qsl(body.decode("utf-8", "replace")) if k == "item" and v.isdigit()]


def _target(fields: dict[str, str]) -> tuple[bool, int | None]:
    """The ``to`` field of a move form: ``(given, theme id)``; ``none`` means out of all themes."""
    to = fields.get("to", "")
    if to == "none":
        return True, None
    return (True, int(to)) if to.isdigit() else (False, None)


@requires("editor")
async def move_items(request: Request, session: Session) -> Response:
    """Move the ticked items of a theme to another theme or out of all themes (refits keep it)."""
    theme_id = _path_id(request)
    picked, (given, target) = _picked(request), _target(form(request))
    if not picked or not given:
        return error_page(request, session, 400, "Tick the items to move and pick where they go; nothing was changed.")
    await call(request, lambda engine: engine.themes.move_items(picked, target, by=session.user["email"]))
    return RedirectResponse(f"/themes/{theme_id}", status_code=303)


@requires("editor")
async def move_item(request: Request, session: Session) -> Response:
    """Move one item (its page's form) to another theme or out of all themes."""
    item_id = _path_id(request)
    given, target = _target(form(request))
    if not given:
        return error_page(request, session, 400, "Pick the theme to move the item to; nothing was changed.")
    await call(request, lambda engine: engine.themes.move(item_id, target, by=session.user["email"]))
    return RedirectResponse(f"/items/{item_id}", status_code=303)


@requires("editor")
async def seed(request: Request, session: Session) -> Response:
    fields = form(request)
    name, description = fields.get("name", "").strip(), fields.get("description", "").strip()
    if not name or len(name) > 200 or len(description) > 2000:
        return error_page(
            request, session, 400, "A seed theme needs a name (1 to 200 characters); nothing was changed."
        )
    made = await call(request, lambda engine: engine.themes.seed(name, description))
    theme_id = made.get("id") or made.get("theme_id")
    return RedirectResponse(f"/themes/{theme_id}" if theme_id else "/", status_code=303)


def _item_page(engine: Engine, item_id: int) -> dict[str, Any]:
    return {"item": engine.browse.item(item_id), "options": engine.browse.theme_options()}


@requires("viewer")
async def item(request: Request, session: Session) -> Response:
    item_id = _path_id(request)
    data = await call(request, lambda engine: _item_page(engine, item_id))
    return page(request, session, "item.html.jinja", **data)


routes = [
    Route("/", triage, methods=["GET", "HEAD"]),
    Route("/themes/seed", seed, methods=["POST"]),
    Route("/themes/{id:int}", theme, methods=["GET", "HEAD"]),
    Route("/themes/{id:int}/rename", rename, methods=["POST"]),
    Route("/themes/{id:int}/merge", merge, methods=["POST"]),
    Route("/themes/{id:int}/unmerge", unmerge, methods=["POST"]),
    Route("/themes/{id:int}/split", split, methods=["POST"]),
    Route("/themes/{id:int}/move", move_items, methods=["POST"]),
    Route("/items/{id:int}", item, methods=["GET", "HEAD"]),
    Route("/items/{id:int}/move", move_item, methods=["POST"]),
]
