"""CLI: ingest commands' output and exit codes, --json, status, quarantine list, export."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from feedback_engine.cli import main
from tests.ingest.conftest import BAD, REVIEWS, SOCIAL, SURVEYS


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "cli.db")

    def invoke(*args: str):
        return runner.invoke(main, ["--db", db, *args])

    return invoke


def test_ingest_surveys_prints_counts_then_nothing_new(run):
    path = SURVEYS / "plain_id_text.csv"
    first = run("ingest", "surveys", str(path), "--id-column", "id", "--text-column", "text")
    assert first.exit_code == 0, first.output
    assert first.output == (
        f"Imported {path} (survey, generic) as run 1\n"
        "  added             25\n"
        "  updated            0\n"
        "  unchanged          0\n"
        "  quarantined        0\n"
        "  skipped            0\n"
    )
    again = run("ingest", "surveys", str(path), "--id-column", "id", "--text-column", "text")
    assert again.exit_code == 0
    assert again.output.endswith("  unchanged         25\n  quarantined        0\n  skipped            0\n"
                                 "nothing new: all 25 records were already imported\n")  # fmt: skip


def test_ingest_json_output(run):
    result = run("ingest", "social", str(SOCIAL / "twitter_mentions.jsonl"), "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert {k: data[k] for k in ("kind", "platform", "added", "updated", "unchanged", "quarantined", "skipped")} == {
        "kind": "social", "platform": "twitter", "added": 81, "updated": 0, "unchanged": 1, "quarantined": 1,
        "skipped": 8,
    }  # fmt: skip
    assert data["records"] == 91 and data["nothing_new"] is False


def test_quarantine_hint_and_list(run):
    result = run("ingest", "reviews", str(REVIEWS / "generic_reviews.csv"))
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == "See why with: feedback-engine quarantine list --run 1"
    listed = run("quarantine", "list", "--run", "1", "--json")
    assert [(q["location"], q["reason"]) for q in json.loads(listed.output)] == [
        ("line 3", "invalid star rating 'five' (expected an integer 1-5)"),
        ("line 22", "unparsable date '31/31/2026'"),
    ]
    table = run("quarantine", "list")
    assert table.output.splitlines()[0].split() == ["run_id", "source", "location", "reason", "raw"]
    assert run("quarantine", "list", "--run", "99").exit_code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ingest", "surveys", str(BAD / "empty.csv")), "is empty"),
        (("ingest", "surveys", str(BAD / "no_text_column.csv")), "Pass --text-column"),
        (("ingest", "surveys", str(BAD / "binary_garbage.csv")), "looks like binary data"),
        (("ingest", "reviews", str(BAD / "not_json.json")), "is not valid JSON"),
        (("ingest", "social", str(BAD / "missing.jsonl")), "does not exist"),
        (("ingest", "reviews", str(REVIEWS / "appstore_rss.json"), "--platform", "googleplay"), "not a Google Play"),
    ],
)
def test_bad_files_exit_non_zero_with_one_line(run, args, message):
    result = run(*args)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert result.output.startswith("Error: ") and message in result.output
    assert "Traceback" not in result.output


def test_status_table_and_json(run):
    run("ingest", "reviews", str(REVIEWS / "trustpilot_reviews.json"))
    run("ingest", "social", str(SOCIAL / "reddit_search.json"))
    data = json.loads(run("status", "--json").output)
    assert data["channels"] == {"review": 50, "social": 20}
    assert data["runs"] == 2
    text = run("status").output
    assert "Feedback items: 70\n" in text
    assert "Ingest runs: 2 (0 failed)\n" in text


def test_export_csv_stdout_jsonl_and_parquet(run, tmp_path):
    run("ingest", "surveys", str(SURVEYS / "plain_id_text.csv"))
    csv_out = run("export", "feedback")
    assert csv_out.exit_code == 0
    rows = list(csv.reader(io.StringIO(csv_out.output)))
    assert rows[0][:5] == ["id", "natural_key", "external_id", "channel", "platform"]
    assert len(rows) == 26
    jsonl = run("export", "feedback", "--format", "jsonl").output.splitlines()
    assert json.loads(jsonl[0])["sentences"] == []
    refused = run("export", "feedback", "--format", "parquet")
    assert refused.exit_code == 1 and "pass -o PATH" in refused.output
    out = tmp_path / "f.parquet"
    done = run("export", "feedback", "--format", "parquet", "-o", str(out))
    assert done.exit_code == 0 and out.stat().st_size > 0


def test_ingest_auto_folder_reports_each_file(run, tmp_path):
    result = run("ingest", "auto", str(BAD.parent), "--json")
    assert result.exit_code == 1  # the four bad fixtures failed; every other file was imported
    reports = {r["source"].rsplit("/", 1)[-1]: r for r in json.loads(result.stdout)}
    assert len(reports) == 21
    assert "empty.csv is empty." in reports["empty.csv"]["error"]
    assert reports["reddit_thread.json"]["added"] == 40
    table = run("ingest", "auto", str(SURVEYS / "plain_id_text.csv"))
    assert table.output.splitlines()[0].split()[:3] == ["source", "kind", "platform"]
