"""``trustpilot``: Trustpilot business-unit reviews (Business Units API, an API key).

``GET {base}/v1/business-units/{business_unit_id}/reviews?page=N&perPage=100&orderBy=createdat.desc``
with the key in the ``apikey`` header (never in the URL). The answer is ``{"reviews": [...],
"links": [{"rel": "next-page", "href": ...}]}``, read by the file importer's parser; the walk
follows ``next-page`` (else asks for page N+1 while pages are full) until a review older than the
cutoff, an empty page, or :data:`~feedback_engine.ingest.connectors.base.MAX_PAGES`. Key:
``TRUSTPILOT_API_KEY``. Default base URL ``https://api.trustpilot.com``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from feedback_engine.ingest.connectors.base import MAX_PAGES, Connector, Item, Option, Walk, follow
from feedback_engine.ingest.reviews import _trustpilot  # the file importer's parser of one API answer

PER_PAGE = 100


class Trustpilot(Connector):
    kind: ClassVar[str] = "trustpilot"
    channel: ClassVar[str] = "review"
    platform: ClassVar[str] = "trustpilot"
    api: ClassVar[str] = "Trustpilot"
    default_base_url: ClassVar[str] = "https://api.trustpilot.com"
    token_env: ClassVar[str | None] = "TRUSTPILOT_API_KEY"
    settings_spec: ClassVar[tuple[Option, ...]] = (
        Option("business_unit_id", "Trustpilot business unit id (find it with the Business Units API).", required=True),
    )

    def walk(self) -> Iterator[Item]:
        headers = {"apikey": self.credential() or ""}
        state = Walk(self.cutoff("newest"))
        first = f"{self.base_url}/v1/business-units/{self.settings['business_unit_id']}/reviews"
        url: str = first
        params: dict[str, Any] | None = _numbered(1)
        number = 1
        while state.pages < MAX_PAGES:
            page = self.http.get_json(
                url, params=params, headers=headers, api=self.api, credential=self.credential_source()
            )
            state.pages += 1
            number += 1
            data = page.data
            if page.error is None and not (isinstance(data, dict) and isinstance(data.get("reviews"), list)):
                page.error, page.text = "not a Trustpilot reviews answer (no 'reviews' list)", str(data)[:20_000]
            if page.error is not None:
                state.broken = True
                yield self.broken(page)
                url, params = first, _numbered(number)  # numbered pages: the next one can still be read
                continue
            yield from state.take(page.url, _trustpilot(data))
            if state.done or not data["reviews"]:
                break
            following = _next_link(data)
            if following:
                url, params = follow(self.base_url, following), None
            elif len(data["reviews"]) >= PER_PAGE:
                url, params = first, _numbered(number)
            else:
                break
        checkpoint = state.checkpoint(self.cursor, "newest")
        if checkpoint is not None:
            yield checkpoint


def _numbered(page: int) -> dict[str, Any]:
    return {"page": page, "perPage": PER_PAGE, "orderBy": "createdat.desc"}


def _next_link(data: dict[str, Any]) -> str | None:
    for link in data.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "next-page" and isinstance(link.get("href"), str):
            return link["href"]
    return None
