"""The action backlog: statuses and history, lists, merged themes, export, CLI output and errors."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from feedback_engine import Engine
from feedback_engine.cli import main
from feedback_engine.errors import ActionError, NotFoundError
from feedback_engine.loop.actions import allowed

from .conftest import add_analysis, add_customer, add_feedback, add_theme, merge_theme


@pytest.fixture
def engine(store):
    return Engine(store)


@pytest.fixture
def themed(store):
    login = add_theme(store, "Login fails")
    signin = add_theme(store, "Sign-in broken")
    dark = add_theme(store, "Dark mode")
    cust = add_customer(store, "ann@example.com")
    for theme in (login, login, signin):
        fid = add_feedback(store, cust, "text", themes=[theme])
        add_analysis(store, fid, "text", score=-0.5)
    fid = add_feedback(store, cust, "love it", themes=[dark])
    add_analysis(store, fid, "love it", score=0.75)
    return {"login": login, "signin": signin, "dark": dark}


def test_status_changes_are_history_and_same_status_is_a_noop(engine, themed):
    aid = engine.actions.add(themes=[themed["login"]], title="Fix login", description="Rebuilt it.", by="lee")
    assert engine.actions.update(aid, status="planned", note="next sprint", by="kim") == {
        "id": aid,
        "changed": ["status"],
        "status": "planned",
    }
    assert engine.actions.update(aid, status="planned", by="kim") == {"id": aid, "changed": [], "status": "planned"}
    engine.actions.update(aid, status="in-progress", by="kim")
    engine.actions.update(aid, status="shipped", by="max")
    shown = engine.actions.show(aid)
    history = [(h["by"], h["field"], h["from_value"], h["to_value"], h["note"]) for h in shown["history"]]
    assert history == [
        ("lee", "status", None, "proposed", "created"),
        ("kim", "status", "proposed", "planned", "next sprint"),
        ("kim", "status", "planned", "in_progress", None),
        ("max", "status", "in_progress", "shipped", None),
    ]
    assert shown["shipped_at"] and shown["updated_by"] == "max" and shown["created_by"] == "lee"
    assert engine.actions.update(aid, status="shipped")["changed"] == []  # no-op even when final
    with pytest.raises(ActionError, match="shipped, which is final"):
        engine.actions.update(aid, status="planned")


def test_allowed_transitions():
    assert allowed("proposed", "shipped") and allowed("in_progress", "planned") and allowed("planned", "declined")
    assert not allowed("in_progress", "proposed")  # back one step at a time
    assert not allowed("shipped", "declined") and not allowed("declined", "planned") and allowed("declined", "proposed")


def test_bad_input_is_a_clear_error(engine, themed):
    with pytest.raises(NotFoundError, match="No theme with id 999"):
        engine.actions.add(themes=[999], title="t", description="d")
    with pytest.raises(ActionError, match="YYYY-MM-DD"):
        engine.actions.add(themes=[themed["login"]], title="t", description="d", due="31/12/2025")
    with pytest.raises(ActionError, match="needs a title"):
        engine.actions.add(themes=[themed["login"]], title="  ", description="d")
    aid = engine.actions.add(themes=[themed["login"]], title="t", description="d")
    with pytest.raises(ActionError, match="Unknown status 'done'"):
        engine.actions.update(aid, status="done")
    with pytest.raises(NotFoundError, match="No action with id 77"):
        engine.actions.update(77, status="planned")
    assert engine.store.scalar("SELECT count(*) FROM action_history") == 1  # nothing half-written


def test_lists_by_due_date_overdue_owner_theme_with_volume_and_sentiment(engine, themed):
    a = engine.actions.add(themes=[themed["login"]], title="A", description="d", owner="Kim", due="2025-05-01")
    b = engine.actions.add(themes=[themed["dark"]], title="B", description="d", owner="Lee", due="2025-03-01")
    c = engine.actions.add(themes=[themed["signin"]], title="C", description="d")
    d = engine.actions.add(themes=[themed["dark"]], title="D", description="d", due="2025-01-01")
    engine.actions.update(d, status="declined")
    today = "2025-04-01"
    assert [r["id"] for r in engine.actions.list(today=today)] == [b, a, c]
    assert [r["id"] for r in engine.actions.list(overdue=True, today=today)] == [b]
    assert [r["id"] for r in engine.actions.list(owner="kim", today=today)] == [a]
    assert [r["id"] for r in engine.actions.list(status="declined", today=today)] == [d]
    assert [r["id"] for r in engine.actions.list(status="all", today=today)] == [d, b, a, c]
    row = engine.actions.list(today=today)[1]
    assert row["themes"] == [
        {"id": themed["login"], "label": "Login fails", "status": "active", "volume": 2, "sentiment": -0.5}
    ]
    assert engine.actions.list(today=today)[0]["sentiment"] == 0.75


def test_actions_follow_the_surviving_theme(engine, store, themed):
    a = engine.actions.add(themes=[themed["signin"]], title="A", description="d")
    b = engine.actions.add(themes=[themed["login"], themed["signin"]], title="B", description="d")
    merge_theme(store, themed["signin"], themed["login"])
    rows = engine.actions.list(theme=themed["login"])
    assert [r["id"] for r in rows] == [a, b]
    assert rows[0]["themes"] == [
        {"id": themed["login"], "label": "Login fails", "status": "active", "volume": 3, "sentiment": -0.5}
    ]
    assert rows[1]["themes"] == rows[0]["themes"]  # two themes merged into one: listed once
    assert [r["id"] for r in engine.actions.list(theme=themed["signin"])] == [a, b]


def test_export_csv_and_jsonl(engine, themed, tmp_path):
    engine.actions.add(themes=[themed["login"]], title='=HYPERLINK("x")', description="d", owner="Kim")
    assert engine.actions.export(tmp_path / "a.csv", "csv") == 1
    rows = list(csv.DictReader((tmp_path / "a.csv").open(encoding="utf-8")))
    assert rows[0]["title"] == '\'=HYPERLINK("x")'  # no formula injection in spreadsheets
    assert rows[0]["themes"] == f"{themed['login']}:Login fails" and rows[0]["items"] == "2"
    assert engine.actions.export(tmp_path / "a.jsonl", "jsonl") == 1
    doc = json.loads((tmp_path / "a.jsonl").read_text(encoding="utf-8"))
    assert doc["title"] == '=HYPERLINK("x")' and doc["themes"][0]["volume"] == 2


def run(db_path, *args: str):
    return CliRunner().invoke(main, ["--db", str(db_path), *args])


def test_cli_add_list_show_update(db_path, store, themed):
    login = str(themed["login"])
    result = run(
        db_path,
        "actions",
        "add",
        "--theme",
        login,
        "--title",
        "Fix login",
        "--description",
        "Rebuilt the page.",
        "--owner",
        "Kim",
        "--due",
        "2020-01-31",
        "--by",
        "lee",
    )
    assert result.exit_code == 0, result.output
    assert result.output == "1\n"
    result = run(db_path, "actions", "add", "--theme", login, "--title", "Other", "--description", "x", "--json")
    assert json.loads(result.output) == {"id": 2}
    result = run(db_path, "actions", "list", "--owner", "kim")
    assert result.exit_code == 0
    assert result.output == (
        "id  status    due                   owner  title      themes         items  sentiment\n"
        "--  --------  --------------------  -----  ---------  -------------  -----  ---------\n"
        "1   proposed  2020-01-31 (overdue)  Kim    Fix login  1 Login fails  2      -0.50\n"
    )
    result = run(db_path, "actions", "update", "1", "--status", "planned", "--note", "go", "--by", "kim")
    assert (result.exit_code, result.output) == (0, "Action 1 updated (status); status planned.\n")
    result = run(db_path, "actions", "update", "1", "--status", "planned")
    assert (result.exit_code, result.output) == (0, "Action 1 unchanged; status planned.\n")
    shown = json.loads(run(db_path, "actions", "show", "1", "--json").output)
    assert [h["to_value"] for h in shown["history"]] == ["proposed", "planned"]
    result = run(db_path, "actions", "show", "1")
    assert result.exit_code == 0 and "Action 1: Fix login" in result.output and "kim" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["actions", "update", "9", "--status", "planned"],
            "Error: No action with id 9; see `feedback-engine actions list`.\n",
        ),
        (
            ["actions", "update", "1", "--status", "done"],
            "Error: Unknown status 'done'; use one of proposed, planned, in_progress, shipped, declined.\n",
        ),
        (
            ["actions", "update", "1", "--due", "tomorrow"],
            "Error: 'tomorrow' is not a date; give the due date as YYYY-MM-DD.\n",
        ),
        (
            ["actions", "add", "--theme", "99", "--title", "t", "--description", "d"],
            "Error: No theme with id 99; see `feedback-engine themes list`.\n",
        ),
        (["actions", "show", "5"], "Error: No action with id 5; see `feedback-engine actions list`.\n"),
    ],
)
def test_cli_errors_are_one_line(db_path, store, themed, args, message):
    run(db_path, "actions", "add", "--theme", str(themed["login"]), "--title", "t", "--description", "d")
    result = CliRunner().invoke(main, ["--db", str(db_path), *args])
    assert result.exit_code == 1
    assert result.output == message


def test_cli_export(db_path, store, themed, tmp_path):
    run(db_path, "actions", "add", "--theme", str(themed["login"]), "--title", "t", "--description", "d")
    out = tmp_path / "actions.csv"
    result = run(db_path, "actions", "list", "--format", "csv", "-o", str(out))
    assert (result.exit_code, result.output) == (0, f"Wrote 1 actions to {out}\n")
    assert out.read_text(encoding="utf-8").splitlines()[0].startswith("id,title,status,owner,due_date")
