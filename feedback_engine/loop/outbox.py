"""The outbox: plan notifications, group them into emails under the frequency cap, unsubscribe.

1. ``plan``: every shipped action gets one ``notifications`` row per recipient; the unique
   ``idem_key`` (``action:<id>:customer:<id>``) makes planning idempotent. A recipient in the
   action's holdout (:mod:`feedback_engine.loop.holdout`) gets a row cancelled with the reason
   ``holdout`` instead: recorded as the control group, never emailed about that action.
2. ``cancel_ineligible``: pending rows of customers who unsubscribed, were suppressed or lost
   consent since are cancelled.
3. ``build_emails``: a customer's pending rows become ONE email (a digest when there are
   several), unless the customer got an email within the cap (default 7 days) or has one still
   waiting: then they are held and go out, together, once the cap allows.
All three run inside the caller's transaction.

Contact changes (:func:`unsubscribe_customer`, :func:`resubscribe_customer`,
:func:`suppress_customer`, :func:`unsuppress_customer`) are recorded in ``contact_events`` with
who and when. Unsuppressing puts the updates that the suppression cancelled back in the outbox.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from feedback_engine.errors import NotFoundError
from feedback_engine.loop.holdout import HOLDOUT_REASON, held_back, holdout_of
from feedback_engine.loop.mail import build_message, make_address, message_id_for
from feedback_engine.loop.recipients import action_evidence, eligibility, parse_time, recipients_for, theme_survivors
from feedback_engine.loop.render import Update, channel_phrase, human_date, render_email, shorten
from feedback_engine.loop.settings import Settings, sender_address
from feedback_engine.loop.tokens import make_token
from feedback_engine.store import Store

__all__ = [
    "PlanResult",
    "plan",
    "cancel_ineligible",
    "build_emails",
    "unsubscribe_customer",
    "resubscribe_customer",
    "suppress_customer",
    "unsuppress_customer",
    "contact_events",
    "iso",
]

CONTACT_COLUMNS = "id, email, display_name, consent, unsubscribed_at, suppressed_at"


def iso(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class PlanResult:
    planned: int = 0
    cancelled: int = 0
    held: int = 0
    built: list[int] = field(default_factory=list)
    excluded: Counter[str] = field(default_factory=Counter)
    invalid: dict[int, str] = field(default_factory=dict)  # customer id -> the unusable address


def plan(conn: sqlite3.Connection, now: datetime, result: PlanResult) -> None:
    """Queue a pending notification for every (recipient, shipped action) not queued before."""
    survivors = theme_survivors(conn)
    stamp = iso(now)
    actions = conn.execute(
        "SELECT id, shipped_at FROM actions WHERE status = 'shipped' ORDER BY shipped_at, id"
    ).fetchall()
    for action_id, shipped_at in actions:
        recipients, excluded = recipients_for(conn, action_id, shipped_at, survivors, invalid=result.invalid)
        result.excluded.update(excluded)
        holdout = holdout_of(conn, action_id)
        for rec in recipients:
            held = holdout is not None and held_back(holdout[1], action_id, rec.customer_id, holdout[0])
            cur = conn.execute(
                """INSERT OR IGNORE INTO notifications
                   (idem_key, action_id, customer_id, feedback_ids, status, cancel_reason, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    f"action:{action_id}:customer:{rec.customer_id}",
                    action_id,
                    rec.customer_id,
                    json.dumps(rec.feedback_ids),
                    "cancelled" if held else "pending",
                    HOLDOUT_REASON if held else None,  # the control group: recorded, never emailed
                    stamp,
                    stamp,
                ),
            )
            if held:
                result.excluded["holdout"] += 1
            else:
                result.planned += cur.rowcount


def _contact(conn: sqlite3.Connection, customer_id: int) -> dict | None:
    cursor = conn.execute(f"SELECT {CONTACT_COLUMNS} FROM customers WHERE id = ?", (customer_id,))
    row = cursor.fetchone()
    return None if row is None else dict(zip([d[0] for d in cursor.description], row, strict=True))


def cancel_ineligible(conn: sqlite3.Connection, now: datetime, result: PlanResult) -> None:
    customers = [r[0] for r in conn.execute("SELECT DISTINCT customer_id FROM notifications WHERE status = 'pending'")]
    for cid in customers:
        contact = _contact(conn, cid)
        reason = "customer deleted" if contact is None else eligibility(contact)
        if reason is not None:
            cur = conn.execute(
                "UPDATE notifications SET status = 'cancelled', cancel_reason = ?, updated_at = ? "
                "WHERE customer_id = ? AND status = 'pending'",
                (reason, iso(now), cid),
            )
            result.cancelled += cur.rowcount


def _held(conn: sqlite3.Connection, customer_id: int, now: datetime, cap: timedelta) -> bool:
    waiting = conn.execute(
        "SELECT 1 FROM emails WHERE customer_id = ? AND status IN ('queued', 'retry', 'sending')", (customer_id,)
    ).fetchone()
    if waiting:
        return True
    last = conn.execute(
        "SELECT max(coalesce(sent_at, sending_at)) FROM emails WHERE customer_id = ? AND status IN ('sent', 'unconfirmed')",
        (customer_id,),
    ).fetchone()[0]
    last_at = parse_time(last)
    return last_at is not None and now - last_at < cap


def _has_analysis(conn: sqlite3.Connection) -> bool:
    return any(r[1] == "redacted_text" for r in conn.execute("PRAGMA table_info(analysis)"))


def _update_for(conn: sqlite3.Connection, action_id: int, feedback_ids: list[int], with_analysis: bool) -> Update:
    title, description, shipped_at = conn.execute(
        "SELECT title, description, shipped_at FROM actions WHERE id = ?", (action_id,)
    ).fetchone()
    chosen, quote = None, None
    matches = action_evidence(conn, action_id, feedback_ids=feedback_ids) if with_analysis else {}
    for fid in feedback_ids:
        row = conn.execute(
            "SELECT id, created_at, ingested_at, channel, platform FROM feedback WHERE id = ?", (fid,)
        ).fetchone()
        if row is None:
            continue
        chosen = chosen or row
        matched = matches.get(fid)
        if matched is not None and matched.quote:  # the sentence that made them a recipient, not the item's start
            chosen, quote = row, shorten(matched.quote)
            break
        if with_analysis:
            red = conn.execute("SELECT redacted_text FROM analysis WHERE feedback_id = ?", (fid,)).fetchone()
            if red and red[0] and red[0].strip():
                chosen, quote = row, shorten(red[0])
                break
    if chosen is None:
        written, channel = None, "in a survey"
    else:
        written = parse_time(chosen[1]) or parse_time(chosen[2])
        channel = channel_phrase(chosen[3], chosen[4])
    return Update(
        title=title,
        description=description.strip(),
        shipped_on=human_date(parse_time(shipped_at)),
        written_on=human_date(written),
        channel=channel,
        quote=quote,
    )


def build_emails(conn: sqlite3.Connection, settings: Settings, now: datetime, result: PlanResult) -> None:
    """Turn pending notifications into queued emails (one per customer), respecting the cap."""
    assert settings.from_address and settings.base_url and settings.secret
    cap = timedelta(days=settings.frequency_days)
    sender = sender_address(settings.from_address)
    with_analysis = _has_analysis(conn)
    customers = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT customer_id FROM notifications WHERE status = 'pending' ORDER BY customer_id"
        )
    ]
    for cid in customers:
        rows = conn.execute(
            """SELECT n.id, n.idem_key, n.action_id, n.feedback_ids FROM notifications n JOIN actions a ON a.id = n.action_id
               WHERE n.customer_id = ? AND n.status = 'pending' ORDER BY a.shipped_at, a.id""",
            (cid,),
        ).fetchall()
        if _held(conn, cid, now, cap):
            result.held += len(rows)
            continue
        contact = _contact(conn, cid)
        assert contact is not None  # cancel_ineligible ran first
        updates = [_update_for(conn, action_id, json.loads(fids), with_analysis) for _, _, action_id, fids in rows]
        url = f"{settings.base_url.rstrip('/')}/unsubscribe?token={make_token(settings.secret, cid)}"
        rendered = render_email(
            customer_name=contact["display_name"], updates=updates, unsubscribe_url=url, sender_name=sender.display_name
        )
        to = make_address(contact["email"], contact["display_name"])
        keys = [r[1] for r in rows] + [f"to:{to.addr_spec}"]
        message_id, rebuild = message_id_for(keys, sender), 0
        while conn.execute("SELECT 1 FROM emails WHERE message_id = ?", (message_id,)).fetchone():
            rebuild += 1  # the same updates again after a cancelled or bounced email (never accepted)
            message_id = message_id_for([*keys, f"rebuild:{rebuild}"], sender)
        message = build_message(
            sender=sender,
            to=to,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            message_id=message_id,
            date=now,
            unsubscribe_url=url,
        )
        cur = conn.execute(
            """INSERT INTO emails (customer_id, to_address, from_address, message_id, subject, template, raw, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                cid,
                to.addr_spec,
                sender.addr_spec,
                message_id,
                rendered.subject,
                rendered.template,
                message.as_bytes(),
                iso(now),
            ),
        )
        email_id = int(cur.lastrowid or 0)
        conn.executemany(
            "UPDATE notifications SET status = 'assigned', email_id = ?, updated_at = ? WHERE id = ?",
            [(email_id, iso(now), r[0]) for r in rows],
        )
        result.built.append(email_id)


def cancel_customer_mail(conn: sqlite3.Connection, customer_id: int, reason: str, stamp: str) -> None:
    """Cancel everything not yet handed to the SMTP server for one customer."""
    conn.execute(
        "UPDATE notifications SET status = 'cancelled', cancel_reason = ?, updated_at = ? "
        "WHERE customer_id = ? AND (status = 'pending' OR email_id IN "
        "(SELECT id FROM emails WHERE customer_id = ? AND status IN ('queued', 'retry')))",
        (reason, stamp, customer_id, customer_id),
    )
    conn.execute(
        "UPDATE emails SET status = 'cancelled', last_error = ? WHERE customer_id = ? AND status IN ('queued', 'retry')",
        (reason, customer_id),
    )


def record_contact_event(
    conn: sqlite3.Connection, customer_id: int, event: str, by: str, stamp: str, detail: str | None = None
) -> None:
    conn.execute(
        "INSERT INTO contact_events (customer_id, at, by, event, detail) VALUES (?, ?, ?, ?, ?)",
        (customer_id, stamp, by[:200], event, None if detail is None else detail[:500]),
    )


def suppress_customer(conn: sqlite3.Connection, customer_id: int, reason: str, stamp: str) -> None:
    already = conn.execute("SELECT suppressed_at FROM customers WHERE id = ?", (customer_id,)).fetchone()
    conn.execute(
        "UPDATE customers SET suppressed_at = coalesce(suppressed_at, ?), suppressed_reason = ?, updated_at = ? WHERE id = ?",
        (stamp, reason[:500], stamp, customer_id),
    )
    if already is not None and already[0] is None:
        record_contact_event(conn, customer_id, "suppressed", "notify", stamp, reason)
    cancel_customer_mail(conn, customer_id, "suppressed", stamp)


def _email_of(conn: sqlite3.Connection, customer_id: int, columns: str) -> tuple:
    row = conn.execute(f"SELECT email, {columns} FROM customers WHERE id = ?", (customer_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"No customer with id {customer_id}.", customer_id=customer_id)
    return tuple(row)


def unsubscribe_customer(
    store: Store,
    customer_id: int,
    source: str,
    *,
    now: datetime | None = None,
    detail: str | None = None,
    by: str | None = None,
) -> dict:
    """Record an opt-out (idempotent: the first date is kept); returns the customer's email and date."""
    stamp = iso(now or datetime.now(UTC))
    with store.transaction() as conn:
        email, already = _email_of(conn, customer_id, "unsubscribed_at")
        if already is None:
            conn.execute(
                "UPDATE customers SET unsubscribed_at = ?, updated_at = ? WHERE id = ?", (stamp, stamp, customer_id)
            )
            record_contact_event(conn, customer_id, "unsubscribed", by or source, stamp, detail or source)
        conn.execute(
            "INSERT INTO unsubscribe_events (customer_id, at, source, detail) VALUES (?, ?, ?, ?)",
            (customer_id, stamp, source, detail),
        )
        cancel_customer_mail(conn, customer_id, "unsubscribed", stamp)
    return {
        "customer_id": customer_id,
        "email": email,
        "unsubscribed_at": already or stamp,
        "already": already is not None,
    }


def resubscribe_customer(store: Store, customer_id: int, by: str, *, now: datetime | None = None) -> dict:
    """Undo an opt-out (future updates only: what the opt-out cancelled stays cancelled)."""
    stamp = iso(now or datetime.now(UTC))
    with store.transaction() as conn:
        email, since, consent = _email_of(conn, customer_id, "unsubscribed_at, consent")
        if since is not None:
            conn.execute(
                "UPDATE customers SET unsubscribed_at = NULL, updated_at = ? WHERE id = ?", (stamp, customer_id)
            )
            record_contact_event(conn, customer_id, "resubscribed", by, stamp, f"unsubscribed since {since}")
    return {
        "customer_id": customer_id,
        "email": email,
        "changed": since is not None,
        "unsubscribed_since": since,
        "consent": consent,
        "by": by,
        "at": stamp,
    }


def unsuppress_customer(store: Store, customer_id: int, by: str, *, now: datetime | None = None) -> dict:
    """Lift a suppression; the updates it cancelled (bounced or suppressed) are queued again."""
    stamp = iso(now or datetime.now(UTC))
    requeued = 0
    with store.transaction() as conn:
        email, since, reason = _email_of(conn, customer_id, "suppressed_at, suppressed_reason")
        if since is not None:
            conn.execute(
                "UPDATE customers SET suppressed_at = NULL, suppressed_reason = NULL, updated_at = ? WHERE id = ?",
                (stamp, customer_id),
            )
            cur = conn.execute(
                "UPDATE notifications SET status = 'pending', email_id = NULL, cancel_reason = NULL, updated_at = ? "
                "WHERE customer_id = ? AND status = 'cancelled' AND cancel_reason IN ('suppressed', 'bounced')",
                (stamp, customer_id),
            )
            requeued = cur.rowcount
            record_contact_event(conn, customer_id, "unsuppressed", by, stamp, reason or f"suppressed since {since}")
    return {
        "customer_id": customer_id,
        "email": email,
        "changed": since is not None,
        "suppressed_since": since,
        "reason": reason,
        "requeued": requeued,
        "by": by,
        "at": stamp,
    }


def contact_events(store: Store, customer_id: int) -> list[dict]:
    return store.query(
        "SELECT at, by, event, detail FROM contact_events WHERE customer_id = ? ORDER BY id", (customer_id,)
    )


CUSTOMER_COLUMNS = (
    "id, email, display_name, platform, handle, consent, unsubscribed_at, suppressed_at, suppressed_reason"
)


def customer_id_by_email(store: Store, email: str) -> int | None:
    """The id of the customer whose (normalised, lower-case) email this is, or None."""
    cid = store.scalar("SELECT id FROM customers WHERE email = ?", (email.lower(),))
    return None if cid is None else int(cid)


def customer_exists(store: Store, customer_id: int) -> bool:
    return store.scalar("SELECT 1 FROM customers WHERE id = ?", (customer_id,)) is not None


def customer_rows(store: Store, customer_id: int | None = None) -> list[dict]:
    """Customers (one, or all by id) with their contact state (consent, unsubscribed, suppressed)."""
    if customer_id is None:
        return store.query(f"SELECT {CUSTOMER_COLUMNS} FROM customers ORDER BY id")
    return store.query(f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = ?", (customer_id,))


def customer_emails(store: Store, customer_id: int) -> list[dict]:
    """Every email to this customer, oldest first, with its delivery state."""
    return store.query(
        """SELECT id, status, subject, created_at, sent_at, attempts, last_error FROM emails
           WHERE customer_id = ? ORDER BY id""",
        (customer_id,),
    )


def exclude(
    store: Store,
    action_id: int,
    *,
    customer_id: int | None = None,
    feedback_id: int | None = None,
    by: str,
    note: str | None = None,
    undo: bool = False,
    now: datetime | None = None,
) -> dict:
    """Take a customer or one item out of an action's recipients (``undo``: put them back).

    A notification not yet handed to the SMTP server is cancelled: when it already sits in a queued
    email (a digest may hold several updates), that email is cancelled and its other updates go
    back to pending, so the next ``notify`` rebuilds it without this one. An email already sent
    cannot be recalled: ``already_sent`` says so.
    """
    if (customer_id is None) == (feedback_id is None):
        raise ValueError("exactly one of customer_id, feedback_id")
    stamp = iso(now or datetime.now(UTC))
    column, value = ("customer_id", customer_id) if customer_id is not None else ("feedback_id", feedback_id)
    out: dict = {"action_id": action_id, column: value, "cancelled": 0, "already_sent": 0}
    with store.transaction() as conn:
        if undo:
            out["changed"] = (
                conn.execute(
                    f"DELETE FROM action_exclusions WHERE action_id = ? AND {column} = ?", (action_id, value)
                ).rowcount
                > 0
            )
            return out
        out["changed"] = (
            conn.execute(
                f"INSERT OR IGNORE INTO action_exclusions (action_id, {column}, at, by, note) VALUES (?, ?, ?, ?, ?)",
                (action_id, value, stamp, by, note),
            ).rowcount
            > 0
        )
        if customer_id is not None:
            affected = [customer_id]
        else:
            affected = [
                int(r[0])
                for r in conn.execute(
                    "SELECT customer_id FROM notifications WHERE action_id = ? AND EXISTS "
                    "(SELECT 1 FROM json_each(notifications.feedback_ids) WHERE value = ?)",
                    (action_id, feedback_id),
                )
            ]
        for cid in affected:
            row = conn.execute(
                "SELECT n.id, n.status, n.email_id, e.status FROM notifications n LEFT JOIN emails e ON e.id = n.email_id"
                " WHERE n.action_id = ? AND n.customer_id = ?",
                (action_id, cid),
            ).fetchone()
            if row is None or row[1] == "cancelled":
                continue
            nid, status, email_id, email_status = row
            if feedback_id is not None:  # the customer may still have other items on this action
                fids = [
                    f
                    for f in json.loads(
                        conn.execute("SELECT feedback_ids FROM notifications WHERE id = ?", (nid,)).fetchone()[0]
                    )
                    if f != feedback_id
                ]
                if fids:
                    conn.execute(
                        "UPDATE notifications SET feedback_ids = ?, updated_at = ? WHERE id = ?",
                        (json.dumps(fids), stamp, nid),
                    )
                    if status == "assigned" and email_status in ("queued", "retry"):
                        _rebuild(conn, int(email_id), stamp)
                    continue
            if status == "pending" or email_status in ("queued", "retry"):
                conn.execute(
                    "UPDATE notifications SET status = 'cancelled', cancel_reason = 'excluded', updated_at = ? WHERE id = ?",
                    (stamp, nid),
                )
                if status == "assigned":
                    _rebuild(conn, int(email_id), stamp)
                out["cancelled"] += 1
            else:
                out["already_sent"] += 1
    return out


def _rebuild(conn: sqlite3.Connection, email_id: int, stamp: str) -> None:
    """Cancel a queued email and put its live updates back to pending (the next notify rebuilds it)."""
    conn.execute(
        "UPDATE emails SET status = 'cancelled', last_error = 'rebuilt after an exclusion' WHERE id = ?", (email_id,)
    )
    conn.execute(
        "UPDATE notifications SET status = 'pending', email_id = NULL, updated_at = ? WHERE email_id = ? AND status = 'assigned'",
        (stamp, email_id),
    )


def feedback_exists(store: Store, feedback_id: int) -> bool:
    return store.scalar("SELECT 1 FROM feedback WHERE id = ?", (feedback_id,)) is not None


def queue_counts(store: Store) -> dict[str, int]:
    """The outbox at a glance: notifications waiting for an email, and emails by state."""
    out = {"waiting": int(store.scalar("SELECT count(*) FROM notifications WHERE status = 'pending'") or 0)}
    for status, n in store.conn.execute("SELECT status, count(*) FROM emails GROUP BY status ORDER BY status"):
        out[str(status)] = int(n)
    return out
