"""The analyze loop on real SQLite files: rows written, other languages, edits, resume after SIGKILL, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from nlp_helpers import HAVE_SENTIMENT_MODEL, insert_feedback

from feedback_engine.cli import main
from feedback_engine.engine import Engine
from feedback_engine.nlp.embed import from_blob
from feedback_engine.nlp.pipeline import Analyzer
from feedback_engine.store import Store

ROOT = Path(__file__).resolve().parents[2]

MIXED = "The support team was incredibly helpful and friendly. But the price is ridiculous and I hate paying this much."
ITEMS = [
    MIXED,
    "ok",
    "Thanks to Michael Brown from support! Email me at jane.doe@example.com about the refund.",
    "Le service client ne répond jamais, je suis très déçu.",
    "The app crashes every time, this is terrible and I hate it.",
]

PIECES = [
    "I was charged twice this month.",
    "The refund took three weeks.",
    "Support never replied to my ticket.",
    "The new dashboard is clean and easy to use.",
    "Delivery was fast and the tracking was accurate.",
    "The app crashes when I upload a photo.",
    "Way too expensive for what it offers.",
    "I love the dark mode.",
    "Login codes never arrive.",
    "Great value for the price.",
]


def corpus(n: int) -> list[str]:
    return [" ".join(PIECES[(i * k) % len(PIECES)] for k in range(1, 2 + i % 3)) + f" #{i}" for i in range(n)]


def analyzer(store: Store, spacy_nlp, embedder, sentiment_model, **kw) -> Analyzer:
    return Analyzer(store, sentiment_model=sentiment_model, embedder=embedder, nlp=spacy_nlp, **kw)


def test_rows_sentences_redaction_and_other_language(store, spacy_nlp, embedder, sentiment_model) -> None:
    ids = insert_feedback(store, ITEMS)
    counts = analyzer(store, spacy_nlp, embedder, sentiment_model, batch_size=2).run()
    assert (counts.analysed, counts.english, counts.other_language, counts.batches) == (5, 4, 1, 3)
    rows = {r["feedback_id"]: r for r in store.query("SELECT * FROM analysis")}
    assert set(rows) == set(ids)
    mixed, ok, pii, french, crash = (rows[i] for i in ids)
    assert french["language"] == "fr" and french["is_english"] == 0 and french["sentiment"] is None
    assert ok["is_english"] == 1 and ok["sentiment"] in ("neutral", "positive")
    assert pii["redacted_text"] == "Thanks to [NAME] from support! Email me at [EMAIL] about the refund."
    assert crash["sentiment"] == "negative"
    for row in rows.values():
        vector = from_blob(row["embedding"])
        assert vector.shape == (384,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-4
        assert row["content_hash"] == store.scalar(
            "SELECT content_hash FROM feedback WHERE id = ?", (row["feedback_id"],)
        )
    sentences = store.query("SELECT * FROM sentences WHERE feedback_id = ? ORDER BY idx", (ids[0],))
    assert [s["sentiment"] for s in sentences] == ["positive", "negative"]
    assert [MIXED[s["start_char"] : s["end_char"]] for s in sentences] == [s["text"] for s in sentences]
    assert json.loads(sentences[1]["aspects"]) == ["price"]
    assert store.scalar("SELECT count(*) FROM sentences WHERE feedback_id = ?", (ids[3],)) == 0
    pii_sentences = store.query("SELECT redacted_text FROM sentences WHERE feedback_id = ? ORDER BY idx", (ids[2],))
    assert [s["redacted_text"] for s in pii_sentences] == [
        "Thanks to [NAME] from support!",
        "Email me at [EMAIL] about the refund.",
    ]
    # a one-sentence item: its sentence shares the item's vector and sentiment
    [crash_sentence] = store.query("SELECT * FROM sentences WHERE feedback_id = ?", (ids[4],))
    assert crash_sentence["embedding"] == crash["embedding"] and crash_sentence["sentiment"] == crash["sentiment"]
    # nothing left to do
    assert analyzer(store, spacy_nlp, embedder, sentiment_model).run().analysed == 0


def test_edited_item_is_analysed_again(store, spacy_nlp, embedder, sentiment_model) -> None:
    ids = insert_feedback(store, ["I love the dark mode. Delivery was fast.", "Login codes never arrive."])
    run = analyzer(store, spacy_nlp, embedder, sentiment_model)
    assert run.run().analysed == 2
    new_text = "The app crashes every time, this is terrible and I hate it."
    with store.transaction() as conn:
        conn.execute("UPDATE feedback SET text = ?, content_hash = 'edited' WHERE id = ?", (new_text, ids[0]))
    assert run.pending() == 1
    counts = run.run()
    assert counts.analysed == 1
    row = store.query("SELECT * FROM analysis WHERE feedback_id = ?", (ids[0],))[0]
    assert (row["content_hash"], row["redacted_text"], row["sentiment"]) == ("edited", new_text, "negative")
    assert store.scalar("SELECT count(*) FROM sentences WHERE feedback_id = ?", (ids[0],)) == 1


def test_limit_and_bad_batch_size(store, spacy_nlp, embedder, sentiment_model) -> None:
    from feedback_engine.errors import AnalysisError

    insert_feedback(store, corpus(7))
    assert analyzer(store, spacy_nlp, embedder, sentiment_model, batch_size=3).run(limit=4).analysed == 4
    assert analyzer(store, spacy_nlp, embedder, sentiment_model).pending() == 3
    with pytest.raises(AnalysisError, match="batch-size"):
        analyzer(store, spacy_nlp, embedder, sentiment_model, batch_size=0)


KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    from feedback_engine.nlp.embed import MiniLMEmbedder
    from feedback_engine.nlp.pipeline import Analyzer
    from feedback_engine.nlp.sentiment import VaderSentiment
    from feedback_engine.nlp.text import load_spacy
    from feedback_engine.store import Store

    store = Store(sys.argv[1])
    analyzer = Analyzer(store, sentiment_model=VaderSentiment(), embedder=MiniLMEmbedder(), nlp=load_spacy(),
                        batch_size=8, model_version="first-run")
    print("ready", flush=True)
    analyzer.run()
    """
)


@pytest.mark.slow
def test_resume_after_sigkill(tmp_path: Path, spacy_nlp, embedder) -> None:
    from feedback_engine.nlp.sentiment import VaderSentiment

    db = tmp_path / "kill.db"
    store = Store(db)
    n = 400
    insert_feedback(store, corpus(n))
    script = tmp_path / "run.py"
    script.write_text(KILL_SCRIPT, encoding="utf-8")
    env = {**os.environ, "FEEDBACK_ENGINE_TORCH_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, str(script), str(db)], stdout=subprocess.PIPE, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            done = store.scalar("SELECT count(*) FROM analysis")
            if done:
                break
            if proc.poll() is not None:
                pytest.fail(f"analyze subprocess exited early with {proc.returncode}")
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    first = store.scalar("SELECT count(*) FROM analysis")
    assert 0 < first < n and first % 8 == 0  # whole batches only
    assert (
        store.scalar(
            "SELECT count(*) FROM sentences s LEFT JOIN analysis a USING (feedback_id) WHERE a.feedback_id IS NULL"
        )
        == 0
    )  # no orphan sentences of a half batch
    counts = Analyzer(
        store,
        sentiment_model=VaderSentiment(),
        embedder=embedder,
        nlp=spacy_nlp,
        batch_size=64,
        model_version="second-run",
    ).run()
    assert counts.analysed == n - first
    by_run = dict(store.conn.execute("SELECT model_version, count(*) FROM analysis GROUP BY model_version").fetchall())
    assert by_run == {"first-run": first, "second-run": n - first}
    assert store.scalar("SELECT count(DISTINCT feedback_id) FROM analysis") == n
    assert store.scalar("SELECT count(DISTINCT feedback_id) FROM sentences") == n
    store.close()


@pytest.mark.skipif(not HAVE_SENTIMENT_MODEL, reason="feedback_engine/nlp/models/sentiment-minilm/ not trained yet")
def test_analyze_json_cli(db_path: Path) -> None:
    with Store(db_path) as store:
        insert_feedback(store, ITEMS)
    result = CliRunner().invoke(main, ["--db", str(db_path), "analyze", "--json", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["analysed"], data["english"], data["other_language"], data["remaining"]) == (5, 4, 1, 0)
    assert data["total_analysed"] == 5 and data["sentences"] == 6
    assert isinstance(data["themes"], dict)
    again = CliRunner().invoke(main, ["--db", str(db_path), "analyze", "--json"])
    assert json.loads(again.output)["analysed"] == 0


def test_analyze_rejects_bad_batch_size(db_path: Path) -> None:
    result = CliRunner().invoke(main, ["--db", str(db_path), "analyze", "--batch-size", "0"])
    assert result.exit_code == 2
    assert "--batch-size" in result.output


def test_items_frame(store, spacy_nlp, embedder, sentiment_model) -> None:
    ids = insert_feedback(store, ITEMS[:4])
    analyzer(store, spacy_nlp, embedder, sentiment_model).run()
    frame = Engine(
        store, sentiment_model=sentiment_model, embedder=embedder, spacy_nlp=spacy_nlp
    ).analysis.items_frame()
    assert list(frame["id"]) == ids
    assert {"sentiment", "sentiment_score", "theme_id", "theme_label", "language", "redacted_text", "aspects"} <= set(
        frame.columns
    )
    assert frame.loc[3, "language"] == "fr" and pd.isna(frame.loc[3, "sentiment"])
    assert frame.loc[2, "redacted_text"].startswith("Thanks to [NAME]")
    assert frame.loc[0, "aspects"] == ["support team", "price"]


def test_review_title_counts_for_the_item_sentiment_not_its_sentences(
    store, spacy_nlp, embedder, sentiment_model
) -> None:
    """App store titles often carry the verdict ("Total scam"): the item-level sentiment reads
    "Title. body"; the sentences, the stored redacted text and the embedding stay the body's."""
    body_one = "I updated the app yesterday."
    body_two = "I updated the app yesterday. It opens now."
    ids = insert_feedback(store, [body_one, body_two, body_one], prefix="titled")
    with store.transaction() as conn:
        conn.execute("UPDATE feedback SET title = 'Scam, ask bob@example.com' WHERE id = ?", (ids[0],))
        conn.execute("UPDATE feedback SET title = 'Total scam.' WHERE id = ?", (ids[1],))
    analyzer(store, spacy_nlp, embedder, sentiment_model).run()
    rows = {r["feedback_id"]: r for r in store.query("SELECT * FROM analysis")}
    titled_one, titled_two, plain = (rows[i] for i in ids)
    assert plain["sentiment"] == "neutral"
    assert titled_one["sentiment"] == "negative" and titled_two["sentiment"] == "negative"
    assert titled_one["redacted_text"] == body_one and "bob" not in titled_one["redacted_text"]
    assert titled_one["embedding"] == plain["embedding"]
    sentence_labels = [
        s["sentiment"] for s in store.query("SELECT sentiment FROM sentences WHERE feedback_id = ?", (ids[0],))
    ]
    assert sentence_labels == ["neutral"]
