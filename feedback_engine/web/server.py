"""A small threaded HTTP server (stdlib ``http.server``, no framework) for unsubscribe links.

Routes:
- ``GET /unsubscribe?token=T``: a confirm page with a one-button form; changes nothing (mail
  scanners follow links).
- ``POST /unsubscribe?token=T`` with body ``List-Unsubscribe=One-Click`` (RFC 8058 one-click,
  also what the confirm form sends): records the opt-out, shows a done page.
- ``GET /healthz``: ``ok`` when the database answers.
An invalid or tampered token gets a 400 page and changes nothing. Every page is rendered with
autoescaping Jinja2; request logs never contain tokens. Each request opens its own Store.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import jinja2

from feedback_engine.errors import FeedbackEngineError, NotFoundError, TokenError
from feedback_engine.loop.settings import Settings
from feedback_engine.loop.tokens import verify_token
from feedback_engine.store import Store

__all__ = ["make_server", "serve"]

TEMPLATES = Path(__file__).parent / "templates"
MAX_BODY = 16 * 1024


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


class _Handler(BaseHTTPRequestHandler):
    server_version = "feedback-engine"
    sys_version = ""
    server: _Server

    # -- plumbing ------------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:
        if self.server.quiet:
            return
        path = urlsplit(self.path).path  # never log query strings: they hold tokens
        sys.stderr.write(f"{self.address_string()} {self.command} {path} {args[1] if len(args) > 1 else ''}\n")

    def _page(self, status: int, title: str, paragraphs: list[str], form_action: str | None = None) -> None:
        body = (
            _env().get_template("page.html.jinja").render(title=title, paragraphs=paragraphs, form_action=form_action)
        )
        self._send(status, body.encode("utf-8"), "text/html; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
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

    def _customer(self, token: str) -> tuple[int, str | None]:
        cid = verify_token(self.server.settings.require_secret(), token)
        with Store(self.server.db_path, migrate=False) as store:
            row = store.query("SELECT email FROM customers WHERE id = ?", (cid,))
        if not row:
            raise NotFoundError("This unsubscribe link belongs to a customer we no longer know; nothing to do.")
        return cid, row[0]["email"]

    # -- routes --------------------------------------------------------------------------
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/healthz":
            try:
                with Store(self.server.db_path, migrate=False) as store:
                    store.scalar("SELECT 1")
            except FeedbackEngineError:
                self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"database unavailable\n", "text/plain; charset=utf-8")
                return
            self._send(HTTPStatus.OK, b"ok\n", "text/plain; charset=utf-8")
        elif url.path == "/unsubscribe":
            token = (parse_qs(url.query).get("token") or [""])[0]
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
        else:
            self._page(HTTPStatus.NOT_FOUND, "Not found", ["There is nothing at this address."])

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/unsubscribe":
            self._page(HTTPStatus.NOT_FOUND, "Not found", ["There is nothing at this address."])
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._page(HTTPStatus.BAD_REQUEST, "Bad request", ["The request body is missing or too large."])
            return
        form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
        token = (parse_qs(url.query).get("token") or form.get("token") or [""])[0]
        if form.get("List-Unsubscribe") != ["One-Click"]:
            self._page(
                HTTPStatus.BAD_REQUEST,
                "Bad request",
                ["The request must carry List-Unsubscribe=One-Click (RFC 8058). Nothing was changed."],
            )
            return
        try:
            cid, email = self._customer(token)
            with Store(self.server.db_path, migrate=False) as store:
                from feedback_engine.loop.outbox import unsubscribe_customer

                unsubscribe_customer(store, cid, "web", detail="one-click POST")
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

    def __init__(self, address: tuple[str, int], db_path: Path, settings: Settings, quiet: bool) -> None:
        self.db_path = db_path
        self.settings = settings
        self.quiet = quiet
        super().__init__(address, _Handler)


def make_server(
    db_path: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    settings: Settings | None = None,
    quiet: bool = False,
) -> ThreadingHTTPServer:
    """A bound, not yet serving server (port 0 picks a free port: see ``server.server_address``)."""
    settings = settings or Settings.from_env()
    settings.require_secret()
    db_path = Path(db_path)
    Store(db_path).close()  # create / migrate once, up front: request handlers open without migrating
    try:
        return _Server((host, port), db_path, settings, quiet)
    except OSError as exc:
        raise FeedbackEngineError(f"Cannot listen on {host}:{port} ({exc.strerror}); pass another --port.") from None


def serve(db_path: str | Path, *, host: str = "127.0.0.1", port: int = 8000, settings: Settings | None = None) -> None:
    """Serve until interrupted."""
    server = make_server(db_path, host=host, port=port, settings=settings)
    try:
        server.serve_forever()
    finally:
        server.server_close()
