"""Zendesk tickets and satisfaction ratings as the support channel; a killed pull loses and
duplicates nothing because the cursor is committed with the page it covers."""

from __future__ import annotations

import pytest

from feedback_engine.ingest.connectors.http import HttpClient
from tests.ingest.connectors.server import page

TICKETS = "/api/v2/incremental/tickets/cursor.json"
RATINGS = "/api/v2/satisfaction_ratings.json"
PAGE1_CURSOR = "MTc2NDAwMDEwMi4wfHwxMDJ8"
PAGE2_CURSOR = "MTc2NDAwMDEwNC4wfHwxMDR8"


@pytest.fixture
def zendesk(engine, api, env):
    env["ZENDESK_API_TOKEN"] = "zd-secret"
    api.route(TICKETS, page("zendesk-tickets-page2.json"), cursor=PAGE1_CURSOR)
    api.route(TICKETS, page("zendesk-tickets-empty.json"), cursor=PAGE2_CURSOR)
    api.route(TICKETS, page("zendesk-tickets-page1.json"))
    api.route(RATINGS, page("zendesk-ratings.json"))
    engine.sources.add("help", "zendesk", {"email": "bot@acme.example", "base_url": api.base})
    return engine


def support_rows(engine) -> list[dict]:
    return engine.store.query(
        "SELECT f.natural_key, f.channel, f.title, f.question, f.response_id, c.email FROM feedback f"
        " LEFT JOIN customers c ON c.id = f.customer_id ORDER BY f.natural_key"
    )


def test_tickets_and_rating_comments_arrive_in_the_support_channel(zendesk, api):
    r = zendesk.sources.pull("help", since="2026-11-01").sources[0]
    assert (r.status, r.added, r.skipped, r.quarantined) == ("ok", 5, 3, 0)  # deleted ticket, 2 ratings without text
    first = api.hits(TICKETS)[0]
    assert first["query"] == {"start_time": "1793491200", "include": "users"}
    assert first["headers"]["Authorization"].startswith("Basic ")  # bot@acme.example/token:zd-secret
    assert api.hits(RATINGS)[0]["query"] == {"start_time": "1793491200", "page[size]": "100"}
    assert support_rows(zendesk) == [
        {"natural_key": "zendesk:rating:35436", "channel": "support", "title": "Rated bad",
         "question": "satisfaction rating", "response_id": "zendesk-ticket:101", "email": None},
        {"natural_key": "zendesk:rating:35438", "channel": "support", "title": "Rated good",
         "question": "satisfaction rating", "response_id": "zendesk-ticket:103", "email": None},
        {"natural_key": "zendesk:ticket:101", "channel": "support", "title": "Charged twice for November",
         "question": None, "response_id": "zendesk-ticket:101", "email": "ann.lee@example.com"},
        {"natural_key": "zendesk:ticket:102", "channel": "support", "title": "Cannot reset password",
         "question": None, "response_id": "zendesk-ticket:102", "email": "bo@example.com"},
        {"natural_key": "zendesk:ticket:103", "channel": "support", "title": "App crashes on export",
         "question": None, "response_id": "zendesk-ticket:103", "email": "ann.lee@example.com"},
    ]  # fmt: skip
    assert zendesk.sources.get("help")["cursor"] == {"tickets": PAGE2_CURSOR, "ratings_since": "2026-11-25T09:00:00Z"}
    assert zendesk.status()["channels"]["support"] == 5
    # the next pull resumes from the stored cursor: an empty page, nothing new
    again = zendesk.sources.pull("help").sources[0]
    assert (again.status, again.added, again.unchanged) == ("ok", 0, 2)  # the two rating comments, re-read
    assert api.hits(TICKETS)[-1]["query"] == {"cursor": PAGE2_CURSOR, "include": "users"}


def test_a_pull_killed_mid_run_loses_nothing_and_duplicates_nothing(zendesk, api, monkeypatch):
    real = HttpClient.get_json

    def killed_on_page_two(self, url, **kwargs):
        if (kwargs.get("params") or {}).get("cursor") == PAGE1_CURSOR:
            raise KeyboardInterrupt  # the process is killed while it asks for the second page
        return real(self, url, **kwargs)

    monkeypatch.setattr(HttpClient, "get_json", killed_on_page_two)
    with pytest.raises(KeyboardInterrupt):
        zendesk.sources.pull("help", since="2026-11-01")
    # page 1 and its cursor were committed together; nothing of page 2
    assert [r["natural_key"] for r in support_rows(zendesk)] == ["zendesk:ticket:101", "zendesk:ticket:102"]
    assert zendesk.sources.get("help")["cursor"] == {"tickets": PAGE1_CURSOR}
    assert zendesk.store.scalar("SELECT status FROM ingest_runs ORDER BY id DESC LIMIT 1") == "failed"
    monkeypatch.setattr(HttpClient, "get_json", real)
    r = zendesk.sources.pull("help").sources[0]
    assert (r.status, r.added) == ("ok", 3)  # ticket 103 and the two rating comments
    assert [h["query"].get("cursor") for h in api.hits(TICKETS)] == [None, PAGE1_CURSOR]  # resumed at page 2
    keys = [row["natural_key"] for row in support_rows(zendesk)]
    assert len(keys) == len(set(keys)) == 5


def test_an_exception_in_one_source_fails_it_and_the_next_source_is_still_pulled(zendesk, api, monkeypatch):
    import feedback_engine.ingest.connectors.zendesk as zd

    def broken(*args, **kwargs):
        raise RuntimeError("a defect")

    monkeypatch.setattr(zd, "_ticket", broken)
    api.route("/r/acmeapp/new.json", page("reddit-new-page2.json"))
    zendesk.sources.add("sub", "reddit", {"subreddit": "acmeapp", "base_url": api.base})
    report = zendesk.sources.pull(since="2025-01-01")
    help_, sub = report.sources
    assert (help_.source, help_.status, help_.added) == ("help", "failed", 0)
    assert help_.error == "unexpected error (RuntimeError: a defect); please report it"
    assert (sub.source, sub.status, sub.added) == ("sub", "ok", 1)
    assert report.exit_code == 1
    assert zendesk.sources.get("help")["cursor"] is None
    assert [(s["name"], s["last_status"]) for s in zendesk.status()["sources"]] == [("help", "failed"), ("sub", "ok")]
