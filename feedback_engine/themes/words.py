"""Word stems, shared by the theme rules (anchors, seeds, evidence) and the member queries.

A leaf module: :mod:`feedback_engine.themes.queries` needs :func:`stem` and may import nothing of
the stage above it.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["stem"]


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A crude English stem, enough to join "refunds", "refunded", "refunding" and "refund"
    (cached: placing a million units stems the same few thousand words over and over)."""
    w = word.lower().strip("'-")
    for suffix in ("ations", "ation", "ments", "ment", "ings", "ing", "edly", "ed", "ies", "es", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    return w[:-1] if len(w) > 4 and w[-1] == w[-2] else w
