"""Exports analysts can use: typed frames and Parquet (nullable integers, UTC datetimes), export
filters, the themes of each item's sentences, and the SQL views for Datasette."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner

from feedback_engine.cli import main
from tests.ingest.conftest import REVIEWS, SURVEYS


def loaded(engine):
    engine.ingest.reviews(REVIEWS / "appstore_rss.json")  # 70 reviews, 2026-08-05 .. 2026-11-20, stars, no NPS
    engine.ingest.surveys(SURVEYS / "typeform_nps.csv")
    return engine


def themed(engine):
    """Two themes (the second merged into the first), item 1 in theme 2, item 2's sentence in theme 1."""
    now = "2026-12-01T00:00:00Z"
    with engine.store.transaction() as conn:
        conn.execute("INSERT INTO themes (id, label, created_at, updated_at) VALUES (1, 'Login', ?, ?)", (now, now))
        conn.execute(
            "INSERT INTO themes (id, label, status, merged_into, created_at, updated_at)"
            " VALUES (2, 'Sign-in', 'merged', 1, ?, ?)",
            (now, now),
        )
        conn.execute("INSERT INTO theme_assignments (feedback_id, theme_id, assigned_at) VALUES (1, 2, ?)", (now,))
        conn.execute(
            "INSERT INTO sentences (feedback_id, idx, text, redacted_text, sentiment) VALUES (2, 0, 'x', 'x', 'negative')"
        )
        conn.execute(
            "INSERT INTO theme_assignments (feedback_id, sentence_idx, theme_id, assigned_at) VALUES (2, 0, 1, ?)",
            (now,),
        )
        conn.execute(
            "INSERT INTO analysis (feedback_id, content_hash, language, redacted_text, sentiment, sentiment_score,"
            " analyzed_at) SELECT id, content_hash, 'en', 'redacted ' || id, 'negative', -0.25, ? FROM feedback"
            " WHERE id <= 2",
            (now,),
        )
    return engine


def test_items_frame_has_nullable_integers_and_utc_datetimes(engine):
    frame = themed(loaded(engine)).analysis.items_frame()
    assert str(frame["id"].dtype) == "Int64" and str(frame["rating"].dtype) == "Int64"
    assert str(frame["nps"].dtype) == "Int64" and str(frame["theme_id"].dtype) == "Int64"
    assert str(frame["sentiment_score"].dtype) == "Float64"
    for col in ("created_at", "ingested_at", "analyzed_at"):
        assert isinstance(frame[col].dtype, pd.DatetimeTZDtype) and str(frame[col].dt.tz) == "UTC", col
    reviews = frame[frame["channel"] == "review"]
    assert reviews["nps"].isna().all() and reviews["rating"].notna().all()
    assert frame["rating"].sum() == int(frame["rating"].sum())  # integers, not floats with NaN
    assert frame.loc[0, "created_at"] == pd.Timestamp("2026-11-20T10:47:18Z")
    assert frame.loc[0, "theme_id"] == 1 and frame.loc[0, "theme_label"] == "Login"  # the merged theme's survivor
    assert frame.loc[1, "sentence_theme_ids"] == [1] and frame.loc[2, "sentence_theme_ids"] == []
    assert pd.isna(frame.loc[2, "sentiment_score"])


def test_parquet_keeps_the_types(engine, tmp_path):
    loaded(engine)
    out = tmp_path / "f.parquet"
    assert engine.ingest.export("parquet", out) == engine.status()["feedback"]
    schema = pq.read_schema(out)
    assert str(schema.field("nps").type) == "int64" and str(schema.field("created_at").type) == "timestamp[us, tz=UTC]"
    ids_type = schema.field("sentence_theme_ids").type
    assert pa.types.is_list(ids_type) and ids_type.value_type == pa.int64()
    back = pd.read_parquet(out)
    assert str(back["nps"].dtype) == "Int64" and str(back["rating"].dtype) == "Int64"
    assert isinstance(back["created_at"].dtype, pd.DatetimeTZDtype) and str(back["created_at"].dt.tz) == "UTC"
    surveys = back[back["channel"] == "survey"]
    assert surveys["nps"].notna().any() and surveys["rating"].isna().all()


def test_export_filters_through_the_cli(engine, tmp_path):
    themed(loaded(engine))
    db = str(engine.store.path)

    def rows(*args):
        result = CliRunner().invoke(main, ["--db", db, "export", "feedback", *args])
        assert result.exit_code == 0, result.output
        return list(csv.DictReader(io.StringIO(result.output)))

    everything = rows()
    assert len(everything) == engine.status()["feedback"]
    assert {r["channel"] for r in rows("--channel", "review")} == {"review"}
    november = rows("--channel", "review", "--since", "2026-11-01", "--until", "2026-11-20")
    assert november and all("2026-11-01" <= r["created_at"][:10] <= "2026-11-20" for r in november)
    expected = engine.store.scalar(
        "SELECT count(*) FROM feedback WHERE channel = 'review' AND substr(created_at, 1, 10) BETWEEN '2026-11-01'"
        " AND '2026-11-20'"
    )
    assert len(november) == expected
    source = str(SURVEYS / "typeform_nps.csv")
    assert {r["source"] for r in rows("--source", source)} == {source}
    assert [r["id"] for r in rows("--theme", "2")] == ["1", "2"]  # merged id 2 = theme 1: item 1, item 2's sentence
    assert everything[1]["sentence_theme_ids"] == "1"
    result = CliRunner().invoke(main, ["--db", db, "export", "feedback", "--since", "soon"])
    assert (result.exit_code, result.output) == (1, "Error: --since 'soon' is not a date; pass YYYY-MM-DD.\n")


def test_views_for_datasette_show_redacted_text_and_survivor_themes(engine):
    themed(loaded(engine))
    item = engine.store.query("SELECT * FROM items WHERE id = 1")[0]
    assert (item["theme_id"], item["theme_label"], item["redacted_text"]) == (1, "Login", "redacted 1")
    assert "text" not in item  # the views never show the unredacted text
    assert engine.store.scalar("SELECT count(*) FROM items") == engine.status()["feedback"]
    assert engine.store.query("SELECT feedback_id, idx, theme_label FROM item_sentences") == [
        {"feedback_id": 2, "idx": 0, "theme_label": "Login"}
    ]
    assert engine.store.query("SELECT * FROM theme_survivors ORDER BY theme_id") == [
        {"theme_id": 1, "survivor_id": 1},
        {"theme_id": 2, "survivor_id": 1},
    ]
