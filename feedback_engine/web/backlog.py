"""The backlog pages: actions as a board and a list, one action, shipping through the recipient
preview, the outbox, and a customer's page.

- ``GET /actions``: the board (a column per status) and the list (overdue first, then by due date).
- ``POST /actions``: a new action on a theme (editor; the form is on the theme page).
- ``GET /actions/N``: themes with volume and sentiment, linked items, history, notifications, and
  once shipped its impact (``engine.insights.impact``: before vs after against the other themes);
  ``POST /actions/N/update``: status with a note, owner, due date, title, description, themes
  (editor; each changed field is a history row).
- ``GET /actions/N/ship``: who would be told, with the matched sentence, and an exclude button per
  recipient; ``POST /actions/N/exclude`` takes one out (or back in); ``POST /actions/N/ship``
  confirms (status ``shipped``; the notify job then writes the emails).
- ``GET /outbox``: notifications per action and state. ``GET /customers/N``: feedback, consent
  and contact state, emails; ``POST /customers/N/resubscribe|unsuppress`` (admin).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from feedback_engine.accounts import Session
from feedback_engine.engine import Engine
from feedback_engine.errors import ActionError
from feedback_engine.web.auth import error_page, page, requires
from feedback_engine.web.context import call, form

__all__ = ["routes"]

BOARD = ("proposed", "planned", "in_progress", "shipped", "declined")


def _id(request: Request) -> int:
    return int(request.path_params["id"])


def _text(fields: dict[str, str], name: str, limit: int) -> str:
    return fields.get(name, "").strip()[:limit]


@requires("viewer")
async def backlog(request: Request, session: Session) -> Response:
    actions: list[dict[str, Any]] = await call(request, lambda engine: engine.actions.list(status="all"))
    board = {status: [a for a in actions if a["status"] == status] for status in BOARD}
    ordered = sorted(actions, key=lambda a: (not a["overdue"], a["due_date"] or "9999", a["id"]))
    return page(request, session, "backlog.html.jinja", board=board, actions=ordered, statuses=BOARD)


@requires("editor")
async def create(request: Request, session: Session) -> Response:
    fields = form(request)
    title, description = _text(fields, "title", 200), _text(fields, "description", 5000)
    try:
        theme = int(fields.get("theme", ""))
    except ValueError:
        return error_page(request, session, 400, "An action needs a theme; create it from a theme's page.")
    if not title or not description:
        return error_page(request, session, 400, "An action needs a title and a description; nothing was created.")
    owner, due = _text(fields, "owner", 200) or None, _text(fields, "due", 40) or None
    action_id = await call(
        request,
        lambda engine: engine.actions.add(
            themes=[theme], title=title, description=description, owner=owner, due=due, by=session.user["email"]
        ),
    )
    return RedirectResponse(f"/actions/{action_id}", status_code=303)


def _action_page(engine: Engine, action_id: int) -> dict[str, Any]:
    found = engine.actions.show(action_id)
    impact = None
    if found["status"] == "shipped":  # complaints, share negative, NPS before vs after (insights impact)
        impact = engine.insights.impact(action_id)["actions"][0]
    return {"action": found, "options": engine.browse.theme_options(), "impact": impact}


@requires("viewer")
async def action(request: Request, session: Session) -> Response:
    action_id = _id(request)
    data = await call(request, lambda engine: _action_page(engine, action_id))
    return page(request, session, "action.html.jinja", statuses=BOARD, **data)


def _field(fields: dict[str, str], name: str, limit: int) -> str | None:
    """A text field as given (``""`` clears it), or None when the form does not carry it."""
    return fields[name].strip()[:limit] if name in fields else None


@requires("editor")
async def update(request: Request, session: Session) -> Response:
    """Status (with a note), owner, due date, title, description and themes; fields the form does
    not carry stay as they are, an emptied owner or due date is cleared."""
    action_id = _id(request)
    fields = form(request)
    status = _text(fields, "status", 40) or None
    if status == "shipped":
        return RedirectResponse(f"/actions/{action_id}/ship", status_code=303)  # only through the preview
    body: bytes = request.scope.get("fe.body", b"")
    picked = [int(v) for k, v in parse_qsl(body.decode("utf-8", "replace")) if k == "theme" and v.isdigit()]
    themes = picked if fields.get("themes_shown") == "1" else None
    note = _text(fields, "note", 2000) or None
    await call(
        request,
        lambda engine: engine.actions.update(
            action_id,
            status=status,
            owner=_field(fields, "owner", 200),
            due=_field(fields, "due", 40),
            title=_field(fields, "title", 200),
            description=_field(fields, "description", 5000),
            themes=themes,
            note=note,
            by=session.user["email"],
        ),
    )
    return RedirectResponse(f"/actions/{action_id}", status_code=303)


def _preview(engine: Engine, action_id: int) -> dict[str, Any]:
    return {"action": engine.actions.show(action_id), "preview": engine.actions.recipients(action_id)}


@requires("editor")
async def ship_preview(request: Request, session: Session) -> Response:
    action_id = _id(request)
    data = await call(request, lambda engine: _preview(engine, action_id))
    return page(request, session, "ship.html.jinja", **data)


@requires("editor")
async def exclude(request: Request, session: Session) -> Response:
    action_id = _id(request)
    fields = form(request)
    email = _text(fields, "customer", 320)
    if not email:
        return error_page(request, session, 400, "Pick the recipient to exclude; nothing was changed.")
    undo = fields.get("undo") == "1"
    await call(
        request,
        lambda engine: engine.actions.exclude(
            action_id, customer=email, note=_text(fields, "note", 500) or None, by=session.user["email"], undo=undo
        ),
    )
    return RedirectResponse(f"/actions/{action_id}/ship", status_code=303)


@requires("editor")
async def ship(request: Request, session: Session) -> Response:
    action_id = _id(request)
    fields = form(request)
    if fields.get("confirm") != "yes":
        return error_page(request, session, 400, "Confirm the recipients on the preview page first.")
    note = _text(fields, "note", 2000) or None
    await call(
        request,
        lambda engine: engine.actions.update(action_id, status="shipped", note=note, by=session.user["email"]),
    )
    return RedirectResponse(f"/actions/{action_id}", status_code=303)


@requires("viewer")
async def outbox(request: Request, session: Session) -> Response:
    def load(engine: Engine) -> list[dict[str, Any]]:
        states = engine.browse.outbox()
        return [{**a, "states": states.get(a["id"], {})} for a in engine.actions.list(status="shipped")]

    return page(request, session, "outbox.html.jinja", actions=await call(request, load))


def _customer(engine: Engine, customer_id: int) -> dict[str, Any]:
    email = engine.browse.customer_email(customer_id)
    found = engine.customers.show(email) if email else engine.browse.customer(customer_id)
    found["feedback"] = engine.browse.customer_items(customer_id)
    return found


@requires("viewer")
async def customer(request: Request, session: Session) -> Response:
    customer_id = _id(request)
    found = await call(request, lambda engine: _customer(engine, customer_id))
    return page(request, session, "customer.html.jinja", customer=found)


async def _contact_change(request: Request, session: Session, change: str) -> Response:
    customer_id = _id(request)

    def run(engine: Engine) -> None:
        email = engine.browse.customer_email(customer_id)
        if email is None:
            engine.browse.customer(customer_id)  # NotFoundError for an unknown id
            raise ActionError("This customer has no email address; there is nothing to change.")
        getattr(engine.customers, change)(email, by=session.user["email"])

    await call(request, run)
    return RedirectResponse(f"/customers/{customer_id}", status_code=303)


@requires("admin")
async def resubscribe(request: Request, session: Session) -> Response:
    return await _contact_change(request, session, "resubscribe")


@requires("admin")
async def unsuppress(request: Request, session: Session) -> Response:
    return await _contact_change(request, session, "unsuppress")


routes = [
    Route("/actions", backlog, methods=["GET", "HEAD"]),
    Route("/actions", create, methods=["POST"]),
    Route("/actions/{id:int}", action, methods=["GET", "HEAD"]),
    Route("/actions/{id:int}/update", update, methods=["POST"]),
    Route("/actions/{id:int}/ship", ship_preview, methods=["GET", "HEAD"]),
    Route("/actions/{id:int}/ship", ship, methods=["POST"]),
    Route("/actions/{id:int}/exclude", exclude, methods=["POST"]),
    Route("/outbox", outbox, methods=["GET", "HEAD"]),
    Route("/customers/{id:int}", customer, methods=["GET", "HEAD"]),
    Route("/customers/{id:int}/resubscribe", resubscribe, methods=["POST"]),
    Route("/customers/{id:int}/unsuppress", unsuppress, methods=["POST"]),
]
