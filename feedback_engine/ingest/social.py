"""Social mentions -> feedback items (channel ``social``); authors become customers on the platform.

- ``twitter``: X API v2 responses as JSON Lines, one response page per line
  (``{"data": [tweets], "includes": {"users": [...]}, "meta": {...}}``); a line holding a single
  tweet (``{"id", "text", "author_id"}``, optionally with an expanded ``author``) works too.
  Retweets (``referenced_tweets`` of type ``retweeted``) are skipped, not quarantined; quotes and
  replies are feedback. ``note_tweet.text`` (long posts) wins over the truncated ``text``.
- ``reddit``: Reddit JSON listings: a thread (``[post Listing, comments Listing]``) or a search
  (one Listing of posts); comments are walked through nested ``replies``. ``[removed]`` and
  ``[deleted]`` bodies are skipped; ``more`` stubs carry no text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from feedback_engine.errors import IngestError
from feedback_engine.ingest.readers import (
    BadValue,
    JsonStreamError,
    detect_encoding,
    first_json_char,
    iter_json_array,
    iter_jsonl,
    load_json,
    loads,
    read_sample,
)
from feedback_engine.ingest.records import (
    FeedbackRecord,
    Invalid,
    Quarantined,
    Skipped,
    Source,
    check_text,
    clean_text,
    expect_list,
    expect_object,
    guarded,
    json_type,
    parse_date,
    safe_dump,
)

__all__ = ["SOCIAL_PLATFORMS", "SocialSource", "open_social"]

SOCIAL_PLATFORMS = ("twitter", "reddit")
Item = FeedbackRecord | Quarantined | Skipped


SocialSource = Source


def open_social(path: Path, platform: str | None = None) -> SocialSource:
    """Open an X/Twitter JSONL or Reddit JSON file (platform detected unless given)."""
    if platform is not None and platform not in SOCIAL_PLATFORMS:
        raise IngestError(f"Unknown social platform {platform!r}. Use one of: {', '.join(SOCIAL_PLATFORMS)}.")
    sample = read_sample(path)
    encoding = detect_encoding(sample, path)
    found = detect_social(path, sample, encoding)
    if found is None:
        raise IngestError(
            f"{path} is neither X/Twitter API v2 JSON Lines nor a Reddit JSON listing. "
            "Pass the file as exported (one API response per line for X, the .json of a thread for Reddit)."
        )
    if platform is not None and platform != found:
        other = "X/Twitter API v2 JSON Lines" if found == "twitter" else "a Reddit JSON listing"
        raise IngestError(
            f"{path} is not a {platform} export (it looks like {other}). "
            "Pass the matching --platform, or leave it out to auto-detect."
        )
    if found == "twitter":
        return SocialSource(path, found, _twitter(path, encoding), "twitter-v2-jsonl")
    return SocialSource(path, found, _reddit(path, encoding, sample), "reddit-json")


def detect_social(path: Path, sample: bytes, encoding: str) -> str | None:
    """``twitter``, ``reddit`` or ``None``, from the first value in the file."""
    from feedback_engine.ingest.readers import _decode_sample

    text = _decode_sample(sample[:262144], encoding).lstrip("\ufeff \t\r\n")
    if text.startswith("["):
        return "reddit" if '"kind"' in text[:4096] and ('"Listing"' in text or '"t3"' in text) else None
    if not text.startswith("{"):
        return None
    first_line = text.split("\n", 1)[0]
    try:
        value = loads(first_line)
    except (json.JSONDecodeError, RecursionError):
        value = None
    if isinstance(value, dict):
        if value.get("kind") == "Listing":
            return "reddit"
        if "data" in value or "includes" in value or ("id" in value and "text" in value):
            return "twitter"
        return None
    head = text[:4096]
    if '"kind"' in head and '"Listing"' in head:
        return "reddit"
    if '"data"' in head and ('"author_id"' in text or '"includes"' in text):
        return "twitter"
    return None


# -- X / Twitter -------------------------------------------------------------------------------
def _twitter(path: Path, encoding: str) -> Iterator[Item]:
    for line_no, value, error, raw in iter_jsonl(path, encoding):
        loc = f"line {line_no}"
        if error is not None:
            yield Quarantined(loc, error, raw)
            continue
        if not isinstance(value, dict):
            yield Quarantined(loc, "not an X API v2 response object", raw)
            continue
        yield from guarded(loc, value, _twitter_page, value, loc, raw, raw=raw)


def _twitter_page(value: dict[str, Any], loc: str, raw: str) -> Iterator[Item]:
    """The tweets of one line: a response page (``data`` + ``includes``) or a single tweet."""
    if "data" not in value and "id" in value and "text" in value:
        tweets: list[Any] = [value]
        users: dict[str, Any] = {}
    else:
        data = value.get("data")
        if data is None:
            meta = value.get("meta")
            if (isinstance(meta, dict) and meta.get("result_count") == 0) or "errors" in value:
                return  # an empty page or an error page: no tweets on this line
            yield Quarantined(loc, "no 'data' in this X API response", raw)
            return
        tweets = [data] if isinstance(data, dict) else expect_list(data, "data")
        includes = expect_object(value.get("includes"), "includes")
        users = {
            str(u.get("id")): u for u in expect_list(includes.get("users"), "includes.users") if isinstance(u, dict)
        }
    for n, tweet in enumerate(tweets, start=1):
        where = f"{loc}, tweet {n}" if len(tweets) > 1 else loc
        if not isinstance(tweet, dict):
            yield Quarantined(where, "not a tweet object", safe_dump(tweet))
            continue
        yield from guarded(where, tweet, _tweet, tweet, users, where)


def _tweet(tweet: dict[str, Any], users: dict[str, Any], loc: str) -> Item:
    tid = tweet.get("id")
    if tid is not None:
        loc = f"{loc} (id {tid})"
    refs = expect_list(tweet.get("referenced_tweets"), "referenced_tweets")
    if any(isinstance(r, dict) and r.get("type") == "retweeted" for r in refs):
        return Skipped(loc, "retweet")
    raw = json.dumps(tweet, ensure_ascii=False, default=str)
    if not tid or isinstance(tid, (dict, list)):
        return Quarantined(loc, "tweet without an id", raw)
    note = tweet.get("note_tweet")
    text = clean_text(note.get("text") if isinstance(note, dict) and note.get("text") else tweet.get("text"))
    try:
        check_text(text)
        created = parse_date(tweet.get("created_at"))
        edited = None
        history = tweet.get("edit_history_tweet_ids")
        if isinstance(history, list) and len(history) > 1:
            edited = created
    except Invalid as exc:
        return Quarantined(loc, str(exc), raw)
    author_id = clean_text(tweet.get("author_id"))
    user = users.get(author_id) or expect_object(tweet.get("author"), "author")
    username = clean_text(user.get("username")) or None
    handle = username or (f"id:{author_id}" if author_id else None)
    url = f"https://x.com/{username or 'i/web'}/status/{tid}"
    return FeedbackRecord(
        channel="social",
        platform="twitter",
        natural_key=f"twitter:{tid}",
        text=text,
        raw=raw,
        external_id=str(tid),
        language=clean_text(tweet.get("lang")) or None,
        url=url,
        created_at=created,
        source_updated_at=edited,
        handle=handle,
        display_name=clean_text(user.get("name")) or username,
        location=loc,
    )


# -- Reddit ------------------------------------------------------------------------------------
def _reddit(path: Path, encoding: str, sample: bytes) -> Iterator[Item]:
    if first_json_char(sample, encoding) == "[":
        listings: Iterator[Any] = _stream(path, encoding)
    else:
        listings = iter([load_json(path, encoding)])
    counter = [0]
    for n, listing in enumerate(listings, start=1):
        if isinstance(listing, _Broken):
            yield Quarantined(f"listing {n}", f"invalid JSON: {listing.message}", "")
            return
        if isinstance(listing, BadValue):
            yield Quarantined(f"listing {n}", listing.reason, listing.raw)
            continue
        if not isinstance(listing, dict) or listing.get("kind") != "Listing":
            yield Quarantined(f"listing {n}", "not a Reddit Listing", safe_dump(listing)[:2000])
            continue
        yield from guarded(f"listing {n}", {}, _walk, listing, counter, None, raw=safe_dump(listing)[:2000])


def _walk(listing: dict[str, Any], counter: list[int], post: dict[str, Any] | None) -> Iterator[Item]:
    data = expect_object(listing.get("data"), "data")
    for child in expect_list(data.get("children"), "data.children"):
        if not isinstance(child, dict):
            continue
        kind = child.get("kind")
        if kind not in ("t1", "t3"):
            continue  # "more" stubs and other things carry no text
        counter[0] += 1
        loc = f"{'post' if kind == 't3' else 'comment'} {counter[0]}"
        item = child.get("data")
        if not isinstance(item, dict):
            yield Quarantined(
                loc, f"'data' of a {kind} is a JSON {json_type(item)}, expected an object", safe_dump(child)
            )
            continue
        if item.get("id"):
            loc += f" (id {clean_text(str(item['id']))})"
        slim = {k: v for k, v in item.items() if k != "replies"}
        yield from guarded(loc, slim, _reddit_item, kind, item, loc, post)
        replies = item.get("replies")
        if isinstance(replies, dict) and replies.get("kind") == "Listing":
            yield from guarded(
                f"replies of {loc}",
                {},
                _walk,
                replies,
                counter,
                post if kind == "t1" else item,
                raw="(the replies listing; its readable comments were kept)",
            )


_GONE = {"[removed]", "[deleted]"}


def _reddit_item(kind: str, data: dict[str, Any], loc: str, post: dict[str, Any] | None) -> Item:
    slim = {k: v for k, v in data.items() if k != "replies"}
    raw = json.dumps(slim, ensure_ascii=False, default=str)
    rid = data.get("name") or (f"{kind}_{data['id']}" if data.get("id") else None)
    if kind == "t3":
        title = clean_text(data.get("title")) or None
        text = clean_text(data.get("selftext"))
        if text in _GONE:
            if not title or data.get("removed_by_category"):
                return Skipped(loc, f"post {text[1:-1]}")
            text = ""
    else:
        title = None
        text = clean_text(data.get("body"))
        if text in _GONE:
            return Skipped(loc, f"comment {text[1:-1]}")
    if not rid:
        return Quarantined(loc, "Reddit item without an id", raw)
    try:
        check_text(text, title)
        created = parse_date(data.get("created_utc") if data.get("created_utc") is not None else data.get("created"))
        edited = data.get("edited")
        edited_at = parse_date(edited) if isinstance(edited, (int, float)) and not isinstance(edited, bool) else None
    except Invalid as exc:
        return Quarantined(loc, str(exc), raw)
    if not text and title:
        text = title
    author = clean_text(data.get("author")) or None
    if author in ("[deleted]", "[removed]"):
        author = None
    permalink = data.get("permalink")
    return FeedbackRecord(
        channel="social",
        platform="reddit",
        natural_key=f"reddit:{rid}",
        text=text,
        raw=raw,
        external_id=str(rid),
        title=title,
        url=f"https://www.reddit.com{permalink}" if permalink else None,
        created_at=created,
        source_updated_at=edited_at,
        handle=author,
        display_name=author,
        location=loc,
    )


class _Broken:
    def __init__(self, message: str) -> None:
        self.message = message


def _stream(path: Path, encoding: str) -> Iterator[Any]:
    try:
        yield from iter_json_array(path, encoding)
    except JsonStreamError as exc:
        if exc.count == 0:
            raise IngestError(f"{path} is not valid JSON ({exc}). Pass the export exactly as downloaded.") from exc
        yield _Broken(str(exc))
