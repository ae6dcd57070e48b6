"""Editing an action's title, description and themes: one history row per changed field, final
once shipped, the theme figures follow the new themes; the CLI (real SQLite)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from feedback_engine import Engine
from feedback_engine.cli import main
from feedback_engine.errors import ActionError, NotFoundError

from .conftest import add_analysis, add_customer, add_feedback, add_theme


@pytest.fixture
def engine(store):
    return Engine(store)


@pytest.fixture
def themed(store):
    login = add_theme(store, "Login fails")
    dark = add_theme(store, "Dark mode")
    cust = add_customer(store, "ann@example.com")
    for theme, text, score in ((login, "cannot log in", -0.5), (login, "login broke", -0.5), (dark, "love it", 0.75)):
        fid = add_feedback(store, cust, text, themes=[theme])
        add_analysis(store, fid, text, score=score)
    return {"login": login, "dark": dark}


def test_title_description_and_themes_are_edited_with_history(engine, themed):
    aid = engine.actions.add(themes=[themed["login"]], title="Fix login", description="Rebuilt it.", by="lee")
    result = engine.actions.update(
        aid,
        title="Fix sign-in",
        description="Rebuilt the sign-in page.",
        themes=[themed["dark"]],
        note="scope",
        by="kim",
    )
    assert result == {"id": aid, "changed": ["title", "description", "themes"], "status": "proposed"}
    shown = engine.actions.show(aid)
    assert (shown["title"], shown["description"]) == ("Fix sign-in", "Rebuilt the sign-in page.")
    assert [(t["id"], t["volume"], t["sentiment"]) for t in shown["themes"]] == [(themed["dark"], 1, 0.75)]
    history = [(h["by"], h["field"], h["from_value"], h["to_value"], h["note"]) for h in shown["history"][1:]]
    assert history == [
        ("kim", "title", "Fix login", "Fix sign-in", "scope"),
        ("kim", "description", "Rebuilt it.", "Rebuilt the sign-in page.", "scope"),
        ("kim", "themes", str(themed["login"]), str(themed["dark"]), "scope"),
    ]
    same = engine.actions.update(aid, title=" Fix sign-in ", themes=[themed["dark"], themed["dark"]])
    assert same["changed"] == []  # what it already has: no history row
    both = engine.actions.update(aid, themes=[themed["dark"], themed["login"]])
    assert both["changed"] == ["themes"] and engine.actions.show(aid)["items"] == 3


def test_bad_edits_change_nothing(engine, themed):
    aid = engine.actions.add(themes=[themed["login"]], title="Fix login", description="Rebuilt it.")
    with pytest.raises(ActionError, match="needs a title"):
        engine.actions.update(aid, title="  ")
    with pytest.raises(ActionError, match="at least one theme"):
        engine.actions.update(aid, themes=[])
    with pytest.raises(NotFoundError, match="No theme with id 99"):
        engine.actions.update(aid, title="New title", themes=[99])
    shown = engine.actions.show(aid)
    assert shown["title"] == "Fix login" and len(shown["history"]) == 1  # the failed update rolled back
    engine.actions.update(aid, status="shipped")
    for change in ({"title": "Other"}, {"description": "Other"}, {"themes": [themed["dark"]]}):
        with pytest.raises(ActionError, match="is shipped"):
            engine.actions.update(aid, **change)
    assert engine.actions.update(aid, owner="Kim")["changed"] == ["owner"]  # who follows up still changes


def test_cli_update_title_description_themes(db_path, store, themed):
    run = CliRunner().invoke
    run(
        main,
        ["--db", str(db_path), "actions", "add", "--theme", str(themed["login"]), "--title", "t", "--description", "d"],
    )
    args = ["--db", str(db_path), "actions", "update", "1", "--title", "Fix login", "--description", "Rebuilt."]
    result = run(main, [*args, "--theme", str(themed["login"]), "--theme", str(themed["dark"])])
    assert (result.exit_code, result.output) == (0, "Action 1 updated (title, description, themes); status proposed.\n")
    shown = json.loads(run(main, ["--db", str(db_path), "actions", "show", "1", "--json"]).output)
    assert [t["id"] for t in shown["themes"]] == [themed["login"], themed["dark"]]
    bad = run(main, ["--db", str(db_path), "actions", "update", "1", "--title", " "])
    assert (bad.exit_code, bad.output) == (1, "Error: The action needs a title; pass --title TEXT.\n")
