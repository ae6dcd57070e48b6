"""Regressions of the hardening issue: malformed real-format files and hostile values, through the CLI.

Each test is one defect that was found: the bad record goes to quarantine with its reason, the rest
of the file lands, and the command ends with its documented exit code and no traceback.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedback_engine.cli import main


@pytest.fixture
def cli(tmp_path: Path):
    db = tmp_path / "hostile.db"

    def invoke(*args: str):
        result = CliRunner().invoke(main, ["--db", str(db), *args])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
        return result

    invoke.db = db  # type: ignore[attr-defined]
    return invoke


def _rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def _texts(db: Path) -> list[str]:
    return [r[0] for r in _rows(db, "SELECT text FROM feedback ORDER BY id")]


def _reasons(db: Path) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in _rows(db, "SELECT location, reason FROM quarantine ORDER BY id")]


def test_a_date_out_of_range_with_an_offset_quarantines_that_row_only(cli, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(
        "id,date,text\n1,0001-01-01T00:00:00+01:00,the checkout page is slow\n2,2026-01-02,the app is good\n"
    )
    result = cli("ingest", "surveys", str(path), "--id-column", "id", "--text-column", "text", "--date-column", "date")
    assert result.exit_code == 0
    assert _texts(cli.db) == ["the app is good"]
    [(location, reason)] = _reasons(cli.db)
    assert location == "line 2"
    assert reason.startswith("date out of range (0001-01-01T00:00:00+01:00") and "in column 'date'" in reason


@pytest.mark.parametrize(
    "value", ["9999-12-31T23:59:59-01:00", "1969-12-31", "3000-01-01T00:00:00Z", "1e30", "-62135596800"]
)
def test_extreme_dates_are_quarantined_not_fatal(cli, tmp_path, value):
    path = tmp_path / "e.csv"
    path.write_text(f"id,date,text\n1,{value},the checkout page is slow\n2,2026-01-02,the app is good\n")
    result = cli("ingest", "surveys", str(path), "--text-column", "text", "--date-column", "date")
    assert result.exit_code == 0
    assert _texts(cli.db) == ["the app is good"]
    assert len(_reasons(cli.db)) == 1


def _jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


GOOD_TWEET = json.dumps({"data": [{"id": "100", "text": "login is broken again", "author_id": "7"}]})
LAST_TWEET = json.dumps({"data": [{"id": "101", "text": "love the new widget", "author_id": "7"}]})


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"data": [{"id": "1", "text": "x", "n": ' + "9" * 5000 + "}]}", "a number with 5000 digits"),
        ('{"data": ' + "[" * 5000 + "]" * 5000 + "}", "invalid JSON: nested too deeply"),
        ('{"data": [{"id": "1", "text": "x", "n": ' + "[" * 300 + "]" * 300 + "}]}", "nested more than 64 levels"),
        ('{"data": 5}', "'data' is a JSON number, expected an array"),
        ('{"data": [{"id": "1", "text": "hi there"}], "includes": []}', "'includes' is a JSON array"),
        ('{"data": [{"id": "1", "text": "hi there", "referenced_tweets": 7}]}', "'referenced_tweets' is a JSON number"),
        ('{"data": [{"id": "1", "text": {"a": 1}}]}', "a JSON object where text was expected"),
        ('{"data": [{"id": "1", "text": "ok", "author": "abc"}]}', "'author' is a JSON string"),
    ],
)
def test_x_lines_of_the_wrong_shape_are_quarantined_and_the_rest_lands(cli, tmp_path, line, reason):
    path = _jsonl(tmp_path / "x.jsonl", [GOOD_TWEET, line, LAST_TWEET])
    result = cli("ingest", "social", str(path), "--platform", "twitter", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["added"] == 2
    assert _texts(cli.db) == ["login is broken again", "love the new widget"]
    [(location, why)] = _reasons(cli.db)
    assert location == "line 2" and reason in why


def test_trustpilot_consumer_of_the_wrong_type(cli, tmp_path):
    doc = {
        "reviews": [
            {"id": "a", "stars": 5, "text": "great support", "consumer": "abc"},
            {"id": "b", "stars": 4, "text": "fast refund", "consumer": {"id": "c1", "displayName": "Ann"}},
            {"id": "c", "stars": 4, "text": "good", "consumer": {}, "links": 7},
            {"id": "d", "stars": int("9" * 10), "text": "good", "consumer": {}},
        ]
    }
    path = tmp_path / "tp.json"
    path.write_text(json.dumps(doc))
    assert cli("ingest", "reviews", str(path)).exit_code == 0
    assert _texts(cli.db) == ["fast refund"]
    reasons = dict(_reasons(cli.db))
    assert reasons["review 1"] == "'consumer' is a JSON string, expected an object"
    assert reasons["review 3"] == "'links' is a JSON number, expected an array"
    assert reasons["review 4 (id d)"].startswith("invalid star rating")


def test_a_huge_integer_and_deep_nesting_inside_a_json_document(cli, tmp_path):
    text = (
        '{"reviews": [{"id": "a", "stars": 5, "text": "fine", "consumer": {}, "x": '
        + "9" * 5000
        + '}, {"id": "b", "stars": 5, "text": "deep", "consumer": {}, "x": '
        + "[" * 5000
        + "]" * 5000
        + '}, {"id": "c", "stars": 4, "text": "the survivor", "consumer": {}}]}'
    )
    path = tmp_path / "tp.json"
    path.write_text(text)
    assert cli("ingest", "reviews", str(path), "--platform", "trustpilot").exit_code == 0
    assert _texts(cli.db) == ["the survivor"]
    assert [r for _, r in _reasons(cli.db)] == ["a number with 5000 digits", "nested more than 64 levels deep"]


def test_reddit_children_and_reply_data_of_the_wrong_type(cli, tmp_path):
    post = {
        "kind": "t3",
        "data": {
            "id": "p1",
            "name": "t3_p1",
            "title": "Login broken",
            "selftext": "cannot log in since the update",
            "author": "u1",
            "created_utc": 1760000000,
            "replies": {
                "kind": "Listing",
                "data": {
                    "children": [
                        {"kind": "t1", "data": "a string"},
                        {"kind": "t1", "data": {"id": "c2", "name": "t1_c2", "body": "same here", "author": "u2"}},
                    ]
                },
            },
        },
    }
    doc = [{"kind": "Listing", "data": {"children": 5}}, {"kind": "Listing", "data": {"children": [post]}}]
    path = tmp_path / "thread.json"
    path.write_text(json.dumps(doc))
    assert cli("ingest", "social", str(path)).exit_code == 0
    assert _texts(cli.db) == ["cannot log in since the update", "same here"]
    reasons = [r for _, r in _reasons(cli.db)]
    assert reasons == [
        "'data.children' is a JSON number, expected an array",
        "'data' of a t1 is a JSON string, expected an object",
    ]


def test_one_bad_file_never_stops_the_folder_and_the_exit_code_says_so(cli, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a.csv").write_text("id,text\n1,the app is slow on android\n2,checkout fails on safari\n")
    (folder / "b.jsonl").write_text(GOOD_TWEET + "\n" + '{"data": 5}\n')
    (folder / "broken.json").write_text('{"reviews": [')
    (folder / "notes.txt").write_text(
        "We met on Monday, talked about the launch.\nThen lunch.\nThe end, for now, ok.\n"
    )
    (folder / "README.md").write_text("# Exports\n\nid,text\n1,not an export\n")
    result = cli("ingest", "auto", str(folder))
    assert result.exit_code == 1
    assert sorted(_texts(cli.db)) == ["checkout fails on safari", "login is broken again", "the app is slow on android"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 2  # broken.json and notes.txt; README.md is not an export and is left alone
    assert any("broken.json is not valid JSON" in e for e in errors)  # the whole reason, not a cut cell
    assert any("notes.txt: not a table with a header row" in e for e in errors)
    assert result.stderr.splitlines()[-1] == "2 of 4 files failed; the others were imported."


def test_ingest_auto_refuses_a_file_it_cannot_recognise_with_confidence(cli, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\nSome prose, with commas, in it.\n\nid,text\n")
    result = cli("ingest", "auto", str(readme))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {readme}: not an export file we read")
    assert result.stderr.count("\n") == 1
    assert _rows(cli.db, "SELECT count(*) FROM feedback") == [(0,)]


def test_one_bad_byte_in_a_one_line_utf8_json_export_does_not_garble_the_file(cli, tmp_path):
    doc = {
        "reviews": [
            {"id": "a", "stars": 5, "text": "Très bien, café", "consumer": {"id": "u1"}},
            {"id": "b", "stars": 2, "text": "mauvais XBADX", "consumer": {"id": "u2"}},
        ]
    }
    path = tmp_path / "one_line.json"
    path.write_bytes(json.dumps(doc, ensure_ascii=False).encode().replace(b"XBADX", b"\xff"))
    assert cli("ingest", "reviews", str(path)).exit_code == 0
    assert _texts(cli.db) == ["Très bien, café"]
    [(location, reason)] = _reasons(cli.db)
    assert location == "review 2" and reason.startswith("undecodable bytes")


def test_an_ascii_first_megabyte_then_latin1_and_utf8_rows(cli, tmp_path):
    lines = [b"id,text"] + [b"%d,plain ascii answer number %d" % (i, i) for i in range(40_000)]
    lines += [b"40001,caf\xe9 latin row", "40002,Très bien utf8 row".encode()]
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert path.stat().st_size > 1 << 20
    assert cli("ingest", "surveys", str(path), "--id-column", "id", "--text-column", "text").exit_code == 0
    assert _rows(cli.db, "SELECT text FROM feedback WHERE external_id = '40002'") == [("Très bien utf8 row",)]
    assert _rows(cli.db, "SELECT count(*) FROM feedback WHERE text LIKE '%Ã%'") == [(0,)]
    assert _reasons(cli.db) == [("line 40002", "undecodable bytes (not valid UTF-8)")]


def test_a_latin1_file_with_one_utf8_line_reads_both_right(cli, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(
        b"id,text\n1,caf\xe9 cr\xe8me was great\n2,na\xefve question here\n" + "3,Très bien — merci\n".encode()
    )
    assert cli("ingest", "surveys", str(path), "--id-column", "id", "--text-column", "text").exit_code == 0
    assert _texts(cli.db) == ["café crème was great", "naïve question here", "Très bien — merci"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_refused_at_once(cli, tmp_path):
    fifo = tmp_path / "p.csv"
    os.mkfifo(fifo)
    done: list[object] = []
    worker = threading.Thread(target=lambda: done.append(cli("ingest", "surveys", str(fifo))), daemon=True)
    worker.start()
    worker.join(timeout=30)
    if worker.is_alive():  # unblock the reader so the test process can end, then fail
        with open(fifo, "wb"):
            pass
        pytest.fail("ingest blocked on a named pipe")
    [result] = done
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert (
        result.stderr
        == f"Error: {fifo} is a named pipe, not a regular file. Save the survey export to a file and pass that.\n"
    )  # type: ignore[attr-defined]


def test_cr_only_line_endings_from_excel_for_mac(cli, tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes(b'id,text,nps\r1,the app is slow,3\r2,"two\rlines",9\r3,caf\xc3\xa9 is fine,8\r')
    result = cli("ingest", "surveys", str(path), "--id-column", "id", "--text-column", "text", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["added"] == 3
    assert _texts(cli.db) == ["the app is slow", "two\rlines", "café is fine"]
