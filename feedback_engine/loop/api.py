"""Engine methods of the loop stage (mixed into :class:`feedback_engine.Engine`).

``self.settings`` is a :class:`~feedback_engine.loop.settings.Settings` (read from the
environment when None); ``self.mail_transport`` is any ``contracts.MailTransport``
(``send(message, *, sender, recipients, before_commit=None)``; the SMTP transport built from the
settings when None).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feedback_engine.errors import NotFoundError
from feedback_engine.loop import actions as _actions
from feedback_engine.loop.mail import InvalidAddress, clean_header_text, make_address
from feedback_engine.loop.notify import NotifyReport, run_notify
from feedback_engine.loop.outbox import (
    contact_events,
    resubscribe_customer,
    unsubscribe_customer,
    unsuppress_customer,
)
from feedback_engine.loop.settings import Settings
from feedback_engine.loop.tokens import verify_token
from feedback_engine.progress import Progress

if TYPE_CHECKING:
    from feedback_engine.store import Store


class LoopAPI:
    store: Store
    mail_transport: Any
    settings: Any

    def loop_settings(self) -> Settings:
        settings = getattr(self, "settings", None)
        return settings if isinstance(settings, Settings) else Settings.from_env()

    # -- action backlog ------------------------------------------------------------------
    def actions_add(
        self,
        *,
        themes: list[int],
        title: str,
        description: str,
        items: list[int] | None = None,
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

    def actions_list(
        self,
        *,
        status: str | None = None,
        overdue: bool = False,
        owner: str | None = None,
        theme: int | None = None,
        today: str | None = None,
    ) -> list[dict[str, Any]]:
        """Open actions by due date (``status`` filters; ``"all"`` lists every status)."""
        return _actions.list_actions(self.store, status=status, overdue=overdue, owner=owner, theme=theme, today=today)

    def actions_show(self, action_id: int) -> dict[str, Any]:
        return _actions.get_action(self.store, action_id)

    def actions_update(
        self,
        action_id: int,
        *,
        status: str | None = None,
        owner: str | None = None,
        due: str | None = None,
        note: str | None = None,
        by: str | None = None,
    ) -> dict[str, Any]:
        """Change an action; setting its current status again is a no-op (``changed == []``)."""
        return _actions.update_action(self.store, action_id, status=status, owner=owner, due=due, note=note, by=by)

    def actions_export(self, path: str | Path, fmt: str = "csv", **filters: Any) -> int:
        """Write the listed actions to ``path`` as csv or jsonl; returns the number of rows."""
        return _actions.export_actions(self.actions_list(**filters), fmt, path)

    # -- notifications -------------------------------------------------------------------
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
            self.loop_settings(),
            getattr(self, "mail_transport", None),
            dry_run_dir=dry_run_dir,
            send=send,
            now=now,
            progress=progress,
        )

    def unsubscribe(self, email_or_token: str, *, source: str | None = None, by: str | None = None) -> dict[str, Any]:
        """Opt a customer out, by email address or by the token of their unsubscribe link (``u1....``)."""
        value = (email_or_token or "").strip()
        if not value.startswith("u1."):
            return self.customers_unsubscribe(value, source=source or "cli", by=by)
        cid = verify_token(self.loop_settings().require_secret(), value)
        if self.store.scalar("SELECT 1 FROM customers WHERE id = ?", (cid,)) is None:
            raise NotFoundError("This unsubscribe link belongs to a customer who no longer exists.")
        return unsubscribe_customer(self.store, cid, source or "web", by=by)

    def customer_by_email(self, email: str) -> int:
        """The id of the customer with this email; InvalidAddress / NotFoundError (one line) otherwise."""
        value = (email or "").strip()
        cid = self.store.scalar("SELECT id FROM customers WHERE email = ?", (value.lower(),)) if value else None
        if cid is not None:
            return int(cid)
        shown = clean_header_text(value, 80)
        try:
            make_address(value)
        except InvalidAddress:
            raise InvalidAddress(
                f"{shown!r} is not an email address; pass the customer's email, e.g. ann@example.com."
            ) from None
        raise NotFoundError(f"No customer with email {shown!r}; see `feedback-engine customers list`.")

    def customers_unsubscribe(self, email: str, *, source: str = "cli", by: str | None = None) -> dict[str, Any]:
        """Opt the customer with this email out (no secret needed); ``already`` when they were."""
        return unsubscribe_customer(self.store, self.customer_by_email(email), source, by=_actions.who(by))

    def customers_resubscribe(self, email: str, *, by: str | None = None) -> dict[str, Any]:
        """Undo an opt-out (recorded with ``by``, default $USER); ``changed`` is False when there was none."""
        return resubscribe_customer(self.store, self.customer_by_email(email), _actions.who(by))

    def customers_unsuppress(self, email: str, *, by: str | None = None) -> dict[str, Any]:
        """Lift a bounce suppression (recorded with ``by``); the updates it cancelled are queued again."""
        return unsuppress_customer(self.store, self.customer_by_email(email), _actions.who(by))

    def customers_show(self, email: str) -> dict[str, Any]:
        """One customer's contact state, contact history (who, when) and emails."""
        cid = self.customer_by_email(email)
        row = self.store.query(
            """SELECT id, email, display_name, platform, handle, consent, unsubscribed_at, suppressed_at,
                      suppressed_reason FROM customers WHERE id = ?""",
            (cid,),
        )[0]
        row["events"] = contact_events(self.store, cid)
        row["emails"] = self.store.query(
            """SELECT id, status, subject, created_at, sent_at, attempts, last_error FROM emails
               WHERE customer_id = ? ORDER BY id""",
            (cid,),
        )
        return row

    def customers_list(self) -> list[dict[str, Any]]:
        """Customers with their contact state (consent, unsubscribed, suppressed)."""
        return self.store.query(
            """SELECT id, email, display_name, platform, handle, consent, unsubscribed_at, suppressed_at,
                      suppressed_reason FROM customers ORDER BY id"""
        )
