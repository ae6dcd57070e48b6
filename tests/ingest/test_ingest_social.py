"""Social mentions: X API v2 JSONL pages (retweets skipped, bad line quarantined), Reddit listings."""

from __future__ import annotations

import json

import pytest

from feedback_engine.errors import IngestError
from tests.ingest.conftest import REVIEWS, SOCIAL, counts


def test_twitter_pages_retweets_duplicates_and_bad_line(engine):
    report = engine.ingest.social(SOCIAL / "twitter_mentions.jsonl")
    assert report.platform == "twitter"
    # 8 retweets skipped, the same tweet on two pages counted once, line 3 is cut-off JSON
    assert counts(report) == (81, 0, 1, 1, 8)
    [bad] = engine.ingest.quarantine()
    assert bad["location"] == "line 3"
    assert bad["reason"].startswith("invalid JSON: Unterminated string")
    assert engine.store.scalar("SELECT count(*) FROM customers WHERE platform = 'twitter'") == 79
    assert engine.store.scalar("SELECT count(*) FROM feedback WHERE url LIKE 'https://x.com/%/status/%'") == 81


def test_reddit_thread_posts_and_nested_comments(engine):
    report = engine.ingest.social(SOCIAL / "reddit_thread.json")
    assert report.platform == "reddit"
    assert counts(report) == (40, 0, 0, 0, 1)  # the [removed] comment is skipped
    assert engine.store.scalar("SELECT count(*) FROM feedback WHERE natural_key LIKE 'reddit:t1_%'") == 39
    post = engine.store.query("SELECT title, url FROM feedback WHERE natural_key LIKE 'reddit:t3_%'")[0]
    assert post["title"].startswith("Brightdesk after the price hike")
    assert post["url"].startswith("https://www.reddit.com/r/")
    assert engine.store.scalar("SELECT count(*) FROM feedback WHERE text = '[removed]'") == 0


def test_reddit_search_listing(engine):
    assert counts(engine.ingest.social(SOCIAL / "reddit_search.json")) == (20, 0, 0, 0, 0)
    again = engine.ingest.social(SOCIAL / "reddit_search.json")
    assert again.nothing_new


def test_not_social_and_wrong_platform(engine):
    with pytest.raises(IngestError, match="neither X/Twitter API v2 JSON Lines nor a Reddit JSON listing"):
        engine.ingest.social(REVIEWS / "generic_reviews.csv")
    with pytest.raises(IngestError, match="is not a reddit export"):
        engine.ingest.social(SOCIAL / "twitter_mentions.jsonl", platform="reddit")


def test_single_tweet_lines_and_note_tweets(engine, tmp_path):
    path = tmp_path / "tweets.jsonl"
    lines = [
        {"id": "1", "text": "short…", "note_tweet": {"text": "the full long post about sync"}, "author_id": "9",
         "author": {"id": "9", "username": "ann", "name": "Ann"}, "created_at": "2026-10-01T10:00:00.000Z"},
        {"id": "2", "text": "RT @x: hi", "referenced_tweets": [{"type": "retweeted", "id": "1"}]},
        {"id": "3", "text": "reply about billing", "referenced_tweets": [{"type": "replied_to", "id": "1"}]},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n", encoding="utf-8")
    assert counts(engine.ingest.social(path)) == (2, 0, 0, 0, 1)
    row = engine.store.query(
        "SELECT f.text, c.handle, c.display_name FROM feedback f JOIN customers c ON c.id = f.customer_id"
    )[0]
    assert row == {"text": "the full long post about sync", "handle": "ann", "display_name": "Ann"}
