"""``/settings`` (admin): users and roles. Add a user, change a role, disable or enable, end sessions.

An admin cannot lower their own role or disable themselves here (the CLI can), so a site never
loses its last admin by a misclick.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from feedback_engine.accounts import ROLES, AccountError, Session
from feedback_engine.engine import Engine
from feedback_engine.web.auth import error_page, page, requires
from feedback_engine.web.context import call, form

__all__ = ["routes"]


@requires("admin")
async def users(request: Request, session: Session) -> Response:
    rows = await call(request, lambda engine: engine.accounts.list())
    return page(request, session, "settings.html.jinja", users=rows, roles=ROLES)


@requires("admin")
async def add(request: Request, session: Session) -> Response:
    fields = form(request)
    email, role, password = fields.get("email", "")[:320], fields.get("role", ""), fields.get("password", "")
    await call(request, lambda engine: engine.accounts.add(email, role, password))
    return RedirectResponse("/settings", status_code=303)


@requires("admin")
async def change(request: Request, session: Session) -> Response:
    fields = form(request)
    email, what = fields.get("email", "")[:320], fields.get("change", "")
    if email.casefold() == session.user["email"].casefold() and what in ("role", "disable"):
        return error_page(request, session, 400, "You cannot lower your own role or disable yourself here.")

    def run(engine: Engine) -> None:
        if what == "role":
            engine.accounts.set_role(email, fields.get("role", ""))
        elif what == "disable":
            engine.accounts.disable(email)
        elif what == "enable":
            engine.accounts.disable(email, undo=True)
        elif what == "revoke":
            engine.accounts.revoke(email)
        else:
            raise AccountError("Unknown change; use role, disable, enable or revoke.")

    await call(request, run)
    return RedirectResponse("/settings", status_code=303)


routes = [
    Route("/settings", users, methods=["GET", "HEAD"]),
    Route("/settings/users", add, methods=["POST"]),
    Route("/settings/users/change", change, methods=["POST"]),
]
