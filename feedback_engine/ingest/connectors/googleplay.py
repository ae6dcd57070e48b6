"""``googleplay``: Google Play Developer API reviews (``reviews.list``), channel ``review``.

``GET {base}/androidpublisher/v3/applications/{package}/reviews?maxResults=100`` with
``Authorization: Bearer $GOOGLE_PLAY_ACCESS_TOKEN`` (an OAuth 2.0 access token of a service
account with access to the app, e.g. ``gcloud auth print-access-token``; it expires after an hour,
and a 401 says so). Pages follow ``tokenPagination.nextPageToken`` (``token=``). A review's last
user comment gives text, stars, language and device; its ``lastModified`` is both the time and the
edit time, so an edited review updates its row. Keys are ``googleplay:REVIEW_ID``, the same as the
Play Console CSV import. The API only returns reviews changed in the last week: pull at least
weekly. The walk stops at a review older than the cutoff. Default base URL
``https://androidpublisher.googleapis.com``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from feedback_engine.ingest.connectors.base import MAX_PAGES, Connector, Item, Option, Walk
from feedback_engine.ingest.records import Invalid, Quarantined, expect_list, expect_object, guarded, safe_dump
from feedback_engine.ingest.reviews import _review  # the file importers' review builder


class GooglePlay(Connector):
    kind: ClassVar[str] = "googleplay"
    channel: ClassVar[str] = "review"
    platform: ClassVar[str] = "googleplay"
    api: ClassVar[str] = "The Google Play Developer API"
    default_base_url: ClassVar[str] = "https://androidpublisher.googleapis.com"
    token_env: ClassVar[str | None] = "GOOGLE_PLAY_ACCESS_TOKEN"
    settings_spec: ClassVar[tuple[Option, ...]] = (
        Option("package", "The app's package name, e.g. com.acme.notes.", required=True),
    )

    def walk(self) -> Iterator[Item]:
        headers = {"Authorization": f"Bearer {self.credential()}"}
        package = str(self.settings["package"]).strip()
        url = f"{self.base_url}/androidpublisher/v3/applications/{package}/reviews"
        params: dict[str, Any] = {"maxResults": 100}
        state = Walk(self.cutoff("newest"))
        while state.pages < MAX_PAGES:
            page = self.http.get_json(
                url, params=params, headers=headers, api=self.api, credential=self.credential_source()
            )
            state.pages += 1
            data = page.data
            if page.error is None and not isinstance(data, dict):
                page.error, page.text = "not a reviews.list answer", str(data)[:20_000]
            if page.error is not None:
                state.broken = True
                yield self.broken(page)
                break
            reviews = data.get("reviews") or []
            if not isinstance(reviews, list):
                yield Quarantined(f"page {page.url}", "'reviews' is not a list", safe_dump(data)[:20_000])
                state.broken = True
                break
            yield from state.take(page.url, _reviews(reviews, package))
            following = (data.get("tokenPagination") or {}).get("nextPageToken")
            if state.done or not reviews or not following:
                break
            params = {"maxResults": 100, "token": following}
        checkpoint = state.checkpoint(self.cursor, "newest")
        if checkpoint is not None:
            yield checkpoint


def _reviews(reviews: list[Any], package: str) -> Iterator[Item]:
    for n, review in enumerate(reviews, start=1):
        loc = f"review {n}"
        if not isinstance(review, dict):
            yield Quarantined(loc, "not a JSON object", safe_dump(review))
            continue
        yield from guarded(loc, review, _one, review, loc, package)


def _one(review: dict[str, Any], loc: str, package: str) -> Item:
    rid = review.get("reviewId")
    if not isinstance(rid, str) or not rid:
        raise Invalid("review without a reviewId")
    user = None
    for comment in expect_list(review.get("comments"), "comments"):
        if isinstance(comment, dict) and isinstance(comment.get("userComment"), dict):
            user = comment["userComment"]  # the last one is the current text
    if user is None:
        raise Invalid("review without a user comment")
    modified = expect_object(user.get("lastModified"), "lastModified").get("seconds")
    stamp = int(modified) if isinstance(modified, (int, str)) and str(modified).isdigit() else None
    return _review(
        "googleplay",
        f"{loc} (id {rid})",
        review,
        external_id=rid,
        key=f"googleplay:{rid}",
        text=user.get("text"),
        rating=user.get("starRating"),
        created=stamp,
        updated=stamp,
        handle=None,
        name=review.get("authorName"),
        language=user.get("reviewerLanguage"),
        url=f"https://play.google.com/console/developers/app/reviews?package={package}&reviewId={rid}",
    )
