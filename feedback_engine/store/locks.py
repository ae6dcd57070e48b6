"""Job locks: one running instance of a cron job (``notify --send``, ``pull``) per database.

:func:`job_lock` holds ``<db>.<name>.lock`` with an exclusive, non-blocking OS lock (``flock``;
``msvcrt.locking`` on Windows). The OS releases it when the process dies, so a killed job never
leaves a stale lock, and a second instance fails at once with
:class:`~feedback_engine.errors.LockHeldError` (exit code 3) naming the pid written in the file.
An in-memory store has no file: a per-store ``threading.Lock`` plays the part.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from feedback_engine.errors import FeedbackEngineError, LockHeldError, StoreError

if TYPE_CHECKING:
    from feedback_engine.store import Store

__all__ = ["job_lock", "lock_path"]

_MEMORY_LOCKS: dict[tuple[int, str], threading.Lock] = {}


def lock_path(store: Store, name: str) -> Any:
    """``<db>.<name>.lock`` beside the database file (``None`` for an in-memory store)."""
    if store.path is None:
        return None
    return store.path.with_name(store.path.name + f".{name}.lock")


@contextlib.contextmanager
def job_lock(
    store: Store,
    name: str,
    *,
    command: str | None = None,
    after: str = "this one exits.",
    open_error: type[FeedbackEngineError] = StoreError,
) -> Iterator[None]:
    """Hold ``<db>.<name>.lock`` exclusively, or raise :class:`LockHeldError` at once.

    ``command`` names the job in the message (default ``feedback-engine <name>``), ``after`` says
    what happens to the work of the refused run; ``open_error`` is raised when the lock file cannot
    be opened (the caller's stage error, so the message reads as that stage's)."""
    shown = command or f"feedback-engine {name}"
    path = lock_path(store, name)
    if path is None:
        lock = _MEMORY_LOCKS.setdefault((id(store), name), threading.Lock())
        if not lock.acquire(blocking=False):
            raise LockHeldError(f"Another {name} job is running on this database; this one exits.")
        try:
            yield
        finally:
            lock.release()
        return
    try:
        fh = path.open("a+")
    except OSError as exc:
        raise open_error(f"Cannot open the lock file {path} ({exc.strerror}); make its folder writable.") from None
    try:
        if not _try_lock(fh):
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            raise LockHeldError(
                f"Another `{shown}` (pid {holder}) is running on {store.path}; {after}",
                lock=str(path),
            )
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield
    finally:
        fh.close()  # closing the file releases the lock


def _try_lock(fh: Any) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True
