"""One exception tree for feedback_engine.

Every error a user can cause derives from :class:`FeedbackEngineError`; the CLI turns
each into a one-line message and a non-zero exit, never a traceback::

    FeedbackEngineError
    ├── ConfigError            a setting is missing or invalid (names the env var / flag)
    ├── StoreError             the database cannot be opened or migrated
    ├── IngestError            a whole input file cannot be read (missing, empty, wrong format, no text column)
    ├── ModelError             a model cannot be loaded (names the pip install line or the path)
    ├── AnalysisError          the NLP stage cannot run (e.g. themes asked for before analyze)
    ├── NotFoundError          an id given by the user does not exist (theme, action, customer)
    ├── ActionError            an invalid action change (unknown status, bad date)
    ├── NotifyError            notification sending cannot proceed (lock held, SMTP settings)
    ├── TokenError             an unsubscribe token is invalid or tampered with
    └── InsightsError          an analysis cannot run as asked (no holdout, export path unwritable)

Messages say what to do ("Make sure to ...", "pass --text-column ..."). Errors carry context
(source file, row, theme id) in attributes as well as in the message.
"""

from __future__ import annotations


class FeedbackEngineError(Exception):
    """Base class of every error feedback_engine raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, **context: object) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def __str__(self) -> str:
        return self.message


class ConfigError(FeedbackEngineError):
    """A setting is missing or invalid."""

    exit_code = 2


class StoreError(FeedbackEngineError):
    """The database cannot be opened, read or migrated."""


class IngestError(FeedbackEngineError):
    """A whole input file cannot be read (bad records go to quarantine instead)."""


class ModelError(FeedbackEngineError):
    """A model cannot be loaded or used."""


class AnalysisError(FeedbackEngineError):
    """The NLP stage cannot run as asked."""


class NotFoundError(FeedbackEngineError):
    """An id or key given by the user does not exist."""


class ActionError(FeedbackEngineError):
    """An invalid change to the action backlog."""


class NotifyError(FeedbackEngineError):
    """Notifications cannot be rendered or sent as asked."""


class LockHeldError(NotifyError):
    """Another process holds the lock for this job."""

    exit_code = 3


class TokenError(FeedbackEngineError):
    """An unsubscribe token is invalid, expired or tampered with."""


class InsightsError(FeedbackEngineError):
    """An analysis cannot run as asked (e.g. loop-effect on an action without a holdout)."""
