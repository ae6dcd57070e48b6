"""Charts: plotly.js from the ``plotly`` wheel, served by the app itself (no CDN: works offline).

``GET /static/vendor/plotly-VERSION.min.js`` sends the wheel's ``plotly/package_data/plotly.min.js``
with a year-long, immutable cache header; the version in the address changes with the wheel, so
browsers never keep a stale copy. Pages put their chart data in a ``<script
type="application/json">`` block (data, never run: the Content-Security-Policy allows no inline
script) and ``static/charts.js`` draws it. Without JavaScript, or without the ``plotly`` wheel,
the page keeps its server-drawn SVG sparkline and tables.

The file is found without importing ``plotly`` (its Python package is large and not needed).
"""

from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

__all__ = ["plotly_file", "plotly_url", "routes"]

CACHE = "public, max-age=31536000, immutable"
_VERSION = re.compile(rb"plotly\.js v(\d+\.\d+\.\d+)")


@lru_cache(maxsize=1)
def plotly_file() -> tuple[Path, str] | None:
    """``(path, version)`` of the wheel's ``plotly.min.js``, or None when plotly is not installed."""
    spec = importlib.util.find_spec("plotly")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "package_data" / "plotly.min.js"
        if path.is_file():
            with path.open("rb") as handle:
                found = _VERSION.search(handle.read(512))
            return path, found.group(1).decode() if found else "0"
    return None


def plotly_url() -> str | None:
    """Where pages load plotly.js from (None: no charts, the fallbacks stay)."""
    found = plotly_file()
    return None if found is None else f"/static/vendor/plotly-{found[1]}.min.js"


async def plotly_js(request: Request) -> Response:
    found = plotly_file()
    if found is None or request.path_params["version"] != found[1]:
        return PlainTextResponse("404 Not Found: there is nothing at this address.\n", status_code=404)
    return FileResponse(found[0], media_type="text/javascript; charset=utf-8", headers={"Cache-Control": CACHE})


routes = [Route("/static/vendor/plotly-{version}.min.js", plotly_js, methods=["GET", "HEAD"])]
