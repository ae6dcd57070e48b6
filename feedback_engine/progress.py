"""Progress reporting that library code can call without knowing about terminals.

Library functions take ``progress: Progress | None``; the CLI passes :func:`terminal_progress`,
which draws a bar with items/s and ETA on an interactive stderr and stays silent when piped or
under ``--json``.
"""

from __future__ import annotations

import sys
from typing import Protocol


class Progress(Protocol):
    def start(self, total: int | None, desc: str) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def finish(self) -> None: ...


class NullProgress:
    """Reports nothing."""

    def start(self, total: int | None, desc: str) -> None:
        return None

    def advance(self, n: int = 1) -> None:
        return None

    def finish(self) -> None:
        return None


class TqdmProgress:
    """A tqdm bar on stderr: count, rate (items/s) and ETA."""

    def __init__(self, unit: str = "items") -> None:
        self.unit = unit
        self._bar = None

    def start(self, total: int | None, desc: str) -> None:
        from tqdm import tqdm

        self.finish()
        self._bar = tqdm(total=total, desc=desc, unit=f" {self.unit}", file=sys.stderr, dynamic_ncols=True, leave=True)

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            if self._bar.total is not None and self._bar.n + n > self._bar.total:
                self._bar.total = self._bar.n + n  # the total was an estimate (lines of a file)
            self._bar.update(n)

    def finish(self) -> None:
        if self._bar is not None:
            if self._bar.total is not None and self._bar.n != self._bar.total:
                self._bar.total = self._bar.n  # estimate overshot: end at 100%
                self._bar.refresh()
            self._bar.close()
            self._bar = None


def terminal_progress(*, quiet: bool = False, unit: str = "items") -> Progress:
    """A bar when stderr is a terminal and not ``quiet``; otherwise silence."""
    if quiet or not sys.stderr.isatty():
        return NullProgress()
    return TqdmProgress(unit)
