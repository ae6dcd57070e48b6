"""A small database for the web tests, written with SQL (no models): themes, items, sentences, users."""

from __future__ import annotations

import json
from pathlib import Path

from feedback_engine.engine import Engine
from feedback_engine.store import Store

T0 = "2025-01-01T00:00:00+00:00"
PASSWORD = "correct horse battery"
USERS = {"viewer": "vera@example.com", "editor": "eddie@example.com", "admin": "ada@example.com"}


def add_theme(store: Store, label: str) -> int:
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO themes (label, status, terms, quotes, created_at, updated_at) VALUES (?, 'active', ?, '[]', ?, ?)",
            (label, json.dumps([["refund", 0.5], ["late", 0.25]]), T0, T0),
        )
    return int(cur.lastrowid or 0)


def add_customer(store: Store, email: str, name: str) -> int:
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO customers (email, display_name, consent, created_at, updated_at) VALUES (?, ?, 1, ?, ?)",
            (email, name, T0, T0),
        )
    return int(cur.lastrowid or 0)


def add_item(store: Store, text: str, theme: int | None, customer: int | None = None, *, day: int = 1) -> int:
    """One analysed survey answer; each '. '-separated sentence is stored, the first one in ``theme``."""
    created = f"2025-02-{day:02d}T09:30:00+00:00"
    sentences = [s for s in text.split(". ") if s]
    with store.transaction() as conn:
        n = conn.execute("SELECT count(*) FROM feedback").fetchone()[0]
        fid = int(
            conn.execute(
                "INSERT INTO feedback (natural_key, channel, platform, customer_id, text, created_at, ingested_at, raw,"
                " content_hash) VALUES (?, 'survey', 'typeform', ?, ?, ?, ?, '{}', ?)",
                (f"typeform:{n + 1}", customer, text, created, created, f"h{n + 1}"),
            ).lastrowid
            or 0
        )
        cols = {c[1]: (c[3], c[4]) for c in conn.execute("PRAGMA table_info(analysis)")}
        values = {
            "feedback_id": fid,
            "redacted_text": text,
            "sentiment": "negative",
            "sentiment_score": -0.6,
            "language": "en",
            "aspects": "[]",
        }
        for name, (notnull, default) in cols.items():
            if name not in values and notnull and default is None:
                values[name] = T0 if name.endswith("_at") else "test"
        names = [c for c in values if c in cols]
        conn.execute(
            f"INSERT INTO analysis ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [values[c] for c in names],
        )
        for idx, sentence in enumerate(sentences):
            conn.execute(
                "INSERT INTO sentences (feedback_id, idx, text, redacted_text, sentiment, sentiment_score, aspects)"
                " VALUES (?, ?, ?, ?, 'negative', -0.6, ?)",
                (fid, idx, sentence, sentence, json.dumps([sentence.split()[-1].lower()])),
            )
        if theme is not None:
            conn.execute(
                "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, assigned_at)"
                " VALUES (?, 0, ?, 0.9, ?)",
                (fid, theme, T0),
            )
    return fid


def build(db_path: Path) -> dict[str, int]:
    """Two themes with items, a customer, and one user per role (password :data:`PASSWORD`)."""
    Engine(db_path).close()
    with Store(db_path) as store:
        refunds = add_theme(store, "Refunds are slow")
        login = add_theme(store, "Login problems")
        ann = add_customer(store, "ann@example.com", "Ann")
        for day in range(1, 8):
            add_item(store, f"My refund took weeks. Support was kind {day}", refunds, ann, day=day)
        for day in range(1, 4):
            add_item(store, f"Cannot log in with my password. Reset mail never came {day}", login, None, day=day)
    with Engine(db_path) as engine:
        for role, email in USERS.items():
            engine.accounts.add(email, role, PASSWORD)
    return {"refunds": refunds, "login": login, "ann": ann}
