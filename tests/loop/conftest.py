"""Loop-stage fixtures: a real aiosmtpd server on loopback, settings pointing at it, seed helpers.

Themes, customers, feedback and analysis rows are written straight through the Store (the
ingest and NLP stages land separately), with parameters only.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from feedback_engine.loop.settings import Settings
from feedback_engine.store import Store

SECRET = "test-secret-0123456789-abcdefghij"
FROM = "Acme Feedback <feedback@acme.test>"
BASE_URL = "https://fb.acme.test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]

    @property
    def text(self) -> str:
        """The plain-text part with the wire's CRLF line ends turned back into LF."""
        return self.message.get_body(("plain",)).get_content().replace("\r\n", "\n")


@dataclass
class RecordingHandler:
    """Records accepted messages; can reject senders/recipients, refuse data, drop or stall the connection.

    ``rcpts`` and ``senders`` keep every envelope address the server was given, accepted or not.
    """

    messages: list[Received] = field(default_factory=list)
    rcpts: list[str] = field(default_factory=list)
    senders: list[str] = field(default_factory=list)
    reject_rcpt: dict[str, str] = field(default_factory=dict)  # address -> "550 ..." / "450 ..."
    reject_all_rcpt: str | None = None  # e.g. "550 5.7.1 relaying denied": every RCPT refused
    mail_reply: str | None = None  # e.g. "553 sender not allowed": MAIL FROM refused
    data_reply: str | None = None  # e.g. "451 try later": the message (after its body) refused, nothing recorded
    data_reply_for: dict[str, str] = field(default_factory=dict)  # recipient -> reply after that message's body
    drop_at_rcpt: set[str] = field(default_factory=set)  # addresses whose RCPT closes the connection (once)
    stall_after_data: float = 0.0  # seconds to wait after recording, before answering 250 (once)
    stall_at_rcpt: dict[str, float] = field(default_factory=dict)  # address -> seconds before answering RCPT (once)
    accepted: threading.Event = field(default_factory=threading.Event)
    rcpt_seen: threading.Event = field(default_factory=threading.Event)

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: list) -> str:
        self.senders.append(address)
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list) -> str:
        self.rcpts.append(address)
        if address in self.drop_at_rcpt:
            self.drop_at_rcpt.discard(address)
            server.transport.close()
            return "421 closing"
        if self.reject_all_rcpt:
            return self.reject_all_rcpt
        if address in self.reject_rcpt:
            return self.reject_rcpt[address]
        if address in self.stall_at_rcpt:  # once per address
            self.rcpt_seen.set()
            await asyncio.sleep(self.stall_at_rcpt.pop(address))
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply:
            return self.data_reply
        for rcpt in envelope.rcpt_tos:
            if rcpt in self.data_reply_for:
                return self.data_reply_for[rcpt]
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)))
        self.accepted.set()
        if self.stall_after_data:  # once
            delay, self.stall_after_data = self.stall_after_data, 0.0
            await asyncio.sleep(delay)
        return "250 Message accepted for delivery"

    def to(self) -> list[str]:
        return sorted(r for m in self.messages for r in m.rcpt_tos)


class SMTPServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.handler = RecordingHandler()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


def make_settings(port: int, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "smtp_timeout": 5.0,
        "from_address": FROM,
        "base_url": BASE_URL,
        "secret": SECRET,
    }
    values.update(overrides)
    return Settings(**values)


def smtp_env(port: int) -> dict[str, str]:
    return {
        "FEEDBACK_ENGINE_SMTP_HOST": "127.0.0.1",
        "FEEDBACK_ENGINE_SMTP_PORT": str(port),
        "FEEDBACK_ENGINE_SMTP_SECURITY": "none",
        "FEEDBACK_ENGINE_SMTP_TIMEOUT": "10",
        "FEEDBACK_ENGINE_FROM": FROM,
        "FEEDBACK_ENGINE_BASE_URL": BASE_URL,
        "FEEDBACK_ENGINE_SECRET": SECRET,
    }


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# -- seeding helpers ---------------------------------------------------------------------
T0 = "2025-01-01T00:00:00Z"


def add_theme(store: Store, label: str, *, status: str = "active", merged_into: int | None = None) -> int:
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO themes (label, status, merged_into, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            (label, status, merged_into, T0, T0),
        )
    return int(cur.lastrowid)


def merge_theme(store: Store, theme_id: int, into: int) -> None:
    with store.transaction() as conn:
        conn.execute("UPDATE themes SET status = 'merged', merged_into = ? WHERE id = ?", (into, theme_id))


def add_customer(
    store: Store,
    email: str | None,
    *,
    name: str | None = None,
    consent: int | None = 1,
    unsubscribed: bool = False,
    suppressed: bool = False,
    handle: str | None = None,
) -> int:
    with store.transaction() as conn:
        cur = conn.execute(
            """INSERT INTO customers (email, platform, handle, display_name, consent, unsubscribed_at, suppressed_at,
                                      created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                email,
                "twitter" if handle else None,
                handle,
                name,
                consent,
                T0 if unsubscribed else None,
                T0 if suppressed else None,
                T0,
                T0,
            ),
        )
    return int(cur.lastrowid)


def add_feedback(
    store: Store,
    customer_id: int | None,
    text: str,
    *,
    created_at: str = "2025-02-01T09:30:00Z",
    channel: str = "survey",
    platform: str = "typeform",
    themes: list[int] | None = None,
    sentence_themes: dict[int, int] | None = None,
    redacted: str | None = None,
    confidence: float = 0.9,
    aspects: tuple[str, ...] = ("login page",),
) -> int:
    """One feedback row. ``themes``: the item (one sentence) is in these themes with ``confidence``;
    ``sentence_themes``: sentence idx -> theme. Themed items get an analysis row (``redacted`` may
    be None: no redacted text, never quoted) and their sentences name ``aspects`` (a subject)."""
    with store.transaction() as conn:
        n = conn.execute("SELECT count(*) FROM feedback").fetchone()[0]
        cur = conn.execute(
            """INSERT INTO feedback (natural_key, channel, platform, customer_id, text, created_at, ingested_at, raw,
                                     content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (f"{platform}:{n + 1}", channel, platform, customer_id, text, created_at, created_at, "{}", f"h{n + 1}"),
        )
        fid = int(cur.lastrowid)
        for theme_id in themes or []:
            conn.execute(
                "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, assigned_at)"
                " VALUES (?, -1, ?, ?, ?)",
                (fid, theme_id, confidence, T0),
            )
        for idx, theme_id in (sentence_themes or {}).items():
            conn.execute(
                "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, assigned_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (fid, idx, theme_id, confidence, T0),
            )
            conn.execute(
                "INSERT OR IGNORE INTO sentences (feedback_id, idx, text, redacted_text, sentiment, sentiment_score,"
                " aspects) VALUES (?, ?, ?, ?, 'negative', -0.5, ?)",
                (fid, idx, text, redacted, json.dumps(list(aspects))),
            )
    if redacted is not None or themes or sentence_themes:
        add_analysis(store, fid, redacted, aspects=aspects)
    return fid


def _ensure_analysis_table(store: Store) -> list[tuple[str, int, Any]]:
    """The analysis table's columns; a minimal one is created when the NLP migration has not landed."""
    cols = store.conn.execute("PRAGMA table_info(analysis)").fetchall()
    if not cols:
        with store.transaction() as conn:
            conn.execute(
                "CREATE TABLE analysis (feedback_id INTEGER PRIMARY KEY REFERENCES feedback(id), redacted_text TEXT, "
                "sentiment TEXT, sentiment_score REAL, language TEXT)"
            )
        cols = store.conn.execute("PRAGMA table_info(analysis)").fetchall()
    return [(c[1], c[3], c[4]) for c in cols]  # name, notnull, default


def add_analysis(
    store: Store,
    feedback_id: int,
    redacted: str | None,
    score: float = -0.5,
    aspects: tuple[str, ...] = ("login page",),
) -> None:
    """One analysis row, filling any other required column of the real NLP schema with a plain value."""
    values: dict[str, Any] = {
        "feedback_id": feedback_id,
        "redacted_text": redacted,
        "aspects": json.dumps(list(aspects)),
        "sentiment": "negative" if score < 0 else "positive",
        "sentiment_score": score,
        "language": "en",
    }
    for name, notnull, default in _ensure_analysis_table(store):
        if name not in values and notnull and default is None:
            values[name] = T0 if name.endswith("_at") else "test"
    columns = [c for c, *_ in _ensure_analysis_table(store) if c in values]
    with store.transaction() as conn:
        conn.execute(
            f"INSERT OR REPLACE INTO analysis ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [values[c] for c in columns],
        )
