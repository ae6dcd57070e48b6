"""Engine methods of the loop stage (mixed into :class:`feedback_engine.Engine`).

``self.settings`` is a :class:`~feedback_engine.loop.settings.Settings` (read from the
environment when None); ``self.mail_transport`` is any object with ``send(message)`` (the SMTP
transport built from the settings when None).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feedback_engine.errors import NotFoundError
from feedback_engine.loop import actions as _actions
from feedback_engine.loop.notify import NotifyReport, run_notify
from feedback_engine.loop.outbox import unsubscribe_customer
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

    def unsubscribe(self, email_or_token: str, *, source: str | None = None) -> dict[str, Any]:
        """Opt a customer out, by email address or by the token of their unsubscribe link."""
        value = (email_or_token or "").strip()
        if "@" in value:
            cid = self.store.scalar("SELECT id FROM customers WHERE email = ?", (value.lower(),))
            if cid is None:
                raise NotFoundError(f"No customer with email {value!r}; see `feedback-engine customers list`.")
            return unsubscribe_customer(self.store, int(cid), source or "cli")
        cid = verify_token(self.loop_settings().require_secret(), value)
        if self.store.scalar("SELECT 1 FROM customers WHERE id = ?", (cid,)) is None:
            raise NotFoundError("This unsubscribe link belongs to a customer who no longer exists.")
        return unsubscribe_customer(self.store, cid, source or "web")

    def customers_list(self) -> list[dict[str, Any]]:
        """Customers with their contact state (consent, unsubscribed, suppressed)."""
        return self.store.query(
            """SELECT id, email, display_name, platform, handle, consent, unsubscribed_at, suppressed_at,
                      suppressed_reason FROM customers ORDER BY id"""
        )
