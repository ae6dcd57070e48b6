"""The notify job: plan -> render -> send, safe to run from cron every few minutes.

``--dry-run DIR`` plans and renders inside a transaction that is rolled back, writes each email
as a ``.eml`` file and changes nothing in the database.

``--send`` holds an exclusive lock on ``<db>.notify.lock`` (released by the OS when the process
dies, so a killed job never leaves a stale lock; a second instance fails at once with
:class:`LockHeldError`, exit code 3). Then, per email, in order:

1. the email row becomes ``sending`` (attempt counted, committed) once the SMTP server has
   accepted sender and recipient and answered ``354`` to DATA -- before the body is written;
2. the body and the final ``.`` are sent; on ``250`` the row becomes ``sent`` (committed).

A kill before step 1 leaves ``queued``: the server got no complete message (an SMTP server
discards a transaction whose connection drops), the next run sends it. A kill between 1 and 2
leaves ``sending``: the server may or may not have accepted it. The next run marks such rows
``unconfirmed`` and never resends them -- AT MOST ONCE in that window, because a duplicate
personal email is worse than a missed thank-you, and SMTP offers no way to ask a server whether
it accepted a Message-ID. The window is a few milliseconds (body transfer + final reply); the
unconfirmed rows are listed in the report with their Message-ID for checking in the server log.

Transient failures (refused, timeout, 4xx) leave the email ``retry`` with exponential backoff
(5 minutes doubling, at most 6 hours), tried again by later runs, forever: nothing is lost. A
5xx for the recipient marks the email ``bounced`` and the customer suppressed, and is reported.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from feedback_engine.errors import LockHeldError, NotifyError
from feedback_engine.loop.delivery import PermanentError, TransientError
from feedback_engine.loop.mail import POLICY
from feedback_engine.loop.outbox import (
    PlanResult,
    build_emails,
    cancel_customer_mail,
    cancel_ineligible,
    iso,
    plan,
    suppress_customer,
)
from feedback_engine.loop.recipients import eligibility
from feedback_engine.loop.settings import Settings
from feedback_engine.progress import NullProgress, Progress
from feedback_engine.store import Store

__all__ = ["NotifyReport", "run_notify", "job_lock", "backoff"]

BACKOFF_BASE = timedelta(minutes=5)
BACKOFF_MAX = timedelta(hours=6)
_MEMORY_LOCKS: dict[int, threading.Lock] = {}


def backoff(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: 5 min, 10, 20, ... capped at 6 h."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


@dataclass
class NotifyReport:
    mode: str
    planned: int = 0
    cancelled: int = 0
    held: int = 0
    queued: int = 0
    sent: int = 0
    retry: int = 0
    bounced: list[dict[str, Any]] = field(default_factory=list)
    unconfirmed: list[dict[str, Any]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)
    stopped: str | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@contextlib.contextmanager
def job_lock(store: Store, name: str = "notify") -> Iterator[None]:
    """Hold ``<db>.<name>.lock`` exclusively, or raise LockHeldError at once."""
    if store.path is None:
        lock = _MEMORY_LOCKS.setdefault(id(store), threading.Lock())
        if not lock.acquire(blocking=False):
            raise LockHeldError(f"Another {name} job is running on this database; this one exits.")
        try:
            yield
        finally:
            lock.release()
        return
    path = store.path.with_name(store.path.name + f".{name}.lock")
    try:
        fh = path.open("a+")
    except OSError as exc:
        raise NotifyError(f"Cannot open the lock file {path} ({exc.strerror}); make its folder writable.") from None
    try:
        if not _try_lock(fh):
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            raise LockHeldError(
                f"Another `feedback-engine {name} --send` (pid {holder}) is running on {store.path}; "
                "this one exits (what is due goes out with that run or the next).",
                lock=str(path),
            )
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield
    finally:
        fh.close()  # closing the file releases the lock


def _try_lock(fh: Any) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class _Rollback(Exception):
    pass


def _plan_and_build(store: Store, settings: Settings, now: datetime, report: NotifyReport) -> PlanResult:
    result = PlanResult()
    conn = store.conn
    plan(conn, now, result)
    cancel_ineligible(conn, now, result)
    build_emails(conn, settings, now, result)
    report.planned, report.cancelled, report.held = result.planned, result.cancelled, result.held
    report.excluded = dict(sorted(result.excluded.items()))
    return result


def _due(store: Store, now: datetime) -> list[dict[str, Any]]:
    return store.query(
        """SELECT id, customer_id, to_address, message_id, raw, attempts FROM emails
           WHERE status IN ('queued', 'retry') AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id""",
        (iso(now),),
    )


def run_notify(
    store: Store,
    settings: Settings,
    transport: Any = None,
    *,
    dry_run_dir: str | Path | None = None,
    send: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> NotifyReport:
    """Run the job once; see the module docstring for what each mode guarantees."""
    if (dry_run_dir is None) == (not send):
        raise NotifyError("Pass either --dry-run DIR (write the emails as .eml files) or --send (send them).")
    progress = progress or NullProgress()
    if dry_run_dir is not None:
        report = _dry_run(store, settings.for_dry_run(), Path(dry_run_dir), now or _now(), progress)
        if not settings.secret:
            report.notes.append(
                "FEEDBACK_ENGINE_SECRET is not set: the unsubscribe links in these files are placeholders."
            )
        return report
    settings = settings.for_sending()
    if transport is None:
        from feedback_engine.loop.transport import SMTPTransport

        transport = SMTPTransport.from_settings(settings)
    with job_lock(store):
        return _send(store, settings, transport, now, progress)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _dry_run(store: Store, settings: Settings, folder: Path, now: datetime, progress: Progress) -> NotifyReport:
    report = NotifyReport(mode="dry-run")
    if folder.exists() and not folder.is_dir():
        raise NotifyError(f"{folder} is a file; pass a folder to --dry-run.")
    folder.mkdir(parents=True, exist_ok=True)
    emails: list[dict[str, Any]] = []
    try:
        with store.transaction():
            _plan_and_build(store, settings, now, report)
            emails = _due(store, now)
            raise _Rollback
    except _Rollback:
        pass
    progress.start(len(emails), "render")
    for n, email in enumerate(emails, 1):
        path = folder / f"{n:04d}-customer-{email['customer_id']}.eml"
        path.write_bytes(email["raw"])
        report.files.append(str(path))
        progress.advance()
    progress.finish()
    report.queued = len(emails)
    return report


def _resolve_interrupted(store: Store, stamp: str, report: NotifyReport) -> None:
    """Rows left in 'sending' by a killed run: outcome unknown, never resent (at most once)."""
    rows = store.query("SELECT id, to_address, message_id, sending_at FROM emails WHERE status = 'sending'")
    with store.transaction() as conn:
        for row in rows:
            conn.execute("UPDATE emails SET status = 'unconfirmed', sent_at = sending_at WHERE id = ?", (row["id"],))
            conn.execute(
                "UPDATE delivery_attempts SET outcome = 'unconfirmed', finished_at = ?, "
                "detail = 'process stopped while the server was answering' WHERE email_id = ? AND outcome IS NULL",
                (stamp, row["id"]),
            )
    report.unconfirmed = [
        {"email_id": r["id"], "to": r["to_address"], "message_id": r["message_id"], "sending_at": r["sending_at"]}
        for r in rows
    ]


def _send(store: Store, settings: Settings, transport: Any, now: datetime | None, progress: Progress) -> NotifyReport:
    report = NotifyReport(mode="send")

    def stamp() -> datetime:
        return now or _now()

    _resolve_interrupted(store, iso(stamp()), report)
    with store.transaction():
        _plan_and_build(store, settings, stamp(), report)
    emails = _due(store, stamp())
    report.queued = len(emails)
    hook = bool(getattr(transport, "supports_before_commit", False))
    progress.start(len(emails), "send")
    try:
        for email in emails:
            progress.advance()
            if _still_wanted(store, email, stamp()) and _deliver(store, transport, email, hook, stamp, report):
                break
    finally:
        progress.finish()
        close = getattr(transport, "close", None)
        if callable(close):
            close()
    return report


def _still_wanted(store: Store, email: dict[str, Any], at: datetime) -> bool:
    contact = store.query(
        "SELECT email, consent, unsubscribed_at, suppressed_at FROM customers WHERE id = ?", (email["customer_id"],)
    )
    reason = "customer deleted" if not contact else eligibility(contact[0])
    if reason is None and contact[0]["email"] != email["to_address"]:
        with store.transaction() as conn:  # rebuilt for the new address by the next run
            conn.execute(
                "UPDATE emails SET status = 'cancelled', last_error = 'address changed' WHERE id = ?", (email["id"],)
            )
            conn.execute(
                "UPDATE notifications SET status = 'pending', email_id = NULL, updated_at = ? WHERE email_id = ?",
                (iso(at), email["id"]),
            )
        return False
    if reason is None:
        return True
    with store.transaction() as conn:
        cancel_customer_mail(conn, email["customer_id"], reason, iso(at))
    return False


def _deliver(store: Store, transport: Any, email: dict[str, Any], hook: bool, stamp: Any, report: NotifyReport) -> bool:
    """Send one email and record the outcome; returns True when the batch should stop."""
    message: EmailMessage = message_from_bytes(email["raw"], policy=POLICY)  # type: ignore[assignment]
    state: dict[str, Any] = {"attempt": None}

    def mark_sending() -> None:
        with store.transaction() as conn:
            conn.execute(
                "UPDATE emails SET status = 'sending', sending_at = ?, attempts = attempts + 1 WHERE id = ?",
                (iso(stamp()), email["id"]),
            )
            cur = conn.execute(
                "INSERT INTO delivery_attempts (email_id, started_at) VALUES (?, ?)", (email["id"], iso(stamp()))
            )
            state["attempt"] = cur.lastrowid

    def finish(conn: Any, outcome: str, code: int | None, detail: str | None) -> None:
        if state["attempt"] is None:
            cur = conn.execute(
                "INSERT INTO delivery_attempts (email_id, started_at) VALUES (?, ?)", (email["id"], iso(stamp()))
            )
            state["attempt"] = cur.lastrowid
            conn.execute("UPDATE emails SET attempts = attempts + 1 WHERE id = ?", (email["id"],))
        conn.execute(
            "UPDATE delivery_attempts SET finished_at = ?, outcome = ?, smtp_code = ?, detail = ? WHERE id = ?",
            (iso(stamp()), outcome, code, detail, state["attempt"]),
        )

    try:
        if hook:
            transport.send(message, before_commit=mark_sending)
        else:
            mark_sending()
            transport.send(message)
    except TransientError as exc:
        with store.transaction() as conn:
            finish(conn, "transient", exc.code, exc.message)
            attempts = conn.execute("SELECT attempts FROM emails WHERE id = ?", (email["id"],)).fetchone()[0]
            conn.execute(
                "UPDATE emails SET status = 'retry', next_attempt_at = ?, last_error = ? WHERE id = ?",
                (iso(stamp() + backoff(attempts)), exc.message, email["id"]),
            )
        report.retry += 1
        if exc.connection:
            report.stopped = exc.message
            return True
        return False
    except PermanentError as exc:
        with store.transaction() as conn:
            finish(conn, "permanent", exc.code, exc.message)
            conn.execute(
                "UPDATE emails SET status = 'bounced', last_error = ? WHERE id = ?", (exc.message, email["id"])
            )
            conn.execute(
                "UPDATE notifications SET status = 'cancelled', cancel_reason = 'bounced' WHERE email_id = ?",
                (email["id"],),
            )
            suppress_customer(conn, email["customer_id"], f"smtp {exc.code}: {exc.message}", iso(stamp()))
        report.bounced.append(
            {"customer_id": email["customer_id"], "to": email["to_address"], "code": exc.code, "reason": exc.message}
        )
        return False
    with store.transaction() as conn:
        finish(conn, "accepted", 250, None)
        conn.execute("UPDATE emails SET status = 'sent', sent_at = ? WHERE id = ?", (iso(stamp()), email["id"]))
    report.sent += 1
    return False
