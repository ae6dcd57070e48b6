"""Merges a person can reason about: rename follows the survivor, --into must be one of the themes,
unmerge and split round trips, every edit in the history (real SQLite, no models)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from test_metrics import NOW, build

from feedback_engine import Engine
from feedback_engine.cli import main
from feedback_engine.errors import ActionError
from feedback_engine.store import Store
from feedback_engine.themes.queries import theme_items


@pytest.fixture
def engine(tmp_path: Path):
    store = Store(tmp_path / "edits.db")
    build(store)  # theme 1 Billing {1, 2, 3, 5}, theme 2 Support {4, 5}
    with store.transaction():
        store.execute(
            "INSERT INTO themes (id, label, terms, quotes, size, created_at, updated_at) "
            "VALUES (3, 'Pricing', '[]', '[]', 0, ?, ?)",
            (NOW, NOW),
        )
        store.execute("UPDATE theme_assignments SET theme_id = 3 WHERE feedback_id = 2 AND sentence_idx = -1")
    with Engine(store) as eng:
        yield eng


def _items(engine: Engine, tid: int) -> set[int]:
    return theme_items(engine.store.conn, [tid])


def test_merge_then_unmerge_is_a_round_trip(engine):
    before = {t: _items(engine, t) for t in (1, 2, 3)}
    merged = engine.themes.merge([1, 3], into=1, by="kim")
    assert merged["id"] == 1 and merged["merged"] == [3]
    assert _items(engine, 1) == before[1] | before[3]
    assert [t["id"] for t in engine.themes.list(now=NOW)] == [1, 2]
    back = engine.themes.unmerge(3, by="kim")
    assert back["status"] == "active" and back["unmerged_from"] == 1 and back["assignments_moved"] == 1
    assert {t: _items(engine, t) for t in (1, 2, 3)} == before
    assert sorted(t["id"] for t in engine.themes.list(now=NOW)) == [1, 2, 3]
    edits = [(h["edit"], h["by"]) for h in engine.themes.history(3)]
    assert edits == [("merge", "kim"), ("unmerge", "kim")]
    with pytest.raises(ActionError, match="is not merged"):
        engine.themes.unmerge(3)


def test_rename_of_a_merged_theme_renames_its_survivor(engine):
    engine.themes.merge([1, 3], into=1)
    row = engine.themes.rename(3, "Billing and pricing")
    assert (row["renamed"], row["requested"], row["label"]) == (1, 3, "Billing and pricing")
    assert engine.themes.label(1) == "Billing and pricing" and engine.themes.label(3) == "Pricing"
    result = CliRunner().invoke(main, ["--db", str(engine.store.path), "themes", "rename", "3", "Money"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Theme 3 was merged into theme 1; renamed theme 1.",
        "Theme 1 renamed to Money.",
    ]


def test_merging_into_a_theme_not_in_the_list_is_an_error(engine):
    with pytest.raises(ActionError, match=r"--into 2 is not one of the themes being merged \(1 3\)"):
        engine.themes.merge([1, 3], into=2)
    assert [t["id"] for t in engine.themes.list(now=NOW)] == [1, 2, 3]  # nothing changed
    result = CliRunner().invoke(main, ["--db", str(engine.store.path), "themes", "merge", "1", "3", "--into", "2"])
    assert result.exit_code != 0 and "themes merge 1 3 2 --into 2" in result.output
    assert "Traceback" not in result.output


def test_split_moves_the_picked_items_as_manual_assignments(engine):
    new = engine.themes.split(1, [1, 3], "Refunds", by="kim")
    assert new["origin"] == "manual" and new["label"] == "Refunds" and new["items_moved"] == 2
    assert _items(engine, new["id"]) == {1, 3} and _items(engine, 1) == {5}
    rows = engine.store.query("SELECT DISTINCT source FROM theme_assignments WHERE theme_id = ?", (new["id"],))
    assert rows == [{"source": "manual"}]  # a refit never rewrites manual assignments
    with pytest.raises(ActionError, match="not in theme 1"):
        engine.themes.split(1, [4], "Support bits")
    runner = CliRunner()
    bad = runner.invoke(main, ["--db", str(engine.store.path), "themes", "split", "2", "--items", "4,x", "--name", "A"])
    assert bad.exit_code == 2 and "item ids separated by commas" in bad.output


def test_actions_on_a_merged_theme_say_which_survivor_they_follow(engine):
    engine.themes.merge([1, 3], into=1)
    result = CliRunner().invoke(
        main, ["--db", str(engine.store.path), "actions", "add", "--theme", "3", "--title", "T", "--description", "D"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().isdigit()  # stdout stays the id for scripts
    assert "Theme 3 was merged into theme 1; the action follows theme 1." in result.stderr
