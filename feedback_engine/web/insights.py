"""The Insights page: what drives NPS, who is at risk, and whether shipped fixes worked.

Each block is one call to ``engine.insights`` (the same figures as ``feedback-engine insights
drivers|churn-risk|impact``), with its counts and intervals; a block whose analysis has nothing to
work on yet says why instead of showing an empty table.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from feedback_engine.accounts import Session
from feedback_engine.engine import Engine
from feedback_engine.errors import FeedbackEngineError
from feedback_engine.web.auth import page, requires
from feedback_engine.web.context import call

__all__ = ["routes"]

SCORES = ("nps", "csat", "rating")
AT_RISK_SHOWN = 25


def _load(engine: Engine, score: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, compute in (
        ("drivers", lambda: engine.insights.drivers(score)),
        ("churn", lambda: engine.insights.churn_risk(limit=AT_RISK_SHOWN)),
        ("impact", lambda: engine.insights.impact()),
    ):
        try:
            out[name] = compute()
        except FeedbackEngineError as exc:  # e.g. nothing analysed yet: the block says so
            out[name] = {"error": exc.message}
    return out


@requires("viewer")
async def insights(request: Request, session: Session) -> Response:
    score = request.query_params.get("score", "nps")
    score = score if score in SCORES else "nps"
    found = await call(request, lambda engine: _load(engine, score))
    return page(request, session, "insights.html.jinja", score=score, scores=SCORES, **found)


routes = [Route("/insights", insights, methods=["GET", "HEAD"])]
