"""``zendesk``: support tickets and satisfaction-rating comments -> the ``support`` channel.

Tickets: the cursor-based incremental export,
``GET {base}/api/v2/incremental/tickets/cursor.json?start_time=UNIX&include=users`` for the first
pull, then ``?cursor=AFTER_CURSOR``. Each answer holds ``tickets``, the sideloaded ``users``,
``after_cursor`` and ``end_of_stream``; the cursor is committed after every page together with
that page's tickets, so a killed pull resumes at the page it was on. A ticket becomes one item:
``subject`` as title, ``description`` (the customer's first message) as text, the requester's
e-mail and name from the sideload, ``updated_at`` as the edit time; deleted tickets are skipped.

Satisfaction ratings: ``GET {base}/api/v2/satisfaction_ratings.json?start_time=UNIX&page[size]=100``,
cursor-paginated (``meta.has_more``, ``links.next``). A rating with a comment becomes one item
(``question`` "satisfaction rating", the score good/bad in ``title``; no CSAT number is made up
from good/bad); one without a comment is skipped. The ratings' cursor is the newest
``updated_at`` seen, committed at the end of a complete walk.

Both share ``response_id`` ``zendesk-ticket:ID``. Auth: an API token, HTTP basic
``EMAIL/token:TOKEN`` (``--email``, ``ZENDESK_API_TOKEN``). Base URL ``https://SUBDOMAIN.zendesk.com``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

from feedback_engine.errors import ConfigError
from feedback_engine.ingest.connectors.base import MAX_PAGES, Connector, Item, Option, Walk, follow, newer
from feedback_engine.ingest.connectors.http import Page
from feedback_engine.ingest.records import (
    Checkpoint,
    FeedbackRecord,
    Invalid,
    Quarantined,
    Skipped,
    check_text,
    clean_text,
    guarded,
    normalise_email,
    parse_date,
    safe_dump,
)

_SUBDOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class Zendesk(Connector):
    kind: ClassVar[str] = "zendesk"
    channel: ClassVar[str] = "support"
    platform: ClassVar[str] = "zendesk"
    api: ClassVar[str] = "Zendesk"
    token_env: ClassVar[str | None] = "ZENDESK_API_TOKEN"
    settings_spec: ClassVar[tuple[Option, ...]] = (
        Option("subdomain", "Zendesk subdomain (acme for acme.zendesk.com); or pass --base-url."),
        Option("email", "E-mail of the agent whose API token is used.", required=True),
    )

    @property
    def base_url(self) -> str:
        if self.settings.get("base_url"):
            return str(self.settings["base_url"]).rstrip("/")
        sub = str(self.settings.get("subdomain") or "").strip().lower()
        if not _SUBDOMAIN.match(sub):
            raise ConfigError(f"Source {self.name}: pass --subdomain (e.g. acme for acme.zendesk.com) or --base-url.")
        return f"https://{sub}.zendesk.com"

    def walk(self) -> Iterator[Item]:
        auth = (f"{self.settings['email']}/token", self.credential() or "")
        cursor = dict(self.cursor) if isinstance(self.cursor, dict) else {}
        yield from self._tickets(auth, cursor)
        yield from self._ratings(auth, cursor)

    def _get(self, url: str, params: dict[str, Any] | None, auth: tuple[str, str]) -> Page:
        return self.http.get_json(url, params=params, auth=auth, api=self.api, credential=self.credential_source())

    def _tickets(self, auth: tuple[str, str], cursor: dict[str, Any]) -> Iterator[Item]:
        url = f"{self.base_url}/api/v2/incremental/tickets/cursor.json"
        if cursor.get("tickets") and not self.since:
            params: dict[str, Any] = {"cursor": cursor["tickets"], "include": "users"}
        else:
            params = {"start_time": _unix(self.cutoff("tickets_since")), "include": "users"}
        for _ in range(MAX_PAGES):
            page = self._get(url, params, auth)
            data = page.data
            if page.error is None and not (isinstance(data, dict) and isinstance(data.get("tickets"), list)):
                page.error, page.text = (
                    "not a Zendesk incremental tickets answer (no 'tickets' list)",
                    str(data)[:20_000],
                )
            if page.error is not None:
                yield self.broken(page)
                return  # the next cursor is inside the unreadable page
            users = {u.get("id"): u for u in data.get("users") or [] if isinstance(u, dict)}
            for n, ticket in enumerate(data["tickets"], start=1):
                loc = f"{page.url} ticket {n}"
                if not isinstance(ticket, dict):
                    yield Quarantined(loc, "not a JSON object", safe_dump(ticket))
                    continue
                yield from guarded(loc, ticket, _ticket, ticket, users, loc, self.base_url)
            after = data.get("after_cursor")
            if after:
                cursor["tickets"] = after
            yield Checkpoint(dict(cursor))  # with this page's tickets, in one transaction
            if data.get("end_of_stream") or not after:
                return
            params = {"cursor": after, "include": "users"}

    def _ratings(self, auth: tuple[str, str], cursor: dict[str, Any]) -> Iterator[Item]:
        url: str = f"{self.base_url}/api/v2/satisfaction_ratings.json"
        params: dict[str, Any] | None = {"start_time": _unix(self.cutoff("ratings_since")), "page[size]": 100}
        state = Walk("")
        newest: str | None = None
        for _ in range(MAX_PAGES):
            page = self._get(url, params, auth)
            data = page.data
            if page.error is None and not (
                isinstance(data, dict) and isinstance(data.get("satisfaction_ratings"), list)
            ):
                page.error, page.text = "not a Zendesk satisfaction ratings answer", str(data)[:20_000]
            if page.error is not None:
                state.broken = True
                yield self.broken(page)
                break
            for n, rating in enumerate(data["satisfaction_ratings"], start=1):
                loc = f"{page.url} rating {n}"
                if not isinstance(rating, dict):
                    yield Quarantined(loc, "not a JSON object", safe_dump(rating))
                    continue
                for item in guarded(loc, rating, _rating, rating, loc):
                    if type(item) is FeedbackRecord:
                        newest = newer(newest, item.source_updated_at)
                    elif type(item) is Skipped and isinstance(rating.get("updated_at"), str):
                        newest = newer(newest, parse_date(rating["updated_at"]))
                    yield item
            meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
            links = data.get("links") if isinstance(data.get("links"), dict) else {}
            following = links.get("next") if isinstance(links.get("next"), str) else None
            if not meta.get("has_more") or not following:
                break
            url, params = follow(self.base_url, following), None
        if not state.broken:
            yield Checkpoint({**cursor, "ratings_since": newer(cursor.get("ratings_since"), newest)})


def _unix(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def _ticket(ticket: dict[str, Any], users: dict[Any, Any], loc: str, base: str) -> Item:
    tid = ticket.get("id")
    if not isinstance(tid, int) or isinstance(tid, bool):
        return Quarantined(loc, "ticket without a numeric id", safe_dump(ticket))
    loc = f"{loc} (id {tid})"
    if ticket.get("status") == "deleted":
        return Skipped(loc, "deleted ticket")
    text = clean_text(ticket.get("description"))
    title = clean_text(ticket.get("subject")) or None
    check_text(text, title)
    requester = users.get(ticket.get("requester_id")) or {}
    return FeedbackRecord(
        channel="support",
        platform="zendesk",
        natural_key=f"zendesk:ticket:{tid}",
        text=text or title or "",
        raw=ticket,
        external_id=str(tid),
        response_id=f"zendesk-ticket:{tid}",
        title=title,
        url=f"{base}/agent/tickets/{tid}",
        created_at=parse_date(ticket.get("created_at")),
        source_updated_at=parse_date(ticket.get("updated_at")),
        email=normalise_email(requester.get("email")) if isinstance(requester, dict) else None,
        display_name=clean_text(requester.get("name")) or None if isinstance(requester, dict) else None,
        location=loc,
    )


def _rating(rating: dict[str, Any], loc: str) -> Item:
    rid = rating.get("id")
    if not isinstance(rid, int) or isinstance(rid, bool):
        raise Invalid("satisfaction rating without a numeric id")
    loc = f"{loc} (id {rid})"
    score = clean_text(rating.get("score")).lower()
    comment = clean_text(rating.get("comment"))
    if score not in ("good", "bad") or not comment:
        return Skipped(loc, "rating without a comment" if score in ("good", "bad") else f"rating {score or 'empty'}")
    check_text(comment)
    ticket = rating.get("ticket_id")
    return FeedbackRecord(
        channel="support",
        platform="zendesk",
        natural_key=f"zendesk:rating:{rid}",
        text=comment,
        raw=rating,
        external_id=str(rid),
        response_id=f"zendesk-ticket:{ticket}" if ticket is not None else None,
        question="satisfaction rating",
        title=f"Rated {score}",
        created_at=parse_date(rating.get("created_at")),
        source_updated_at=parse_date(rating.get("updated_at")),
        location=loc,
    )
