"""``sources add|list|remove``, ``pull`` and ``search`` through the CLI, with exact output, exit
codes, the pull lock, and credentials that are never stored or printed."""

from __future__ import annotations

import json

from click.testing import CliRunner

from feedback_engine.cli import main
from feedback_engine.store import Store
from feedback_engine.store.locks import job_lock
from tests.ingest.connectors.server import Answer, page

APP = "/us/rss/customerreviews/page={n}/id=284882215/sortby=mostrecent/json"
TP = "/v1/business-units/46d6a890000064000500e0c3/reviews"


def run(db, *args, env=None):
    return CliRunner().invoke(main, ["--db", str(db), *args], env=env)


def appstore(api) -> None:
    api.route(APP.format(n=1), page("appstore-rss-page1.json"))
    api.route(APP.format(n=2), page("appstore-rss-page2.json"))


def test_add_list_remove(tmp_path, api):
    db = tmp_path / "f.db"
    result = run(db, "sources", "add", "ios", "--kind", "appstore-rss", "--app-id", "284882215", "--base-url", api.base)
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Added source ios (appstore-rss): app_id=284882215, base_url={api.base}, country=us\n"
        "Pull it with: feedback-engine pull ios\n"
    )
    listed = json.loads(run(db, "sources", "list", "--json").output)
    assert [(s["name"], s["kind"], s["cursor"], s["last_pull_at"]) for s in listed] == [
        ("ios", "appstore-rss", None, None)
    ]
    human = run(db, "sources", "list").output.splitlines()
    assert human[0].split() == ["name", "kind", "settings", "last", "pull", "result", "added"]
    assert human[2].split()[:2] == ["ios", "appstore-rss"] and "never" in human[2]
    assert run(db, "sources", "remove", "ios").output == "Removed source ios (appstore-rss); its items stay.\n"
    result = run(db, "sources", "remove", "ios")
    assert (result.exit_code, result.output) == (
        1,
        "Error: No source named ios. See `feedback-engine sources list`.\n",
    )


def test_add_refuses_wrong_settings_with_one_line(tmp_path):
    db = tmp_path / "f.db"
    cases = [
        (["--kind", "appstore-rss"], 2, "Error: appstore-rss needs --app-id.\n"),
        (
            ["--kind", "appstore-rss", "--app-id", "1", "--query", "x"],
            2,
            "Error: --query does not apply to appstore-rss (it takes --app-id, --country, --base-url, "
            "--token-env, --token-file).\n",
        ),
        (
            ["--kind", "trustpilot", "--business-unit-id", "b", "--base-url", "http://api.example.com"],
            2,
            "Error: --base-url 'http://api.example.com' is plain http to another machine; use https (http is "
            "allowed to loopback only).\n",
        ),
        (["--kind", "reddit"], 2, "Error: reddit needs --subreddit, --query or both.\n"),
        (
            ["--kind", "zendesk", "--email", "a@b.c"],
            2,
            "Error: zendesk needs --subdomain (acme for acme.zendesk.com) or --base-url.\n",
        ),
    ]
    for args, code, output in cases:
        result = run(db, "sources", "add", "s", *args)
        assert (result.exit_code, result.output) == (code, output), args
    assert run(db, "sources", "add", "s", "--kind", "reddit", "--subreddit", "x").exit_code == 0
    result = run(db, "sources", "add", "s", "--kind", "reddit", "--subreddit", "y")
    assert result.output.startswith("Error: A source named s exists;")


def test_credentials_are_read_at_pull_time_and_never_stored_or_printed(tmp_path, api):
    db = tmp_path / "f.db"
    secret = tmp_path / "tp.key"
    secret.write_text("file-secret-999\n")
    api.route(TP, page("trustpilot-page2.json"))
    assert run(
        db, "sources", "add", "tp", "--kind", "trustpilot", "--business-unit-id", "46d6a890000064000500e0c3",
        "--base-url", api.base, "--token-file", str(secret),
    ).exit_code == 0  # fmt: skip
    result = run(db, "pull", "tp", "--since", "2026-01-01", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["sources"][0]["added"] == 1
    assert api.hits(TP)[0]["headers"]["apikey"] == "file-secret-999"
    with Store(db) as store:
        dump = json.dumps([store.query("SELECT * FROM sources"), store.query("SELECT * FROM ingest_runs")])
    assert "file-secret" not in dump and str(secret) in dump
    assert "file-secret" not in run(db, "sources", "list", "--json").output


def test_pull_exit_codes_one_failing_source_never_stops_the_others(tmp_path, api):
    db = tmp_path / "f.db"
    appstore(api)
    api.route(TP, Answer(401, {"message": "Unauthorized"}))
    run(db, "sources", "add", "ios", "--kind", "appstore-rss", "--app-id", "284882215", "--base-url", api.base)
    run(db, "sources", "add", "tp", "--kind", "trustpilot", "--business-unit-id", "46d6a890000064000500e0c3",
        "--base-url", api.base)  # fmt: skip
    run(db, "sources", "add", "zz", "--kind", "zendesk", "--email", "a@b.c", "--base-url", api.base)
    result = CliRunner().invoke(
        main, ["--db", str(db), "pull", "--since", "2026-11-01"], env={"TRUSTPILOT_API_KEY": "expired-key"}
    )
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].split() == [
        "source", "kind", "added", "updated", "unchanged", "quarantined", "skipped", "requests", "result",
    ]  # fmt: skip
    assert lines[2].split() == ["ios", "appstore-rss", "4", "0", "0", "1", "0", "2", "ok"]
    assert lines[3].split()[-1] == "FAILED" and lines[4].split()[-1] == "FAILED"
    assert lines[5].startswith("See what ios quarantined with: feedback-engine quarantine list --run ")
    assert lines[6] == (
        f"Error: tp: Trustpilot answered 401 Unauthorized at {api.base}{TP}?page=1&perPage=100&orderBy=createdat.desc:"
        " the environment variable TRUSTPILOT_API_KEY is missing, wrong or expired; set it and pull again."
    )
    assert lines[7] == (
        "Error: zz: Source zz (zendesk) needs ZENDESK_API_TOKEN: set it to the Zendesk credential (or `sources add`"
        " the source again with --token-env NAME or --token-file PATH)."
    )
    assert len(lines) == 8 and "expired-key" not in result.output
    status = run(db, "status").output
    assert "Source ios (appstore-rss): last pull " in status and "(ok: added 4)" in status
    assert "Source tp (trustpilot): last pull " in status and "(failed: added 0)" in status
    assert "Analysis backlog: 4 items not analysed yet (`feedback-engine analyze`)\n" in status
    data = json.loads(run(db, "status", "--json").output)
    assert data["analysis_backlog"] == 4 and data["outbox"] == {"waiting": 0}
    assert [(s["name"], s["last_status"], s["last_added"]) for s in data["sources"]] == [
        ("ios", "ok", 4),
        ("tp", "failed", 0),
        ("zz", "failed", 0),
    ]


def test_a_second_pull_exits_at_once_while_one_runs(tmp_path, api):
    db = tmp_path / "f.db"
    appstore(api)
    run(db, "sources", "add", "ios", "--kind", "appstore-rss", "--app-id", "284882215", "--base-url", api.base)
    with Store(db) as store, job_lock(store, "pull"):
        result = run(db, "pull", "--all")
    assert result.exit_code == 3
    assert result.output.startswith("Error: Another `feedback-engine pull` (pid ")
    assert result.output.endswith("this one exits (the next scheduled pull starts where that one ends).\n")
    assert not api.requests
    assert run(db, "pull", "--all", "--since", "2026-11-01").exit_code == 0  # the lock is free again


def test_pull_without_sources_and_with_a_bad_date(tmp_path, api):
    db = tmp_path / "f.db"
    run(db, "sources", "add", "ios", "--kind", "appstore-rss", "--app-id", "1", "--base-url", api.base)
    run(db, "sources", "remove", "ios")
    result = run(db, "pull")
    assert (result.exit_code, result.output) == (
        2,
        "Error: No sources yet. Add one with `feedback-engine sources add NAME --kind KIND ...`.\n",
    )
    result = run(db, "pull", "--since", "someday")
    assert (result.exit_code, result.output) == (2, "Error: --since 'someday' is not a date; pass e.g. 2026-11-01.\n")


def test_search_with_filters_snippets_and_hostile_queries(tmp_path, api):
    db = tmp_path / "f.db"
    appstore(api)
    run(db, "sources", "add", "ios", "--kind", "appstore-rss", "--app-id", "284882215", "--base-url", api.base)
    assert run(db, "pull", "--since", "2026-11-01").exit_code == 0
    with Store(db) as store, store.transaction() as conn:  # what analyze writes: the redacted text search shows
        conn.execute(
            "INSERT INTO analysis (feedback_id, redacted_text, sentiment, sentiment_score, language,"
            " content_hash, model_version, analyzed_at) SELECT id, text, 'negative', -0.5, 'en', content_hash,"
            " 'test', '2026-12-01T00:00:00Z' FROM feedback"
        )
    found = json.loads(run(db, "search", "refund", "--json").output)
    assert found["total"] == 1
    (item,) = found["items"]
    assert item["snippet"] == "Asked for a [refund] two weeks ago, still waiting."
    assert item["channel"] == "review" and item["platform"] == "appstore"
    out = run(db, "search", "sync").output.splitlines()
    assert out[0] == "2 items match 'sync'"
    assert sum("[sync]" in line.lower() for line in out) == 2
    assert json.loads(run(db, "search", "sync", "--until", "2026-11-15", "--json").output)["total"] == 1
    assert json.loads(run(db, "search", "sync", "--since", "2026-11-16", "--json").output)["total"] == 1
    assert json.loads(run(db, "search", "sync", "--channel", "support", "--json").output)["total"] == 0
    for hostile in ['refund" OR text:*', "NEAR(a b", "'; DROP TABLE feedback; --", "^*", '""']:
        result = run(db, "search", hostile, "--json")
        assert result.exit_code == 0, (hostile, result.output)
    assert json.loads(run(db, "search", '"refund" (', "--json").output)["total"] == 1  # syntax is plain text
    result = run(db, "search", "x", "--since", "last week")
    assert (result.exit_code, result.output) == (2, "Error: --since 'last week' is not a date; pass YYYY-MM-DD.\n")
