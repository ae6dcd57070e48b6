"""The ASGI middleware in front of every route: methods, body limits, security headers, errors, the log.

It sits between uvicorn and the Starlette router and keeps the rules the hand-written server had:

- a method HTTP does not define (``BREW``, a lower-case ``get``) gets ``501``; an unknown path
  ``404``; a method the route does not take ``405`` with an ``Allow`` header (asked of the router
  before anything is read);
- a POST needs a ``Content-Length`` (``411``), at most :data:`MAX_BODY` bytes (``413``);
  ``Transfer-Encoding`` gets ``501`` (send a Content-Length); a body that does not arrive within
  ``request_timeout`` seconds ``408``; a client that hangs up before the end of its body ``400``.
  The body is read here, once, and handed on in ``scope["fe.body"]``;
- every answer carries ``nosniff``, ``Referrer-Policy``, a Content-Security-Policy with no inline
  script and ``frame-ancestors 'none'``, and ``Cache-Control: no-store``;
- a :class:`~feedback_engine.errors.FeedbackEngineError` that escapes a route (the database is
  locked or gone) is a ``503``; any other exception (a bug) a ``500`` whose traceback is logged;
- one log line per response on stderr, ``CLIENT METHOD PATH STATUS``: the path as the client sent
  it, the query string cut off (it holds tokens), control and non-ASCII characters escaped.
"""

from __future__ import annotations

import asyncio
import sys
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from starlette.routing import Match, Router

from feedback_engine.errors import FeedbackEngineError

__all__ = ["EXPLAIN", "HTTP_METHODS", "MAX_BODY", "Guard", "log_line", "loggable", "plain_error"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY = 16 * 1024
MAX_LINE = 64 * 1024  # request line, and each header line
MAX_HEADERS = 100
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})

# What a client is told for each error status (fixed text: never the request, which may hold a token).
EXPLAIN = {
    400: "The request could not be understood.",
    403: "You are not allowed to do this.",
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

SECURITY_HEADERS = [
    (b"cache-control", b"no-store"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        b"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
]


def loggable(text: str | None, limit: int = 200) -> str:
    """``text`` safe for one log line: printable ASCII only (the rest escaped), at most ``limit`` characters."""
    if not text:
        return "-"
    out = "".join(ch if " " < ch < "\x7f" and ch != "\\" else ascii(ch)[1:-1] for ch in text[:limit])
    return out + ("..." if len(text) > limit else "")


def log_line(line: str) -> None:
    """Write one log line; a closed or broken stderr never breaks a response."""
    try:
        sys.stderr.write(line)
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


def plain_error(status: int, detail: str | None = None) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers and body of a short plain-text error answer that closes the connection."""
    code = HTTPStatus(status)
    body = f"{code.value} {code.phrase}: {detail or EXPLAIN.get(code.value, code.description)}\n".encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    return headers, body


class _BodyError(Exception):
    def __init__(self, status: int, detail: str | None = None) -> None:
        self.status, self.detail = status, detail


class Guard:
    """Wraps the Starlette app (see the module docstring); ``router`` answers which routes match."""

    def __init__(self, app: ASGIApp, router: Router, *, quiet: bool = False, request_timeout: float = 30.0) -> None:
        self.app = app
        self.router = router
        self.quiet = quiet
        self.request_timeout = request_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = {"status": 0, "started": False}

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"], state["started"] = message["status"], True
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                headers = [(_title(k), v) for k, v in [*message.get("headers", []), *extra]]
                message = {**message, "headers": headers}
            await send(message)

        async def answer(status: int, detail: str | None = None, headers: list[tuple[bytes, bytes]] = ()) -> None:  # type: ignore[assignment]
            head, body = plain_error(status, detail)
            await guarded_send({"type": "http.response.start", "status": status, "headers": [*head, *headers]})
            await guarded_send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})

        try:
            await self._handle(scope, receive, guarded_send, answer)
        except FeedbackEngineError:
            if not state["started"]:
                await answer(503)
        except Exception:
            if not state["started"]:
                await answer(500)
            log_line(
                f"Error while answering {loggable(scope['method'], 20)} {loggable(_raw_path(scope))}:\n"
                f"{traceback.format_exc()}"
            )
        finally:
            if not self.quiet and state["status"]:
                client = (scope.get("client") or ("-",))[0]
                log_line(f"{client} {loggable(scope['method'], 20)} {loggable(_raw_path(scope))} {state['status']}\n")

    async def _handle(self, scope: Scope, receive: Receive, send: Send, answer: Callable[..., Awaitable[None]]) -> None:
        method = scope["method"]
        problem = _malformed(scope)
        if problem:
            await answer(problem)
            return
        if method not in HTTP_METHODS:
            await answer(501)
            return
        allowed = self._allowed(scope)
        if allowed is None:
            await self.app(scope, receive, send)  # the router's 404 page
            return
        if method not in allowed:
            await answer(405, headers=[(b"allow", ", ".join(allowed).encode())])
            return
        body = b""
        if method == "POST":
            try:
                body = await self._body(scope, receive)
            except _BodyError as exc:
                await answer(exc.status, exc.detail)
                return
        scope["fe.body"] = body
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _allowed(self, scope: Scope) -> list[str] | None:
        """The methods the path takes (GET implies HEAD), or None when no route has the path."""
        methods: list[str] = []
        for route in self.router.routes:
            match, _ = route.matches({**scope, "method": "GET"})
            if match == Match.NONE:
                match, _ = route.matches(scope)
            if match != Match.NONE:
                for name in sorted(getattr(route, "methods", None) or [], key=["GET", "HEAD", "POST"].index):
                    if name not in methods:
                        methods.append(name)
        return methods or None

    async def _body(self, scope: Scope, receive: Receive) -> bytes:
        headers = [(k.lower(), v) for k, v in scope["headers"]]
        if any(k == b"transfer-encoding" for k, _ in headers):
            raise _BodyError(501, "Transfer-Encoding is not supported; send a Content-Length.")
        lengths = [v for k, v in headers if k == b"content-length"]
        if not lengths:
            raise _BodyError(411)
        value = lengths[0].strip()
        if len(lengths) > 1 or not value.isdigit() or not value.isascii():
            raise _BodyError(400, "The Content-Length header is invalid.")
        digits = value.lstrip(b"0") or b"0"
        if len(digits) > 9 or int(digits) > MAX_BODY:
            raise _BodyError(413, f"The request body is over {MAX_BODY} bytes.")
        length = int(digits)
        chunks: list[bytes] = []
        received = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.request_timeout
        while received < length:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise _BodyError(408) from None
            if message["type"] == "http.disconnect":
                raise _BodyError(400, "The request body is shorter than its Content-Length.")
            chunk = message.get("body", b"")
            chunks.append(chunk)
            received += len(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if len(body) < length:
            raise _BodyError(400, "The request body is shorter than its Content-Length.")
        return body


def _malformed(scope: Scope) -> int | None:
    """The status for a request h11 let through that we do not serve (version, target, head sizes)."""
    if scope.get("http_version") not in ("1.0", "1.1"):
        return 505
    raw = bytes(scope.get("raw_path") or b"") + b"?" + bytes(scope.get("query_string") or b"")
    if len(raw) > MAX_LINE:
        return 414
    headers = scope["headers"]
    if len(headers) > MAX_HEADERS or any(len(k) + len(v) > MAX_LINE for k, v in headers):
        return 431
    try:
        urlsplit(raw.decode("latin-1"))
    except ValueError:  # e.g. "http://[broken/": an invalid IPv6 host
        return 400
    return None


def _title(name: bytes) -> bytes:
    """``content-type`` -> ``Content-Type``: header names on the wire as most servers write them."""
    return b"-".join(part[:1].upper() + part[1:] for part in name.split(b"-"))


def _raw_path(scope: Scope) -> str:
    """The path as the client sent it (undecoded), without the query string."""
    raw = scope.get("raw_path")
    if raw is None:
        return str(scope.get("path", ""))
    return bytes(raw).split(b"?", 1)[0].decode("latin-1")
