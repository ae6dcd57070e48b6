"""Holdout groups: a random share of a shipped action's recipients who are never emailed about it.

``actions update ID --status shipped --holdout 10%`` records the share and a seed in
``action_holdouts`` (migration 010) when the action ships. Whether a recipient is held back is
:func:`held_back`: the first 8 bytes of ``sha256("seed:action:customer")`` read as a number in
[0, 1) fall below the share. That is an independent coin per customer, reproducible from the
recorded seed, and the same however often (or late) the notify job plans the action, so a
customer who becomes a recipient later is drawn like everyone else. The notify job records each
held-back recipient as a notification cancelled with the reason ``holdout`` (never emailed);
``insights loop-effect`` compares them with the notified recipients.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3

from feedback_engine.errors import ActionError

__all__ = ["HOLDOUT_REASON", "parse_share", "held_back", "record_holdout", "holdout_of"]

HOLDOUT_REASON = "holdout"
MAX_SHARE = 0.5


def parse_share(value: str | float) -> float:
    """``"10%"``, ``"10"`` or ``0.1`` -> 0.1; :class:`ActionError` unless 0 < share <= 50%."""
    text = str(value).strip()
    try:
        number = float(text.rstrip("%").strip())
    except ValueError:
        raise ActionError(f"--holdout {text!r} is not a share; give it as a percentage, e.g. --holdout 10%.") from None
    if text.endswith("%") or number >= 1:
        number /= 100
    if not 0 < number <= MAX_SHARE:
        raise ActionError(
            f"--holdout {text!r} is outside (0%, {MAX_SHARE:.0%}]; a control group is a small share, e.g. 10%."
        )
    return number


def held_back(seed: int, action_id: int, customer_id: int, share: float) -> bool:
    """Whether this customer is in the action's control group (see the module docstring)."""
    digest = hashlib.sha256(f"{int(seed)}:{int(action_id)}:{int(customer_id)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def record_holdout(conn: sqlite3.Connection, action_id: int, share: float, seed: int | None, by: str, at: str) -> int:
    """Record the action's holdout (inside the caller's transaction); returns the seed used."""
    chosen = int(seed) if seed is not None else secrets.randbelow(2**31)
    conn.execute(
        "INSERT INTO action_holdouts (action_id, share, seed, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
        (int(action_id), float(share), chosen, at, by),
    )
    return chosen


def holdout_of(conn: sqlite3.Connection, action_id: int) -> tuple[float, int] | None:
    """(share, seed) of the action's holdout, or None."""
    row = conn.execute("SELECT share, seed FROM action_holdouts WHERE action_id = ?", (int(action_id),)).fetchone()
    return None if row is None else (float(row[0]), int(row[1]))
