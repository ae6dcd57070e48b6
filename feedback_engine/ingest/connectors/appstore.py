"""``appstore-rss``: the App Store customer-reviews RSS feed, JSON flavour (public, no credential).

``GET {base}/{country}/rss/customerreviews/page={n}/id={app_id}/sortby=mostrecent/json``, pages
1 to 10 (the feed serves at most 10 pages of 50 reviews), newest first. Each page is the same
``{"feed": {"entry": [...]}}`` document the file importer reads (``ingest reviews``), parsed by
the same code. The walk stops at the first review older than the cutoff (the cursor's newest
review time, or ``--since``), at an empty page, or after page 10. Default base URL
``https://itunes.apple.com``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from feedback_engine.ingest.connectors.base import Connector, Item, Option, Walk
from feedback_engine.ingest.records import Skipped
from feedback_engine.ingest.reviews import _appstore_rss  # the file importer's parser of one feed document

MAX_FEED_PAGES = 10


class AppStoreRss(Connector):
    kind: ClassVar[str] = "appstore-rss"
    channel: ClassVar[str] = "review"
    platform: ClassVar[str] = "appstore"
    api: ClassVar[str] = "The App Store RSS feed"
    default_base_url: ClassVar[str] = "https://itunes.apple.com"
    token_env: ClassVar[str | None] = None
    settings_spec: ClassVar[tuple[Option, ...]] = (
        Option("app_id", "App Store app id (the digits after /id in the app's URL).", required=True),
        Option("country", "Storefront country code (two letters).", default="us"),
    )

    def walk(self) -> Iterator[Item]:
        app_id = str(self.settings["app_id"]).strip()
        country = str(self.settings.get("country") or "us").strip().lower()
        state = Walk(self.cutoff("newest"))
        for n in range(1, MAX_FEED_PAGES + 1):
            url = f"{self.base_url}/{country}/rss/customerreviews/page={n}/id={app_id}/sortby=mostrecent/json"
            page = self.http.get_json(url, api=self.api)
            state.pages += 1
            if page.error is None and not (isinstance(page.data, dict) and isinstance(page.data.get("feed"), dict)):
                page.error, page.text = "not an App Store RSS feed (no 'feed' object)", str(page.data)[:20_000]
            if page.error is not None:
                state.broken = True
                yield self.broken(page)
                continue  # pages are numbered: the next one can still be read
            feed: dict[str, Any] = page.data["feed"]
            reviews = 0
            for item in state.take(page.url, _appstore_rss(page.data)):
                if type(item) is not Skipped:
                    reviews += 1
                yield item
            if state.done or reviews == 0 or not feed.get("entry"):
                break
        checkpoint = state.checkpoint(self.cursor, "newest")
        if checkpoint is not None:
            yield checkpoint
