"""A small threaded HTTP server (stdlib ``http.server``, no framework) for unsubscribe links.

Routes:
- ``GET /unsubscribe?token=T``: a confirm page with a one-button form; changes nothing (mail
  scanners follow links).
- ``POST /unsubscribe?token=T`` with body ``List-Unsubscribe=One-Click`` (RFC 8058 one-click,
  also what the confirm form sends): records the opt-out, shows a done page.
- ``GET /healthz``: ``ok`` when the database answers.
``HEAD`` works wherever ``GET`` does. An invalid or tampered token gets a 400 page and changes
nothing. Every page is rendered with autoescaping Jinja2. Each request opens its own Store.

Methods: a method HTTP defines but a route does not take (PUT, DELETE, PATCH, OPTIONS, TRACE,
CONNECT; POST on ``/healthz``) gets ``405 Method Not Allowed`` with an ``Allow`` header; at any
other path ``404``. A method HTTP does not define at all (e.g. ``BREW``) gets ``501 Not
Implemented``.

Malformed requests get a short plain-text answer that never echoes the request (it may hold a
token), then the connection is closed: ``400`` for a bad request line, version, HTTP/0.9 request,
URL or Content-Length, or a body shorter than its Content-Length; ``414`` for a request line over
64 KiB; ``431`` for a header line over 64 KiB or more than 100 headers; ``505`` for HTTP/2 and
later; ``411`` for a POST without Content-Length; ``413`` for a body over 16 KiB; ``501`` for
Transfer-Encoding (send a Content-Length); ``408`` when the request line, headers or body do not
arrive within ``request_timeout`` seconds (30 by default).

Logs: one line per response on stderr, ``CLIENT METHOD PATH STATUS``, with the query string cut
off (it holds tokens) and control or non-ASCII characters escaped. Client mistakes and dropped
connections never print a traceback; a bug in a route answers 500 and prints one.
"""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import sys
import threading
import time
import traceback
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qs, quote, urlsplit

import jinja2

from feedback_engine.engine import Engine
from feedback_engine.errors import FeedbackEngineError, NotFoundError, TokenError
from feedback_engine.loop.settings import Settings

__all__ = ["make_server", "run_until_stopped", "serve"]

TEMPLATES = Path(__file__).parent / "templates"
MAX_BODY = 16 * 1024
MAX_REQUEST_LINE = 64 * 1024
REQUEST_TIMEOUT = 30.0
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
ROUTES = {"/healthz": ("GET", "HEAD"), "/unsubscribe": ("GET", "HEAD", "POST")}
_CONTENT_LENGTH = re.compile(r"[0-9]+")

# What a client is told for each error status (fixed text: never the request, which may hold a token).
_EXPLAIN = {
    400: "The request could not be understood.",
    404: "There is nothing at this address.",
    405: "This address does not take this method.",
    408: "The request did not arrive in time.",
    411: "A POST needs a Content-Length header.",
    413: "The request body is too large.",
    414: "The request line is too long.",
    431: "A request header is too long, or there are too many headers.",
    500: "Something went wrong on our side. Please try again later.",
    501: "This server does not implement this method.",
    503: "The service is unavailable. Please try again later.",
    505: "Only HTTP/1.0 and HTTP/1.1 are supported.",
}


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined
    )


def _mask(email: str | None) -> str:
    if not email or "@" not in email:
        return "your address"
    local, domain = email.rsplit("@", 1)
    return f"{local[:1]}***@{domain}"


def _loggable(text: str | None, limit: int = 200) -> str:
    """``text`` safe for one log line: printable ASCII only (the rest escaped), at most ``limit`` characters."""
    if not text:
        return "-"
    out = "".join(ch if " " < ch < "\x7f" and ch != "\\" else ascii(ch)[1:-1] for ch in text[:limit])
    return out + ("..." if len(text) > limit else "")


def _log(line: str) -> None:
    """Write one log line; a closed or broken stderr never breaks a response."""
    try:
        sys.stderr.write(line)
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


class _Handler(BaseHTTPRequestHandler):
    server_version = "feedback-engine"
    sys_version = ""
    default_request_version = "HTTP/1.0"  # errors in the request line are answered with a status line
    server: _Server

    # -- plumbing ------------------------------------------------------------------------
    def setup(self) -> None:
        self.timeout = self.server.request_timeout  # type: ignore[misc]  # StreamRequestHandler.setup puts it on the socket
        self._responded = False
        self._linger = False
        super().setup()

    def version_string(self) -> str:
        return self.server_version

    def handle_one_request(self) -> None:
        """One request: read and parse it, route it; errors answer with a status, never a traceback."""
        self.command, self.path, self.request_version = "", "", "HTTP/1.0"
        self._responded = False
        try:
            self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
            if len(self.raw_requestline) > MAX_REQUEST_LINE:
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return  # the error response is sent
            self._dispatch()
            self.wfile.flush()
        except TimeoutError:
            self._fail(HTTPStatus.REQUEST_TIMEOUT)
        except ConnectionError:
            self.close_connection = True  # the client went away: nothing to answer, nothing to report

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if len(self.requestline.split()) == 2:  # an HTTP/0.9 "GET /path": not served
            self.send_error(HTTPStatus.BAD_REQUEST)
            return False
        return True

    def _dispatch(self) -> None:
        if self.command not in HTTP_METHODS:
            self.send_error(HTTPStatus.NOT_IMPLEMENTED)
            return
        url = self._url()
        if url is None:
            self.send_error(HTTPStatus.BAD_REQUEST)
            return
        allowed = ROUTES.get(url.path)
        if allowed is None:
            self._page(HTTPStatus.NOT_FOUND, "Not found", [_EXPLAIN[404]])
            return
        if self.command not in allowed:
            self._error(HTTPStatus.METHOD_NOT_ALLOWED, headers={"Allow": ", ".join(allowed)})
            return
        try:
            getattr(self, "do_" + self.command)()
        except (TimeoutError, ConnectionError):
            raise
        except FeedbackEngineError:  # e.g. the database is locked or gone
            self._fail(HTTPStatus.SERVICE_UNAVAILABLE)
        except Exception:  # a bug: answer, and show it in the log
            self._fail(HTTPStatus.INTERNAL_SERVER_ERROR)
            _log(f"Error while answering {self.command} {_loggable(url.path)}:\n{traceback.format_exc()}")

    def _url(self) -> SplitResult | None:
        try:
            return urlsplit(self.path)
        except ValueError:  # e.g. "http://[broken/": an invalid IPv6 host
            return None

    def _query(self, url: SplitResult) -> dict[str, list[str]]:
        return parse_qs(url.query)  # percent-escapes that are not UTF-8 become U+FFFD, never an exception

    def _fail(self, status: int) -> None:
        """Answer ``status`` unless a response has started; always close the connection."""
        self.close_connection = True
        if not self._responded:
            with contextlib.suppress(OSError):
                self._error(status)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Called by ``http.server`` for malformed requests: its message quotes the request, so it is dropped."""
        self._error(code)

    def _error(self, status: int, detail: str | None = None, headers: dict[str, str] | None = None) -> None:
        code = HTTPStatus(status)
        text = f"{code.value} {code.phrase}: {detail or _EXPLAIN.get(code.value, code.description)}\n"
        self.close_connection = True
        self._linger = True  # unread request data must not turn our close into a reset that eats the answer
        self._send(code, text.encode("utf-8"), "text/plain; charset=utf-8", {**(headers or {}), "Connection": "close"})

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.server.quiet:
            return
        status = code.value if isinstance(code, HTTPStatus) else code
        path = (self.path or "").split("?", 1)[0].split("#", 1)[0]  # never log query strings: they hold tokens
        _log(f"{self.address_string()} {_loggable(self.command, 20)} {_loggable(path)} {status}\n")

    def log_error(self, format: str, *args: Any) -> None:
        """Unused: ``http.server``'s error details quote the request line; the status is logged instead."""

    def log_message(self, format: str, *args: Any) -> None:
        """Unused: every response is logged by :meth:`log_request`, without query strings."""

    def finish(self) -> None:
        super().finish()
        if self._linger:
            self._drain()

    def _drain(self, limit: int = 1024 * 1024, seconds: float = 2.0) -> None:
        """After an error answer: send FIN, then read what the client still sends (bounded) before closing."""
        try:
            self.connection.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + seconds
            while limit > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self.connection.settimeout(left)
                chunk = self.connection.recv(min(limit, 65536))
                if not chunk:
                    return
                limit -= len(chunk)
        except OSError:
            return

    def _page(self, status: int, title: str, paragraphs: list[str], form_action: str | None = None) -> None:
        body = (
            _env().get_template("page.html.jinja").render(title=title, paragraphs=paragraphs, form_action=form_action)
        )
        self._send(status, body.encode("utf-8"), "text/html; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self._responded = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _invalid(self, exc: FeedbackEngineError) -> None:
        self._page(
            HTTPStatus.BAD_REQUEST,
            "This unsubscribe link does not work",
            [
                exc.message,
                "Nothing was changed. If you want to stop these emails, use the link in the most "
                "recent email from us, or reply to it and ask.",
            ],
        )

    def _engine(self) -> Engine:
        """An engine on the served database for this request (migrated once, at start-up)."""
        return Engine(self.server.db_path, migrate=False, settings=self.server.settings)

    def _customer(self, token: str) -> tuple[int, str | None]:
        with self._engine() as engine:
            found = engine.customers.from_token(token)
        return int(found["id"]), found["email"]

    def _body(self) -> bytes | None:
        """The request body, or None with the error answered (411, 400, 413, 501; 408 by timeout)."""
        if "Transfer-Encoding" in self.headers:
            self._error(HTTPStatus.NOT_IMPLEMENTED, "Transfer-Encoding is not supported; send a Content-Length.")
            return None
        values = self.headers.get_all("Content-Length") or []
        if not values:
            self._error(HTTPStatus.LENGTH_REQUIRED)
            return None
        value = values[0].strip()
        if len(values) > 1 or not _CONTENT_LENGTH.fullmatch(value):
            self._error(HTTPStatus.BAD_REQUEST, "The Content-Length header is invalid.")
            return None
        digits = value.lstrip("0") or "0"
        if len(digits) > 9 or int(digits) > MAX_BODY:
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"The request body is over {MAX_BODY} bytes.")
            return None
        length = int(digits)
        body = self.rfile.read(length)  # the socket timeout ends a body that never comes (408)
        if len(body) < length:
            self._error(HTTPStatus.BAD_REQUEST, "The request body is shorter than its Content-Length.")
            return None
        return body

    # -- routes (method and path are checked by _dispatch) -------------------------------
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/healthz":
            try:
                with self._engine() as engine:
                    engine.ping()
            except FeedbackEngineError:
                self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"database unavailable\n", "text/plain; charset=utf-8")
                return
            self._send(HTTPStatus.OK, b"ok\n", "text/plain; charset=utf-8")
            return
        token = (self._query(url).get("token") or [""])[0]
        try:
            _, email = self._customer(token)
        except (TokenError, NotFoundError) as exc:
            self._invalid(exc)
            return
        self._page(
            HTTPStatus.OK,
            "Unsubscribe?",
            [f"Stop sending \u201cyou said, we did\u201d emails to {_mask(email)}?"],
            form_action=f"/unsubscribe?token={quote(token, safe='')}",
        )

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = self._body()
        if body is None:
            return
        form = parse_qs(body.decode("utf-8", "replace"))
        token = (self._query(url).get("token") or form.get("token") or [""])[0]
        if form.get("List-Unsubscribe") != ["One-Click"]:
            self._page(
                HTTPStatus.BAD_REQUEST,
                "Bad request",
                ["The request must carry List-Unsubscribe=One-Click (RFC 8058). Nothing was changed."],
            )
            return
        try:
            _, email = self._customer(token)
            with self._engine() as engine:
                engine.customers.unsubscribe(token, source="web", detail="one-click POST")
        except (TokenError, NotFoundError) as exc:
            self._invalid(exc)
            return
        self._page(
            HTTPStatus.OK,
            "You are unsubscribed",
            [f"We will not send \u201cyou said, we did\u201d emails to {_mask(email)} any more."],
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], db_path: Path, settings: Settings, quiet: bool, request_timeout: float
    ) -> None:
        self.db_path = db_path
        self.settings = settings
        self.quiet = quiet
        self.request_timeout = request_timeout
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A dropped connection is one log line; anything else (a bug) keeps socketserver's traceback."""
        if isinstance(sys.exc_info()[1], OSError):
            if not self.quiet:
                _log(f"{client_address[0]} connection error: {sys.exc_info()[1]}\n")
            return
        super().handle_error(request, client_address)


def make_server(
    db_path: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    settings: Settings | None = None,
    quiet: bool = False,
    request_timeout: float = REQUEST_TIMEOUT,
) -> ThreadingHTTPServer:
    """A bound, not yet serving server (port 0 picks a free port: see ``server.server_address``).

    ``request_timeout`` (seconds) bounds the wait for each read from a client: a request that
    stalls (a body shorter than its Content-Length) gets 408 and its connection is closed.
    """
    settings = settings or Settings.from_env()
    settings.require_secret()
    db_path = Path(db_path)
    Engine(db_path).close()  # create / migrate once, up front: request handlers open without migrating
    try:
        return _Server((host, port), db_path, settings, quiet, request_timeout)
    except OSError as exc:
        raise FeedbackEngineError(
            f"Cannot listen on {host}:{port} ({exc.strerror or exc}); pass another --port."
        ) from None


def run_until_stopped(server: ThreadingHTTPServer) -> None:
    """``serve_forever`` until Ctrl+C (SIGINT) or SIGTERM, then close the socket and return normally."""
    previous = None
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:  # SIGTERM (systemd, docker stop, kill) stops it like Ctrl+C
        previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        server.server_close()


def serve(db_path: str | Path, *, host: str = "127.0.0.1", port: int = 8000, settings: Settings | None = None) -> None:
    """Serve until interrupted (Ctrl+C or SIGTERM)."""
    run_until_stopped(make_server(db_path, host=host, port=port, settings=settings))
