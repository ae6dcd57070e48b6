"""The insights service the Engine exposes as ``engine.insights``: one method per analysis."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from feedback_engine.contracts import MailTransport
from feedback_engine.insights import alerts as alerts_mod
from feedback_engine.insights import churn as churn_mod
from feedback_engine.insights import drivers as drivers_mod
from feedback_engine.insights import emerging as emerging_mod
from feedback_engine.insights import impact as impact_mod
from feedback_engine.insights import loop_effect as loop_effect_mod
from feedback_engine.insights import segments as segments_mod
from feedback_engine.insights.queries import Filters
from feedback_engine.loop.settings import Settings
from feedback_engine.store import Store


class InsightsService:
    """Analyses over the store; each method takes filters (date range, channel, segment)."""

    def __init__(self, store: Store, settings: Settings | None = None, transport: MailTransport | None = None) -> None:
        self._store = store
        self._settings = settings  # the loop's mail settings (SMTP, sender); None: read from the environment
        self._transport = transport

    def emerging(
        self,
        *,
        since: date | None = None,
        until: date | None = None,
        channel: str | None = None,
        segment: str | None = None,
        fdr: float = emerging_mod.FDR,
    ) -> dict[str, Any]:
        """Rising volume or share negative per theme and day, channel crossings, new themes
        (:mod:`feedback_engine.insights.emerging`)."""
        filters = Filters(since=since, until=until, channel=channel, segment=segment)
        return emerging_mod.emerging(self._store, filters, fdr=fdr)

    def alerts(
        self,
        *,
        send: bool = False,
        env: Mapping[str, str] | None = None,
        now: datetime | None = None,
        http: Any = None,
        retry_delays: tuple[float, ...] = (0.5, 1.0),
    ) -> alerts_mod.AlertReport:
        """Preview the current alerts, or (``send``) record and send each once
        (:mod:`feedback_engine.insights.alerts`); ``env`` overrides the environment."""
        mail = self._settings if isinstance(self._settings, Settings) else Settings.from_env(env)
        return alerts_mod.run_alerts(
            self._store,
            mail,
            alerts_mod.AlertSettings.from_env(env),
            self._transport,
            send=send,
            now=now,
            http=http,
            retry_delays=retry_delays,
        )

    def churn_risk(
        self,
        *,
        since: date | None = None,
        until: date | None = None,
        channel: str | None = None,
        segment: str | None = None,
        horizon_days: int = churn_mod.HORIZON_DAYS,
        limit: int | None = 100,
        csv_path: str | Path | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Customers at risk (detractors, negative feedback in themes with no shipped action) by revenue
        and recency, the time-split churn model and the themes associated with churn
        (:mod:`feedback_engine.insights.churn`); ``csv_path``: also write the whole list there."""
        filters = Filters(since=since, until=until, channel=channel, segment=segment)
        result = churn_mod.churn_risk(
            self._store, filters, now=now, horizon_days=horizon_days, limit=None if csv_path else limit
        )
        if csv_path is not None:
            result["csv"] = {"path": str(csv_path), "rows": churn_mod.write_csv(result["risk"], csv_path)}
            if limit is not None:
                result["risk"] = result["risk"][:limit]
        return result

    def drivers(
        self,
        score: str = "nps",
        *,
        since: date | None = None,
        until: date | None = None,
        channel: str | None = None,
        segment: str | None = None,
    ) -> dict[str, Any]:
        """Which themes move the score: leave-one-out impact and an OLS model with intervals
        (:mod:`feedback_engine.insights.drivers`)."""
        filters = Filters(since=since, until=until, channel=channel, segment=segment)
        return drivers_mod.drivers(self._store, score, filters)

    def impact(
        self,
        action_id: int | None = None,
        *,
        window_days: int = impact_mod.WINDOW_DAYS,
        channel: str | None = None,
        segment: str | None = None,
    ) -> dict[str, Any]:
        """Before/after the ship date of each shipped action (or of ``action_id``), against the other
        themes, with intervals and a verdict (:mod:`feedback_engine.insights.impact`)."""
        filters = Filters(channel=channel, segment=segment)
        return impact_mod.impact(self._store, action_id, window_days=window_days, filters=filters)

    def themes_by_segment(
        self,
        *,
        since: date | None = None,
        until: date | None = None,
        channel: str | None = None,
        segment: str | None = None,
        segments: tuple[str, str] | None = None,
        periods: tuple[tuple[date | None, date | None], tuple[date | None, date | None]] | None = None,
    ) -> dict[str, Any]:
        """Customers and revenue (and revenue at risk) behind each theme; given two segments or two
        periods, both theme tables and their differences (:mod:`feedback_engine.insights.segments`)."""
        filters = Filters(since=since, until=until, channel=channel, segment=segment)
        return segments_mod.themes_by_segment(self._store, filters, segments=segments, periods=periods)

    def loop_effect(
        self,
        action_id: int | None = None,
        *,
        until: date | None = None,
        channel: str | None = None,
        segment: str | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Notified against held-back recipients of a shipped action (every action with a holdout when
        None): later feedback volume, sentiment, NPS and churn (:mod:`feedback_engine.insights.loop_effect`)."""
        filters = Filters(until=until, channel=channel, segment=segment)
        return loop_effect_mod.loop_effect(self._store, action_id, filters, now=now)
