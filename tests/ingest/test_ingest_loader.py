"""The loader: natural keys, customers merged by normalised e-mail, consent, edit history, counts, export."""

from __future__ import annotations

import io
import json

from tests.ingest.conftest import FIX, SURVEYS, counts


def _csv(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_email_normalisation_merges_customers_across_files(engine, tmp_path):
    a = _csv(tmp_path, "a.csv", "id,email,comment\n1, Ann@Example.COM ,The export button is hidden too well\n")
    b = _csv(tmp_path, "b.csv", "id,email,comment\n7,ann@example.com,Search got much faster, thanks\n")
    engine.ingest.surveys(a, text_columns=["comment"])
    engine.ingest.surveys(b, text_columns=["comment"])
    assert engine.store.query("SELECT email FROM customers") == [{"email": "ann@example.com"}]
    assert engine.store.scalar("SELECT count(DISTINCT customer_id) FROM feedback") == 1


def test_consent_latest_answer_wins_and_unknown_never_counts(engine, tmp_path):
    first = _csv(
        tmp_path,
        "1.csv",
        "id,email,comment,consent\n1,a@x.io,Great support team overall,yes\n2,b@x.io,Too pricey for us now,\n",
    )
    second = _csv(tmp_path, "2.csv", "id,email,comment,consent\n9,a@x.io,Changed my mind about pricing,no\n")
    engine.ingest.surveys(first, text_columns=["comment"], consent_column="consent")
    engine.ingest.surveys(second, text_columns=["comment"], consent_column="consent")
    rows = engine.store.query("SELECT email, consent, consent_source FROM customers ORDER BY email")
    assert rows == [
        {"email": "a@x.io", "consent": 0, "consent_source": str(second)},
        {"email": "b@x.io", "consent": None, "consent_source": None},
    ]


def test_edited_survey_answer_updates_row_and_keeps_history(engine, tmp_path):
    path = _csv(tmp_path, "r.csv", "id,comment\n1,The app is slow on Android\n2,Love the board view\n")
    engine.ingest.surveys(path, text_columns=["comment"])
    path.write_text("id,comment\n1,The app is slow on Android since 5.2\n2,Love the board view\n3,New answer here\n")
    report = engine.ingest.surveys(path, text_columns=["comment"])
    assert counts(report) == (1, 1, 1, 0, 0)
    assert engine.store.scalar("SELECT text FROM feedback_history") == "The app is slow on Android"
    assert engine.store.scalar("SELECT count(*) FROM feedback") == 3


def test_rows_without_id_are_distinct_items_and_reimport_stays_idempotent(engine, tmp_path):
    path = _csv(tmp_path, "noid.csv", "comment,score\nFast and simple,9\nFast and simple,9\nNeeds dark mode,7\n")
    report = engine.ingest.surveys(path, text_columns=["comment"], nps_column="score")
    assert counts(report) == (3, 0, 0, 0, 0)  # two people wrote the same answer: two items
    assert counts(engine.ingest.surveys(path, text_columns=["comment"], nps_column="score")) == (0, 0, 3, 0, 0)
    # a newer export that repeats these rows and adds one identical answer more adds exactly that one
    newer = _csv(
        tmp_path,
        "noid2.csv",
        "comment,score\nFast and simple,9\nFast and simple,9\nNeeds dark mode,7\nFast and simple,9\n",
    )
    assert counts(engine.ingest.surveys(newer, text_columns=["comment"], nps_column="score")) == (1, 0, 3, 0, 0)
    assert engine.store.scalar("SELECT count(*) FROM feedback WHERE text = 'Fast and simple'") == 3


def test_identical_ok_answers_without_ids_are_not_merged(engine, tmp_path):
    path = _csv(tmp_path, "ok.csv", "text\nok\nok\n")
    assert counts(engine.ingest.surveys(path, text_columns=["text"])) == (2, 0, 0, 0, 0)


def test_generic_reviews_without_ids_by_different_users_are_not_edits_of_each_other(engine, tmp_path):
    path = _csv(tmp_path, "r.csv", "rating,text\n5,!\n1,!\n5,!\n")
    report = engine.ingest.reviews(path, "generic")
    assert counts(report) == (3, 0, 0, 0, 0)
    assert engine.store.scalar("SELECT count(*) FROM feedback_history") == 0
    assert counts(engine.ingest.reviews(path, "generic")) == (0, 0, 3, 0, 0)


def test_status_and_runs(engine):
    engine.ingest.surveys(SURVEYS / "plain_id_text.csv")
    engine.ingest.surveys(SURVEYS / "plain_id_text.csv")
    status = engine.status()
    assert status["feedback"] == 25
    assert status["channels"] == {"survey": 25}
    assert status["runs"] == 2
    assert status["last_ingest"]["unchanged"] == 25
    assert status["last_ingest"]["status"] == "done"


def test_ingest_any_walks_the_fixture_folders(engine):
    reports = engine.ingest.files(FIX)
    by_name = {r.source.rsplit("/", 1)[-1]: r for r in reports}
    assert {n for n, r in by_name.items() if r.error} == {
        "binary_garbage.csv",
        "empty.csv",
        "no_text_column.csv",
        "not_json.json",
    }
    assert by_name["twitter_mentions.jsonl"].kind == "social"
    assert by_name["trustpilot_reviews.json"].kind == "review"
    assert by_name["survey_responses.xlsx"].kind == "survey"
    assert engine.status()["feedback"] == sum(r.added for r in reports)


def test_export_rows_before_analysis(engine, tmp_path):
    engine.ingest.surveys(SURVEYS / "typeform_nps.csv")
    rows = list(engine.ingest.rows(sentences=True))
    assert len(rows) == 166
    first = rows[0]
    assert first["customer_email"] == "maria.lopez@example.com"
    assert first["sentiment"] is None and first["theme_id"] is None and first["sentences"] == []
    buf = io.StringIO()
    assert engine.ingest.export("jsonl", buf) == 166
    assert json.loads(buf.getvalue().splitlines()[0])["natural_key"] == first["natural_key"]
    out = tmp_path / "f.parquet"
    assert engine.ingest.export("parquet", out) == 166
    import pyarrow.parquet as pq

    assert pq.read_table(out).num_rows == 166


def test_bulk_batches_index_fts_and_keep_the_trigger(engine, tmp_path):
    lines = ["id,comment,nps"] + [f"{i},Answer number {i} mentions invoices,{i % 11}" for i in range(2500)]
    path = _csv(tmp_path, "big.csv", "\n".join(lines) + "\n")
    report = engine.ingest.surveys(path, text_columns=["comment"])
    assert report.added == 2500
    s = engine.store
    assert s.scalar("SELECT count(*) FROM feedback_fts WHERE feedback_fts MATCH 'invoices'") == 2500
    assert s.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'feedback_ai'") == 1
    small = _csv(tmp_path, "small.csv", "id,comment\n9999,A refund would be nice\n")
    engine.ingest.surveys(small, text_columns=["comment"])  # a small batch goes through the trigger
    assert s.scalar("SELECT count(*) FROM feedback_fts WHERE feedback_fts MATCH 'refund'") == 1
    assert s.scalar("PRAGMA integrity_check") == "ok"
    s.execute("INSERT INTO feedback_fts(feedback_fts) VALUES ('integrity-check')")


class _Recorder:
    """A Progress that keeps what it was told."""

    def __init__(self) -> None:
        self.total: int | None = -1
        self.advanced = 0
        self.finished = False

    def start(self, total: int | None, desc: str) -> None:
        self.total = total

    def advance(self, n: int = 1) -> None:
        self.advanced += n

    def finish(self) -> None:
        self.finished = True


def test_progress_gets_an_expected_total_for_line_based_exports(engine) -> None:
    """The bar can show an ETA: the line count of a CSV/JSONL (read with the checksum) is the total."""
    from tests.ingest.conftest import SOCIAL, SURVEYS

    csv_path = SURVEYS / "typeform_nps.csv"
    rec = _Recorder()
    report = engine.ingest.surveys(csv_path, progress=rec)
    lines = csv_path.read_bytes().count(b"\n")
    assert rec.total == lines - 1
    assert rec.advanced == report.added + report.quarantined and rec.finished

    rec = _Recorder()
    engine.ingest.social(SOCIAL / "twitter_mentions.jsonl", progress=rec)
    assert rec.total == (SOCIAL / "twitter_mentions.jsonl").read_bytes().count(b"\n")

    rec = _Recorder()
    engine.ingest.social(SOCIAL / "reddit_thread.json", progress=rec)
    assert rec.total is None  # records are not lines: a count and a rate, no ETA


def test_terminal_bar_total_follows_the_count_when_the_estimate_is_off() -> None:
    import io

    from feedback_engine.progress import TqdmProgress

    bar = TqdmProgress()
    bar.start(10, "ingest")
    bar._bar.fp = io.StringIO()  # keep the test output clean
    bar.advance(8)
    bar.advance(5)  # more records than lines (several answers per response)
    assert bar._bar.total == 13
    bar.finish()
    bar.start(100, "ingest")
    bar._bar.fp = io.StringIO()
    bar.advance(40)
    inner = bar._bar
    bar.finish()  # fewer records than lines (multi-line fields): ends at 100%
    assert inner.total == 40 and inner.n == 40


def test_a_killed_import_is_reported_interrupted_and_a_rerun_finishes_it(tmp_path) -> None:
    """SIGKILL a real ``feedback-engine ingest`` mid-file: its run row must not stay 'running'."""
    import contextlib
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    from feedback_engine import Engine

    src = tmp_path / "big.csv"
    with src.open("w", encoding="utf-8") as fh:
        fh.write("response_id,comment,email\n")
        for i in range(300_000):
            fh.write(f"r{i},The app is fine but sync is slow number {i},u{i}@example.com\n")
    db = tmp_path / "feedback.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedback_engine", "--db", str(db), "ingest", "surveys", str(src), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    added = 0
    while time.monotonic() < deadline and added == 0:  # wait for the first committed batch
        time.sleep(0.2)
        if db.exists():
            try:  # read-only peek; the importer may still be creating the schema
                with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as peek:
                    added = peek.execute("SELECT count(*) FROM feedback").fetchone()[0]
            except sqlite3.OperationalError:
                added = 0
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 0 < added < 300_000
    with Engine(db) as engine:
        status = engine.status()
        assert status["last_ingest"]["status"] == "failed"
        assert status["last_ingest"]["error"].startswith("interrupted")
        report = engine.ingest.surveys(src)
        assert report.added + report.unchanged == 300_000
        assert engine.store.scalar("SELECT count(*) FROM feedback") == 300_000
        assert engine.status()["last_ingest"]["status"] == "done"
