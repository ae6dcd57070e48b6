"""API connectors: sources that *pull* feedback on a schedule (``feedback-engine pull``).

A connector is a :class:`~feedback_engine.contracts.Source` like the file readers; its
``records()`` walks an API's pages through :mod:`.http` (retries, 429, auth errors) and yields
records plus :class:`~feedback_engine.ingest.records.Checkpoint` cursors, which the loader commits
with the rows they cover. :mod:`.service` (``engine.sources``) stores the sources' settings and
cursors (:mod:`.queries`, table ``sources``) and runs the pulls under a lock.

Kinds (one module each): ``appstore-rss`` (:mod:`.appstore`), ``trustpilot`` (:mod:`.trustpilot`),
``reddit`` (:mod:`.reddit`), ``zendesk`` (:mod:`.zendesk`, the ``support`` channel) and
``x-recent`` (:mod:`.twitter`), ``typeform`` (:mod:`.typeform`), ``googleplay`` (:mod:`.googleplay`),
``surveymonkey`` (:mod:`.surveymonkey`), ``qualtrics`` (:mod:`.qualtrics`),
``appstore-connect`` (:mod:`.appstore_connect`).
"""

from __future__ import annotations

from feedback_engine.ingest.connectors.appstore import AppStoreRss
from feedback_engine.ingest.connectors.appstore_connect import AppStoreConnect
from feedback_engine.ingest.connectors.base import Connector
from feedback_engine.ingest.connectors.googleplay import GooglePlay
from feedback_engine.ingest.connectors.qualtrics import Qualtrics
from feedback_engine.ingest.connectors.reddit import Reddit
from feedback_engine.ingest.connectors.surveymonkey import SurveyMonkey
from feedback_engine.ingest.connectors.trustpilot import Trustpilot
from feedback_engine.ingest.connectors.twitter import XRecentSearch
from feedback_engine.ingest.connectors.typeform import Typeform
from feedback_engine.ingest.connectors.zendesk import Zendesk

__all__ = ["KINDS", "Connector"]

KINDS: dict[str, type[Connector]] = {
    cls.kind: cls
    for cls in (
        AppStoreRss,
        Trustpilot,
        Reddit,
        Zendesk,
        XRecentSearch,
        Typeform,
        GooglePlay,
        SurveyMonkey,
        Qualtrics,
        AppStoreConnect,
    )
}
