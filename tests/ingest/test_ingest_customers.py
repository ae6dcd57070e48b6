"""``ingest customers``: CRM/billing exports matched to the customers feedback created, quarantine, re-import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedback_engine.cli import main
from feedback_engine.errors import IngestError
from feedback_engine.ingest.customers import parse_amount
from feedback_engine.ingest.records import Invalid
from tests.ingest.conftest import counts

HEADER = "Email,First Name,Last Name,Segment,Plan,MRR,Currency,Country,Create Date,Churn Date\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def feedback_customers(engine, tmp_path: Path) -> None:
    """Customers as the feedback imports create them: one by e-mail (survey), one by handle (review)."""
    survey = write(tmp_path / "survey.csv", "id,email,text\nr1,Ann@Example.COM,Refunds are slow\n")
    engine.ingest.surveys(survey, id_column="id", text_columns=["text"])
    reviews = write(tmp_path / "reviews.csv", "rating,title,text,author,date\n2,Meh,Crashes a lot,bob_k,2025-03-01\n")
    engine.ingest.reviews(reviews, "generic")


def customer(engine, **where):
    key, value = next(iter(where.items()))
    rows = engine.store.query(f"SELECT * FROM customers WHERE {key} = ?", (value,))
    assert len(rows) == 1, rows
    return rows[0]


def test_rows_match_by_email_and_handle_new_ones_are_created_and_reimport_changes_nothing(engine, tmp_path):
    feedback_customers(engine, tmp_path)
    before = engine.store.scalar("SELECT count(*) FROM customers")
    path = write(
        tmp_path / "crm.csv",
        "Email,Name,Handle,Platform,Segment,Plan,ARR,Country,Signup Date,Cancelled At\n"
        ' ann@example.com ,Ann Lee,,,Enterprise,Scale,"$12,000",DE,2024-01-15,\n'
        ",Bob K,@bob_k,generic,SMB,Starter,1200,US,2024-02-01,2025-04-01\n"
        "cara@example.com,Cara,,,SMB,Starter,600,FR,2024-03-01,\n",
    )
    report = engine.ingest.customers(path)
    assert counts(report) == (1, 2, 0, 0, 0)
    assert engine.store.scalar("SELECT count(*) FROM customers") == before + 1
    ann = customer(engine, email="ann@example.com")
    assert (ann["segment"], ann["plan"], ann["mrr"], ann["currency"], ann["country"]) == (
        "Enterprise",
        "Scale",
        1000.0,
        "USD",
        "DE",
    )
    assert ann["display_name"] == "Ann Lee" and ann["signup_at"] == "2024-01-15T00:00:00Z"
    assert ann["churned_at"] is None and ann["consent"] is None
    bob = customer(engine, handle="bob_k")
    assert (bob["platform"], bob["segment"], bob["mrr"], bob["churned_at"]) == (
        "generic",
        "SMB",
        100.0,
        "2025-04-01T00:00:00Z",
    )
    cara = customer(engine, email="cara@example.com")
    assert cara["consent"] is None and cara["attributes_source"] == str(
        path
    )  # an import never makes anyone contactable
    run = engine.store.query("SELECT kind, status, added, updated FROM ingest_runs WHERE id = ?", (report.run_id,))
    assert run == [{"kind": "customers", "status": "done", "added": 1, "updated": 2}]

    again = engine.ingest.customers(path)
    assert counts(again) == (0, 0, 3, 0, 0) and again.nothing_new

    # a newer export: Ann churned, Cara's ARR rose, Bob came back (his churn date is gone)
    newer = path.read_text().replace("2024-01-15,", "2024-01-15,2025-05-02").replace(",600,", ",650,")
    path.write_text(newer.replace(",2025-04-01\n", ",\n"), encoding="utf-8")
    third = engine.ingest.customers(path)
    assert counts(third) == (0, 3, 0, 0, 0)
    assert customer(engine, handle="bob_k")["churned_at"] is None
    assert customer(engine, email="ann@example.com")["churned_at"] == "2025-05-02T00:00:00Z"
    assert customer(engine, email="cara@example.com")["mrr"] == round(650 / 12, 4)  # ARR 650 is MRR 54.17


def test_bad_rows_are_quarantined_with_their_reason_and_the_rest_lands(engine, tmp_path):
    path = write(
        tmp_path / "crm.csv",
        HEADER + "ok@example.com,Ok,Row,SMB,Starter,100,EUR,FR,2024-01-01,\n"
        "not-an-email,Bad,Email,SMB,Starter,100,EUR,FR,2024-01-01,\n"
        "neg@example.com,Neg,Mrr,SMB,Starter,-5,EUR,FR,2024-01-01,\n"
        "late@example.com,Churn,Early,SMB,Starter,10,EUR,FR,2024-06-01,2024-01-01\n"
        ",No,Key,SMB,Starter,10,EUR,FR,2024-01-01,\n"
        "date@example.com,Bad,Date,SMB,Starter,10,EUR,FR,sometime soon,\n"
        "cur@example.com,Bad,Currency,SMB,Starter,10,dollars,FR,2024-01-01,\n"
        "short@example.com,Too,Short\n",
    )
    report = engine.ingest.customers(path)
    assert counts(report) == (1, 0, 0, 7, 0)
    reasons = {r["location"]: r["reason"] for r in engine.ingest.quarantine(report.run_id)}
    assert reasons["line 3"].startswith("invalid e-mail address")
    assert reasons["line 4"] == "invalid revenue '-5' (negative)"
    assert reasons["line 5"] == "churn date 2024-01-01T00:00:00Z is before the signup date 2024-06-01T00:00:00Z"
    assert reasons["line 6"] == "no e-mail address or platform handle: the row names no customer"
    assert reasons["line 7"].startswith("unparsable date 'sometime soon'") and "signup date" in reasons["line 7"]
    assert reasons["line 8"].startswith("invalid currency 'dollars'")
    assert reasons["line 9"] == "wrong column count: 3 fields, expected 10"
    again = engine.ingest.customers(path)
    assert counts(again) == (0, 0, 1, 7, 0)
    assert engine.store.scalar("SELECT count(*) FROM quarantine") == 7  # the same bad rows are not logged twice


def test_overrides_json_export_and_control_characters_in_names(engine, tmp_path):
    doc = {
        "data": [
            {
                "id": "cus_1",
                "Work Email": "dan@example.com",
                "name": '=HYPERLINK("http://x")\r\n',
                "meta": {"tier": "Pro"},
            },
            {
                "id": "cus_2",
                "Work Email": "eve@example.com",
                "name": "Eve",
                "meta": {"tier": "Free"},
                "mrr": "1.200,50 EUR",
            },
        ]
    }
    path = write(tmp_path / "stripe.json", json.dumps(doc))
    with pytest.raises(IngestError, match="No e-mail or handle column"):
        engine.ingest.customers(path)
    with pytest.raises(IngestError, match="--column email='Email Address': the file has no such column"):
        engine.ingest.customers(path, columns=["email=Email Address"])
    with pytest.raises(IngestError, match="unknown field 'revenue'"):
        engine.ingest.customers(path, columns=["revenue=mrr"])
    report = engine.ingest.customers(path, columns=["email=Work Email", "segment=meta.tier"])
    assert counts(report) == (2, 0, 0, 0, 0)
    dan = customer(engine, email="dan@example.com")
    assert dan["display_name"] == '=HYPERLINK("http://x")' and dan["external_id"] == "cus_1"  # printable, trimmed
    assert dan["segment"] == "Pro" and dan["mrr"] is None
    eve = customer(engine, email="eve@example.com")
    assert (eve["mrr"], eve["currency"], eve["segment"]) == (1200.5, "EUR", "Free")
    options = json.loads(engine.store.scalar("SELECT options FROM ingest_runs WHERE id = ?", (report.run_id,)))
    assert options["columns"]["email"] == "Work Email" and options["columns"]["segment"] == "meta.tier"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1200", (1200.0, None)),
        ("$1,200.50", (1200.5, "USD")),
        ("1.200,50 EUR", (1200.5, "EUR")),
        ("£99", (99.0, "GBP")),
        ("1,5", (1.5, None)),
        ("2.000.000", (2000000.0, None)),
        (49, (49.0, None)),
        ("", (None, None)),
    ],
)
def test_amounts(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize("text", ["abc", "-3", "12$34x", "nan"])
def test_bad_amounts(text):
    with pytest.raises(Invalid):
        parse_amount(text)


def test_cli_creates_the_database_and_reports_json(tmp_path):
    runner = CliRunner()
    db = tmp_path / "new.db"
    path = write(tmp_path / "crm.csv", HEADER + "ann@example.com,Ann,Lee,SMB,Starter,100,EUR,FR,2024-01-01,\n")
    result = runner.invoke(main, ["--db", str(db), "ingest", "customers", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["kind"], data["added"], data["quarantined"]) == ("customers", 1, 0)
    human = runner.invoke(main, ["--db", str(db), "ingest", "customers", str(path)])
    assert human.exit_code == 0
    assert f"Imported {path} (customers, mixed) as run 2" in human.output
    assert "nothing new: all 1 records were already imported" in human.output
    bad = runner.invoke(main, ["--db", str(db), "ingest", "customers", str(path), "--column", "email"])
    assert bad.exit_code == 1 and bad.output.startswith("Error: --column 'email' is not FIELD=HEADER")
    handles = write(tmp_path / "handles.csv", "handle,plan\n@zed,Pro\n")
    no_platform = runner.invoke(main, ["--db", str(db), "ingest", "customers", str(handles)])
    assert no_platform.exit_code == 1 and "pass --platform twitter" in no_platform.output
    ok = runner.invoke(main, ["--db", str(db), "ingest", "customers", str(handles), "--platform", "twitter"])
    assert ok.exit_code == 0, ok.output
