"""Planted-effect customers for the churn, segment and loop-effect tests, through the real ingest paths.

Feedback goes through ``engine.ingest.surveys`` (``tests.insights.conftest.build``: the real readers and
loader; each item's sentiment and theme then written as the NLP stage would) and the CRM attributes
through ``engine.ingest.customers`` (a CSV export). Churners who raised a theme are planted by
drawing their churn date after their complaint.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

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
