"""``x-recent``: X API v2 recent search (the last 7 days), newest first, paged by ``next_token``.

``GET {base}/2/tweets/search/recent?query=Q&max_results=100&tweet.fields=...&expansions=author_id
&user.fields=username,name`` with ``Authorization: Bearer $X_BEARER_TOKEN``. The first pull asks
from ``start_time`` (the backfill, at most 7 days back: older is refused by the API); later
pulls pass ``since_id`` = the newest tweet id of the last complete pull (``meta.newest_id``).
Pages follow ``meta.next_token``; each answer (``{"data", "includes": {"users"}, "meta"}``) is read by
the file importer's parser (retweets skipped, long posts from ``note_tweet``). A page that cannot
be read ends the walk and leaves the cursor. Default base URL ``https://api.x.com``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from feedback_engine.ingest.connectors.base import MAX_PAGES, Connector, Item, Option, Walk
from feedback_engine.ingest.records import Checkpoint
from feedback_engine.ingest.social import _twitter_page  # the file importer's parser of one answer

TWEET_FIELDS = "created_at,author_id,lang,referenced_tweets,edit_history_tweet_ids,note_tweet,conversation_id"
RECENT_DAYS = 7


class XRecentSearch(Connector):
    kind: ClassVar[str] = "x-recent"
    channel: ClassVar[str] = "social"
    platform: ClassVar[str] = "twitter"
    api: ClassVar[str] = "The X API"
    default_base_url: ClassVar[str] = "https://api.x.com"
    token_env: ClassVar[str | None] = "X_BEARER_TOKEN"
    settings_spec: ClassVar[tuple[Option, ...]] = (
        Option("query", "X search query, e.g. '\"acme app\" -is:retweet lang:en'.", required=True),
    )

    def walk(self) -> Iterator[Item]:
        headers = {"Authorization": f"Bearer {self.credential()}"}
        since_id = self.cursor.get("since_id") if isinstance(self.cursor, dict) and not self.since else None
        params: dict[str, Any] = {
            "query": self.settings["query"],
            "max_results": 100,
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": "username,name",
        }
        if since_id:
            params["since_id"] = since_id
        else:
            floor = (datetime.now(UTC) - timedelta(days=RECENT_DAYS) + timedelta(minutes=1)).replace(microsecond=0)
            start = max(self.cutoff("newest"), floor.isoformat().replace("+00:00", "Z"))
            params["start_time"] = start
        url = f"{self.base_url}/2/tweets/search/recent"
        state = Walk("")
        newest_id = since_id
        while state.pages < MAX_PAGES:
            page = self.http.get_json(
                url, params=params, headers=headers, api=self.api, credential=self.credential_source()
            )
            state.pages += 1
            data = page.data
            if page.error is None and not (isinstance(data, dict) and isinstance(data.get("meta", {}), dict)):
                page.error, page.text = "not an X API v2 answer", str(data)[:20_000]
            if page.error is not None:
                state.broken = True
                yield self.broken(page)
                break
            meta = data.get("meta") or {}
            newest_id = _max_id(newest_id, meta.get("newest_id"))
            yield from state.take(page.url, _twitter_page(data, "answer", page.text))
            token = meta.get("next_token")
            if not token:
                break
            params = {**params, "next_token": token}
        if not state.broken:
            old = self.cursor if isinstance(self.cursor, dict) else {}
            yield Checkpoint({**old, "since_id": newest_id, "newest": state.newest or old.get("newest")})


def _max_id(a: Any, b: Any) -> str | None:
    """The larger of two tweet ids (decimal text; compared as numbers)."""
    ids = [str(x) for x in (a, b) if x is not None and str(x).isdigit()]
    return max(ids, key=int) if ids else None
