"""Alerts: the flags of :mod:`~feedback_engine.insights.emerging`, sent once to staff.

``feedback-engine alerts`` (no ``--send``) lists what is flagged now and which flags were
already sent; it writes nothing. ``alerts --send``, safe from cron every few minutes:

1. holds ``<db>.alerts.lock`` (:func:`feedback_engine.store.locks.job_lock`): a second instance
   exits at once with exit code 3 saying so;
2. records every current flag as an alert, once per key (``volume:<theme>:<day>``,
   ``negative:...``, ``channel:...``, ``new_theme:<theme>``; migration 011) with its counts and 3
   quotes (redacted text, the theme's evidence sentences first);
3. sends every due alert of each configured channel:

   - **email**: one digest to the staff addresses of ``FEEDBACK_ENGINE_ALERT_TO`` (comma
     separated) through the mail transport (``loop.transport.SMTPTransport``; SMTP host and
     sender from the notify settings), headers built the notify way (``loop.mail``: checked
     addresses, a cleaned subject). The alerts are marked ``sending`` once the server is ready
     for the body; a run that finds them still ``sending`` marks them ``unconfirmed`` and never
     resends them (at most once, like notify);
   - **webhook**: one JSON POST ``{"text": ...}`` (Slack-compatible; ``& < >`` escaped) to
     ``FEEDBACK_ENGINE_ALERT_WEBHOOK`` over httpx, tried up to 3 times in the run on a
     connection error, a 5xx or a 429.

   A failed send leaves its alerts due (``retry``, backoff 5 min doubling to 6 h, as notify):
   nothing is lost, a later run sends them. An alert is recorded for the channels configured at
   the time; one that was sent is never sent again.

Exit codes (CLI): 0 done; 2 a setting is missing or invalid; 3 another run holds the lock; 75
(``EX_TEMPFAIL``) a send failed and its alerts wait for the next run.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import httpx

from feedback_engine.errors import ConfigError, NotifyError
from feedback_engine.insights import queries as iq
from feedback_engine.insights.emerging import FDR, emerging
from feedback_engine.insights.queries import Filters
from feedback_engine.loop.delivery import EX_TEMPFAIL, PermanentError, TransientError
from feedback_engine.loop.mail import POLICY, InvalidAddress, clean_header_text, clean_subject, make_address
from feedback_engine.loop.notify import backoff
from feedback_engine.loop.settings import Settings, sender_address
from feedback_engine.store import Store
from feedback_engine.store.locks import job_lock
from feedback_engine.themes.evidence import theme_evidence

__all__ = ["AlertSettings", "AlertReport", "run_alerts", "detect", "QUOTES", "WEBHOOK_TRIES"]

QUOTES = 3
QUOTE_CHARS = 280
WEBHOOK_TRIES = 3
WEBHOOK_TIMEOUT = 10.0


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go: ``FEEDBACK_ENGINE_ALERT_TO`` (addresses) and ``FEEDBACK_ENGINE_ALERT_WEBHOOK`` (URL)."""

    to: tuple[str, ...] = ()
    webhook: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AlertSettings:
        env = os.environ if env is None else env
        raw = (env.get("FEEDBACK_ENGINE_ALERT_TO") or "").replace(";", ",")
        to = []
        for part in (p.strip() for p in raw.split(",")):
            if not part:
                continue
            try:
                to.append(make_address(part).addr_spec)
            except InvalidAddress as exc:
                raise ConfigError(f"FEEDBACK_ENGINE_ALERT_TO holds an unusable address ({exc.message}).") from None
        url = (env.get("FEEDBACK_ENGINE_ALERT_WEBHOOK") or "").strip() or None
        if url is not None and (not url.startswith(("http://", "https://")) or any(c.isspace() for c in url)):
            raise ConfigError(
                f"FEEDBACK_ENGINE_ALERT_WEBHOOK must be an http(s) URL without spaces (got {clean_header_text(url, 80)!r})."
            )
        return cls(tuple(dict.fromkeys(to)), url)


@dataclass
class AlertReport:
    mode: str  # preview | send
    found: int = 0
    new: int = 0
    alerts: list[dict[str, Any]] = field(default_factory=list)
    email: dict[str, Any] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)
    unconfirmed: list[int] = field(default_factory=list)
    stopped: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EX_TEMPFAIL if self.stopped else 0

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "exit_code": self.exit_code}


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE_CHARS else flat[: QUOTE_CHARS - 1].rstrip() + "…"


def quotes(store: Store, theme_id: int, feedback_ids: Sequence[int], n: int = QUOTES) -> list[str]:
    """Up to ``n`` redacted quotes among these items: the theme's evidence sentences (best first), then items."""
    ids = [int(f) for f in feedback_ids]
    if not ids:
        return []
    found = theme_evidence(store.conn, [theme_id], feedback_ids=ids)
    out = []
    for e in sorted(found.values(), key=lambda e: (-e.score, e.feedback_id)):
        if e.quote:
            out.append(_one_line(e.quote))
    if len(out) < n:
        texts = iq.redacted_texts(store.conn, [f for f in ids if f not in found])
        out += [_one_line(texts[f]) for f in ids if f in texts]
    return list(dict.fromkeys(out))[:n]


def detect(store: Store, filters: Filters | None = None, fdr: float = FDR) -> list[dict[str, Any]]:
    """Every current flag (emerging's flags and new themes), each with its quotes."""
    result = emerging(store, filters, fdr=fdr)
    flags = [*result["flags"], *result["new_themes"]]
    for f in flags:
        f["quotes"] = quotes(store, int(f["theme_id"]), f.get("feedback_ids", []))
    return flags


def run_alerts(
    store: Store,
    mail: Settings,
    settings: AlertSettings,
    transport: Any = None,
    *,
    send: bool = False,
    now: datetime | None = None,
    http: httpx.Client | None = None,
    retry_delays: Sequence[float] = (0.5, 1.0),
    fdr: float = FDR,
) -> AlertReport:
    """Preview (``send=False``) or record and send the alerts; see the module docstring."""
    if not send:
        report = AlertReport("preview")
        flags = detect(store, fdr=fdr)
        sent = {
            str(r[0]): (str(r[1]), str(r[2]))
            for r in store.conn.execute("SELECT key, email_status, webhook_status FROM alerts")
        }
        for f in flags:
            f["recorded"] = sent.get(f["key"])
        report.found, report.alerts = len(flags), [_public(f) for f in flags]
        report.new = sum(1 for f in flags if f["recorded"] is None)
        return report
    if not settings.to and not settings.webhook:
        raise ConfigError(
            "Neither FEEDBACK_ENGINE_ALERT_TO nor FEEDBACK_ENGINE_ALERT_WEBHOOK is set; alerts --send has nowhere to send."
        )
    if settings.to:
        for name, value in (("SMTP_HOST", mail.smtp_host), ("FROM", mail.from_address)):
            if not value:
                raise ConfigError(
                    f"FEEDBACK_ENGINE_{name} is not set; alerts by email (FEEDBACK_ENGINE_ALERT_TO) need it."
                )
        sender_address(mail.from_address or "")
        if transport is None:
            from feedback_engine.loop.transport import SMTPTransport

            transport = SMTPTransport.from_settings(mail)
    stamp = now or _now()
    with job_lock(
        store,
        "alerts",
        command="feedback-engine alerts --send",
        after="this one exits (what is due goes out with that run or the next).",
        open_error=NotifyError,
    ):
        report = AlertReport("send")
        with store.transaction() as conn:
            report.unconfirmed = iq.interrupted(conn)
        flags = detect(store, fdr=fdr)
        report.found = len(flags)
        with store.transaction() as conn:
            for f in flags:
                if iq.record_alert(
                    conn, _public(f), {"email": bool(settings.to), "webhook": bool(settings.webhook)}, _iso(stamp)
                ):
                    report.new += 1
                    report.alerts.append(_public(f))
        if settings.to:
            _send_email(store, mail, settings, transport, stamp, report)
        if settings.webhook:
            _send_webhook(store, settings.webhook, stamp, report, http, retry_delays)
        return report


def _public(flag: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in flag.items() if k != "feedback_ids"}


def digest(alerts: list[dict[str, Any]]) -> str:
    """The plain text of a digest: one numbered alert per block, its counts, then its quotes."""
    lines = [f"{len(alerts)} feedback alert{'s' if len(alerts) != 1 else ''}:", ""]
    for n, a in enumerate(alerts, 1):
        detail = a["detail"]
        lines.append(f"{n}. [{detail['kind']}] {_one_line(a['summary'])}")
        for q in detail.get("quotes", [])[:QUOTES]:
            lines.append(f'   "{q}"')
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _message(mail: Settings, to: Sequence[str], alerts: list[dict[str, Any]], at: datetime) -> tuple[bytes, str]:
    sender = sender_address(mail.from_address or "")
    keys = "\n".join(a["key"] for a in alerts)
    message_id = f"<alerts.{hashlib.sha256(keys.encode()).hexdigest()[:32]}@{sender.domain}>"
    labels = ", ".join(dict.fromkeys(str(a["detail"].get("label", "")) for a in alerts))
    msg = EmailMessage(policy=POLICY)
    msg["From"] = sender
    msg["To"] = tuple(make_address(a) for a in to)
    msg["Subject"] = clean_subject(f"Feedback alerts: {len(alerts)} new ({labels})")
    msg["Date"] = format_datetime(at)
    msg["Message-ID"] = message_id
    msg.set_content(digest(alerts), cte="quoted-printable")
    return msg.as_bytes(policy=POLICY), message_id


def _send_email(
    store: Store, mail: Settings, settings: AlertSettings, transport: Any, at: datetime, report: AlertReport
) -> None:
    due = iq.pending_alerts(store.conn, "email", _iso(at))
    report.email = {"to": list(settings.to), "due": len(due), "sent": 0, "retry": 0, "error": None}
    if not due:
        return
    ids = [a["id"] for a in due]
    raw, message_id = _message(mail, settings.to, due, at)
    report.email["message_id"] = message_id
    sender = sender_address(mail.from_address or "").addr_spec

    def mark_sending() -> None:
        with store.transaction() as conn:
            iq.mark_alerts(conn, "email", ids, "sending", _iso(at))

    hook = bool(getattr(transport, "supports_before_commit", False))
    tried = max(a["attempts"] for a in due) + 1
    try:
        if hook:
            transport.send(raw, sender=sender, recipients=list(settings.to), before_commit=mark_sending)
        else:
            mark_sending()
            transport.send(raw, sender=sender, recipients=list(settings.to))
    except (TransientError, PermanentError, InvalidAddress) as exc:
        with store.transaction() as conn:
            next_at = _iso(at + backoff(tried))
            iq.mark_alerts(conn, "email", ids, "retry", _iso(at), error=exc.message, next_at=next_at, attempt=True)
        report.email.update(retry=len(ids), error=exc.message)
        report.stopped = f"The alert email was not sent ({exc.message}); its {len(ids)} alerts wait for the next run."
        return
    finally:
        close = getattr(transport, "close", None)
        if callable(close):
            close()
    with store.transaction() as conn:
        iq.mark_alerts(conn, "email", ids, "sent", _iso(at), attempt=True)
    report.email["sent"] = len(ids)


def slack_escape(text: str) -> str:
    """Slack's three control characters in message text (``& < >``), escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _send_webhook(
    store: Store,
    url: str,
    at: datetime,
    report: AlertReport,
    http: httpx.Client | None,
    delays: Sequence[float],
) -> None:
    due = iq.pending_alerts(store.conn, "webhook", _iso(at))
    report.webhook = {"due": len(due), "sent": 0, "retry": 0, "tries": 0, "error": None}
    if not due:
        return
    ids = [a["id"] for a in due]
    payload = {"text": slack_escape(digest(due))}
    client = http or httpx.Client(timeout=WEBHOOK_TIMEOUT)
    error: str | None = None
    try:
        for attempt in range(WEBHOOK_TRIES):
            if attempt:
                time.sleep(delays[min(attempt - 1, len(delays) - 1)] if delays else 0)
            report.webhook["tries"] += 1
            try:
                response = client.post(url, json=payload)
            except httpx.HTTPError as exc:
                error = f"cannot reach the alert webhook ({type(exc).__name__}: {clean_header_text(str(exc), 120)})"
                continue
            if 200 <= response.status_code < 300:
                error = None
                break
            error = f"the alert webhook answered {response.status_code}"
            if response.status_code < 500 and response.status_code != 429:
                error += "; check FEEDBACK_ENGINE_ALERT_WEBHOOK"
                break  # a client error: trying again now would get the same answer
    finally:
        if http is None:
            client.close()
    tries = report.webhook["tries"]
    with store.transaction() as conn:
        if error is None:
            iq.mark_alerts(conn, "webhook", ids, "sent", _iso(at), attempt=True)
            conn.execute(
                f"UPDATE alerts SET webhook_attempts = webhook_attempts + ? WHERE id IN ({','.join('?' * len(ids))})",
                [tries - 1, *ids],
            )
            report.webhook["sent"] = len(ids)
            return
        attempts = max(a["attempts"] for a in due) + tries
        iq.mark_alerts(conn, "webhook", ids, "retry", _iso(at), error=error, next_at=_iso(at + backoff(attempts)))
        conn.execute(
            f"UPDATE alerts SET webhook_attempts = webhook_attempts + ? WHERE id IN ({','.join('?' * len(ids))})",
            [tries, *ids],
        )
    report.webhook.update(retry=len(ids), error=error)
    msg = f"The alert webhook POST failed after {tries} tries ({error}); its {len(ids)} alerts wait for the next run."
    report.stopped = report.stopped + " " + msg if report.stopped else msg
