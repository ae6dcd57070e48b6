"""feedback_engine: reads everything customers say, finds what matters, and closes the loop."""

from __future__ import annotations

from feedback_engine.engine import Engine
from feedback_engine.errors import FeedbackEngineError
from feedback_engine.store import Store

__version__ = "0.1.0"

__all__ = ["Engine", "FeedbackEngineError", "Store", "__version__"]
