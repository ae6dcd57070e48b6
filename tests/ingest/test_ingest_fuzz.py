"""Fuzz tier: every reader gets hostile records and damaged bytes, through the CLI.

Two kinds of input per export format:

- **hostile records**: a file of valid records mixed with records that carry one bad value each
  (a wrong JSON type, a 5,000-digit integer, 3,000-deep nesting, an extreme date, NUL-only or
  empty text, an oversized text, a bad score), in several encodings and line endings. The command
  must exit 0, every valid record must land exactly once with its exact text, every bad one must
  be in quarantine with a reason, and a re-import must add nothing.
- **damaged bytes**: a valid file truncated, with a byte flipped or a NUL inserted. The command
  must end with exit 0 (counts that add up) or 1 (one ``Error:`` line), never a traceback; for
  line-based formats every record on an untouched line must still land.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback_engine.cli import main

# FEEDBACK_ENGINE_FUZZ_EXAMPLES=500 pytest tests/ingest/test_ingest_fuzz.py fuzzes longer on demand
EXAMPLES = int(os.environ.get("FEEDBACK_ENGINE_FUZZ_EXAMPLES", "30"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Answers people write: any Unicode but surrogates and control characters; never blank.
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\ufeff\x85"),
    min_size=1,
    max_size=40,
).map(lambda t: f"answer {t}".strip())

HUGE = "9" * 5000
DEEP = "[" * 3000 + "]" * 3000
_HUGE_MARK, _DEEP_MARK = "@@HUGE@@", "@@DEEP@@"


def _json_text(value: Any) -> str:
    """JSON text where the marker strings become a 5,000-digit integer and 3,000-deep nesting."""
    return json.dumps(value, ensure_ascii=False).replace(f'"{_HUGE_MARK}"', HUGE).replace(f'"{_DEEP_MARK}"', DEEP)


# -- formats: a good record per id, and the ways one record can be bad ------------------------------------
def _tweet(i: str, text: str) -> dict[str, Any]:
    return {
        "data": [{"id": i, "text": text, "author_id": "u1", "created_at": "2026-01-02T03:04:05.000Z"}],
        "includes": {"users": [{"id": "u1", "username": "ann", "name": "Ann"}]},
    }


def _set_tweet(**fields: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def apply(page: dict[str, Any]) -> dict[str, Any]:
        page["data"][0].update(fields)
        return page

    return apply


TWEET_BAD: dict[str, Callable[[dict[str, Any]], Any]] = {
    "data is a number": lambda p: {"data": 5},
    "includes is an array": lambda p: {**p, "includes": []},
    "users is a string": lambda p: {**p, "includes": {"users": "abc"}},
    "referenced_tweets is a number": _set_tweet(referenced_tweets=7),
    "text is an object": _set_tweet(text={"a": 1}),
    "date in year 1 with an offset": _set_tweet(created_at="0001-01-01T00:00:00+01:00"),
    "date in year 9999 with an offset": _set_tweet(created_at="9999-12-31T23:59:59-01:00"),
    "a huge integer": _set_tweet(n=_HUGE_MARK),
    "deep nesting": _set_tweet(n=_DEEP_MARK),
    "NUL-only text": _set_tweet(text="\x00\x00"),
    "empty text": _set_tweet(text=""),
    "text over the limit": _set_tweet(text="x" * 20_001),
    "no id": _set_tweet(id=None),
}


def _post(i: str, text: str) -> dict[str, Any]:
    data = {"id": i, "name": f"t3_{i}", "title": None, "selftext": text, "author": "u1", "created_utc": 1760000000}
    return {"kind": "t3", "data": data}


def _set_post(**fields: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def apply(child: dict[str, Any]) -> dict[str, Any]:
        child["data"].update(fields)
        return child

    return apply


POST_BAD: dict[str, Callable[[dict[str, Any]], Any]] = {
    "data is a string": lambda c: {"kind": "t3", "data": "abc"},
    "title is an array": _set_post(title=["a"]),
    "selftext is an object": _set_post(selftext={"a": 1}),
    "a huge created_utc": _set_post(created_utc=_HUGE_MARK),
    "created_utc 1e30": _set_post(created_utc=1e30),
    "deep nesting": _set_post(extra=_DEEP_MARK),
    "NUL-only text": _set_post(selftext="\x00"),
}


def _trustpilot(i: str, text: str) -> dict[str, Any]:
    return {"id": i, "stars": 4, "text": text, "createdAt": "2026-01-02T03:04:05Z", "consumer": {"id": f"c{i}"}}


def _set(**fields: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda record: {**record, **fields}


TRUSTPILOT_BAD: dict[str, Callable[[dict[str, Any]], Any]] = {
    "consumer is a string": _set(consumer="abc"),
    "links is a number": _set(links=7),
    "stars 11": _set(stars=11),
    "stars huge": _set(stars=_HUGE_MARK),
    "date in year 1 with an offset": _set(createdAt="0001-01-01T00:00:00+01:00"),
    "text is an array": _set(text=["a"]),
    "deep nesting": _set(extra=_DEEP_MARK),
    "NUL-only text": _set(text="\x00"),
}


def _entry(i: str, text: str) -> dict[str, Any]:
    return {
        "id": {"label": i},
        "content": {"label": text},
        "im:rating": {"label": "4"},
        "author": {"name": {"label": "Ann"}, "uri": {"label": "https://itunes.apple.com/us/reviews/id42"}},
        "updated": {"label": "2026-01-02T03:04:05-07:00"},
    }


APPSTORE_BAD: dict[str, Callable[[dict[str, Any]], Any]] = {
    "author is a string": _set(author="abc"),
    "content label is an object": _set(content={"label": {"x": 1}}),
    "rating 0": _set(**{"im:rating": {"label": "0"}}),
    "date in year 1": _set(updated={"label": "0001-01-01T00:00:00+01:00"}),
    "a huge integer": _set(extra=_HUGE_MARK),
    "deep nesting": _set(extra=_DEEP_MARK),
}

SURVEY_BAD_CELLS: dict[str, dict[str, str]] = {
    "nps 11": {"nps": "11"},
    "nps x": {"nps": "x"},
    "date in year 1 with an offset": {"date": "0001-01-01T00:00:00+01:00"},
    "date in year 9999 with an offset": {"date": "9999-12-31T23:59:59-01:00"},
    "empty text": {"text": ""},
    "text over the limit": {"text": "y" * 20_001},
}

REVIEW_BAD_CELLS: dict[str, dict[str, str]] = {
    "rating x": {"rating": "x"},
    "rating 6": {"rating": "6"},
    "date in year 1 with an offset": {"date": "0001-01-01T00:00:00+01:00"},
    "empty text": {"text": ""},
}


def _csv_bytes(header: list[str], rows: list[list[str]], encoding: str, newline: str) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    data = buf.getvalue()
    if encoding == "utf-16":
        return data.encode("utf-16")  # with BOM
    return data.encode(encoding)


Record = tuple[str, str, str | None]  # id, text, bad mutation name (None: valid)


def _build(fmt: str, records: list[Record], encoding: str, newline: str) -> tuple[bytes, str, list[str]]:
    """File bytes, its name and the CLI arguments that import it."""
    if fmt == "twitter":
        lines = []
        for i, text, bad in records:
            page = _tweet(i, text)
            lines.append(_json_text(TWEET_BAD[bad](page) if bad else page))
        return (newline.join(lines) + newline).encode(encoding), "x.jsonl", ["social", "--platform", "twitter"]
    if fmt == "reddit":
        children = [POST_BAD[bad](_post(i, t)) if bad else _post(i, t) for i, t, bad in records]
        doc = [{"kind": "Listing", "data": {"children": children}}]
        return _json_text(doc).encode(encoding), "thread.json", ["social", "--platform", "reddit"]
    if fmt == "trustpilot":
        reviews = [TRUSTPILOT_BAD[bad](_trustpilot(i, t)) if bad else _trustpilot(i, t) for i, t, bad in records]
        return _json_text({"reviews": reviews}).encode(encoding), "tp.json", ["reviews", "--platform", "trustpilot"]
    if fmt == "appstore":
        entries = [APPSTORE_BAD[bad](_entry(i, t)) if bad else _entry(i, t) for i, t, bad in records]
        doc = {"feed": {"entry": entries}}
        return _json_text(doc).encode(encoding), "rss.json", ["reviews", "--platform", "appstore"]
    if fmt == "survey-json":
        items = []
        for i, text, bad in records:
            item: dict[str, Any] = {"id": i, "comment": text, "nps": 8, "date": "2026-01-02T03:04:05Z"}
            if bad == "deep nesting":
                item["extra"] = _DEEP_MARK
            elif bad == "a huge integer":
                item["nps"] = _HUGE_MARK
            elif bad:
                cells = {"text": "comment"}
                for key, value in SURVEY_BAD_CELLS[bad].items():
                    item[cells.get(key, key)] = value
            items.append(item)
        args = ["surveys", "--id-column", "id", "--text-column", "comment", "--nps-column", "nps"]
        return _json_text(items).encode(encoding), "responses.json", [*args, "--date-column", "date"]
    if fmt == "survey-csv":
        rows = []
        for i, text, bad in records:
            row = {"id": i, "text": text, "nps": "8", "date": "2026-01-02 03:04:05"}
            row.update(SURVEY_BAD_CELLS[bad] if bad and bad in SURVEY_BAD_CELLS else {})
            cells = [row["id"], row["text"], row["nps"], row["date"]]
            if bad == "an extra field":
                cells.append("surplus")
            rows.append(cells)
        args = ["surveys", "--id-column", "id", "--text-column", "text", "--nps-column", "nps", "--date-column", "date"]
        return _csv_bytes(["id", "text", "nps", "date"], rows, encoding, newline), "responses.csv", args
    assert fmt == "review-csv"
    rows = []
    for i, text, bad in records:
        row = {"id": i, "rating": "4", "text": text, "date": "2026-01-02"}
        row.update(REVIEW_BAD_CELLS[bad] if bad else {})
        rows.append([row["id"], row["rating"], row["text"], row["date"]])
    data = _csv_bytes(["id", "rating", "text", "date"], rows, encoding, newline)
    return data, "reviews.csv", ["reviews", "--platform", "generic"]


BAD_NAMES = {
    "twitter": sorted(TWEET_BAD),
    "reddit": sorted(POST_BAD),
    "trustpilot": sorted(TRUSTPILOT_BAD),
    "appstore": sorted(APPSTORE_BAD),
    "survey-json": sorted([*SURVEY_BAD_CELLS, "deep nesting", "a huge integer"]),
    "survey-csv": sorted([*SURVEY_BAD_CELLS, "an extra field"]),
    "review-csv": sorted(REVIEW_BAD_CELLS),
}
CSV_FORMATS = ("survey-csv", "review-csv")


@st.composite
def hostile_files(draw: Any) -> tuple[str, list[Record], str, str]:
    fmt = draw(st.sampled_from(sorted(BAD_NAMES)))
    kinds = draw(st.lists(st.one_of(st.none(), st.sampled_from(BAD_NAMES[fmt])), min_size=1, max_size=12))
    records = [(f"id{n}", draw(TEXT), bad) for n, bad in enumerate(kinds)]
    if fmt in CSV_FORMATS:
        encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
        newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    else:
        encoding = draw(st.sampled_from(["utf-8", "utf-8-sig"]))
        newline = draw(st.sampled_from(["\n", "\r\n"]))
    return fmt, records, encoding, newline


def _invoke(db: Path, args: list[str]) -> Any:
    result = CliRunner().invoke(main, ["--db", str(db), "ingest", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def _query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@SETTINGS
@given(case=hostile_files())
def test_hostile_records_are_quarantined_and_every_valid_record_lands_once(case):
    fmt, records, encoding, newline = case
    data, name, args = _build(fmt, records, encoding, newline)
    with tempfile.TemporaryDirectory() as tmp:
        path, db = Path(tmp) / name, Path(tmp) / "f.db"
        path.write_bytes(data)
        result = _invoke(db, [*args[:1], str(path), *args[1:], "--json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        good = {i: text for i, text, bad in records if bad is None}
        n_bad = sum(1 for _, _, bad in records if bad)
        stored = _query(db, "SELECT external_id, text FROM feedback")
        ids = [row[0].removeprefix("t3_") for row in stored]
        assert sorted(ids) == sorted(good), (fmt, [r for r in records if r[2]], ids)
        assert {row[0].removeprefix("t3_"): row[1] for row in stored} == good
        assert report["added"] == len(good) and report["quarantined"] == n_bad
        reasons = _query(db, "SELECT reason FROM quarantine")
        assert len(reasons) == n_bad and all(r[0].strip() for r in reasons)
        again = json.loads(_invoke(db, [*args[:1], str(path), *args[1:], "--json"]).stdout)
        assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, len(good))


LINE_FORMATS = ("twitter", "survey-csv")


@st.composite
def damaged_files(draw: Any) -> tuple[str, list[Record], str, int, int | None]:
    fmt = draw(st.sampled_from(sorted(BAD_NAMES)))
    records = [(f"id{n}", draw(TEXT), None) for n in range(draw(st.integers(1, 8)))]
    op = draw(st.sampled_from(["truncate", "flip", "nul"]))
    data, _name, _args = _build(fmt, records, "utf-8", "\n")
    at = draw(st.integers(0, len(data) - 1))
    value = draw(st.integers(0, 255).filter(lambda b: b not in b'"\r\n,')) if op == "flip" else None
    return fmt, records, op, at, value


@SETTINGS
@given(case=damaged_files())
def test_damaged_bytes_never_crash_and_untouched_lines_still_land(case):
    fmt, records, op, at, value = case
    data, name, args = _build(fmt, records, "utf-8", "\n")
    if op == "truncate":
        damaged = data[:at]
    elif op == "flip":
        if data[at] in b'"\r\n,':
            return  # changing a CSV quote or separator regroups the fields by design
        damaged = data[:at] + bytes([value]) + data[at + 1 :]
    else:
        damaged = data[:at] + b"\x00" + data[at:]
    with tempfile.TemporaryDirectory() as tmp:
        path, db = Path(tmp) / name, Path(tmp) / "f.db"
        path.write_bytes(damaged)
        result = _invoke(db, [*args[:1], str(path), *args[1:], "--json"])
        assert result.exit_code in (0, 1), result.output
        if result.exit_code == 1:
            assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
            return
        report = json.loads(result.stdout)
        parts = ("added", "updated", "unchanged", "quarantined", "skipped")
        assert report["records"] == sum(report[k] for k in parts)
        assert _query(db, "SELECT count(*) FROM feedback") == [(report["added"],)]
        if fmt not in LINE_FORMATS:
            return
        # every record on a line the damage did not touch lands exactly once, with its text
        stored = dict(_query(db, "SELECT external_id, text FROM feedback"))
        lines = data.split(b"\n")
        offset = 0
        header = 1 if fmt == "survey-csv" else 0
        for n, line in enumerate(lines):
            start, end = offset, offset + len(line) + 1
            offset = end
            if n < header or not line:
                continue
            touched = at < end if op == "truncate" else start <= at < end
            if op == "truncate" and at == end - 1:
                touched = False  # cut exactly at this line's newline: the line is whole
            if touched:
                continue
            i, text, _ = records[n - header]
            assert stored.get(i) == text, (op, at, n, line)
