"""Review exports: App Store RSS + Connect, Google Play (UTF-16, overlapping, edited), Trustpilot, generic."""

from __future__ import annotations

import pytest

from feedback_engine.errors import IngestError
from tests.ingest.conftest import REVIEWS, SURVEYS, counts


@pytest.mark.parametrize(
    ("name", "platform", "expected"),
    [
        ("appstore_rss.json", "appstore", (70, 0, 0, 0, 0)),
        ("appstore_connect_reviews.json", "appstore", (38, 0, 0, 2, 0)),
        ("googleplay_reviews_202610.csv", "googleplay", (59, 0, 0, 1, 0)),
        ("trustpilot_reviews.json", "trustpilot", (50, 0, 0, 0, 0)),
        ("generic_reviews.csv", "generic", (23, 0, 0, 2, 0)),
    ],
)
def test_each_review_export_is_detected_and_imported(engine, name, platform, expected):
    report = engine.ingest.reviews(REVIEWS / name)
    assert report.platform == platform
    assert counts(report) == expected
    ratings = engine.store.query("SELECT min(rating) lo, max(rating) hi, count(rating) n FROM feedback")[0]
    assert ratings == {"lo": 1, "hi": 5, "n": expected[0]}


def test_named_platform_matches_detection(engine):
    report = engine.ingest.reviews(REVIEWS / "trustpilot_reviews.json", platform="trustpilot")
    assert report.added == 50


def test_wrong_platform_is_a_clear_error(engine):
    with pytest.raises(IngestError, match=r"is not a Trustpilot review export \(it looks like a App Store export\)"):
        engine.ingest.reviews(REVIEWS / "appstore_rss.json", platform="trustpilot")
    with pytest.raises(IngestError, match="No review text column"):
        engine.ingest.reviews(SURVEYS / "typeform_nps.csv")
    assert engine.store.scalar("SELECT count(*) FROM ingest_runs") == 0


def test_overlapping_google_play_exports_add_new_and_update_edited(engine):
    engine.ingest.reviews(REVIEWS / "googleplay_reviews_202610.csv")
    newer = engine.ingest.reviews(REVIEWS / "googleplay_reviews_202611.csv")
    assert counts(newer) == (39, 2, 8, 1, 0)
    assert engine.store.scalar("SELECT count(*) FROM feedback") == 98
    history = engine.store.query(
        "SELECT f.rating AS now, h.rating AS before, f.text LIKE 'Update%' AS updated_text, h.replaced_by_run"
        " FROM feedback_history h JOIN feedback f ON f.id = h.feedback_id ORDER BY h.id"
    )
    assert history == [
        {"now": 4, "before": 1, "updated_text": 1, "replaced_by_run": newer.run_id},
        {"now": 1, "before": 3, "updated_text": 1, "replaced_by_run": newer.run_id},
    ]
    # the FTS index follows the edit
    assert engine.store.scalar("SELECT count(*) FROM feedback_fts WHERE feedback_fts MATCH 'walked'") == 1
    # importing the older export again does not bring the old text back
    older = engine.ingest.reviews(REVIEWS / "googleplay_reviews_202610.csv")
    assert counts(older) == (0, 0, 59, 1, 0)
    assert engine.store.scalar("SELECT count(*) FROM feedback_history") == 2


def test_google_play_is_read_as_utf16(engine):
    engine.ingest.reviews(REVIEWS / "googleplay_reviews_202610.csv")
    row = engine.store.query("SELECT language, url, external_id FROM feedback ORDER BY id LIMIT 1")[0]
    assert row["language"] == "en"
    assert row["external_id"].startswith("gp:")
    assert row["url"].startswith("http://play.google.com/console/")


def test_review_quarantine_reasons(engine):
    engine.ingest.reviews(REVIEWS / "generic_reviews.csv")
    engine.ingest.reviews(REVIEWS / "appstore_connect_reviews.json")
    got = [(q["location"].split(" (")[0], q["reason"]) for q in engine.ingest.quarantine()]
    assert sorted(got) == sorted(
        [
            ("line 3", "invalid star rating 'five' (expected an integer 1-5)"),
            ("line 22", "unparsable date '31/31/2026'"),
            ("record 18", "empty text"),
            ("record 26", "invalid star rating 0 (expected an integer 1-5)"),
        ]
    )


def test_app_store_authors_become_customers_on_the_platform(engine):
    engine.ingest.reviews(REVIEWS / "appstore_rss.json")
    assert engine.store.scalar("SELECT count(*) FROM customers WHERE platform = 'appstore' AND email IS NULL") == 70
    assert engine.store.scalar("SELECT count(*) FROM feedback WHERE customer_id IS NULL") == 0
