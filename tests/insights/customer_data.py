"""Planted-effect customers for the churn, segment and loop-effect tests, through the real ingest paths.

Feedback goes through ``engine.ingest.surveys`` (``tests.insights.conftest.build``: the real readers and
loader; each item's sentiment and theme then written as the NLP stage would) and the CRM attributes
through ``engine.ingest.customers`` (a CSV export). Churners who raised a theme are planted by
drawing their churn date after their complaint.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from feedback_engine.engine import Engine
from feedback_engine.loop.actions import update_action
from tests.insights.conftest import Item, Planted, build

START = date(2025, 1, 1)
DAYS = 360
THEMES = ["billing", "login", "speed", "export"]


@dataclass
class Customer:
    email: str
    segment: str
    plan: str
    mrr: float
    signup: date
    churned: date | None = None
    items: list[Item] = field(default_factory=list)


@dataclass
class World:
    planted: Planted
    customers: list[Customer]
    crm: Path


def churn_world(
    rng: np.random.Generator,
    folder: Path,
    *,
    n: int = 600,
    planted_theme: str | None = "billing",
    p_after: float = 0.6,
    base: float = 0.15,
    segment_effect: bool = False,
    delay: tuple[int, int] = (20, 90),
) -> World:
    """``n`` customers with ~5 items each over :data:`DAYS` days. With ``planted_theme``, a customer who
    complained about it churns ``delay`` days later (uniform) with probability ``p_after``; everyone else churns at a
    uniform time with probability ``base``. ``segment_effect``: half the Enterprise customers write one more item,
    a complaint about "login" (for the segment comparison)."""
    customers = []
    for i in range(n):
        mrr = float(rng.choice([50, 100, 200, 500, 1000]))
        segment = "Enterprise" if mrr >= 500 else "SMB"
        c = Customer(
            f"c{i}@example.com",
            segment,
            "Scale" if mrr >= 500 else "Starter",
            mrr,
            START - timedelta(days=int(rng.integers(0, 300))),
        )
        weights = np.array([1.0, 1.0, 1.0, 1.0, 1.0])
        names: list[str | None] = [*THEMES, None]
        if segment_effect and segment == "Enterprise" and rng.random() < 0.5:
            day = START + timedelta(days=int(rng.integers(0, DAYS)))
            c.items.append(Item(day, "login", "negative", int(rng.integers(0, 7)), email=c.email, hour=3))
        for _ in range(int(rng.poisson(4)) + 1):
            day = START + timedelta(days=int(rng.integers(0, DAYS)))
            theme = names[int(rng.choice(5, p=weights / weights.sum()))]
            sentiment = "negative" if rng.random() < 0.35 else str(rng.choice(["neutral", "positive"]))
            c.items.append(
                Item(day, theme, sentiment, int(rng.integers(0, 11)), email=c.email, hour=int(rng.integers(0, 24)))
            )
        complaint = sorted(
            it.day for it in c.items if planted_theme and it.theme == planted_theme and it.sentiment == "negative"
        )
        if complaint and rng.random() < p_after:
            c.churned = complaint[0] + timedelta(days=int(rng.integers(delay[0], delay[1] + 1)))
        elif rng.random() < base:
            c.churned = START + timedelta(days=int(rng.integers(0, DAYS + 60)))
        if c.churned is not None and c.churned > START + timedelta(days=DAYS):
            c.churned = None  # after the end of the data: not known yet
        if c.churned is not None:
            c.items = [it for it in c.items if it.day < c.churned]
        customers.append(c)
    items = [it for c in customers for it in c.items]
    planted = build(folder, items, THEMES)
    crm = folder / "crm.csv"
    with crm.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Email", "Name", "Segment", "Plan", "MRR", "Currency", "Signup Date", "Churn Date"])
        for i, c in enumerate(customers):
            w.writerow(
                [
                    c.email,
                    f"Customer {i}",
                    c.segment,
                    c.plan,
                    c.mrr,
                    "USD",
                    c.signup.isoformat(),
                    c.churned.isoformat() if c.churned else "",
                ]
            )
    report = planted.engine.ingest.customers(crm)
    assert report.quarantined == 0 and report.added + report.updated == n, report
    return World(planted, customers, crm)


# -- the loop effect: a shipped action with a holdout, then later feedback ------------------------------
SHIP = "2025-03-01T12:00:00Z"


@dataclass
class LoopWorld:
    engine: Engine
    action: int
    notified: list[str]
    held: list[str]
    planted_nps: float  # the planted NPS difference (notified - held back), in points


def _survey(path: Path, rows: list[tuple[str, str, str, int, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["response_id", "email", "submitted_at", "nps", "comment", "May we contact you?"])
        for key, email, stamp, nps, text in rows:
            w.writerow([key, email, stamp, nps, text, "yes"])


def _analyse(engine: Engine, sentiment_of: dict[str, str], theme: int | None) -> None:
    """What the NLP stage would write: each new item's sentiment (and, for ``theme``, a manual assignment)."""
    score = {"negative": -0.8, "neutral": 0.0, "positive": 0.8}
    with engine.store.transaction() as conn:
        for fid, response in conn.execute(
            "SELECT id, response_id FROM feedback WHERE id NOT IN (SELECT feedback_id FROM analysis)"
        ).fetchall():
            label = sentiment_of[str(response)]
            conn.execute(
                "INSERT INTO analysis (feedback_id, content_hash, is_english, redacted_text, sentiment, sentiment_score,"
                " analyzed_at) SELECT id, content_hash, 1, text, ?, ?, ? FROM feedback WHERE id = ?",
                (label, score[label], "2025-01-01T00:00:00Z", fid),
            )
            if theme is not None:
                conn.execute(
                    "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, source,"
                    " assigned_at) VALUES (?, -1, ?, 1.0, 'manual', ?)",
                    (fid, theme, "2025-01-01T00:00:00Z"),
                )


def _nps_of(scores: np.ndarray) -> float:
    return 100.0 * (float((scores >= 9).mean()) - float((scores <= 6).mean()))


def loop_world(
    rng: np.random.Generator,
    folder: Path,
    *,
    n: int = 300,
    share: str = "30%",
    lift: int = 2,
    seed: int = 7,
    transport: Any = None,
    settings: Any = None,
) -> LoopWorld:
    """``n`` customers complain about "billing" before :data:`SHIP`; the action on it ships with a
    holdout and the notify job runs (``transport``/``settings``: where the emails go). Afterwards every
    customer answers 1-3 surveys: NPS uniform 0-10, plus ``lift`` points (capped at 10) for the notified."""
    engine = Engine(folder / "loop.db", settings=settings, mail_transport=transport)
    with engine.store.transaction() as conn:
        theme = int(
            conn.execute(
                "INSERT INTO themes (label, origin, status, created_at, updated_at)"
                " VALUES ('billing', 'discovered', 'active', ?, ?)",
                ("2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),
            ).lastrowid
            or 0
        )
    before = []
    sentiment: dict[str, str] = {}
    for i in range(n):
        key = f"pre{i}"
        day = date(2025, 1, 5) + timedelta(days=int(rng.integers(0, 50)))
        before.append(
            (
                key,
                f"c{i}@example.com",
                f"{day.isoformat()}T10:00:00Z",
                int(rng.integers(0, 11)),
                f"billing is wrong {i}",
            )
        )
        sentiment[key] = "negative"
    _survey(folder / "before.csv", before)
    assert engine.ingest.surveys(folder / "before.csv").added == n
    _analyse(engine, sentiment, theme)
    action = engine.actions.add(themes=[theme], title="Clear invoices", description="We rewrote the invoices.")
    update_action(engine.store, action, status="shipped", holdout=share, holdout_seed=seed, now=SHIP)
    engine.outbox.notify(send=True, now=datetime(2025, 3, 2, 8, tzinfo=UTC))
    held = {
        r["email"]
        for r in engine.store.query(
            "SELECT c.email FROM notifications n JOIN customers c ON c.id = n.customer_id"
            " WHERE n.action_id = ? AND n.cancel_reason = 'holdout'",
            (action,),
        )
    }
    after = []
    sentiment = {}
    for i in range(n):
        email = f"c{i}@example.com"
        lifted = email not in held
        for j in range(int(rng.integers(1, 4))):
            key = f"post{i}-{j}"
            day = date(2025, 3, 10) + timedelta(days=int(rng.integers(0, 80)))
            score = int(rng.integers(0, 11))
            score = min(10, score + lift) if lifted else score
            after.append((key, email, f"{day.isoformat()}T10:00:00Z", score, f"survey answer {key}"))
            sentiment[key] = str(rng.choice(["negative", "neutral", "positive"]))
    _survey(folder / "after.csv", after)
    assert engine.ingest.surveys(folder / "after.csv").added == len(after)
    _analyse(engine, sentiment, None)
    base = np.arange(11)
    planted = _nps_of(np.minimum(10, base + lift)) - _nps_of(base)
    emails = [f"c{i}@example.com" for i in range(n)]
    return LoopWorld(engine, action, [e for e in emails if e not in held], sorted(held), planted)
