"""``feedback-engine serve``: the Starlette app (:mod:`feedback_engine.web.app`) under uvicorn.

uvicorn's h11 protocol parses requests; :class:`Protocol` narrows how it answers the malformed
ones, so that the rules of the hand-written server this replaced still hold on the wire:

- a request h11 cannot parse gets a short plain-text answer that never echoes the request (it may
  hold a token), then the connection is closed: ``400`` for a bad request line, version, target,
  HTTP/0.9 request or Content-Length; ``414`` for a request line over 64 KiB; ``431`` for a header
  block over 64 KiB (more than 100 headers: the guard); ``505`` for an HTTP version h11 does not
  speak;
- ``408`` when the request line and headers do not arrive within ``request_timeout`` seconds (30
  by default; the guard applies the same bound to the body);
- a client that half-closes before the end of its body gets ``400`` (the guard answers it);
- one log line per answer, ``CLIENT METHOD PATH STATUS`` (``- -`` when the request could not be
  parsed), never a query string and never a traceback for a client's mistake or a dropped
  connection.

Methods, body limits, security headers and route errors are the guard's
(:mod:`feedback_engine.web.guard`). SIGINT and SIGTERM stop the server gracefully and
:func:`run_until_stopped` returns normally.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from types import FrameType
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from feedback_engine.engine import Engine
from feedback_engine.errors import FeedbackEngineError
from feedback_engine.loop.settings import Settings
from feedback_engine.web.app import build_app
from feedback_engine.web.guard import log_line, plain_error

__all__ = ["WebServer", "make_server", "run_until_stopped", "serve"]

MAX_HEAD = 64 * 1024
REQUEST_TIMEOUT = 30.0

for _name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # the guard and Protocol log; uvicorn stays quiet
    logging.getLogger(_name).setLevel(logging.CRITICAL)


class Protocol(H11Protocol):
    """uvicorn's h11 protocol with our answers to malformed, slow and half-closed requests."""

    request_timeout = REQUEST_TIMEOUT
    quiet = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._status_hint = 400
        self._line_seen = False
        self._head_timer: asyncio.TimerHandle | None = None
        self._answered = False
        next_event = self._parser.next_event

        def checked_next_event() -> Any:
            try:
                return next_event()
            except h11.RemoteProtocolError as exc:
                self._status_hint = exc.error_status_hint
                raise

        self._parser.next_event = checked_next_event  # type: ignore[method-assign]

    @property
    def _parser(self) -> h11.Connection:
        """uvicorn's h11 parser (its attribute is named ``conn``; nothing to do with SQLite)."""
        parser: h11.Connection = vars(self)["conn"]
        return parser

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer = self.loop.call_later(self.request_timeout, self._head_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def data_received(self, data: bytes) -> None:
        if not self._line_seen and b"\n" in data:
            self._line_seen = True
        super().data_received(data)
        if self.cycle is not None:  # the first request's head is in
            self._cancel_head_timer()

    def eof_received(self) -> bool | None:  # type: ignore[override]
        """A half-close in the middle of a body: end the body, so the guard answers 400 on the open write side."""
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete and cycle.more_body:
            cycle.more_body = False
            cycle.message_event.set()
            return True
        return None

    def send_400_response(self, msg: str) -> None:
        status = self._status_hint
        if status == 431 and not self._line_seen:
            status = 414  # the buffer overflowed before the end of the request line
        self._answer_raw(status)

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self.cycle is None and not self.transport.is_closing():
            if self._line_seen or self._parser.trailing_data[0]:
                self._answer_raw(408)
            else:
                self.transport.close()

    def _answer_raw(self, status: int) -> None:
        """Write an answer without h11 (its state may be broken) and close the connection."""
        if self._answered or self.transport.is_closing():
            return
        self._answered = True
        headers, body = plain_error(status)
        phrase = HTTPStatus(status).phrase
        head = f"HTTP/1.1 {status} {phrase}\r\n".encode()
        head += b"".join(k + b": " + v + b"\r\n" for k, v in [*headers, (b"x-content-type-options", b"nosniff")])
        self.transport.write(head + b"\r\n" + body)
        self.transport.close()
        if not self.quiet:
            log_line(f"{(self.client or ('-',))[0]} - - {status}\n")


class _Server(uvicorn.Server):
    """uvicorn's server, with SIGINT/SIGTERM asking for a graceful stop and nothing re-raised afterwards."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def stop(signum: int, frame: FrameType | None) -> None:
            self.should_exit = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class WebServer:
    """A bound, not yet serving server: ``server_address`` is known; ``serve_forever`` blocks until ``shutdown``."""

    def __init__(self, config: uvicorn.Config, sock: socket.socket) -> None:
        self._server = _Server(config)
        self._socket = sock
        self._done = threading.Event()
        self.server_address: tuple[str, int] = sock.getsockname()[:2]

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._done.set()

    def shutdown(self) -> None:
        self._server.should_exit = True
        self._done.wait(30)

    def server_close(self) -> None:
        self._socket.close()


def _protocol(quiet: bool, request_timeout: float) -> type[Protocol]:
    return type("BoundProtocol", (Protocol,), {"quiet": quiet, "request_timeout": request_timeout})


def _bind(host: str, port: int) -> socket.socket:
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.set_inheritable(True)
        return sock
    except OSError as exc:
        raise FeedbackEngineError(
            f"Cannot listen on {host}:{port} ({exc.strerror or exc}); pass another --port."
        ) from None


def _config(app: Any, protocol: type[Protocol] | str, **extra: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        http=protocol,
        lifespan="off",
        access_log=False,
        log_config=None,
        server_header=False,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=5,
        h11_max_incomplete_event_size=MAX_HEAD,
        **extra,
    )


def make_server(
    db_path: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    settings: Settings | None = None,
    quiet: bool = False,
    request_timeout: float = REQUEST_TIMEOUT,
    secure_cookies: bool = False,
) -> WebServer:
    """A bound, not yet serving server (port 0 picks a free port: see ``server.server_address``).

    ``request_timeout`` (seconds) bounds the wait for the request head and for its body: a request
    that stalls gets 408 and its connection is closed.
    """
    settings = settings or Settings.from_env()
    settings.require_secret()
    db_path = Path(db_path)
    Engine(db_path).close()  # create / migrate once, up front: request handlers open without migrating
    app = build_app(db_path, settings, quiet=quiet, request_timeout=request_timeout, secure_cookies=secure_cookies)
    sock = _bind(host, port)
    return WebServer(_config(app, _protocol(quiet, request_timeout)), sock)


def run_until_stopped(server: WebServer) -> None:
    """Serve until Ctrl+C (SIGINT) or SIGTERM, then close the socket and return normally."""
    try:
        server.serve_forever()
    finally:
        server.server_close()


def serve_workers(db_path: str | Path, *, host: str, port: int, workers: int, secure_cookies: bool = False) -> None:
    """``workers`` processes (uvicorn's supervisor) on one socket; each builds the app from the environment
    (:func:`~feedback_engine.web.app.app_from_env`). Returns when the supervisor stops (SIGINT, SIGTERM)."""
    Settings.from_env().require_secret()
    Engine(Path(db_path)).close()
    os.environ["FEEDBACK_ENGINE_DB"] = str(Path(db_path).resolve())
    if secure_cookies:
        os.environ["FEEDBACK_ENGINE_SECURE_COOKIES"] = "1"
    sock = _bind(host, port)
    config = _config(
        "feedback_engine.web.app:app_from_env", "feedback_engine.web.server:Protocol", factory=True, workers=workers
    )
    from uvicorn.supervisors import Multiprocess

    Multiprocess(config, sockets=[sock]).run()
    sock.close()


def serve(db_path: str | Path, *, host: str = "127.0.0.1", port: int = 8000, settings: Settings | None = None) -> None:
    """Serve until interrupted (Ctrl+C or SIGTERM)."""
    run_until_stopped(make_server(db_path, host=host, port=port, settings=settings))
