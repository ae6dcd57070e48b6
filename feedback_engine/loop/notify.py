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

The envelope is never read from the message: ``RCPT TO`` is the stored ``emails.to_address``
(validated again before sending, and equal to the customer's current address), ``MAIL FROM``
the address of ``FEEDBACK_ENGINE_FROM``. An email whose stored To header does not name exactly
that address (rendered by an older version) is not sent but rebuilt by the next run; one whose
address is no longer valid is cancelled and listed under ``invalid``.

Transient failures (refused, timeout, 4xx) leave the email ``retry`` with exponential backoff
(5 minutes doubling, at most 6 hours), tried again by later runs, forever: nothing is lost.

Permanent rejections. A 5xx to ``RCPT TO`` rejects that one recipient: the email becomes
``bounced`` and the customer suppressed (reported under ``bounced``; ``customers unsuppress``
undoes it). A 5xx to ``MAIL FROM``, to ``DATA`` or after the body is a failure of the message
or the server, not proof that the address is bad: the email is retried like a transient failure
and nobody is suppressed. The same 5xx code for :data:`FAULT_STREAK` (3) different recipients
in a row is a server fault: the run stops, nobody from that streak is suppressed (a RCPT
rejection is only acted on once a success or a different reply ends its streak, or the batch
ends), and the emails stay queued for a later run.

A run that stopped early -- server unreachable, connection lost mid-batch, or a server fault --
sets ``report.stopped``; the CLI then exits 75 (``EX_TEMPFAIL``) after printing the report.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from feedback_engine.errors import NotifyError
from feedback_engine.loop.delivery import EX_TEMPFAIL, MessageRejected, PermanentError, TransientError
from feedback_engine.loop.mail import InvalidAddress, clean_header_text, header_recipients, make_address
from feedback_engine.loop.outbox import (
    PlanResult,
    build_emails,
    cancel_customer_mail,
    cancel_ineligible,
    iso,
    plan,
    suppress_customer,
)
from feedback_engine.loop.recipients import eligibility, preview
from feedback_engine.loop.settings import Settings, sender_address
from feedback_engine.progress import NullProgress, Progress
from feedback_engine.store import Store
from feedback_engine.store.locks import job_lock as store_job_lock

__all__ = ["NotifyReport", "run_notify", "job_lock", "backoff", "FAULT_STREAK"]

FAULT_STREAK = 3  # the same 5xx for this many different recipients in a row: the server is at fault
BACKOFF_BASE = timedelta(minutes=5)
BACKOFF_MAX = timedelta(hours=6)


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
    invalid: list[dict[str, Any]] = field(default_factory=list)
    stopped: str | None = None
    server_fault: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    # dry run: each email written, with who, for which actions, and the sentence it quotes
    emails: list[dict[str, Any]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0, or 75 (EX_TEMPFAIL) when the run stopped early because of the SMTP server."""
        return EX_TEMPFAIL if self.stopped else 0

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "exit_code": self.exit_code}


@contextlib.contextmanager
def job_lock(store: Store, name: str = "notify") -> Iterator[None]:
    """Hold ``<db>.<name>.lock`` exclusively, or raise LockHeldError at once (see :mod:`feedback_engine.store.locks`)."""
    with store_job_lock(
        store,
        name,
        command=f"feedback-engine {name} --send",
        after="this one exits (what is due goes out with that run or the next).",
        open_error=NotifyError,
    ):
        yield


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
    report.invalid = [
        {"customer_id": cid, "email": clean_header_text(addr, 100)} for cid, addr in sorted(result.invalid.items())
    ]
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
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NotifyError(
            f"Cannot create the folder {folder} ({exc.strerror or exc}); pass a folder you can write to, "
            "e.g. --dry-run outbox/."
        ) from None
    emails: list[dict[str, Any]] = []
    actions_of: dict[int, list[int]] = {}
    try:
        with store.transaction():
            _plan_and_build(store, settings, now, report)
            emails = _due(store, now)
            for email in emails:
                actions_of[int(email["id"])] = [
                    int(r[0])
                    for r in store.conn.execute(
                        "SELECT action_id FROM notifications WHERE email_id = ? ORDER BY action_id", (email["id"],)
                    )
                ]
            raise _Rollback
    except _Rollback:
        pass
    said = _matched_sentences(store, {a for ids in actions_of.values() for a in ids}, now)
    progress.start(len(emails), "render")
    for n, email in enumerate(emails, 1):
        path = folder / f"{n:04d}-customer-{email['customer_id']}.eml"
        try:
            path.write_bytes(email["raw"])
        except OSError as exc:
            raise NotifyError(f"Cannot write {path} ({exc.strerror or exc}); pass a folder you can write to.") from None
        report.files.append(str(path))
        aids = actions_of.get(int(email["id"]), [])
        match = next((said[(a, int(email["customer_id"]))] for a in aids if (a, int(email["customer_id"])) in said), {})
        report.emails.append(
            {
                "file": str(path),
                "to": email["to_address"],
                "customer_id": int(email["customer_id"]),
                "actions": aids,
                **match,
            }
        )
        progress.advance()
    progress.finish()
    report.queued = len(emails)
    return report


def _matched_sentences(store: Store, action_ids: set[int], now: datetime) -> dict[tuple[int, int], dict[str, Any]]:
    """(action, customer) -> the sentence that made them a recipient and its score: what
    ``actions recipients`` lists, so the dry run shows the same people and words."""
    out: dict[tuple[int, int], dict[str, Any]] = {}
    for aid in sorted(action_ids):
        for rec in preview(store, aid, now=now)["recipients"]:
            quote = " ".join(p for p in (rec.get("context"), rec.get("sentence")) if p) or None
            out[(aid, int(rec["customer_id"]))] = {"quote": quote, "score": rec["score"]}
    return out


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

    sender = sender_address(settings.from_address or "").addr_spec  # MAIL FROM: from the settings only
    _resolve_interrupted(store, iso(stamp()), report)
    with store.transaction():
        _plan_and_build(store, settings, stamp(), report)
    emails = _due(store, stamp())
    report.queued = len(emails)
    hook = bool(getattr(transport, "supports_before_commit", False))
    streak = _Streak(store, report, stamp)
    progress.start(len(emails), "send")
    try:
        for email in emails:
            progress.advance()
            recipient = _ready(store, email, stamp(), report)
            if recipient is None:
                continue
            outcome = _deliver(store, transport, email, sender, recipient, hook, stamp, report)
            if streak.add(email, outcome) or outcome.stop:
                break
        else:
            streak.flush()
    finally:
        streak.release()
        progress.finish()
        close = getattr(transport, "close", None)
        if callable(close):
            close()
    return report


def _requeue(store: Store, email: dict[str, Any], at: datetime, reason: str) -> None:
    """Cancel a not-yet-sent email and put its notifications back: the next run builds a new one."""
    with store.transaction() as conn:
        conn.execute("UPDATE emails SET status = 'cancelled', last_error = ? WHERE id = ?", (reason, email["id"]))
        conn.execute(
            "UPDATE notifications SET status = 'pending', email_id = NULL, updated_at = ? WHERE email_id = ?",
            (iso(at), email["id"]),
        )


def _report_invalid(report: NotifyReport, customer_id: int, address: str) -> None:
    if all(i["customer_id"] != customer_id for i in report.invalid):
        report.invalid.append({"customer_id": customer_id, "email": clean_header_text(address, 100)})


def _ready(store: Store, email: dict[str, Any], at: datetime, report: NotifyReport) -> str | None:
    """The envelope recipient of ``email`` when it may be sent now, else None (and the row is dealt with)."""
    contact = store.query(
        "SELECT email, consent, unsubscribed_at, suppressed_at FROM customers WHERE id = ?", (email["customer_id"],)
    )
    reason = "customer deleted" if not contact else eligibility(contact[0])
    if reason is not None:
        with store.transaction() as conn:
            cancel_customer_mail(conn, email["customer_id"], reason, iso(at))
        if reason == "invalid_email":
            _report_invalid(report, email["customer_id"], contact[0]["email"])
        return None
    try:
        recipient = make_address(email["to_address"]).addr_spec  # the stored address, validated again
    except InvalidAddress:
        with store.transaction() as conn:
            cancel_customer_mail(conn, email["customer_id"], "invalid_email", iso(at))
        _report_invalid(report, email["customer_id"], email["to_address"])
        return None
    if contact[0]["email"] != recipient:
        _requeue(store, email, at, "address changed")  # rebuilt for the new address by the next run
        return None
    if header_recipients(email["raw"]) != [recipient]:
        _requeue(store, email, at, "To header did not match the stored address; rebuilt")
        report.notes.append(
            f"Email {email['id']} was not sent: its To header does not name exactly {recipient}; "
            "the next run sends a rebuilt one."
        )
        return None
    return recipient


@dataclass
class _Outcome:
    kind: str  # sent, retry, rejected (5xx to MAIL/DATA/body), refused (5xx to RCPT)
    code: int | None = None
    detail: str | None = None
    error: PermanentError | None = None
    stop: bool = False  # the connection failed: stop the batch


class _Streak:
    """Consecutive 5xx replies with the same code; RCPT rejections are held until the streak ends."""

    def __init__(self, store: Store, report: NotifyReport, stamp: Any) -> None:
        self.store, self.report, self.stamp = store, report, stamp
        self.code: int | None = None
        self.count = 0
        self.held: list[tuple[dict[str, Any], PermanentError]] = []
        self.recipients: list[str] = []

    def add(self, email: dict[str, Any], outcome: _Outcome) -> bool:
        """Count one outcome; True when the streak shows a server fault (stop the run)."""
        if outcome.kind in ("refused", "rejected"):
            if outcome.code != self.code:
                self.flush()
                self.code, self.count, self.recipients = outcome.code, 0, []
            self.count += 1
            self.recipients.append(email["to_address"])
            if outcome.error is not None:
                self.held.append((email, outcome.error))
            if self.count >= FAULT_STREAK:
                self._fault(outcome)
                return True
            return False
        if not outcome.stop:  # a success or a different reply ends the streak
            self.flush()
            self.code, self.count, self.recipients = None, 0, []
        return False

    def flush(self) -> None:
        """The held RCPT rejections were real: bounce and suppress those customers."""
        held, self.held = self.held, []
        for email, exc in held:
            _bounce(self.store, email, exc, self.stamp())
            self.report.bounced.append(
                {
                    "customer_id": email["customer_id"],
                    "to": email["to_address"],
                    "code": exc.code,
                    "reason": exc.message,
                }
            )

    def release(self) -> None:
        """The run stopped before the held rejections were settled: nobody is suppressed, all are retried."""
        held, self.held = self.held, []
        self.report.retry += len(held)
        if held and self.report.server_fault is None:
            self.report.notes.append(
                f"{len(held)} rejected recipients were not suppressed because the run stopped; "
                "they are tried again by the next run."
            )

    def _fault(self, outcome: _Outcome) -> None:
        self.report.server_fault = {
            "code": self.code,
            "recipients": list(self.recipients),
            "last_reply": outcome.detail,
        }
        self.report.stopped = (
            f"The SMTP server answered {self.code} for {self.count} different recipients in a row "
            f"(last: {(outcome.detail or '').rstrip('.')}); that is a server fault, not bad addresses, so nobody was suppressed. "
            "Check the SMTP server; the emails stay queued for the next run."
        )


def _bounce(store: Store, email: dict[str, Any], exc: PermanentError, at: datetime) -> None:
    with store.transaction() as conn:
        conn.execute("UPDATE emails SET status = 'bounced', last_error = ? WHERE id = ?", (exc.message, email["id"]))
        conn.execute(
            "UPDATE notifications SET status = 'cancelled', cancel_reason = 'bounced' WHERE email_id = ?",
            (email["id"],),
        )
        suppress_customer(conn, email["customer_id"], f"smtp {exc.code}: {exc.message}", iso(at))


def _deliver(
    store: Store,
    transport: Any,
    email: dict[str, Any],
    sender: str,
    recipient: str,
    hook: bool,
    stamp: Any,
    report: NotifyReport,
) -> _Outcome:
    """Send one email to the given envelope and record the outcome."""
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

    def retry_later(conn: Any, error: str) -> None:
        attempts = conn.execute("SELECT attempts FROM emails WHERE id = ?", (email["id"],)).fetchone()[0]
        conn.execute(
            "UPDATE emails SET status = 'retry', next_attempt_at = ?, last_error = ? WHERE id = ?",
            (iso(stamp() + backoff(attempts)), error, email["id"]),
        )

    envelope = {"sender": sender, "recipients": [recipient]}
    try:
        if hook:
            transport.send(email["raw"], **envelope, before_commit=mark_sending)
        else:
            mark_sending()
            transport.send(email["raw"], **envelope)
    except InvalidAddress as exc:  # the transport's own check of the envelope
        with store.transaction() as conn:
            finish(conn, "transient", None, exc.message)
            cancel_customer_mail(conn, email["customer_id"], "invalid_email", iso(stamp()))
            conn.execute("UPDATE emails SET status = 'cancelled' WHERE id = ? AND status = 'sending'", (email["id"],))
        _report_invalid(report, email["customer_id"], recipient)
        return _Outcome("invalid")
    except TransientError as exc:
        with store.transaction() as conn:
            finish(conn, "transient", exc.code, exc.message)
            retry_later(conn, exc.message)
        report.retry += 1
        if exc.connection:
            report.stopped = exc.message
        kind = "rejected" if isinstance(exc, MessageRejected) else "retry"
        return _Outcome(kind, exc.code, exc.message, stop=exc.connection)
    except PermanentError as exc:
        with store.transaction() as conn:  # held: bounced once the streak shows it was this recipient
            finish(conn, "permanent", exc.code, exc.message)
            retry_later(conn, exc.message)
        return _Outcome("refused", exc.code, exc.message, error=exc)
    with store.transaction() as conn:
        finish(conn, "accepted", 250, None)
        conn.execute("UPDATE emails SET status = 'sent', sent_at = ? WHERE id = ?", (iso(stamp()), email["id"]))
    report.sent += 1
    return _Outcome("sent", 250)
