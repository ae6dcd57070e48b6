"""A real HTTP server on loopback that serves recorded API pages (``http.server`` in a thread).

Routes map a path (and optionally query parameters that must match) to a list of answers given in
order; the last answer repeats. Every request is recorded (path, query, headers) so tests can see
what the connector asked for. ``{BASE}`` in a body becomes the server's own URL (next-page links).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

API_FIXTURES = Path(__file__).resolve().parent / "pages"  # recorded pages, written from the APIs' docs


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # dict/list (JSON), str or bytes (as is)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (timeouts)


def page(name: str) -> Answer:
    """A recorded page from pages/ (JSON text, served as is with {BASE} replaced)."""
    return Answer(200, (API_FIXTURES / name).read_text(encoding="utf-8"))


@dataclass
class Route:
    path: str
    query: dict[str, str]
    answers: list[Answer]
    served: int = 0


class ApiServer:
    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server._answer(self)

            def do_POST(self) -> None:  # noqa: N802
                server._answer(self)

            def log_message(self, *args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def route(self, path: str, *answers: Answer, **query: str) -> None:
        """Answer GET ``path`` (whose query holds ``query``) with ``answers`` in turn; more specific
        routes (more query keys) win."""
        self.routes.append(Route(path, query, list(answers)))
        self.routes.sort(key=lambda r: -len(r.query))

    def hits(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        import time

        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode("utf-8", "replace") if length else ""
        with self._lock:
            self.requests.append(
                {
                    "method": handler.command,
                    "path": parts.path,
                    "query": query,
                    "headers": dict(handler.headers),
                    "body": body,
                }
            )
            route = next(
                (r for r in self.routes if r.path == parts.path and all(query.get(k) == v for k, v in r.query.items())),
                None,
            )
            if route is None:
                answer = Answer(404, {"error": "not found"})
            else:
                answer = route.answers[min(route.served, len(route.answers) - 1)]
                route.served += 1
        if answer.delay:
            time.sleep(answer.delay)
        body = answer.body
        if isinstance(body, bytes):
            data = body
        elif isinstance(body, (dict, list)):
            data = json.dumps(body).replace("{BASE}", self.base).encode()
        elif isinstance(body, str):
            data = body.replace("{BASE}", self.base).encode()
        else:
            data = body or b""
        try:
            handler.send_response(answer.status)
            handler.send_header("Content-Type", "application/json; charset=utf-8")
            handler.send_header("Content-Length", str(len(data)))
            for key, value in answer.headers.items():
                handler.send_header(key, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
