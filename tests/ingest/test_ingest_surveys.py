"""Survey exports: platform detection, column mapping, several answers per response, consent, quarantine."""

from __future__ import annotations

import pytest

from feedback_engine.errors import IngestError
from tests.ingest.conftest import BAD, SURVEYS, counts


@pytest.mark.parametrize(
    ("name", "platform", "expected"),
    [
        ("typeform_nps.csv", "typeform", (166, 0, 0, 4, 0)),
        ("surveymonkey_csat.csv", "surveymonkey", (78, 0, 0, 2, 0)),
        ("google_forms.tsv", "googleforms", (87, 0, 0, 0, 0)),
        ("qualtrics_export.csv", "qualtrics", (83, 0, 0, 0, 0)),
        ("survey_responses.xlsx", "generic", (40, 0, 0, 0, 0)),
        ("survey_responses.json", "generic", (43, 0, 0, 0, 0)),
        ("plain_id_text.csv", "generic", (25, 0, 0, 0, 0)),
    ],
)
def test_each_survey_export_imports_with_exact_counts(engine, name, platform, expected):
    report = engine.ingest.surveys(SURVEYS / name)
    assert report.platform == platform
    assert counts(report) == expected
    assert report.records == sum(expected)
    assert engine.store.scalar("SELECT count(*) FROM feedback WHERE channel = 'survey'") == expected[0]
    assert engine.store.scalar("SELECT count(*) FROM feedback_fts") == expected[0]


def test_reimport_adds_nothing(engine):
    engine.ingest.surveys(SURVEYS / "typeform_nps.csv")
    again = engine.ingest.surveys(SURVEYS / "typeform_nps.csv")
    assert counts(again) == (0, 0, 166, 4, 0)
    assert again.nothing_new
    assert engine.store.scalar("SELECT count(*) FROM feedback") == 166
    assert engine.store.scalar("SELECT count(*) FROM quarantine") == 4  # known bad records are not logged twice


def test_typeform_answers_share_response_customer_and_nps(engine):
    engine.ingest.surveys(SURVEYS / "typeform_nps.csv")
    rows = engine.store.query(
        "SELECT f.question, f.nps, f.response_id, c.email, c.consent FROM feedback f"
        " JOIN customers c ON c.id = f.customer_id WHERE f.response_id = 'yy22fa1xjdix2056j83v2dzfvhqfcdcd'"
        " ORDER BY f.id"
    )
    assert [r["question"] for r in rows] == [
        "What is the main reason for your score?",
        "What's one thing we could do better?",
    ]
    # " Maria.Lopez@Example.com " in the file: trimmed and lower-cased, one customer for both answers
    assert {(r["email"], r["nps"], r["consent"]) for r in rows} == {("maria.lopez@example.com", 8, 1)}


def test_consent_column_sets_customer_consent(engine):
    engine.ingest.surveys(SURVEYS / "typeform_nps.csv")
    by_consent = dict(engine.store.conn.execute("SELECT consent, count(*) FROM customers GROUP BY consent").fetchall())
    assert by_consent == {0: 30, 1: 75}
    assert engine.store.scalar("SELECT count(*) FROM customers WHERE consent_source IS NULL AND consent = 1") == 0


def test_surveymonkey_two_header_rows_and_csat(engine):
    engine.ingest.surveys(SURVEYS / "surveymonkey_csat.csv")
    assert engine.store.scalar("SELECT count(*) FROM feedback WHERE csat BETWEEN 1 AND 5") == 78
    assert {r["question"] for r in engine.store.query("SELECT DISTINCT question FROM feedback")} == {
        "Tell us more about your experience"
    }
    bad = {(q["location"], q["reason"]) for q in engine.ingest.quarantine()}
    assert bad == {
        ("line 14", "invalid CSAT 7 (expected an integer 1-5)"),
        ("line 30", "wrong column count: 13 fields, expected 12"),
    }


def test_qualtrics_three_header_rows_text_entry_questions_and_time_zone(engine):
    engine.ingest.surveys(SURVEYS / "qualtrics_export.csv")
    questions = {r["question"] for r in engine.store.query("SELECT DISTINCT question FROM feedback")}
    assert questions == {"Why did you give that score?", "Is there anything else you'd like to tell us?"}
    first = engine.store.query("SELECT created_at, nps, external_id FROM feedback ORDER BY id LIMIT 1")[0]
    # RecordedDate 2026-09-05 03:31:44 in America/Denver (the ImportId's timeZone) is 09:31:44 UTC
    assert first == {"created_at": "2026-09-05T09:31:44Z", "nps": 9, "external_id": "R_hNm1digzfqq44El"}


def test_google_forms_scores_detected_by_question(engine):
    engine.ingest.surveys(SURVEYS / "google_forms.tsv")
    row = engine.store.query("SELECT nps, csat, created_at FROM feedback ORDER BY id LIMIT 1")[0]
    assert row == {"nps": 4, "csat": 1, "created_at": "2026-08-05T17:16:48Z"}


def test_plain_csv_with_explicit_columns(engine):
    report = engine.ingest.surveys(SURVEYS / "plain_id_text.csv", id_column="id", text_columns=["text"])
    assert counts(report) == (25, 0, 0, 0, 0)
    assert engine.store.scalar("SELECT natural_key FROM feedback ORDER BY id LIMIT 1") == "generic:1001:text"


def test_unknown_override_column_names_the_flag_and_columns(engine):
    with pytest.raises(IngestError, match=r"no column 'comment' for --text-column\. Columns found: 'id', 'text'"):
        engine.ingest.surveys(SURVEYS / "plain_id_text.csv", text_columns=["comment"])


def test_mixed_bad_rows_are_quarantined_with_locations(engine):
    report = engine.ingest.surveys(BAD / "mixed_bad_rows.csv")
    assert counts(report) == (7, 0, 0, 6, 0)
    reasons = [(q["location"], q["reason"]) for q in engine.ingest.quarantine()]
    assert reasons == [
        ("line 4", "empty text (no answer in 'text')"),
        ("line 5", "invalid NPS -3 (expected an integer 0-10)"),
        ("line 7", "invalid NPS 'abc' (expected an integer 0-10)"),
        ("line 8", "unparsable date 'sometime last week' in column 'date'"),
        ("line 10", "wrong column count: 5 fields, expected 4"),
        ("lines 11-311, column 'text'", "text over 20000 characters (25000)"),
    ]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "is empty"),
        ("binary_garbage.csv", "looks like binary data"),
        ("not_json.json", "is not valid JSON"),
        (
            "no_text_column.csv",
            r"No free-text column found .* Columns found: 'id', 'score', 'date'\. Pass --text-column",
        ),
    ],
)
def test_unreadable_files_raise_one_clear_error_and_import_nothing(engine, name, message):
    with pytest.raises(IngestError, match=message):
        engine.ingest.surveys(BAD / name)
    assert engine.store.scalar("SELECT count(*) FROM feedback") == 0
    assert engine.store.scalar("SELECT count(*) FROM ingest_runs") == 0


def test_missing_file_and_folder(engine, tmp_path):
    with pytest.raises(IngestError, match="does not exist"):
        engine.ingest.surveys(tmp_path / "nope.csv")
    with pytest.raises(IngestError, match="is a folder"):
        engine.ingest.surveys(tmp_path)


def test_raw_keeps_the_source_row_as_json(engine):
    import json

    engine.ingest.surveys(SURVEYS / "typeform_nps.csv")
    raw = json.loads(engine.store.scalar("SELECT raw FROM feedback ORDER BY id LIMIT 1"))
    assert raw["#"] == "yy22fa1xjdix2056j83v2dzfvhqfcdcd"
    assert raw["email"] == " Maria.Lopez@Example.com "  # as exported; the customer row holds the normalised one
    assert raw["Submit Date (UTC)"] == "2026-08-01 04:03:13"
    assert len(raw) == 9


def test_legacy_qualtrics_with_two_header_rows(engine, tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_text(
        "ResponseId,RecordedDate,Q1,Q2\n"
        "Response ID,Recorded Date,How likely are you to recommend us?,What could we do better?\n"
        "R_1,2026-10-01 10:00:00,9,Faster sync on Android please\n",
        encoding="utf-8",
    )
    report = engine.ingest.surveys(path)
    assert (report.platform, report.added, report.quarantined) == ("qualtrics", 1, 0)
    row = engine.store.query("SELECT question, nps, external_id FROM feedback")[0]
    assert row == {"question": "What could we do better?", "nps": 9, "external_id": "R_1"}
