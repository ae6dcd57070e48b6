"""``reddit``: Reddit posts from a subreddit's listing or a search, newest first, paged by ``after``.

- ``--subreddit S``: ``GET {base}/r/S/new.json?limit=100&raw_json=1``;
- ``--query Q``: ``GET {base}/search.json?q=Q&sort=new&limit=100`` (with ``--subreddit``,
  ``/r/S/search.json`` and ``restrict_sr=1``).

Each answer is a Listing (``{"kind": "Listing", "data": {"children": [...], "after": ...}}``),
read by the file importer's parser; the next page passes ``after``. The walk stops at a post older
than the cutoff, at ``after: null`` or after
:data:`~feedback_engine.ingest.connectors.base.MAX_PAGES`. A page that cannot be read ends the
walk (the next page's ``after`` is inside it) and leaves the cursor where it was.

Credential: optional. With ``REDDIT_TOKEN`` (an OAuth2 bearer token) requests go to
``https://oauth.reddit.com``, without it to ``https://www.reddit.com``; Reddit asks every client
for a descriptive User-Agent (``--user-agent``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from feedback_engine.ingest.connectors.base import MAX_PAGES, Connector, Item, Option, Walk
from feedback_engine.ingest.connectors.http import USER_AGENT
from feedback_engine.ingest.social import _walk  # the file importer's walker of one Listing


class Reddit(Connector):
    kind: ClassVar[str] = "reddit"
    channel: ClassVar[str] = "social"
    platform: ClassVar[str] = "reddit"
    api: ClassVar[str] = "Reddit"
    default_base_url: ClassVar[str] = "https://www.reddit.com"
    token_env: ClassVar[str | None] = "REDDIT_TOKEN"
    token_required: ClassVar[bool] = False
    settings_spec: ClassVar[tuple[Option, ...]] = (
        Option("subreddit", "Subreddit name (without r/): its newest posts, or where --query searches."),
        Option("query", "Search words (Reddit search syntax), e.g. your product's name."),
        Option("user_agent", "User-Agent Reddit sees (its API rules ask for one naming your app)."),
    )

    @property
    def base_url(self) -> str:
        if self.settings.get("base_url"):
            return str(self.settings["base_url"]).rstrip("/")
        return "https://oauth.reddit.com" if self.credential() else self.default_base_url

    def walk(self) -> Iterator[Item]:
        token = self.credential()
        headers = {"User-Agent": str(self.settings.get("user_agent") or USER_AGENT)}
        if token:
            headers["Authorization"] = f"bearer {token}"
        sub = str(self.settings.get("subreddit") or "").strip().removeprefix("r/")
        query = str(self.settings.get("query") or "").strip()
        params: dict[str, Any] = {"limit": 100, "raw_json": 1}
        if query:
            url = f"{self.base_url}/r/{sub}/search.json" if sub else f"{self.base_url}/search.json"
            params.update({"q": query, "sort": "new", "restrict_sr": 1 if sub else None, "type": "link"})
        else:
            url = f"{self.base_url}/r/{sub}/new.json"
        state = Walk(self.cutoff("newest"))
        counter = [0]
        while state.pages < MAX_PAGES:
            page = self.http.get_json(
                url, params=params, headers=headers, api=self.api, credential=self.credential_source()
            )
            state.pages += 1
            data = page.data
            if page.error is None and not (isinstance(data, dict) and data.get("kind") == "Listing"):
                page.error, page.text = "not a Reddit Listing", str(data)[:20_000]
            if page.error is not None:
                state.broken = True
                yield self.broken(page)
                break  # the next page's 'after' was in this one
            yield from state.take(page.url, _walk(data, counter, None))
            after = (data.get("data") or {}).get("after") if isinstance(data.get("data"), dict) else None
            if state.done or not after:
                break
            params = {**params, "after": after}
        checkpoint = state.checkpoint(self.cursor, "newest")
        if checkpoint is not None:
            yield checkpoint
