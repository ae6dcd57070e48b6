"""Moving one item to another theme or out of all themes: the move, its history, the CLI, and
that the stage's own writers (assign after a re-analysis; a real refit in the models tier) never
put a moved item back (real SQLite; the default tier loads no model)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_metrics import NOW, build
from themes_corpus import generate
from themes_helpers import embed_corpus, insert_items

from feedback_engine import Engine
from feedback_engine.cli import main
from feedback_engine.errors import ActionError, NotFoundError
from feedback_engine.store import Store
from feedback_engine.store.migrations import MIGRATIONS
from feedback_engine.themes.stage import ThemeStage


@pytest.fixture
def engine(tmp_path: Path):
    store = Store(tmp_path / "move.db")
    build(store)  # theme 1 Billing {1, 2, 3, 5 (sentence 1)}, theme 2 Support {4, 5 (whole, sentence 0)}
    with Engine(store) as eng:
        yield eng


def _rows(engine: Engine, fid: int) -> list[tuple[int, int, str]]:
    return [
        (int(i), int(t), str(s))
        for i, t, s in engine.store.conn.execute(
            "SELECT sentence_idx, theme_id, source FROM theme_assignments WHERE feedback_id = ? ORDER BY 1", (fid,)
        )
    ]


def _reanalyse(engine: Engine, *ids: int) -> None:
    """As if the items were analysed again after the edits (which are dated back to ``NOW``)."""
    with engine.store.transaction():
        engine.store.execute("UPDATE theme_outliers SET checked_at = ?", (NOW,))
        for fid in ids:
            engine.store.execute(
                "UPDATE analysis SET analyzed_at = ? WHERE feedback_id = ?", ("2026-11-21T00:00:00Z", fid)
            )


def test_move_keeps_the_sentences_already_in_the_target_and_drops_the_rest(engine):
    moved = engine.themes.move(5, 1, by="kim")
    assert moved == {
        "feedback_id": 5,
        "from": [1, 2],
        "to": 1,
        "label": "Billing: refund, charged twice",
        "changed": True,
    }
    assert _rows(engine, 5) == [(-1, 1, "manual"), (1, 1, "fit")]  # "Price is too high." stays in Billing
    sizes = dict(engine.store.conn.execute("SELECT id, size FROM themes"))
    assert sizes == {1: 4, 2: 1}
    [edit] = engine.themes.item_history(5)
    assert (edit["edit"], edit["by"], edit["theme_id"], edit["feedback_id"]) == ("move", "kim", 1, 5)
    assert edit["detail"] == {"item": 5, "from": [1, 2], "to": 1}
    assert [e["edit"] for e in engine.themes.history(2)] == ["move"]  # the theme it left sees it too
    assert [e["edit"] for e in engine.themes.history(1)] == ["move"]


def test_an_item_moved_out_of_all_themes_stays_out_when_assign_places_it_again(engine):
    engine.themes.move(4, None, by="kim")
    engine.themes.move(5, 1)
    assert _rows(engine, 4) == []
    _reanalyse(engine, 3, 4, 5)  # the stage places re-analysed items again (5 is placed by hand: not)
    stage = ThemeStage(embedder_factory=lambda: pytest.fail("assign must not embed"))
    report = stage.assign(engine.store)
    assert report["items"] == 2
    assert _rows(engine, 3) == [(-1, 1, "assigned")]  # an unpinned item is placed as before
    assert _rows(engine, 4) == []
    assert {t for _, t, _ in _rows(engine, 5)} == {1}
    outlier = engine.store.scalar("SELECT checked_at FROM theme_outliers WHERE feedback_id = 4")
    assert outlier is not None and outlier > NOW  # examined, so not retried on every analyze
    again = stage.assign(engine.store)
    assert again["items"] == 0


def test_refit_style_rewrites_skip_pinned_items(engine):
    """The statements a refit runs (delete every non-manual row, then INSERT OR IGNORE all again)."""
    engine.themes.move(4, None)
    engine.themes.move(5, 1)
    conn = engine.store.conn
    with engine.store.transaction():
        conn.execute("DELETE FROM theme_assignments WHERE source != 'manual'")
        conn.execute("DELETE FROM theme_outliers")
        conn.executemany(
            "INSERT OR IGNORE INTO theme_assignments (feedback_id, sentence_idx, theme_id, probability, source, "
            "assigned_at) VALUES (?, ?, ?, 0.8, 'fit', ?)",
            [(4, -1, 2, NOW), (5, -1, 2, NOW), (5, 0, 2, NOW), (5, 1, 1, NOW), (1, -1, 2, NOW)],
        )
    assert _rows(engine, 4) == []
    assert _rows(engine, 5) == [(-1, 1, "manual"), (1, 1, "fit")]
    assert _rows(engine, 1) == [(-1, 2, "fit")]
    assert engine.store.scalar("SELECT count(*) FROM theme_outliers WHERE feedback_id = 4") == 1
    # a merge moves the manual row to the survivor, and the pin follows it
    engine.themes.merge([1, 2], into=2)
    with engine.store.transaction():
        conn.execute("INSERT OR IGNORE INTO theme_assignments VALUES (5, 0, 2, 0.8, 'fit', ?, NULL)", (NOW,))
        conn.execute("INSERT OR IGNORE INTO theme_assignments VALUES (4, 0, 2, 0.8, 'fit', ?, NULL)", (NOW,))
    assert (0, 2, "fit") in _rows(engine, 5)
    assert _rows(engine, 4) == []


def test_move_errors_say_what_to_do(engine):
    with pytest.raises(NotFoundError, match="No feedback item 99"):
        engine.themes.move(99, 1)
    with pytest.raises(NotFoundError, match="Theme 7 does not exist"):
        engine.themes.move(1, 7)
    engine.themes.move(1, 2)
    with pytest.raises(ActionError, match="already in theme 2 only"):
        engine.themes.move(1, 2)
    engine.themes.move(1, None)
    with pytest.raises(ActionError, match="already in no theme"):
        engine.themes.move(1, None)
    batch = engine.themes.move_items([1, 3, 1], None, by="kim")  # a batch skips what is already there
    assert [(r["feedback_id"], r["changed"]) for r in batch] == [(1, False), (3, True)]
    with engine.store.transaction():
        engine.store.execute("UPDATE themes SET status = 'retired' WHERE id = 1")
    with pytest.raises(ActionError, match="retired"):
        engine.themes.move(2, 1)


def test_cli_move(engine):
    db = str(engine.store.path)
    runner = CliRunner()
    out = runner.invoke(main, ["--db", db, "themes", "move", "5", "--to", "2", "--by", "kim"])
    assert out.exit_code == 0, out.output
    assert out.output == "Item 5 is in theme 2 (Support: help, agent) now (was in 1, 2); refits keep it there.\n"
    out = runner.invoke(main, ["--db", db, "themes", "move", "4", "--none", "--json"])
    assert out.exit_code == 0 and json.loads(out.output) == {
        "feedback_id": 4,
        "from": [2],
        "to": None,
        "label": None,
        "changed": True,
    }
    for bad in (["4"], ["4", "--to", "1", "--none"]):
        res = runner.invoke(main, ["--db", db, "themes", "move", *bad])
        assert res.exit_code == 2 and "exactly one of --to THEME and --none" in res.output
    res = runner.invoke(main, ["--db", db, "themes", "move", "4", "--to", "9"])
    assert (
        res.exit_code != 0 and res.output.startswith("Error: Theme 9 does not exist") and "Traceback" not in res.output
    )


def test_migration_keeps_earlier_edits(tmp_path: Path):
    conn = sqlite3.connect(tmp_path / "old.db")
    conn.execute("PRAGMA foreign_keys = ON")
    names = [name for name, _ in MIGRATIONS]
    for _name, fn in MIGRATIONS[: names.index("012_item_theme_edits")]:
        fn(conn)
    conn.execute("INSERT INTO themes (id, label, created_at, updated_at) VALUES (1, 'A', ?, ?)", (NOW, NOW))
    conn.execute(
        "INSERT INTO theme_edits (at, by, edit, theme_id, detail) VALUES (?, 'kim', 'rename', 1, '{}')", (NOW,)
    )
    dict(MIGRATIONS)["012_item_theme_edits"](conn)
    assert conn.execute("SELECT by, edit, theme_id, feedback_id FROM theme_edits").fetchall() == [
        ("kim", "rename", 1, None)
    ]
    conn.execute(
        "INSERT INTO theme_edits (at, by, edit, theme_id, detail) VALUES (?, 'kim', 'move', NULL, '{}')", (NOW,)
    )
    conn.close()


@pytest.mark.models
def test_moves_survive_a_real_refit(tmp_path: Path, embedder_fp32):
    items = generate(240, seed=11)
    item_vecs, sentence_vecs = embed_corpus(embedder_fp32, items)
    with Engine(tmp_path / "refit.db") as engine:
        ids = insert_items(engine.store, items, item_vecs, sentence_vecs)
        stage = ThemeStage(embedder=embedder_fp32)
        stage.update(engine.store)
        themes = [int(r[0]) for r in engine.store.conn.execute("SELECT id FROM themes WHERE status = 'active'")]
        assert len(themes) >= 2
        placed = dict(
            engine.store.conn.execute("SELECT feedback_id, theme_id FROM theme_assignments WHERE sentence_idx = -1")
        )
        a, b = next(f for f in ids if f in placed), next(f for f in reversed(ids) if f in placed)
        other = next(t for t in themes if t != placed[a])
        engine.themes.move(a, other)
        engine.themes.move(b, None)
        stage.update(engine.store, refit=True)
        assert {t for _, t, _ in _rows(engine, a)} == {other}
        assert _rows(engine, b) == []
        assert [e["edit"] for e in engine.themes.item_history(a)] == ["move"]
