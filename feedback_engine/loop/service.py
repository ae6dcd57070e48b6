"""The loop stage as services of the :class:`~feedback_engine.Engine`.

- ``engine.actions`` (:class:`ActionService`): the action backlog (add, list, show, update, export);
- ``engine.outbox`` (:class:`OutboxService`): plan, render and send the "you said, we did" emails;
- ``engine.customers`` (:class:`CustomerService`): contact state (unsubscribe by email or link
  token, resubscribe, unsuppress), each change recorded with who made it.

The settings are a :class:`~feedback_engine.loop.settings.Settings` (read from the environment
when the engine got None); the transport any :class:`~feedback_engine.contracts.MailTransport`
(the SMTP transport built from the settings when None).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feedback_engine.contracts import MailTransport
from feedback_engine.errors import ActionError, NotFoundError
from feedback_engine.loop import actions as _actions
from feedback_engine.loop import outbox
from feedback_engine.loop.mail import InvalidAddress, clean_header_text, make_address
from feedback_engine.loop.notify import NotifyReport, run_notify
from feedback_engine.loop.outbox import (
    contact_events,
    resubscribe_customer,
    unsubscribe_customer,
    unsuppress_customer,
)
from feedback_engine.loop.recipients import most_reachable_theme, preview
from feedback_engine.loop.settings import Settings
from feedback_engine.loop.tokens import verify_token
from feedback_engine.progress import Progress

if TYPE_CHECKING:
    from feedback_engine.store import Store


def resolve_settings(settings: Settings | None) -> Settings:
    """The settings given, else those read from the environment (at the time of the call)."""
    return settings if isinstance(settings, Settings) else Settings.from_env()


class ActionService:
    """``engine.actions``: actions tied to themes, with owner, status, due date and history."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(
        self,
        *,
        themes: Sequence[int],
        title: str,
        description: str,
        items: Sequence[int] | None = None,
        owner: str | None = None,
        due: str | None = None,
        by: str | None = None,
    ) -> int:
        """Create an action on ``themes`` (ids); returns its id."""
        return _actions.add_action(
            self.store,
            themes=list(themes),
            title=title,
            description=description,
            items=list(items or []),
            owner=owner,
            due=due,
            by=by,
        )

    def list(
        self,
        *,
        status: str | None = None,
        overdue: bool = False,
        owner: str | None = None,
        theme: int | None = None,
        today: str | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """Open actions by due date (``status`` filters; ``"all"`` lists every status)."""
        return _actions.list_actions(self.store, status=status, overdue=overdue, owner=owner, theme=theme, today=today)

    def show(self, action_id: int) -> dict[str, Any]:
        """One action with its themes (volume, sentiment), linked items and history."""
        return _actions.get_action(self.store, action_id)

    def update(
        self,
        action_id: int,
        *,
        status: str | None = None,
        owner: str | None = None,
        due: str | None = None,
        note: str | None = None,
        by: str | None = None,
        title: str | None = None,
        description: str | None = None,
        themes: Sequence[int] | None = None,
        holdout: str | float | None = None,
        holdout_seed: int | None = None,
    ) -> dict[str, Any]:
        """Change an action (status, owner, due date, title, description, themes), one history row
        per changed field; setting what it already has is a no-op (``changed == []``). ``holdout``
        ("10%", with ``status="shipped"``): a random share of its recipients is never emailed about it."""
        return _actions.update_action(
            self.store,
            action_id,
            status=status,
            owner=owner,
            due=due,
            note=note,
            by=by,
            title=title,
            description=description,
            themes=None if themes is None else list(themes),
            holdout=holdout,
            holdout_seed=holdout_seed,
        )

    def recipients(self, action_id: int, *, now: datetime | None = None) -> dict[str, Any]:
        """Who the action reaches: each recipient with the matched sentence and its score (strongest
        first), why (theme, seed, manual, linked), and how many were left out for which reason."""
        try:
            return preview(self.store, action_id, now=now)
        except LookupError:
            raise NotFoundError(
                f"No action with id {action_id}; see `feedback-engine actions list`.", action_id=action_id
            ) from None

    def exclude(
        self,
        action_id: int,
        *,
        customer: str | None = None,
        item: int | None = None,
        note: str | None = None,
        by: str | None = None,
        undo: bool = False,
    ) -> dict[str, Any]:
        """Take a customer (by email) or one item out of the action's recipients (``undo``: back in).
        What is not yet with the SMTP server is cancelled; ``already_sent`` counts what cannot be."""
        if (customer is None) == (item is None):
            raise ActionError("Pass exactly one of --customer EMAIL or --item ID.")
        _actions.get_action(self.store, action_id)
        customer_id = None
        if customer is not None:
            customer_id = CustomerService(self.store).by_email(customer)
        elif not outbox.feedback_exists(self.store, int(item or 0)):
            raise NotFoundError(f"No feedback item {item}; `actions recipients {action_id}` lists the items.")
        return outbox.exclude(
            self.store, action_id, customer_id=customer_id, feedback_id=item, by=_actions.who(by), note=note, undo=undo
        )

    def find(self, title: str) -> int | None:
        """The id of the action with exactly this title, or None."""
        return _actions.action_by_title(self.store, title)

    def most_reachable_theme(self) -> int | None:
        """The active theme whose items come from the most customers who may be emailed."""
        return most_reachable_theme(self.store)

    def export(self, path: str | Path, fmt: str = "csv", **filters: Any) -> int:
        """Write the listed actions to ``path`` as csv or jsonl; returns the number of rows."""
        return _actions.export_actions(self.list(**filters), fmt, path)


class OutboxService:
    """``engine.outbox``: the "you said, we did" emails of shipped actions (cron-safe ``notify``)."""

    def __init__(self, store: Store, settings: Settings | None = None, transport: MailTransport | None = None) -> None:
        self.store = store
        self.settings = settings
        self.transport = transport

    def queue(self) -> dict[str, int]:
        """Notifications waiting for an email and emails by state (queued, retry, sent, ...)."""
        return outbox.queue_counts(self.store)

    def notify(
        self,
        dry_run_dir: str | Path | None = None,
        send: bool = False,
        now: datetime | None = None,
        progress: Progress | None = None,
    ) -> NotifyReport:
        """Plan, render and write (dry run) or send the "you said, we did" emails."""
        return run_notify(
            self.store,
            resolve_settings(self.settings),
            self.transport,
            dry_run_dir=dry_run_dir,
            send=send,
            now=now,
            progress=progress,
        )


class CustomerService:
    """``engine.customers``: who may be written to, and every change of that, with who made it."""

    def __init__(self, store: Store, settings: Settings | None = None) -> None:
        self.store = store
        self.settings = settings

    def by_email(self, email: str) -> int:
        """The id of the customer with this email; InvalidAddress / NotFoundError (one line) otherwise."""
        value = (email or "").strip()
        cid = outbox.customer_id_by_email(self.store, value) if value else None
        if cid is not None:
            return cid
        shown = clean_header_text(value, 80)
        try:
            make_address(value)
        except InvalidAddress:
            raise InvalidAddress(
                f"{shown!r} is not an email address; pass the customer's email, e.g. ann@example.com."
            ) from None
        raise NotFoundError(f"No customer with email {shown!r}; see `feedback-engine customers list`.")

    def from_token(self, token: str) -> dict[str, Any]:
        """The customer (``id``, ``email``) an unsubscribe link's token names; ``TokenError`` when the
        token is forged, damaged or signed with another secret, ``NotFoundError`` when they are gone."""
        cid = verify_token(resolve_settings(self.settings).require_secret(), (token or "").strip())
        rows = outbox.customer_rows(self.store, cid)
        if not rows:
            raise NotFoundError("This unsubscribe link belongs to a customer we no longer know; nothing to do.")
        return {"id": cid, "email": rows[0]["email"]}

    def unsubscribe(
        self, email_or_token: str, *, source: str | None = None, by: str | None = None, detail: str | None = None
    ) -> dict[str, Any]:
        """Opt a customer out, by email address (source ``cli``) or by the token of their unsubscribe
        link (``u1....``, source ``web``; needs the signing secret); ``already`` when they were."""
        value = (email_or_token or "").strip()
        if not value.startswith("u1."):
            return unsubscribe_customer(
                self.store, self.by_email(value), source or "cli", by=_actions.who(by), detail=detail
            )
        cid = self.from_token(value)["id"]
        return unsubscribe_customer(self.store, cid, source or "web", by=by, detail=detail)

    def resubscribe(self, email: str, *, by: str | None = None) -> dict[str, Any]:
        """Undo an opt-out (recorded with ``by``, default $USER); ``changed`` is False when there was none."""
        return resubscribe_customer(self.store, self.by_email(email), _actions.who(by))

    def unsuppress(self, email: str, *, by: str | None = None) -> dict[str, Any]:
        """Lift a bounce suppression (recorded with ``by``); the updates it cancelled are queued again."""
        return unsuppress_customer(self.store, self.by_email(email), _actions.who(by))

    def show(self, email: str) -> dict[str, Any]:
        """One customer's contact state, contact history (who, when) and emails."""
        cid = self.by_email(email)
        row = outbox.customer_rows(self.store, cid)[0]
        row["events"] = contact_events(self.store, cid)
        row["emails"] = outbox.customer_emails(self.store, cid)
        return row

    def list(self) -> builtins.list[dict[str, Any]]:
        """Customers with their contact state (consent, unsubscribed, suppressed)."""
        return outbox.customer_rows(self.store)
