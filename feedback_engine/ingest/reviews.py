"""Review exports -> feedback items (channel ``review``), star rating 1-5.

- ``appstore``: the customer-reviews RSS JSON feed (``{"feed": {"entry": [...]}}``, labels in
  ``{"label": ...}`` wrappers; the app's own entry without ``im:rating`` is skipped) and App
  Store Connect API pages (``{"data": [{"type": "customerReviews", "attributes": {...}}]}``).
- ``googleplay``: Play Console review exports (``reviews_<package>_<YYYYMM>.csv``, UTF-16), keyed
  by the ``reviewId`` in ``Review Link`` (else package + submit millis + device); ``Review Last
  Update`` is the edit time, so an edited review updates its row and keeps the old text in history.
- ``trustpilot``: Trustpilot API JSON (``{"reviews": [{"id", "stars", "title", "text",
  "consumer": {...}, "createdAt", "updatedAt"}]}``).
- ``generic``: CSV/TSV/JSON with columns such as id, rating, title, text, author, email, date.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from feedback_engine.errors import IngestError
from feedback_engine.ingest.readers import (
    BadValue,
    CsvTable,
    JsonStreamError,
    detect_encoding,
    escape_undecodable,
    first_json_char,
    iter_json_array,
    load_json,
    open_csv,
    read_sample,
)
from feedback_engine.ingest.records import (
    FeedbackRecord,
    Invalid,
    Quarantined,
    RowKeys,
    Skipped,
    Source,
    check_text,
    clean_text,
    expect_list,
    expect_object,
    guarded,
    json_type,
    normalise_email,
    parse_date,
    parse_score,
    safe_dump,
)

__all__ = ["REVIEW_PLATFORMS", "ReviewSource", "open_reviews"]

REVIEW_PLATFORMS = ("appstore", "googleplay", "trustpilot", "generic")
_NAMES = {"appstore": "App Store", "googleplay": "Google Play", "trustpilot": "Trustpilot", "generic": "generic"}

Item = FeedbackRecord | Quarantined | Skipped


ReviewSource = Source


def open_reviews(path: Path, platform: str | None = None) -> ReviewSource:
    """Open a review export, detecting the platform unless given; :class:`IngestError` if unreadable."""
    if platform is not None and platform not in REVIEW_PLATFORMS:
        raise IngestError(f"Unknown review platform {platform!r}. Use one of: {', '.join(REVIEW_PLATFORMS)}.")
    sample = read_sample(path)
    encoding = detect_encoding(sample, path)
    start = first_json_char(sample, encoding)
    if start == "{":
        doc = load_json(path, encoding)
        found = _json_platform(doc)
        if platform is not None and found != platform and not (platform == "generic" and found is not None):
            raise _wrong_format(path, platform, found)
        platform = platform or found
        if platform is None:
            raise IngestError(
                f"{path} is JSON but not a review export we know (App Store RSS or Connect, Trustpilot, "
                "or a list of reviews). Pass --platform generic with a 'reviews' list of objects."
            )
        if platform == "appstore":
            if "feed" in doc:
                return ReviewSource(path, platform, _appstore_rss(doc), "appstore-rss")
            return ReviewSource(path, platform, _appstore_connect(doc), "appstore-connect")
        if platform == "trustpilot":
            return ReviewSource(path, platform, _trustpilot(doc), "trustpilot-api")
        items = _generic_list(doc)
        if items is None:
            raise _wrong_format(path, platform, found)
        return ReviewSource(path, "generic", _generic_json(iter(items)), "json")
    if start == "[":
        if platform not in (None, "generic"):
            raise _wrong_format(path, platform, "generic")
        return ReviewSource(path, "generic", _generic_json(_stream(path, encoding)), "json-array")
    if path.suffix.lower() in (".json", ".jsonl"):
        raise IngestError(f"{path} is not valid JSON. Make sure to pass the review export exactly as downloaded.")
    table = open_csv(path, sample)
    rows = table.rows()
    first = next(rows, None)
    if first is None or first[3] is not None:
        raise IngestError(f"{path} has no readable header row. Export the reviews again as CSV with headers.")
    header = [h.strip().lstrip("\ufeff") for h in first[2]]
    found = "googleplay" if {"Package Name", "Star Rating"} <= set(header) else "generic"
    if platform is not None and platform != found and platform != "generic":
        raise _wrong_format(path, platform, found)
    platform = platform or found
    if platform == "googleplay":
        return ReviewSource(path, platform, _googleplay(table, header, rows), "googleplay-csv")
    return ReviewSource(path, "generic", _generic_csv(path, table, header, rows), "csv")


def _wrong_format(path: Path, platform: str, found: str | None) -> IngestError:
    what = f"looks like a {_NAMES.get(found, found)} export" if found else "is not a review export we recognise"
    return IngestError(
        f"{path} is not a {_NAMES[platform]} review export (it {what}). "
        "Pass the matching --platform, or leave it out to auto-detect.",
        source=str(path),
    )


def _json_platform(doc: Any) -> str | None:
    if not isinstance(doc, dict):
        return None
    feed = doc.get("feed")
    if isinstance(feed, dict) and ("entry" in feed or "author" in feed):
        return "appstore"
    data = doc.get("data")
    if isinstance(data, list) and any(isinstance(d, dict) and d.get("type") == "customerReviews" for d in data):
        return "appstore"
    reviews = doc.get("reviews")
    if isinstance(reviews, list) and any(isinstance(r, dict) and ("stars" in r or "consumer" in r) for r in reviews):
        return "trustpilot"
    if _generic_list(doc) is not None:
        return "generic"
    return None


def _generic_list(doc: Any) -> list[Any] | None:
    for key in ("reviews", "data", "items", "results", "records"):
        if isinstance(doc.get(key), list):
            return doc[key]
    return None


def _stream(path: Path, encoding: str) -> Iterator[Any]:
    try:
        yield from iter_json_array(path, encoding)
    except JsonStreamError as exc:
        if exc.count == 0:
            raise IngestError(f"{path} is not valid JSON ({exc}). Pass the export exactly as downloaded.") from exc
        yield _Broken(str(exc))


class _Broken:
    def __init__(self, message: str) -> None:
        self.message = message


def _dump(value: Any) -> str:
    return safe_dump(value)


def _label(node: Any) -> Any:
    """The value of an RSS ``{"label": ...}`` wrapper (or the value itself)."""
    if isinstance(node, dict):
        return node.get("label")
    if isinstance(node, list):  # some feeds give [plain, html] content
        for part in node:
            if isinstance(part, dict) and (part.get("attributes") or {}).get("type") == "text":
                return part.get("label")
        return _label(node[0]) if node else None
    return node


def _review(
    platform: str,
    location: str,
    raw: Any,
    *,
    external_id: str | None,
    text: Any,
    title: Any = None,
    rating: Any = None,
    created: Any = None,
    updated: Any = None,
    handle: Any = None,
    name: Any = None,
    email: Any = None,
    language: Any = None,
    url: Any = None,
    key: str | None = None,
    row_keys: RowKeys | None = None,
) -> FeedbackRecord | Quarantined:
    """Validate one review and build its record (or its quarantine entry)."""
    try:
        body = clean_text(text)
        head = clean_text(title) or None
        check_text(body, head)
        stars = parse_score(rating, 1, 5, "star rating")
        created_at = parse_date(created)
        updated_at = parse_date(updated) if updated not in (None, "") else None
    except Invalid as exc:
        return Quarantined(location, str(exc), _dump(raw))
    if not body and head:
        body = head
    handle_text = clean_text(handle) or None
    if key is None:
        if external_id:
            key = f"{platform}:{external_id}"
        else:  # no id: the whole record and its occurrence (two users' identical "!" are two reviews)
            key = f"{platform}:{(row_keys or RowKeys()).key(safe_dump(raw))}"
    return FeedbackRecord(
        channel="review",
        platform=platform,
        natural_key=key,
        text=body,
        raw=raw,
        external_id=external_id,
        title=head,
        rating=stars,
        language=clean_text(language) or None,
        url=clean_text(url) or None,
        created_at=created_at,
        source_updated_at=updated_at,
        email=normalise_email(email),
        handle=handle_text,
        display_name=clean_text(name) or handle_text,
        location=location,
    )


# -- App Store ----------------------------------------------------------------------------------
def _appstore_rss(doc: dict[str, Any]) -> Iterator[Item]:
    entries = expect_object(doc.get("feed"), "feed").get("entry") or []
    if isinstance(entries, dict):  # a feed with one entry holds it as an object
        entries = [entries]
    rows = RowKeys()
    for n, entry in enumerate(expect_list(entries, "feed.entry"), start=1):
        loc = f"entry {n}"
        if not isinstance(entry, dict):
            yield Quarantined(loc, "not a JSON object", _dump(entry))
            continue
        if "im:rating" not in entry and ("im:name" in entry or "im:image" in entry):
            yield Skipped(loc, "the app's own entry, not a review")
            continue
        yield from guarded(loc, entry, _appstore_entry, entry, loc, rows)


def _appstore_entry(entry: dict[str, Any], loc: str, rows: RowKeys) -> FeedbackRecord | Quarantined:
    author = expect_object(entry.get("author"), "author")
    link = entry.get("link") or {}
    href = (
        _label(expect_object(link.get("attributes"), "link.attributes").get("href")) if isinstance(link, dict) else None
    )
    name = _label(author.get("name"))
    uri = _label(author.get("uri"))
    external = _scalar(_label(entry.get("id")), "id")
    return _review(
        "appstore",
        loc if not external else f"{loc} (id {external})",
        entry,
        external_id=external,
        text=_label(entry.get("content")),
        title=_label(entry.get("title")),
        rating=_label(entry.get("im:rating")),
        created=_label(entry.get("updated")),
        handle=_appstore_user(uri) or name,
        name=name,
        url=href,
        row_keys=rows,
    )


def _scalar(value: Any, name: str) -> str | None:
    """An id as text (``None`` when missing); :class:`Invalid` for an object or array."""
    if value is None or value == "":
        return None
    if isinstance(value, (dict, list)):
        raise Invalid(f"{name!r} is a JSON {json_type(value)}, expected a string or number")
    return str(value).strip() or None


def _appstore_user(uri: Any) -> str | None:
    match = re.search(r"/id(\d+)", str(uri or ""))
    return f"id{match.group(1)}" if match else None


def _appstore_connect(doc: dict[str, Any]) -> Iterator[Item]:
    rows = RowKeys()
    for n, item in enumerate(expect_list(doc.get("data"), "data"), start=1):
        loc = f"record {n}"
        if not isinstance(item, dict) or item.get("type") != "customerReviews":
            yield Quarantined(loc, "not a customerReviews resource", _dump(item))
            continue
        yield from guarded(loc, item, _connect_review, item, loc, rows)


def _connect_review(item: dict[str, Any], loc: str, rows: RowKeys) -> FeedbackRecord | Quarantined:
    attrs = expect_object(item.get("attributes"), "attributes")
    external = _scalar(item.get("id"), "id")
    return _review(
        "appstore",
        f"{loc} (id {external})" if external else loc,
        item,
        external_id=external,
        text=attrs.get("body"),
        title=attrs.get("title"),
        rating=attrs.get("rating"),
        created=attrs.get("createdDate"),
        handle=attrs.get("reviewerNickname"),
        name=attrs.get("reviewerNickname"),
        row_keys=rows,
    )


# -- Google Play -------------------------------------------------------------------------------
_REVIEW_ID = re.compile(r"[?&]reviewId=([^&#\s]+)")


def _googleplay(
    table: CsvTable, header: list[str], rows: Iterator[tuple[int, int, list[str], str | None]]
) -> Iterator[Item]:
    col = {name: i for i, name in enumerate(header)}
    width = len(header)

    def get(fields: list[str], name: str) -> str | None:
        i = col.get(name)
        return fields[i] if i is not None else None

    for start, end, fields, bad in rows:
        loc = f"line {start}" if start == end else f"lines {start}-{end}"
        if bad:
            yield Quarantined(loc, bad, _dump([escape_undecodable(f) for f in fields]))
            continue
        if len(fields) != width:
            yield Quarantined(loc, f"wrong column count: {len(fields)} fields, expected {width}", _dump(fields))
            continue
        raw = dict(zip(header, fields, strict=False))
        link = get(fields, "Review Link") or ""
        match = _REVIEW_ID.search(link)
        package = get(fields, "Package Name") or ""
        key: str | None
        external: str | None
        if match:
            key = f"googleplay:{match.group(1)}"
            external = match.group(1)
        else:
            millis = get(fields, "Review Submit Millis Since Epoch") or get(fields, "Review Submit Date and Time")
            external = None
            key = f"googleplay:{package}:{millis}:{get(fields, 'Device') or ''}" if millis else None
        yield _review(
            "googleplay",
            loc,
            raw,
            external_id=external,
            key=key,
            text=get(fields, "Review Text"),
            title=get(fields, "Review Title"),
            rating=get(fields, "Star Rating"),
            created=get(fields, "Review Submit Date and Time") or get(fields, "Review Submit Millis Since Epoch"),
            updated=get(fields, "Review Last Update Date and Time")
            or get(fields, "Review Last Update Millis Since Epoch"),
            language=get(fields, "Reviewer Language"),
            url=link or None,
        )


# -- Trustpilot -------------------------------------------------------------------------------
def _trustpilot(doc: dict[str, Any]) -> Iterator[Item]:
    rows = RowKeys()
    for n, review in enumerate(expect_list(doc.get("reviews"), "reviews"), start=1):
        loc = f"review {n}"
        if not isinstance(review, dict):
            yield Quarantined(loc, "not a JSON object", _dump(review))
            continue
        yield from guarded(loc, review, _trustpilot_review, review, loc, rows)


def _trustpilot_review(review: dict[str, Any], loc: str, rows: RowKeys) -> FeedbackRecord | Quarantined:
    consumer = expect_object(review.get("consumer"), "consumer")
    external = _scalar(review.get("id"), "id")
    url = None
    for link in expect_list(review.get("links"), "links"):
        if isinstance(link, dict) and link.get("rel") in ("reviews", "self", "public") and link.get("href"):
            url = link["href"]
            break
    if url is None and external:
        url = f"https://www.trustpilot.com/reviews/{external}"
    return _review(
        "trustpilot",
        f"{loc} (id {external})" if external else loc,
        review,
        external_id=external,
        text=review.get("text"),
        title=review.get("title"),
        rating=review.get("stars"),
        created=review.get("createdAt"),
        updated=review.get("updatedAt"),
        handle=consumer.get("id") or consumer.get("displayName"),
        name=consumer.get("displayName"),
        email=review.get("referralEmail") or consumer.get("email"),
        language=review.get("language"),
        url=url,
        row_keys=rows,
    )


# -- generic ----------------------------------------------------------------------------------
_GENERIC = {
    "id": ["id", "review_id", "reviewid", "review id", "external_id", "uuid"],
    "rating": ["rating", "stars", "star_rating", "star rating", "score", "rating (1-5)"],
    "title": ["title", "subject", "headline", "summary", "review_title", "review title"],
    "text": ["text", "body", "review", "content", "comment", "review_text", "review text", "message", "feedback"],
    "author": ["author", "reviewer", "name", "user", "username", "user_name", "nickname", "author_name", "customer"],
    "email": ["email", "e-mail", "email address", "author_email", "reviewer_email"],
    "date": ["date", "created_at", "created", "submitted_at", "review_date", "timestamp", "published", "published_at"],
    "updated": ["updated_at", "updated", "last_updated", "edited_at", "modified"],
    "language": ["language", "lang", "locale"],
    "url": ["url", "link", "permalink"],
}


def _generic_columns(names: list[str]) -> dict[str, str]:
    lowered = {n.strip().lower(): n for n in names}
    found = {}
    for field, options in _GENERIC.items():
        for option in options:
            if option in lowered:
                found[field] = lowered[option]
                break
    return found


def _generic_record(
    cols: dict[str, str], item: dict[str, Any], loc: str, rows: RowKeys
) -> FeedbackRecord | Quarantined:
    def get(field: str) -> Any:
        name = cols.get(field)
        return item.get(name) if name else None

    author = get("author")
    if isinstance(author, dict):
        author = author.get("name") or author.get("displayName") or author.get("id")
    return _review(
        "generic",
        loc,
        item,
        external_id=_scalar(get("id"), cols.get("id", "id")),
        text=get("text"),
        title=get("title"),
        rating=get("rating"),
        created=get("date"),
        updated=get("updated"),
        handle=author,
        name=author,
        email=get("email"),
        language=get("language"),
        url=get("url"),
        row_keys=rows,
    )


def _generic_csv(
    path: Path, table: CsvTable, header: list[str], rows: Iterator[tuple[int, int, list[str], str | None]]
) -> Iterator[Item]:
    cols = _generic_columns(header)
    if "text" not in cols and "title" not in cols:
        raise IngestError(
            f"No review text column in {path}. Columns found: {', '.join(repr(h) for h in header[:25])}. "
            "Name the text column 'text' (or 'review', 'body', 'comment'), or pass --platform to match the file."
        )
    return _generic_csv_rows(cols, header, rows)


def _generic_csv_rows(
    cols: dict[str, str], header: list[str], rows: Iterator[tuple[int, int, list[str], str | None]]
) -> Iterator[Item]:
    width = len(header)
    keys = RowKeys()
    for start, end, fields, bad in rows:
        loc = f"line {start}" if start == end else f"lines {start}-{end}"
        if bad:
            yield Quarantined(loc, bad, _dump([escape_undecodable(f) for f in fields]))
        elif len(fields) != width:
            yield Quarantined(loc, f"wrong column count: {len(fields)} fields, expected {width}", _dump(fields))
        else:
            item = dict(zip(header, fields, strict=False))
            yield from guarded(loc, item, _generic_record, cols, item, loc, keys)


def _generic_json(items: Iterator[Any]) -> Iterator[Item]:
    cols: dict[str, str] = {}
    keys = RowKeys()
    for n, item in enumerate(items, start=1):
        loc = f"record {n}"
        if isinstance(item, _Broken):
            yield Quarantined(loc, f"invalid JSON: {item.message}", "")
            return
        if isinstance(item, BadValue):
            yield Quarantined(loc, item.reason, item.raw)
            continue
        if not isinstance(item, dict):
            yield Quarantined(loc, "not a JSON object", _dump(item))
            continue
        if not cols or any(k not in cols.values() for k in item if k.lower() in _ALL_GENERIC):
            cols = _generic_columns(list(item))
        yield from guarded(loc, item, _generic_record, cols, item, loc, keys)


_ALL_GENERIC = {option for options in _GENERIC.values() for option in options}
