"""Login, logout, and :func:`requires`: the session, role and CSRF checks every page goes through.

- The session cookie ``fe_session`` holds a random token (the database keeps its SHA-256); it is
  ``HttpOnly``, ``SameSite=Lax``, ``Path=/``, and ``Secure`` when the request came over HTTPS
  (directly, or via a reverse proxy on loopback that sends ``X-Forwarded-Proto: https``) or the
  server was started with secure cookies.
- Every POST behind a login must carry the session's CSRF token in the ``csrf`` field, or it is
  refused with 403 before anything changes. The login form itself uses a double-submit token (a
  random cookie ``fe_login`` echoed in the form).
- Roles are checked on the server for every route: ``viewer`` < ``editor`` < ``admin``.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from feedback_engine.accounts import AccountService, LoginRefused, Session
from feedback_engine.errors import FeedbackEngineError, NotFoundError, StoreError
from feedback_engine.web.context import call, config, form, query, render

__all__ = ["COOKIE", "page", "requires", "routes"]

COOKIE = "fe_session"
LOGIN_COOKIE = "fe_login"
Handler = Callable[[Request, Session], Awaitable[Response]]


def _secure(request: Request) -> bool:
    return config(request).secure_cookies or request.url.scheme == "https"


def _safe_next(target: str) -> str:
    """Only a path on this site (``/...``, not ``//host`` or ``/\\host``) may be the page after login."""
    if target.startswith("/") and not target.startswith(("//", "/\\")) and "\n" not in target and "\r" not in target:
        return target
    return "/"


def page(request: Request, session: Session | None, template: str, status: int = 200, **context: Any) -> Response:
    """Render ``template`` with the logged-in user, their role's rights and the CSRF token."""
    user = session.user if session else None
    role = user["role"] if user else ""
    return render(
        template,
        status,
        user=user,
        csrf=session.csrf if session else "",
        can_edit=AccountService.allows(role, "editor"),
        is_admin=AccountService.allows(role, "admin"),
        path=request.url.path,
        **context,
    )


def error_page(request: Request, session: Session | None, status: int, message: str) -> Response:
    titles = {400: "Bad request", 403: "Forbidden", 404: "Not found", 429: "Too many attempts", 503: "Unavailable"}
    return page(request, session, "error.html.jinja", status, title=titles.get(status, "Error"), message=message)


def requires(role: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """The endpoint for ``handler`` behind a login with at least ``role`` (and CSRF on POST)."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            token = request.cookies.get(COOKIE)
            session = await call(request, lambda engine: engine.accounts.session(token)) if token else None
            if session is None:
                if request.method == "POST":
                    return error_page(request, None, 403, "Log in first; nothing was changed.")
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
            if not AccountService.allows(session.user["role"], role):
                return error_page(request, session, 403, f"This needs the {role} role; you are {session.user['role']}.")
            if request.method == "POST" and not AccountService.csrf_ok(session, form(request).get("csrf")):
                return error_page(
                    request, session, 403, "The form's security token is missing or stale; reload the page."
                )
            try:
                return await handler(request, session)
            except NotFoundError as exc:
                return error_page(request, session, 404, exc.message)
            except StoreError:
                raise
            except FeedbackEngineError as exc:
                return error_page(request, session, 400, exc.message)

        endpoint.__name__ = handler.__name__
        return endpoint

    return wrap


def _login_form(request: Request, status: int = 200, message: str = "", email: str = "") -> Response:
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = page(
        request,
        None,
        "login.html.jinja",
        status,
        message=message,
        email=email,
        nonce=nonce,
        next=_safe_next(query(request, "next", "/")),
    )
    response.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="lax", secure=_secure(request), path="/login")
    return response


async def login_page(request: Request) -> Response:
    return _login_form(request)


async def login(request: Request) -> Response:
    fields = form(request)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not secrets.compare_digest(nonce.encode(), fields.get("csrf", "").encode()):
        return error_page(request, None, 403, "The login form is stale; reload the page and try again.")
    email, password = fields.get("email", ""), fields.get("password", "")
    client = (request.client.host if request.client else "-") or "-"
    try:
        session = await call(request, lambda engine: engine.accounts.login(email, password, client=client))
    except LoginRefused as exc:
        return _login_form(request, 429 if exc.limited else 401, exc.message, email[:320])
    response = RedirectResponse(_safe_next(fields.get("next", "/")), status_code=303)
    max_age = int(config(request).engine_session_hours * 3600)
    response.set_cookie(COOKIE, session.token, max_age=max_age, httponly=True, samesite="lax", secure=_secure(request))
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


async def logout(request: Request) -> Response:
    token = request.cookies.get(COOKIE)
    session = await call(request, lambda engine: engine.accounts.session(token)) if token else None
    if session is not None:
        if not AccountService.csrf_ok(session, form(request).get("csrf")):
            return error_page(request, session, 403, "The form's security token is missing or stale; reload the page.")
        await call(request, lambda engine: engine.accounts.logout(token))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


routes = [
    Route("/login", login_page, methods=["GET", "HEAD"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
