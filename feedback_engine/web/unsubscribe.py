"""``/unsubscribe`` (a confirm page, then the RFC 8058 one-click POST) and ``/healthz``.

- ``GET /unsubscribe?token=T``: a confirm page with a one-button form; changes nothing (mail
  scanners follow links).
- ``POST /unsubscribe?token=T`` with body ``List-Unsubscribe=One-Click`` (RFC 8058 one-click, also
  what the confirm form sends): records the opt-out, shows a done page.
- ``GET /healthz``: ``ok`` when the database answers.
An invalid or tampered token gets a 400 page and changes nothing. These routes need no login and
no CSRF token: the signed token in the link is the proof.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from feedback_engine.engine import Engine
from feedback_engine.errors import FeedbackEngineError, NotFoundError, TokenError
from feedback_engine.web.context import call, form, query, render

__all__ = ["routes"]


def _mask(email: str | None) -> str:
    if not email or "@" not in email:
        return "your address"
    local, domain = email.rsplit("@", 1)
    return f"{local[:1]}***@{domain}"


def _page(status: int, title: str, paragraphs: list[str], form_action: str | None = None) -> Response:
    return render("page.html.jinja", status, title=title, paragraphs=paragraphs, form_action=form_action)


def _invalid(exc: FeedbackEngineError) -> Response:
    return _page(
        400,
        "This unsubscribe link does not work",
        [
            exc.message,
            "Nothing was changed. If you want to stop these emails, use the link in the most "
            "recent email from us, or reply to it and ask.",
        ],
    )


async def healthz(request: Request) -> Response:
    try:
        await call(request, lambda engine: engine.ping())
    except FeedbackEngineError:
        return PlainTextResponse("database unavailable\n", status_code=503)
    return PlainTextResponse("ok\n")


def _email(engine: Engine, token: str) -> str | None:
    found = engine.customers.from_token(token)
    email: str | None = found["email"]
    return email


async def confirm(request: Request) -> Response:
    token = query(request, "token")
    try:
        email = await call(request, lambda engine: _email(engine, token))
    except (TokenError, NotFoundError) as exc:
        return _invalid(exc)
    return _page(
        200,
        "Unsubscribe?",
        [f"Stop sending \u201cyou said, we did\u201d emails to {_mask(email)}?"],
        form_action=f"/unsubscribe?token={quote(token, safe='')}",
    )


def _unsubscribe(engine: Engine, token: str) -> str | None:
    email = _email(engine, token)
    engine.customers.unsubscribe(token, source="web", detail="one-click POST")
    return email


async def one_click(request: Request) -> Response:
    fields = form(request)
    token = query(request, "token") or fields.get("token", "")
    if fields.get("List-Unsubscribe") != "One-Click":
        return _page(
            400,
            "Bad request",
            ["The request must carry List-Unsubscribe=One-Click (RFC 8058). Nothing was changed."],
        )
    try:
        email = await call(request, lambda engine: _unsubscribe(engine, token))
    except (TokenError, NotFoundError) as exc:
        return _invalid(exc)
    return _page(
        200,
        "You are unsubscribed",
        [f"We will not send \u201cyou said, we did\u201d emails to {_mask(email)} any more."],
    )


routes = [
    Route("/healthz", healthz, methods=["GET", "HEAD"]),
    Route("/unsubscribe", confirm, methods=["GET", "HEAD"]),
    Route("/unsubscribe", one_click, methods=["POST"]),
]
